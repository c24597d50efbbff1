"""An in-process client for circuits.web: requests and WebSockets with no port.

``WebClient(*components)`` builds a `MemoryWebServer` (the ``HTTP``
component and the URL ``Dispatcher`` over a `MemoryServer` instead of a
socket server), registers the components on it and, inside ``with``, runs it
in a thread. Each request opens a `MemoryConnection`, writes the request
with the project's HTTP/1.1 engine in the client role and reads the response
with the same engine, so what a handler sees is what a real server would
give it, and the response is checked as strictly as a real client would.

The client keeps the cookies responses set (``client.cookies``) and sends
them back, as a browser talking to one site would: Max-Age and Expires
delete a cookie, Domain and Path are not looked at.
"""

from __future__ import annotations

import base64
import hashlib
import json as _json
import os
import time
from contextlib import ExitStack
from email.utils import parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode

from circuits._sansio import http1
from circuits._sansio.websocket import (
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketEngine,
)
from circuits.core.components import BaseComponent
from circuits.core.handlers import handler
from circuits.web._mount import Unlistening
from circuits.web.dispatchers import Dispatcher
from circuits.web.headers import Headers
from circuits.web.http import HTTP

from ._memory import MemoryConnection, MemoryServer
from ._running import running

__all__ = [
    "MemoryWebServer",
    "WebClient",
    "WebResponse",
    "WebSocketClosed",
    "WebSocketHandshakeError",
    "WebSocketSession",
]

# The default Host of requests: a name no real host has (RFC 6761 reserves
# ".test"; "testserver" is what Django and Starlette test clients send).
TEST_HOST = "testserver"
# Seconds a request or a WebSocket receive may take before the test fails.
TIMEOUT_S = 5.0
# RFC 6455 §1.3.
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class MemoryWebServer(Unlistening, BaseComponent):
    """A circuits.web server over a `MemoryServer`: ``HTTP`` and the ``Dispatcher``, no socket.

    Args:
        channel: the web channel (``"web"``, as ``Server``'s).
        encoding: the response and path encoding.
        host: the host name its URLs carry.
        debug: show tracebacks on error pages.
    """

    channel = "web"

    def __init__(
        self,
        channel: Any = channel,
        encoding: str = "utf-8",
        host: str = TEST_HOST,
        debug: bool = False,
    ) -> None:
        super().__init__(channel=channel)
        self._host = host
        self.debug = debug
        self.display_banner = True
        self.server: MemoryServer = MemoryServer(channel=channel).register(self)
        self.http = HTTP(self, encoding=encoding, channel=channel).register(self)
        Dispatcher(channel=channel).register(self.http)

    @property
    def host(self) -> str:
        """The host name given."""
        return self._host

    @handler("connect")
    def _on_connect(self, *args: Any, **kwargs: Any) -> None:
        """Placeholder, so that ``connect`` is handled (as in ``BaseServer``)."""

    @handler("closed")
    def _on_closed(self, *args: Any, **kwargs: Any) -> None:
        """Placeholder, so that ``closed`` is handled."""


class WebResponse:
    """A response the `WebClient` received.

    Attributes:
        status: the status code.
        reason: the reason phrase.
        headers: the header fields (case-insensitive; repeated fields via ``get_all``).
        body: the body bytes.
    """

    def __init__(self, status: int, reason: str, headers: Headers, body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"<WebResponse {self.status} {self.reason} ({len(self.body)} bytes)>"

    @property
    def status_code(self) -> int:
        """``status`` (the name requests and httpx use)."""
        return self.status

    @property
    def content(self) -> bytes:
        """``body`` (the name requests and httpx use)."""
        return self.body

    @property
    def text(self) -> str:
        """The body decoded with the ``charset`` of its Content-Type (UTF-8 by default)."""
        charset = "utf-8"
        for element in self.headers.elements("Content-Type"):
            charset = str(element.params.get("charset", charset))
        return self.body.decode(charset, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            ValueError: the body is not JSON.
        """
        return _json.loads(self.body)


class WebSocketHandshakeError(AssertionError):
    """The server did not switch to the WebSocket protocol; ``response`` says how it answered."""

    def __init__(self, message: str, response: WebResponse | None = None) -> None:
        super().__init__(message)
        self.response = response


class WebSocketClosed(Exception):
    """The WebSocket connection is closed (``code``, ``reason``: from the close frame).

    ``code`` is 1006 when the connection went away without a close frame.
    """

    def __init__(self, code: int, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"the WebSocket connection closed with {code}{detail}")
        self.code = code
        self.reason = reason


class WebSocketSession:
    """One WebSocket connection of a `WebClient` (``with client.websocket("/ws") as ws``).

    Attributes:
        subprotocol: the subprotocol the server chose, or ``None``.
        response: the ``101`` response.
    """

    def __init__(
        self, conn: MemoryConnection, response: WebResponse, first: bytes, timeout: float
    ) -> None:
        self._conn = conn
        self._engine = WebSocketEngine(Role.CLIENT)
        self._engine.receive_data(first)
        self._timeout = timeout
        self._closed: WebSocketClosed | None = None
        self.response = response
        self.subprotocol: str | None = response.headers.get("Sec-WebSocket-Protocol")

    def __enter__(self) -> WebSocketSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message.

        Raises:
            WebSocketClosed: the connection is closed.
        """
        if self._closed is not None:
            raise self._closed
        message = TextMessage(data) if isinstance(data, str) else BytesMessage(bytes(data))
        self._conn.send(self._engine.send(message))

    def receive(self, timeout: float | None = None) -> str | bytes:
        """The next message: ``str`` for text, ``bytes`` for binary (pings are answered).

        Raises:
            WebSocketClosed: the server closed the connection.
            TimeoutError: no message within ``timeout`` seconds (default: the client's).
        """
        deadline = time.monotonic() + (self._timeout if timeout is None else timeout)
        while True:
            if self._closed is not None:
                raise self._closed
            event = self._engine.next_event()
            if isinstance(event, TextMessage):
                return event.data
            if isinstance(event, BytesMessage):
                return bytes(event.data)
            if isinstance(event, Ping):
                self._conn.send(self._engine.send(Pong(event.payload)))
                continue
            if isinstance(event, CloseConnection):
                if not self._engine.close_sent:
                    self._conn.send(self._engine.send(CloseConnection(event.code, event.reason)))
                self._conn.close()
                self._closed = WebSocketClosed(event.code, event.reason)
                continue
            if event is not None:
                continue
            data = self._conn.recv(max(0.0, deadline - time.monotonic()))
            if not data:
                self._conn.close()
                self._closed = WebSocketClosed(1006, "the connection went away")
                continue
            self._engine.receive_data(data)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and wait briefly for the server's; closing twice is harmless."""
        if self._closed is not None:
            return
        if not self._engine.close_sent:
            self._conn.send(self._engine.send(CloseConnection(code, reason)))
        try:
            while True:
                self.receive()  # messages still under way are dropped
        except (WebSocketClosed, TimeoutError):
            pass
        self._conn.close()
        self._closed = WebSocketClosed(code, reason)


class WebClient:
    """Requests to a circuits.web component tree, in process, with no port.

    ``with WebClient(Root()) as client: client.get("/")`` (the tree runs in a
    thread inside ``with``). Responses are `WebResponse`; a request does not
    follow redirects.

    Args:
        *components: registered on the `MemoryWebServer`, in order.
        host: the ``Host`` of requests.
        timeout: seconds a request or a WebSocket receive may take.
        channel: the web channel.

    Attributes:
        cookies: the cookie jar, name to value: filled from the responses'
            ``Set-Cookie`` fields and sent as ``Cookie`` with every request
            (edit it to set or drop cookies by hand).
    """

    def __init__(
        self,
        *components: Any,
        host: str = TEST_HOST,
        timeout: float = TIMEOUT_S,
        channel: Any = "web",
    ) -> None:
        self.app = MemoryWebServer(channel=channel, host=host)
        for component in components:
            component.register(self.app)
        self.host = host
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._stack: ExitStack | None = None

    def __enter__(self) -> WebClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> WebClient:
        """Run the tree in a thread (``with`` does it); returns ``self``."""
        if self._stack is None:
            stack = ExitStack()
            stack.enter_context(running(self.app))
            self._stack = stack
        return self

    def close(self) -> None:
        """Stop the tree and join its thread."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        data: bytes | str | dict[str, Any] | None = None,
        json: Any = None,
        cookies: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> WebResponse:
        """Send one request and return the response.

        Args:
            method: the request method.
            path: the request target (``"/a/b?x=1"``).
            params: added to the query string.
            headers: request header fields (they replace the defaults, the
                ``Cookie`` made from the jar included).
            data: the body: bytes, text (UTF-8) or a dict sent as a form.
            json: a value sent as a JSON body (instead of ``data``).
            cookies: sent with this request only, over the jar's cookies of
                the same names.
            timeout: seconds to wait for the response (default: the client's).

        Raises:
            RuntimeError: the client is not started.
            TimeoutError: no complete response in time.
            circuits._sansio.http1.ProtocolError: the server broke HTTP/1.1.
        """
        fields, body = self._head(path, params, headers, data, json, cookies)
        target = _target(path, params)
        engine = http1.Connection(http1.CLIENT)
        conn = self._open()
        try:
            conn.send(
                engine.send(http1.Request(method.upper().encode("ascii"), target, fields))
                + (engine.send(http1.Data(body)) if body else b"")
                + engine.send(http1.EndOfMessage())
            )
            response = _read_response(engine, conn, self.timeout if timeout is None else timeout)
        finally:
            conn.close()
        self._store_cookies(response)
        return response

    def get(self, path: str, **kwargs: Any) -> WebResponse:
        """``request("GET", path, ...)``."""
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> WebResponse:
        """``request("HEAD", path, ...)``."""
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> WebResponse:
        """``request("POST", path, ...)``."""
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> WebResponse:
        """``request("PUT", path, ...)``."""
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> WebResponse:
        """``request("PATCH", path, ...)``."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> WebResponse:
        """``request("DELETE", path, ...)``."""
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> WebResponse:
        """``request("OPTIONS", path, ...)``."""
        return self.request("OPTIONS", path, **kwargs)

    def websocket(
        self,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        subprotocols: tuple[str, ...] | list[str] = (),
        timeout: float | None = None,
    ) -> WebSocketSession:
        """Open a WebSocket connection (``with client.websocket("/ws") as ws: ...``).

        Raises:
            WebSocketHandshakeError: the server answered anything but a valid
                ``101``; its ``response`` is attached.
        """
        timeout = self.timeout if timeout is None else timeout
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        extra = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13",
        }
        if subprotocols:
            extra["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
        fields, _ = self._head(path, None, {**extra, **(headers or {})}, None, None, None)
        engine = http1.Connection(http1.CLIENT)
        conn = self._open()
        try:
            conn.send(engine.send(http1.Request(b"GET", path.encode("ascii"), fields)))
            conn.send(engine.send(http1.EndOfMessage()))
            response = _read_response(engine, conn, timeout, upgrade=True)
            if response.status != 101:
                raise WebSocketHandshakeError(
                    f"GET {path} was answered {response.status} {response.reason}, "
                    f"not 101: {response.body[:200]!r}",
                    response,
                )
            digest = hashlib.sha1((key + _WS_GUID).encode("ascii")).digest()  # RFC 6455 §4.2.2
            expected = base64.b64encode(digest).decode("ascii")
            if response.headers.get("Sec-WebSocket-Accept") != expected:
                raise WebSocketHandshakeError(
                    f"Sec-WebSocket-Accept is {response.headers.get('Sec-WebSocket-Accept')!r}, "
                    f"expected {expected!r}",
                    response,
                )
        except BaseException:
            conn.close()
            raise
        first, _ = engine.trailing_data
        return WebSocketSession(conn, response, first, timeout)

    def _open(self) -> MemoryConnection:
        if self._stack is None:
            raise RuntimeError(
                "the WebClient is not running: use `with WebClient(...) as client` "
                "or call client.start()"
            )
        return self.app.server.open()

    def _head(
        self,
        path: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        data: bytes | str | dict[str, Any] | None,
        json: Any,
        cookies: dict[str, str] | None,
    ) -> tuple[tuple[tuple[bytes, bytes], ...], bytes]:
        base: dict[str, str] = {"Host": self.host, "User-Agent": "circuits.testing.WebClient"}
        jar = {**self.cookies, **(cookies or {})}
        if jar:
            base["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        body = b""
        if json is not None:
            body = _json.dumps(json).encode("utf-8")
            base["Content-Type"] = "application/json"
        elif isinstance(data, dict):
            body = urlencode(data, doseq=True).encode("ascii")
            base["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(data, str):
            body = data.encode("utf-8")
            base["Content-Type"] = "text/plain; charset=utf-8"
        elif data is not None:
            body = bytes(data)
        if body or data is not None or json is not None:
            base["Content-Length"] = str(len(body))
        merged = {k.lower(): (k, v) for k, v in base.items()}
        merged.update({k.lower(): (k, v) for k, v in (headers or {}).items()})
        fields = tuple((k.encode("latin-1"), str(v).encode("latin-1")) for k, v in merged.values())
        return fields, body

    def _store_cookies(self, response: WebResponse) -> None:
        for field in response.headers.get_all("Set-Cookie"):
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(field)
            except CookieError:
                continue  # a browser ignores a Set-Cookie it cannot parse
            for name, morsel in parsed.items():
                if _expired(morsel["max-age"], morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def _expired(max_age: str, expires: str) -> bool:
    """Whether a cookie's attributes delete it (RFC 6265 §5.2.1-2: Max-Age wins over Expires)."""
    if max_age:
        try:
            return int(max_age) <= 0
        except ValueError:
            return False  # an invalid Max-Age is ignored
    if expires:
        try:
            return parsedate_to_datetime(expires).timestamp() <= time.time()
        except (TypeError, ValueError):
            return False
    return False


def _target(path: str, params: dict[str, Any] | None) -> bytes:
    if params:
        path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
    return path.encode("utf-8")


def _read_response(
    engine: http1.Connection, conn: MemoryConnection, timeout: float, upgrade: bool = False
) -> WebResponse:
    """Read one response (or, with ``upgrade``, stop at a ``101``)."""
    deadline = time.monotonic() + timeout
    head: http1.Response | http1.InformationalResponse | None = None
    chunks: list[bytes] = []
    while True:
        event = engine.next_event()
        if event is None:
            try:
                data = conn.recv(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                got = "no response" if head is None else f"{head.status_code} without its end"
                raise TimeoutError(f"{got} within {timeout} s") from None
            engine.receive_data(data)
        elif isinstance(event, http1.InformationalResponse):
            if upgrade and event.status_code == 101:
                head = event
                break
        elif isinstance(event, http1.Response):
            head = event
        elif isinstance(event, http1.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, http1.EndOfMessage | http1.ConnectionClosed):
            break
    if head is None:
        raise ConnectionResetError("the server closed the connection without a response")
    return WebResponse(
        head.status_code,
        head.reason.decode("latin-1"),
        Headers._from_wire(head.headers),
        b"".join(chunks),
    )
