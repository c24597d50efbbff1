"""``Application``: a circuits.web component tree as an ASGI 3.0 application.

``app = Application() + Root()`` is an ASGI callable that uvicorn or
hypercorn can serve. The tree runs with ``run_async()`` on the server's
asyncio loop, started by lifespan startup (or by the first call when the
server sends no lifespan) and stopped by lifespan shutdown. Each ``http``
call reads the whole request body from ``receive()``, builds a circuits
`Request`/`Response` (as `circuits.web.wsgi.Application` does from an
environ), fires ``request`` and awaits the ``response`` event for that
request; the response goes out as ``http.response.start`` and
``http.response.body`` messages, a streamed body one chunk per message.
Calls run concurrently; each waits for its own response.

A ``websocket`` call is served for the `WebSocketsDispatcher` of the tree
whose path it names, with the events the application sees under `Server`
(``connect``, ``read``, ``disconnect``; it answers with ``write`` and
``close`` on the dispatcher's ``wschannel``); a path no dispatcher serves
is refused (``websocket.close`` before accept: the server answers 403).
How, and how back-pressure works: `circuits.web._asgi.wsserve`.

Limits: a response that does not come within ``response_timeout`` seconds
is a 500.
"""

from __future__ import annotations

import asyncio
import logging
from io import BytesIO
from typing import Any
from urllib.parse import quote

from ...core.components import BaseComponent
from ...core.events import Event
from ...core.handlers import handler
from .._mount import Unlistening
from ..dispatchers import Dispatcher
from ..errors import httperror
from ..events import request
from ..headers import Headers
from ..http import HTTP, _close_body, _standard_reason
from ..wrappers import Host, Request, Response
from .common import HOP_BY_HOP, ClientDisconnected, Message, Receive, Scope, Send, settle
from .wsserve import Connection, WebSocketPeer, serve_websocket

__all__ = ["Application"]

log = logging.getLogger("circuits.web.asgi")

# The ASGI server adds its own (uvicorn, hypercorn): ours would be doubled.
_SERVER_HEADERS = frozenset({"date", "server"})
# The characters a request path carries unencoded (RFC 3986 pchar and "/").
_PATH_SAFE = "/:@!$&'()*+,;=~%"


class Application(Unlistening, BaseComponent):
    """A circuits.web component tree as an ASGI 3.0 application.

    Attributes:
        response_timeout: seconds to wait for the tree's response; then 500.
        stop_timeout: seconds lifespan shutdown waits for the tree to stop.
        ws_max_unsent_bytes: bytes written to one websocket and not yet taken
            by the server; past them the client is too slow and is closed
            with 1008.
    """

    channel = "web"
    response_timeout: float = 30.0
    stop_timeout: float = 10.0
    # The ``websockets`` library queues up to 16 messages of up to 1 MiB
    # (``max_queue``, ``max_size``) for a reader: we allow as much for a writer.
    ws_max_unsent_bytes: int = 16 * 2**20

    def init(self, *args: Any, **kwargs: Any) -> None:
        self._responses: dict[int, asyncio.Future[Response]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._up: asyncio.Future[None] | None = None
        self._ws_connections: dict[WebSocketPeer, Connection] = {}
        self._ws_channels: set[Any] = set()  # the wschannels we handle write/close on
        HTTP(self, channel=self.channel).register(self)
        Dispatcher(channel=self.channel).register(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI call (``http``, ``websocket`` or ``lifespan``)."""
        kind = scope["type"]
        if kind == "http":
            await self._start()
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await serve_websocket(self, scope, receive, send)
        else:
            raise ValueError(
                f"unsupported ASGI scope type {kind!r}; expected http, websocket or lifespan"
            )

    # -- the circuits loop -------------------------------------------------------------

    async def _start(self) -> None:
        """Run the tree on this asyncio loop (once), and wait for its ``started``."""
        if self._runner is None or self._runner.done():
            loop = asyncio.get_running_loop()
            self._up = loop.create_future()
            self._runner = loop.create_task(self.run_async())
        assert self._up is not None
        await asyncio.wait({self._up, self._runner}, return_when=asyncio.FIRST_COMPLETED)
        if self._runner.done():
            self._runner.result()  # raises what stopped it
            raise RuntimeError(f"{self!r} stopped")

    async def _stop(self) -> None:
        runner = self._runner
        if runner is None or runner.done():
            return
        self.stop()
        try:
            await asyncio.wait_for(runner, self.stop_timeout)
        except asyncio.TimeoutError:
            log.error("%r did not stop within %s s", self, self.stop_timeout)

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        if self._up is not None:
            settle(self._up)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                try:
                    await self._start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- websockets (the work is in wsserve) ---------------------------------------------

    def _ws_hook(self, wschannel: Any) -> None:
        """Handle ``write`` and ``close`` on ``wschannel`` (once per channel)."""
        if wschannel in self._ws_channels:
            return
        self._ws_channels.add(wschannel)

        @handler("write", channel=wschannel)
        def _on_ws_write(self: Application, sock: Any, data: Any, *args: Any) -> None:
            conn = self._ws_connections.get(sock) if isinstance(sock, WebSocketPeer) else None
            if conn is not None:
                conn.write(data, self.ws_max_unsent_bytes)

        @handler("close", channel=wschannel)
        def _on_ws_close(self: Application, sock: Any = None, *args: Any) -> None:
            conn = self._ws_connections.get(sock) if isinstance(sock, WebSocketPeer) else None
            if conn is not None:
                conn.close()

        self.addHandler(_on_ws_write)
        self.addHandler(_on_ws_close)

    # -- one http call -------------------------------------------------------------------

    def build_request(self, scope: Scope, body: bytes) -> tuple[Request, Response]:
        """Build the `Request` and `Response` of one ASGI ``http`` call.

        The path is the raw path (``raw_path``, else ``path`` percent-encoded
        again) without ``root_path``; ``root_path`` becomes ``script_name``.

        Returns:
            ``(request, response)``.
        """
        headers = Headers(
            [(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope.get("headers", ())]
        )
        root = str(scope.get("root_path", "") or "")
        raw = scope.get("raw_path")
        if raw:
            path = bytes(raw).decode("utf-8", "surrogateescape")
        else:
            path = quote(str(scope["path"]).encode("utf-8", "surrogateescape"), safe=_PATH_SAFE)
        if root and path.startswith(root):
            path = path[len(root) :]
        qs = bytes(scope.get("query_string", b"")).decode("utf-8", "surrogateescape")
        major, _, minor = str(scope.get("http_version", "1.1")).partition(".")
        protocol = (int(major), int(minor or 0))
        server = scope.get("server")
        if "Host" not in headers and server:
            headers["Host"] = f"{server[0]}:{server[1]}"
        req = Request(None, scope["method"], scope.get("scheme", "http"), path or "/", protocol,
                      qs, headers=headers)  # fmt: skip
        client = scope.get("client")
        if client:
            req.remote = Host(client[0], client[1])
        if server:
            req.local = Host(server[0], server[1])
        req.script_name = root
        req.asgi_scope = scope  # type: ignore[attr-defined]
        req.body = BytesIO(body)
        res = Response(req)
        return req, res

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # ASGI: no response to a client that is gone
            body.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                break
        req, res = self.build_request(scope, b"".join(body))
        fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._responses[id(req)] = fut
        self.fire(request(req, res))
        try:
            res = await asyncio.wait_for(fut, self.response_timeout)
        except asyncio.TimeoutError:
            log.error("%r: no response within %s s; answering 500", req, self.response_timeout)
            res = Response(req, res.encoding, 500)
            description = "<p>The application did not respond in time.</p>"
            res.body = str(httperror(req, res, 500, description=description))
        finally:
            self._responses.pop(id(req), None)
        try:
            await _send_response(req, res, send)
        except (ClientDisconnected, OSError):
            log.debug("%r: the client went away during the response", req)

    # After every other response handler with a priority (Sessions saves at
    # 1), before HTTP's (0), which would send it to a socket that is not there.
    @handler("response", priority=0.001)
    def _on_response(self, event: Event, res: Response) -> None:
        fut = self._responses.get(id(res.request))
        if fut is None:
            return  # not ours (or too late)
        event.stop()  # the ASGI server sends it, not our HTTP component
        if not fut.done():
            fut.set_result(res)


async def _send_response(req: Request, res: Response, send: Send) -> None:
    res.prepare()
    code = int(res.status)
    headers = [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in res.headers.items()
        if name.lower() not in HOP_BY_HOP and name.lower() not in _SERVER_HEADERS
    ]
    start: Message = {"type": "http.response.start", "status": code, "headers": headers}
    reason = getattr(res.status, "reason", "") or _standard_reason(code)
    log.debug("%r: %s %s", req, code, reason)
    await send(start)
    body = res.body
    if req.method == "HEAD":
        _close_body(body)
        await send({"type": "http.response.body", "body": b""})
        return
    if isinstance(body, bytes | str | list | tuple) or body is None:
        items = [body] if isinstance(body, bytes | str) else list(body or ())
        data = b"".join(_as_bytes(item, res.encoding) for item in items if item is not None)
        await send({"type": "http.response.body", "body": data})
        return
    try:
        for item in body:  # a streamed body: one message per chunk
            if item:
                chunk = _as_bytes(item, res.encoding)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        _close_body(body)


def _as_bytes(item: Any, encoding: str) -> bytes:
    if isinstance(item, str):
        return item.encode(encoding)
    return bytes(item)
