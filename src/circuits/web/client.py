"""``Client``: an HTTP/1.1 client component (``request`` event in, ``response`` out).

The client owns a ``TCPClient`` (``_transport``) and, below it, the client
``HTTP`` protocol (``circuits.protocols.http``), all on the client's channel.
A ``request(method, url, body=None, headers=None)`` event runs a coroutine
handler: it connects (or reuses the open keep-alive connection), has the HTTP
engine serialise the request, writes it, waits for the response and returns
it as the event's value. The last response is also ``client.response``.

Strategy: the handler parks on a private wake-up event between steps; every
event that can change its situation (``connected``, ``unreachable``,
``error``, ``disconnected``, ``response``) fires it, and the handler then
re-reads the state. Spurious wake-ups are harmless, so no ordering between
those events matters. Requests run one at a time, in the order they were
handled (HTTP/1.1 without pipelining).

Beyond 3.2.5: CR, LF and NUL in the method, URL or headers raise
``ValueError`` before anything is sent; a connection the server closed is
reopened by the next request; a failed connect or a connection lost before
the response fails the request (``ConnectionError``) instead of hanging.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Generator
from typing import Any
from urllib.parse import quote, urlsplit

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..net.events import close, connect, write
from ..net.sockets import TCPClient
from ..protocols.http import HTTP, ResponseObject, encode_request
from .headers import Headers

__all__ = [
    "HTTP",
    "BaseComponent",
    "Client",
    "Event",
    "HTTPException",
    "Headers",
    "NotConnected",
    "TCPClient",
    "close",
    "connect",
    "handler",
    "parse_url",
    "request",
    "write",
]

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
_FORBIDDEN = ("\r", "\n", "\x00")
# RFC 3986 §2.2 reserved + "%": kept as they are when a path is percent-encoded
# (spaces and non-ASCII are encoded, as browsers do; "%" keeps existing escapes).
_PATH_SAFE = "!#$%&'()*+,/:;=?@[]~"


class HTTPException(Exception):
    """Base class of the client's errors (not ``circuits.web.exceptions.HTTPException``)."""


class NotConnected(HTTPException):
    """The client could not connect (used by the WebSocket client)."""


class request(Event):
    """``request(method, url, body=None, headers=None)``: send a request.

    The arguments are always stored as four positional ones.
    """

    def __init__(self, method: Any, path: Any, body: Any = None, headers: Any = None) -> None:
        super().__init__(method, path, body, headers)


class _wake(Event):
    """Internal: the running request handler should look at the state again."""


def parse_url(url: str) -> tuple[str, int, str, bool]:
    """Split an absolute ``http``/``https`` URL for a request.

    Args:
        url: e.g. ``"https://example.com:8443/a?b=1"``.

    Returns:
        ``(host, port, path, secure)``; the port defaults to 80 (``http``) or
        443 (``https``), the path to ``/``, and it includes ``?query``.

    Raises:
        ValueError: ``'URL must be absolute'``, ``'Invalid URL scheme'``, or a
            URL containing CR, LF or NUL (``urlsplit`` would silently drop them).
    """
    if any(c in url for c in _FORBIDDEN):
        raise ValueError(f"URL {url!r} contains CR, LF or NUL")
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc or not parts.hostname:
        raise ValueError("URL must be absolute")
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("Invalid URL scheme")
    port = parts.port or DEFAULT_PORTS[scheme]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, port, path, scheme == "https"


class Client(BaseComponent):
    """An HTTP/1.1 client with keep-alive, chunked responses and TLS.

    Args:
        channel: the channel of the client, its transport and its protocol.
        ca_certs: for ``https``: CA file to verify the server with (default:
            the system store).
        certfile: for ``https``: a client certificate (PEM).
        keyfile: for ``https``: the client certificate's key, if not in ``certfile``.
    """

    channel = "client"

    def __init__(
        self,
        channel: Any = "client",
        *,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        super().__init__(channel=channel)
        self._response: ResponseObject | None = None
        self._transport = TCPClient(channel=channel).register(self)
        self._http = HTTP(channel=channel).register(self._transport)
        tls = {"ca_certs": ca_certs, "certfile": certfile, "keyfile": keyfile}
        self._tls = {k: v for k, v in tls.items() if v is not None}
        self._target: tuple[str, int, bool] | None = None  # where the connection goes
        self._up = False  # ``connected`` seen (TLS: after the handshake), no disconnect since
        self._failure: BaseException | None = None  # why the current step failed
        self._got: ResponseObject | None = None  # the response to the request in flight
        self._in_flight = False
        self._waiter: _wake | None = None  # fired to resume the running request
        self._busy = False
        self._turns: deque[Event] = deque()  # requests waiting for their turn

    @property
    def connected(self) -> bool:
        """Whether the transport is connected."""
        return bool(getattr(self._transport, "connected", False))

    @property
    def response(self) -> ResponseObject | None:
        """The last complete response (``None`` until the first one)."""
        return self._response

    # -- the 3.2.5 handlers ---------------------------------------------------

    @handler("write", priority=1)
    def write(self, event: Event, data: bytes) -> None:
        """Send ``data`` on the connection, if it is connected."""
        event.stop()  # the transport shares the channel: it gets the data from us only
        if self.connected:
            self.fire(write(data), self._transport)

    @handler("close", priority=1)
    def close(self, event: Event) -> None:
        """Close the connection, if it is connected."""
        event.stop()
        if self.connected:
            self.fire(close(), self._transport)

    @handler("connect", priority=1)
    def connect(
        self, event: Event, host: Any = None, port: Any = None, secure: Any = None, **kwargs: Any
    ) -> None:
        """Connect the transport to ``(host, port)`` unless it is connected."""
        event.stop()
        if not self.connected:
            self._target = (host, port, bool(secure))
            self.fire(connect(host, port, bool(secure), **{**self._tls, **kwargs}), self._transport)

    @handler("request")
    def request(
        self, method: Any, url: Any, body: Any = None, headers: Any = None
    ) -> Generator[Any, Any, None]:
        """Send a request and wait for its response (the event's value).

        Requests run one at a time, in the order this handler sees them.

        Raises:
            ValueError: an invalid URL, method or header (CR, LF, NUL ...);
                nothing is sent.
            TypeError: a body that is not bytes.
            ConnectionError: (in the coroutine) the connection failed or
                closed before the response.
        """
        _check_method(method)
        host, port, target, secure = _prepare(url)
        fields = _fields(host, port, headers, body)
        encode_request(method, target, fields, body)  # validates before any I/O
        # The turn is claimed now, not in the coroutine: runnable coroutines
        # are stepped in no particular order.
        turn: Event | None = None
        if self._busy:
            turn = _wake()
            self._turns.append(turn)
        self._busy = True
        return self._exchange(turn, method, (host, port, secure), target, fields, body)

    def _exchange(
        self,
        turn: Event | None,
        method: Any,
        where: tuple[str, int, bool],
        target: str,
        fields: list[tuple[str, str]],
        body: Any,
    ) -> Generator[Any, Any, None]:
        host, port, _ = where
        try:
            if turn is not None:
                yield self.wait(turn)  # the request before hands the turn over
            if self.connected and (
                self._target != where or not self._up or not self._http.reusable
            ):
                yield from self._reconnect_needed()
            if not self._up:
                yield from self._connect(*where)
            data = self._http.send_request(method, target, fields, body)
            self._got, self._failure, self._in_flight = None, None, True
            self.fire(write(data), self._transport)
            while self._got is None:
                if self._failure is not None:
                    raise self._failure
                if not self._up:
                    raise ConnectionError(f"{host}:{port} closed the connection before responding")
                yield from self._sleep()
            res = self._got
        finally:
            self._in_flight = False
            self._got = None
            self._release_turn()
        yield res

    @handler("response")
    def _on_response(self, response: ResponseObject) -> None:
        self._response = response
        if self._in_flight:
            self._got = response
            self._wake()
        connection = str(response.headers.get("Connection", "")).lower()
        closing = "close" in (t.strip() for t in connection.split(","))
        if self.connected and (closing or not (self._http.reusable or self._http.switched)):
            self.fire(close(), self._transport)

    # -- connection state -----------------------------------------------------

    @handler("connected")
    def _on_connected(self, *args: Any) -> None:
        self._up = True
        self._wake()

    @handler("disconnected", priority=-1)  # after HTTP has delivered a close-delimited body
    def _on_disconnected(self) -> None:
        self._up = False
        self._wake()

    @handler("unreachable")
    def _on_unreachable(self, host: Any, port: Any, reason: Any = None) -> None:
        if self._failure is None:
            detail = f": {reason}" if reason is not None else ""
            self._failure = ConnectionError(f"cannot connect to {host}:{port}{detail}")
        self._wake()

    @handler("error")
    def _on_error(self, *args: Any) -> None:
        exc = args[-1] if args else None
        if self._failure is None:
            self._failure = (
                exc if isinstance(exc, BaseException) else ConnectionError(f"error {args!r}")
            )
        self._wake()

    # -- the request coroutine's steps ----------------------------------------

    def _connect(self, host: str, port: int, secure: bool) -> Generator[Any, Any, None]:
        self._failure = None
        self._target = (host, port, secure)
        self.fire(connect(host, port, secure, **self._tls), self._transport)
        while not self._up:
            if self._failure is not None:
                raise self._failure
            yield from self._sleep()

    def _reconnect_needed(self) -> Generator[Any, Any, None]:
        """Close a connection that cannot carry the request (other host, not reusable)."""
        log.debug("client: closing the connection to %s to open a new one", self._target)
        self.fire(close(), self._transport)
        while self.connected:
            yield from self._sleep()
        self._up = False

    def _sleep(self) -> Generator[Any, Any, None]:
        waiter = self._waiter = _wake()
        yield self.wait(waiter)

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self.fire(waiter)

    def _release_turn(self) -> None:
        if self._turns:
            self.fire(self._turns.popleft())
        else:
            self._busy = False


def _check_method(method: Any) -> None:
    text = method.decode("latin-1") if isinstance(method, bytes) else str(method)
    if any(c in text for c in _FORBIDDEN):
        raise ValueError(f"request method {method!r} contains CR, LF or NUL")


def _prepare(url: Any) -> tuple[str, int, str, bool]:
    host, port, path, secure = parse_url(str(url))
    # Spaces and non-ASCII in the path are percent-encoded (UTF-8), as browsers do.
    return host, port, quote(path, safe=_PATH_SAFE), secure


def _fields(host: str, port: int, headers: Any, body: Any) -> list[tuple[str, str]]:
    """The header fields: the caller's (checked by ``Headers``), Host, Content-Length."""
    fields = Headers(headers or {})  # ValueError on CR, LF or NUL in a name or value
    if "Host" not in fields:
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal
        fields["Host"] = name if port in DEFAULT_PORTS.values() else f"{name}:{port}"
    if body is not None:
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"the request body must be bytes, not {type(body).__name__}")
        fields["Content-Length"] = str(len(body))
    return list(fields.items())
