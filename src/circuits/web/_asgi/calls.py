"""One hosted ASGI ``http`` call: the bridge between its coroutine and the HTTP component.

See `circuits.web._asgi.gateway` for the theory of operation.
"""

from __future__ import annotations

import asyncio
import html
import logging
import traceback
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ...core.events import Event
from ...net.events import close
from ..errors import httperror
from ..events import response, stream
from ..headers import Headers
from ..wrappers import HTTPStatus, Request, Response
from .common import (
    ASGI_INFO,
    HOP_BY_HOP,
    ClientDisconnected,
    Message,
    Scope,
    headers_from_asgi,
    headers_to_asgi,
    settle,
)
from .lifespan import Lifespan

if TYPE_CHECKING:
    from .gateway import Gateway

__all__ = ["BODY_CHUNK_BYTES", "WAIT", "Call", "HTTPCall", "asgi_action", "server_defaults"]

log = logging.getLogger("circuits.web.asgi")

# Request bodies reach receive() in pieces this big (uvicorn reads 64 KiB too).
BODY_CHUNK_BYTES = 65536
# A parked stream's pull result: "nothing yet" (truthy, so HTTP passes it on).
WAIT: Any = type("_Wait", (), {"__repr__": lambda self: "<asgi: no chunk yet>"})()
# Default headers of a circuits Response that the application replaces or drops.
_DEFAULTS_DROPPED = frozenset({"content-type"})


class asgi_action(Event):
    """``asgi_action(fn, *args)``: run ``fn(*args)`` on the circuits loop (internal)."""


class Call:
    """What HTTP and WebSocket calls share: the scope, the error path, the bridge."""

    kind = "http"

    def __init__(
        self,
        gateway: Gateway,
        loop: asyncio.AbstractEventLoop,
        lifespan: Lifespan,
        req: Request,
        res: Response,
        mount: str,
    ) -> None:
        self.gateway = gateway
        self.loop = loop
        self.lifespan = lifespan
        self.req = req
        self.res = res
        self.answered = False  # asyncio side: a response or an error was handed over
        self.disconnected = False  # asyncio side: the client is gone
        self.expired = False
        self.closed = False  # circuits side: the connection or response is over
        self.timer: asyncio.TimerHandle | None = None
        self.scope = self._scope(mount)

    def _scope(self, mount: str) -> Scope:
        req = self.req
        raw_path = req.path.encode("utf-8", "surrogateescape")
        secure = req.scheme == "https"
        scheme = ("wss" if secure else "ws") if self.kind == "websocket" else req.scheme
        server = req.server
        local = (str(getattr(server, "host", "") or ""), int(getattr(server, "port", 0) or 0))
        scope: Scope = {
            "type": self.kind,
            "asgi": dict(ASGI_INFO),
            "http_version": "{}.{}".format(*req.protocol),
            "scheme": scheme,
            "path": unquote(req.path, "utf-8", "surrogateescape"),
            "raw_path": raw_path,
            "query_string": req.qs.encode("utf-8", "surrogateescape"),
            # ASGI: root_path is the mount (WSGI's SCRIPT_NAME); path stays whole.
            "root_path": mount.rstrip("/"),
            "headers": headers_to_asgi(req.headers),
            "client": (str(req.remote.ip), int(req.remote.port or 0)) if req.remote.ip else None,
            "server": local,
            "state": dict(self.lifespan.state),
        }
        if self.kind == "http":
            scope["method"] = req.method
        return scope

    def post(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the circuits loop."""
        self.gateway.fire(asgi_action(fn, *args))

    async def run(self) -> None:
        if not await self.lifespan.ready():
            self.fail(None, "The application did not start.")
            return
        task = asyncio.current_task()
        assert task is not None
        timer = self.timer = self.loop.call_later(self.gateway.response_timeout, self._expire, task)
        try:
            await self.lifespan.app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            if not self.expired:
                raise
            self.fail(None, f"No response within {self.gateway.response_timeout} s.")
        except Exception as exc:
            self.fail(exc)
        else:
            self.returned()
        finally:
            timer.cancel()

    def _expire(self, task: asyncio.Task[None]) -> None:
        if not self.answered:
            self.expired = True
            task.cancel()

    def stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def fail(self, exc: BaseException | None, description: str = "") -> None:
        """The application failed: one 500 if nothing is on the wire, else close."""
        if exc is not None:
            log.error("ASGI application %r failed on %r", self.lifespan.app, self.req,
                      exc_info=exc)  # fmt: skip
        elif description:
            log.error("ASGI application %r on %r: %s", self.lifespan.app, self.req, description)
        if self.disconnected:
            return  # nothing goes to a client that is gone
        if self.answered:
            self.post(self.c_abort)
            return
        self.answered = True
        self.post(self.c_error, exc, description)

    def returned(self) -> None:
        raise NotImplementedError

    async def receive(self) -> Message:
        raise NotImplementedError

    async def send(self, message: Message) -> None:
        raise NotImplementedError

    # -- circuits side ----------------------------------------------------------------

    def c_error(self, exc: BaseException | None, description: str) -> None:
        if self.closed:
            return
        res = self.res
        res.headers = server_defaults(res.headers)
        error = None
        if exc is not None:
            summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            description = summary
            error = (type(exc), exc, traceback.format_tb(exc.__traceback__))
        text = f"<p>{html.escape(description, True)}</p>"
        self.gateway.fire(httperror(self.req, res, 500, description=text, error=error))

    def c_abort(self) -> None:
        if not self.closed:
            self.c_disconnected()
            self.gateway.fire(close(self.req.sock))

    def c_disconnected(self) -> None:
        self.closed = True
        self.loop.call_soon_threadsafe(self.on_disconnect)

    def on_disconnect(self) -> None:
        self.disconnected = True


class HTTPCall(Call):
    """One ASGI ``http`` call; also the streamed response body HTTP pulls from."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        body = self.req.body
        self.body: bytes = body.getvalue() if hasattr(body, "getvalue") else body.read()
        self.offset = 0
        self.body_done = False
        self.head: tuple[int, list[tuple[str, str]]] | None = None
        self.complete = False  # the last http.response.body was sent
        self.gone: asyncio.Future[None] | None = None
        # circuits side: chunks HTTP has not taken yet, and their send() futures
        self.queue: deque[tuple[bytes, asyncio.Future[None] | None]] = deque()
        self.ended = False
        self.parked = False
        self.aborted = False  # the application failed mid-body: close, do not end

    async def receive(self) -> Message:
        if not self.body_done and not self.disconnected:
            chunk = self.body[self.offset : self.offset + BODY_CHUNK_BYTES]
            self.offset += len(chunk)
            self.body_done = self.offset >= len(self.body)
            return {"type": "http.request", "body": chunk, "more_body": not self.body_done}
        if not self.disconnected and not self.complete:
            if self.gone is None:
                self.gone = self.loop.create_future()
            await asyncio.shield(self.gone)
        return {"type": "http.disconnect"}

    def on_disconnect(self) -> None:
        super().on_disconnect()
        if self.gone is not None:
            settle(self.gone)

    async def send(self, message: Message) -> None:
        if self.disconnected:
            raise ClientDisconnected(f"the client of {self.req!r} disconnected")
        kind = message["type"]
        if kind == "http.response.start":
            if self.head is not None:
                raise RuntimeError("http.response.start sent twice")
            status = message["status"]
            if not isinstance(status, int) or not 100 <= status <= 999:
                raise ValueError(f"http.response.start status {status!r} is not an int 100-999")
            self.head = (status, headers_from_asgi(message.get("headers", ())))
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r} for an http scope")
        if self.head is None:
            raise RuntimeError("http.response.body sent before http.response.start")
        if self.complete:
            raise RuntimeError("http.response.body sent after the response completed")
        body = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        fut = self.loop.create_future() if body and more else None
        if not more:
            self.complete = True
            if self.gone is not None:
                settle(self.gone)
        if not self.answered:
            self.answered = True
            self.stop_timer()
            self.post(self.c_respond, self.head, body, more, fut)
        else:
            self.post(self.c_push, body, more, fut)
        if fut is not None:
            await fut  # back-pressure: HTTP takes the chunk when the socket can hold it

    def returned(self) -> None:
        if not self.complete:
            self.fail(None, "The application returned without completing its response.")

    # -- circuits side ----------------------------------------------------------------

    def c_respond(
        self,
        head: tuple[int, list[tuple[str, str]]],
        body: bytes,
        more: bool,
        fut: asyncio.Future[None] | None,
    ) -> None:
        if self.closed:
            self._reject(fut)
            return
        res = self.res
        status, pairs = head
        headers = server_defaults(res.headers)
        for name, value in pairs:
            if name.lower() in HOP_BY_HOP:
                log.debug("%r: dropped the application's hop-by-hop header %r", self.req, name)
                continue
            if name.lower() in ("date", "server"):
                headers[name] = value
            else:
                headers.append(name, value)
        res.headers = headers
        res.status = HTTPStatus(status)
        if self.req.method == "HEAD":
            res.body = iter(())  # keeps the application's Content-Length
            self.ended = True
            self._resolve(fut)
        elif more:
            res.stream = True
            res.body = self
            self.c_push(body, more, fut)
        else:
            self.ended = True
            res.body = body
        self.gateway.fire(response(res))

    def c_push(self, body: bytes, more: bool, fut: asyncio.Future[None] | None) -> None:
        if self.req.method == "HEAD":
            self._resolve(fut)  # the head went out alone; the body is not sent
            return
        if self.closed:
            self._reject(fut)
            return
        if body:
            self.queue.append((body, fut))
        if not more:
            self.ended = True
        if self.parked and (self.queue or self.ended):
            self.parked = False
            self.gateway.fire(stream(self.res, next(self, None)))

    def _resolve(self, fut: asyncio.Future[None] | None) -> None:
        if fut is not None:
            self.loop.call_soon_threadsafe(settle, fut)

    def _reject(self, fut: asyncio.Future[None] | None) -> None:
        if fut is not None:
            exc = ClientDisconnected(f"the client of {self.req!r} disconnected")
            self.loop.call_soon_threadsafe(settle, fut, exc)

    def __iter__(self) -> HTTPCall:
        return self

    def c_abort(self) -> None:
        # Close after what HTTP is writing now: at its next pull (it pulls
        # right after each write, or on drained), or at once when parked.
        if self.closed:
            return
        self.aborted = True
        if self.parked:
            self._close_now()

    def _close_now(self) -> None:
        if not self.closed:
            self.c_disconnected()
            self.gateway.fire(close(self.req.sock))

    def __next__(self) -> Any:
        if self.queue:
            chunk, fut = self.queue.popleft()
            self._resolve(fut)
            return chunk
        if self.aborted:
            self._close_now()
            return WAIT  # HTTP never ends this response: the client sees it cut
        if self.ended:
            raise StopIteration
        self.parked = True
        return WAIT

    def close(self) -> None:
        """Called by HTTP when the response is over (sent, or the client went away)."""
        if self.closed:
            return
        if not self.ended or self.queue:
            self.c_disconnected()
        self.closed = True

    def c_disconnected(self) -> None:
        super().c_disconnected()
        while self.queue:
            self._reject(self.queue.popleft()[1])


def server_defaults(headers: Headers) -> Headers:
    """The server's default headers (``Date``, ``Server``...) without ``Content-Type``."""
    fresh = Headers()
    for name, value in headers.items():
        if name.lower() not in _DEFAULTS_DROPPED:
            fresh.append(name, value)
    return fresh
