"""``HTTP``: turn the bytes of a client connection into ``response`` events.

Sits on the channel of a ``TCPClient`` (default ``"web"``): its ``read``
events go into the same strict sans-I/O HTTP/1.1 engine the server uses
(``circuits._sansio.http1.Connection`` in the CLIENT role), and each complete
response is fired as ``response(ResponseObject)``.

The engine must know which request each response answers (a response to HEAD
has no body; a 101 needs an Upgrade request). :meth:`HTTP.send_request` tells
it and returns the bytes to write; ``circuits.web.client.Client`` sends this
way. For 3.2.5 code that writes raw request bytes itself, bytes that arrive
while no request is known are taken as the answer to an *unseen* request (a
GET that may have asked for an Upgrade), so they still parse.

Unlike 3.2.5: pipelined responses are delivered one by one, a close-delimited
body is delivered on ``disconnected``, interim 1xx responses other than 101
are skipped (the final response follows), and an unknown status code gets an
empty reason instead of raising.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from http import HTTPStatus
from io import BytesIO
from typing import Any

from .._sansio import http1 as h1
from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..net.events import close
from ..web.headers import Headers

__all__ = [
    "HTTP",
    "BaseComponent",
    "Event",
    "ResponseObject",
    "encode_request",
    "handler",
    "request",
    "response",
]

log = logging.getLogger("circuits.protocols")

# What the engine is told was sent when response bytes arrive and no request
# is known (raw writes, 3.2.5 style): a GET that proposed an Upgrade, so that
# a 101 is accepted and any other final response simply declines the switch.
_UNSEEN_REQUEST = h1.Request(
    b"GET", b"/", ((b"host", b"unknown"), (b"connection", b"upgrade"), (b"upgrade", b"unknown"))
)

FieldsLike = Iterable[tuple[str | bytes, str | bytes]]


class request(Event):
    """Defined for compatibility; this module does not use it."""


class response(Event):
    """A complete response: ``response(ResponseObject)``."""


class ResponseObject:
    """A received response.

    Args:
        headers: the header mapping (case-insensitive ``get``/``[]``).
        status: the status code.
        version: the HTTP version, e.g. ``(1, 1)``.
    """

    def __init__(self, headers: Any, status: int, version: tuple[int, int]) -> None:
        self.headers = headers
        self.status = status
        self.version = version
        self.body = BytesIO()
        try:
            self.reason = HTTPStatus(status).phrase
        except ValueError:
            self.reason = ""  # 3.2.5 raised KeyError here

    def __repr__(self) -> str:
        content_type = self.headers.get("Content-Type")
        size = len(self.body.getvalue())
        return f"<Response {self.status} {self.reason} {content_type} ({size})>"

    def read(self) -> bytes:
        """The rest of the body."""
        return self.body.read()


def encode_request(
    method: str | bytes, target: str | bytes, headers: FieldsLike, body: bytes | None = None
) -> bytes:
    """Check and serialise one request, without a connection.

    Args:
        method: the request method, a token such as ``"GET"``.
        target: the request target, e.g. ``"/path?query"``.
        headers: ``(name, value)`` pairs; ``Host`` is required.
        body: the body; a ``Content-Length`` is added when it is missing.

    Returns:
        The bytes of the whole request.

    Raises:
        ValueError: the request is not valid HTTP/1.1 (a method that is not a
            token, CR/LF/NUL anywhere, no ``Host``, a bad target ...).
    """
    return _encode(h1.Connection(h1.CLIENT), method, target, headers, body)


class HTTP(BaseComponent):
    """Parse HTTP/1.1 responses arriving as ``read`` events on its channel.

    Args:
        encoding: stored for compatibility (bodies stay bytes).
        channel: the channel of the client connection (default ``"web"``).
    """

    channel = "web"

    def __init__(self, encoding: str = "utf-8", channel: Any = "web") -> None:
        super().__init__(channel=channel)
        self._encoding = encoding
        self._reset()

    def _reset(self) -> None:
        # A client downloads what it asked for: no body limit (as 3.2.5).
        self._conn = h1.Connection(h1.CLIENT, max_body_bytes=None)
        self._current: ResponseObject | None = None
        self._explicit = False  # a request went through send_request on this connection
        self._switched = False  # a 101 ended HTTP here; later bytes are not ours

    @property
    def reusable(self) -> bool:
        """Whether the connection can carry a request now (keep-alive, nothing in flight)."""
        conn = self._conn
        return conn.our_state is h1.State.IDLE and conn.their_state is h1.State.IDLE

    @property
    def switched(self) -> bool:
        """Whether a ``101 Switching Protocols`` ended HTTP on this connection."""
        return self._switched

    def send_request(
        self,
        method: str | bytes,
        target: str | bytes,
        headers: FieldsLike,
        body: bytes | None = None,
    ) -> bytes:
        """Note a request on this connection and return its bytes, to be written next.

        Takes the arguments of :func:`encode_request` and returns the same bytes.

        Raises:
            ValueError: the request is not valid HTTP/1.1; nothing changed.
            RuntimeError: the connection is busy or cannot be reused (see
                :attr:`reusable`).
        """
        if not self.reusable:
            conn = self._conn
            raise RuntimeError(
                "the connection cannot take a request now (client "
                f"{conn.our_state.name}, server {conn.their_state.name}); reconnect first"
            )
        try:
            data = _encode(self._conn, method, target, headers, body)
        except ValueError:
            self._conn = h1.Connection(h1.CLIENT, max_body_bytes=None)  # nothing was sent
            raise
        self._explicit = True
        return data

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        self._feed(data)

    @handler("connected")
    def _on_connected(self, *args: Any) -> None:
        self._reset()  # a new connection: a new engine

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        self._feed(b"")  # ends a close-delimited body
        self._reset()

    def _feed(self, data: bytes) -> None:
        if self._switched:
            return  # the bytes belong to the new protocol (e.g. a WebSocketCodec)
        conn = self._conn
        try:
            conn.receive_data(data)
            while True:
                if not self._explicit and self.reusable and conn.trailing_data[0]:
                    conn.send(_UNSEEN_REQUEST)  # raw writes: see the module docstring
                    conn.send(h1.EndOfMessage())
                event = conn.next_event()
                if event is None:
                    break
                self._handle(event)
                if self._switched:
                    break
        except h1.RemoteProtocolError as exc:
            log.warning("HTTP response on %r is malformed, closing: %s", self.channel, exc)
            self._reset()
            if data:
                self.fire(close())

    def _handle(self, event: h1.Event) -> None:
        if isinstance(event, h1.InformationalResponse):
            if event.status_code != 101:
                log.debug("HTTP: interim response %d skipped", event.status_code)
                return
            res = self._start(event)
            res.body.write(self._conn.trailing_data[0])
            self._switched = True
            self._deliver(res)
        elif isinstance(event, h1.Response):
            self._current = self._start(event)
        elif isinstance(event, h1.Data):
            if self._current is not None:
                self._current.body.write(event.data)
        elif isinstance(event, h1.EndOfMessage) and self._current is not None:
            res, self._current = self._current, None
            self._deliver(res)
        # ConnectionClosed: nothing to deliver

    def _start(self, event: h1.InformationalResponse | h1.Response) -> ResponseObject:
        headers = Headers()
        for name, value in event.headers:
            headers.append(name.decode("ascii"), value.decode("latin-1"))
        major, _, minor = event.http_version.partition(b".")  # b"1.1"
        return ResponseObject(headers, event.status_code, (int(major), int(minor)))

    def _deliver(self, res: ResponseObject) -> None:
        res.body.seek(0)
        self.fire(response(res))


def _encode(
    conn: h1.Connection,
    method: str | bytes,
    target: str | bytes,
    headers: FieldsLike,
    body: bytes | None,
) -> bytes:
    fields = tuple(
        (_bytes(name, "header name"), _bytes(value, "header value")) for name, value in headers
    )
    if body is not None:
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"the request body must be bytes, not {type(body).__name__}")
        body = bytes(body)
        framed = any(n.lower() in (b"content-length", b"transfer-encoding") for n, _ in fields)
        if not framed:
            fields += ((b"Content-Length", b"%d" % len(body)),)
    try:
        out = [conn.send(h1.Request(_bytes(method, "method"), _bytes(target, "target"), fields))]
        if body:
            out.append(conn.send(h1.Data(body)))
        out.append(conn.send(h1.EndOfMessage()))
    except h1.LocalProtocolError as exc:
        raise ValueError(f"invalid request: {exc}") from None
    return b"".join(out)


def _bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise TypeError(f"the {what} must be str or bytes, not {value!r}")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {value!r} is not Latin-1; encode it first") from None
