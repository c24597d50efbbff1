"""``Application``'s ``websocket`` scopes: one ASGI WebSocket as a circuits socket.

Theory of operation. The ASGI server (uvicorn, hypercorn) does the HTTP
upgrade and the framing; what reaches us are whole messages. So the
`WebSocketsDispatcher` of the tree is only *consulted* (its ``path``,
``select_subprotocol`` and ``max_message_bytes``); no `WebSocketCodec` is
involved. The application sees what it sees under `Server`, on the
dispatcher's ``wschannel``:

1. ``websocket.connect``: the dispatcher whose ``path`` is the scope's path
   (or ``None``) is chosen; none: ``websocket.close`` before accept, which
   the server answers with 403. Else ``websocket.accept`` (with the
   subprotocol ``select_subprotocol`` picks among the offered ones), then
   ``connect(sock, host, port)`` carrying the upgrade request as
   ``event.request``. ``sock`` is a `WebSocketPeer`.
2. ``websocket.receive`` → ``read(sock, str)`` for text, ``read(sock,
   bytearray)`` for bytes (``event.request`` set by the dispatcher, as under
   `Server`). A message over ``max_message_bytes`` closes with 1009, no read.
3. ``write(sock, data)`` on ``wschannel`` → ``websocket.send`` (text for
   ``str``, bytes otherwise); ``close(sock)`` → ``websocket.close`` 1000,
   after the writes fired before it; later writes are dropped (as the codec
   drops writes after its Close).
4. ``websocket.disconnect`` (or the end of the call) → ``disconnect(sock)``
   on ``wschannel``, exactly once.

Everything runs on the server's asyncio loop, where `Application` runs the
tree (``run_async``): handlers append to a connection's outbox and wake its
writer task; the call's reader task fires ``read`` events.

Back-pressure, both ways. Reading: at most ``READ_WINDOW`` ``read`` events
of one connection are in flight; the reader awaits the oldest before it calls
``receive()`` again, so a slow tree stops the server reading that socket
(the server's own queue, then TCP, push back on the client). Writing:
``send()`` awaits the server's flow control, one message at a time; handlers
cannot wait, so messages queue in the outbox, up to ``max_unsent_bytes``
(`Application.ws_max_unsent_bytes`). A client that lets more pile up is
too slow: the queue is dropped and the connection closed with 1008. After
a close is queued, the server has the dispatcher's ``close_timeout``
seconds to report ``websocket.disconnect``; then the call ends anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from ...core.utils import flatten
from ...net.events import connect, disconnect, read
from ..headers import HeaderElement, header_elements
from ..websockets.dispatcher import WebSocketsDispatcher
from .common import ClientDisconnected, Message, Receive, Scope, Send, settle

if TYPE_CHECKING:
    from ...core.values import Value
    from .application import Application

__all__ = ["READ_WINDOW", "WebSocketPeer", "serve_websocket"]

log = logging.getLogger("circuits.web.asgi")

# ``read`` events of one connection in flight before the reader waits: the
# ``websockets`` library's ``max_queue`` default (16 messages received but
# not yet read by the application).
READ_WINDOW = 16
# RFC 6455 §7.4.1: 1000 normal, 1008 policy violation (a client too slow to
# take what we send), 1009 message too big.
WS_NORMAL = 1000
WS_POLICY = 1008
WS_TOO_BIG = 1009
# UTF-8 takes at most 4 bytes per code point (RFC 3629 §3).
_UTF8_MAX_BYTES = 4


class WebSocketPeer:
    """The ``sock`` of one ASGI websocket connection, as handlers see it.

    Hashable by identity, like a socket. ``getpeername()`` is the scope's
    ``client``, ``getsockname()`` its ``server``.

    Args:
        scope: the ASGI ``websocket`` scope.
    """

    __slots__ = ("scope",)

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def getpeername(self) -> tuple[Any, ...]:
        """The client's ``(host, port)``.

        Raises:
            OSError: the server did not tell (no ``client`` in the scope).
        """
        return _address(self.scope, "client")

    def getsockname(self) -> tuple[Any, ...]:
        """The server's ``(host, port)``.

        Raises:
            OSError: the server did not tell (no ``server`` in the scope).
        """
        return _address(self.scope, "server")

    def __repr__(self) -> str:
        client = self.scope.get("client")
        peer = f"{client[0]}:{client[1]}" if client else "?"
        return f"<WebSocketPeer {peer} {self.scope.get('path', '')!r}>"


class Connection:
    """One accepted ASGI websocket: the circuits side and the asyncio side meet here."""

    def __init__(self, sock: WebSocketPeer, dispatcher: WebSocketsDispatcher, req: Any) -> None:
        self.sock = sock
        self.dispatcher = dispatcher
        self.wschannel: Any = dispatcher._wschannel
        self.request = req
        self.outbox: deque[Message] = deque()
        self.unsent_bytes = 0
        self.wakeup = asyncio.Event()
        self.closing = False  # a websocket.close is queued: later writes are dropped
        self.close_code = WS_NORMAL
        self.gave_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.timer: asyncio.TimerHandle | None = None
        self.ended = False

    def write(self, data: Any, limit: int) -> None:
        """Queue ``data`` (a ``write`` handler); past ``limit`` bytes, close 1008."""
        if self.closing:
            return
        if isinstance(data, str):
            message: Message = {"type": "websocket.send", "text": data}
        else:
            data = bytes(data)
            message = {"type": "websocket.send", "bytes": data}
        self.unsent_bytes += len(data)
        if self.unsent_bytes > limit:
            log.info(
                "%r: over %s bytes unsent, the client does not keep up: closing with %s",
                self.sock,
                limit,
                WS_POLICY,
            )
            self.outbox.clear()
            self.close(WS_POLICY)
            return
        self.outbox.append(message)
        self.wakeup.set()

    def close(self, code: int = WS_NORMAL) -> None:
        """Queue ``websocket.close`` after what is queued (the call ends ``close_timeout`` s on)."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self.outbox.append({"type": "websocket.close", "code": code})
        self.wakeup.set()
        timeout = self.dispatcher._close_timeout
        if timeout is not None:
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(timeout, settle, self.gave_up)

    async def write_loop(self, send: Send) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.outbox:
                message = self.outbox.popleft()
                if message["type"] == "websocket.close":
                    await send(message)
                    return
                self.unsent_bytes -= len(message.get("text") or message.get("bytes") or b"")
                await send(message)

    async def read_loop(self, app: Application, receive: Receive) -> None:
        limit = self.dispatcher._max_message_bytes
        in_flight: deque[Value] = deque()
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return
            if kind != "websocket.receive" or self.close_code != WS_NORMAL:
                continue  # after an error close, as the codec: nothing more is read
            text = message.get("text")
            data: str | bytearray = (
                text if text is not None else bytearray(message.get("bytes") or b"")
            )
            if _too_big(data, limit):
                log.info(
                    "%r: a message over %s bytes, closing with %s", self.sock, limit, WS_TOO_BIG
                )
                self.close(WS_TOO_BIG)
                continue
            in_flight.append(app.fire(read(self.sock, data), self.wschannel))
            if len(in_flight) >= READ_WINDOW:
                await _handled(in_flight.popleft())


async def serve_websocket(app: Application, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI ``websocket`` call for ``app`` (see the module docstring)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return  # websocket.disconnect: the client left before we answered
    request_scope = dict(scope)
    request_scope.setdefault("method", "GET")
    secure = scope.get("scheme") == "wss"
    request_scope["scheme"] = "https" if secure else "http"  # as Server's upgrade request
    req, _ = app.build_request(request_scope, b"")
    req.asgi_scope = scope  # type: ignore[attr-defined]
    dispatcher = _dispatcher_for(app, req.path)
    if dispatcher is None:
        log.info("%r: no WebSocketsDispatcher for %r, refusing", req, req.path)
        await send({"type": "websocket.close", "code": WS_NORMAL})  # a 403 from the server
        return
    await app._start()
    sock = WebSocketPeer(scope)
    req.sock = sock
    accept: Message = {"type": "websocket.accept"}
    offered = _offered(req, scope)
    if offered:
        accept["subprotocol"] = str(dispatcher.select_subprotocol(offered))
    await send(accept)

    conn = Connection(sock, dispatcher, req)
    app._ws_hook(conn.wschannel)
    app._ws_connections[sock] = conn
    dispatcher._requests[sock] = req  # its read handler sets event.request from it
    try:
        peer = sock.getpeername()
    except OSError:
        peer = ()
    ev = connect(sock, *peer)
    ev.request = req  # type: ignore[attr-defined]
    app.fire(ev, conn.wschannel)

    loop = asyncio.get_running_loop()
    reader = loop.create_task(conn.read_loop(app, receive))
    writer = loop.create_task(conn.write_loop(send))
    try:
        await asyncio.wait({reader, conn.gave_up}, return_when=asyncio.FIRST_COMPLETED)
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            log.error("%r: reading failed", sock, exc_info=reader.exception())
    finally:
        for task in (reader, writer):
            task.cancel()
        results = await asyncio.gather(reader, writer, return_exceptions=True)
        if isinstance(results[1], Exception) and not isinstance(
            results[1], ClientDisconnected | OSError
        ):
            log.error("%r: sending failed", sock, exc_info=results[1])
        _end(app, conn)


def _end(app: Application, conn: Connection) -> None:
    """Fire ``disconnect(sock)`` once and forget the connection."""
    if conn.ended:
        return
    conn.ended = True
    if conn.timer is not None:
        conn.timer.cancel()
    settle(conn.gave_up)
    app._ws_connections.pop(conn.sock, None)
    conn.dispatcher._requests.pop(conn.sock, None)
    ev = disconnect(conn.sock)
    ev.request = conn.request  # type: ignore[attr-defined]
    app.fire(ev, conn.wschannel)


def _dispatcher_for(app: Application, path: str) -> WebSocketsDispatcher | None:
    """The dispatcher that would take a request for ``path`` under `Server`."""
    catch_all = None
    for component in flatten(app):
        if isinstance(component, WebSocketsDispatcher) and component.channel == app.channel:
            if component._path == path:
                return component
            if component._path is None and catch_all is None:
                catch_all = component
    return catch_all


def _offered(req: Any, scope: Scope) -> list[HeaderElement]:
    """The offered subprotocols, sorted as `WebSocketsDispatcher` gets them."""
    offered = req.headers.elements("Sec-WebSocket-Protocol")
    if not offered and scope.get("subprotocols"):
        offered = header_elements("Sec-WebSocket-Protocol", ", ".join(scope["subprotocols"]))
    return list(offered)


def _too_big(data: str | bytearray, limit: int) -> bool:
    if len(data) > limit:
        return True
    if isinstance(data, str) and len(data) * _UTF8_MAX_BYTES > limit:
        return len(data.encode("utf-8", "surrogatepass")) > limit
    return False


async def _handled(value: Value) -> None:
    """Wait until a fired event is handled; its handlers' errors are reported elsewhere."""
    try:
        await value
    except Exception:
        pass  # the handler error went out as an ``exception`` event


def _address(scope: Scope, key: str) -> tuple[Any, ...]:
    address = scope.get(key)
    if not address:
        raise OSError(f"the ASGI server gave no {key!r} address for this connection")
    return tuple(address)
