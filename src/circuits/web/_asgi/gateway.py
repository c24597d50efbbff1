"""``Gateway``: host ASGI 3.0 applications inside a circuits.web server.

Theory of operation
-------------------
The Gateway is a ``request`` handler on the web channel (priority 0.2, as
`circuits.web.wsgi.Gateway`). Each request under a mount becomes one ASGI
call running as a task on an asyncio loop: the application's own loop when
the tree runs under ``run_async()``, else a loop in a worker thread that the
Gateway owns (started on ``started`` or the first request, stopped on
``stopped``). The two sides never share state without a hand-off:

* asyncio -> circuits: the call fires ``asgi_action(fn, *args)`` (``fire``
  is thread-safe); ``fn`` runs on the circuits loop and is the only code
  that touches the `Request`/`Response` or fires web events.
* circuits -> asyncio: ``loop.call_soon_threadsafe`` completes futures and
  feeds queues.

Bodies. circuits.web's HTTP component reads a request body whole before it
fires ``request``, so ``receive()`` hands it over in ``BODY_CHUNK_BYTES``
pieces with ``more_body`` (true streaming of request bodies needs a hook in
HTTP). A response whose first ``http.response.body`` has ``more_body`` is a
streamed response: the HTTP component pulls its chunks one ``stream`` event
at a time; when none is queued the pull returns a marker that this component
stops (the stream is *parked*) and the next ``send()`` restarts it. Each
``send()`` of a chunk returns only when HTTP has taken that chunk, and HTTP
stops taking chunks while the socket's queue is above ``STREAM_HIGH_WATER``
until ``drained``: so the application's ``send()`` is paused by a slow peer.

Errors (ASGI: "exceptions -> 500, once"): an exception, a protocol error in
the messages, or no response within ``response_timeout`` seconds becomes
one 500 if the head is not on the wire yet, else the connection is closed
(a truncated response, never a complete-looking one). Nothing is sent after
the client disconnected; ``send()`` then raises `ClientDisconnected`.

Lifespan: startup is sent when the loop starts; requests wait for
``lifespan.startup.complete`` (at most ``lifespan_timeout`` s; a failed
startup answers 500). An application that raises on the lifespan scope is
taken as not supporting it. Shutdown is sent on ``stopped``; with the
worker-thread loop the Gateway waits for it (bounded), under ``run_async()``
it is sent but not awaited (the loop is being torn down).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from ...core.components import BaseComponent
from ...core.events import Event
from ...core.handlers import handler
from .._mount import mount_for
from ..websockets.dispatcher import take_handover
from ..wrappers import Request, Response
from .calls import WAIT, HTTPCall, asgi_action
from .common import ASGIApp
from .lifespan import Lifespan, shutdown_all
from .websocket import WSCall

__all__ = ["Gateway", "asgi_action"]

log = logging.getLogger("circuits.web.asgi")


class Gateway(BaseComponent):
    """Host ASGI 3.0 applications: requests under a mount path go to its application.

    Args:
        apps: mount path -> ASGI application. The longest mount whose segments
            prefix the request path wins; ``/`` matches everything.
        **kwargs: passed to `circuits.core.BaseComponent` (``channel``).

    Attributes:
        apps: the applications by mount path.
        response_timeout: seconds an application has to start its response
            (its first ``http.response.body``); then it is cancelled and the
            answer is a 500.
        lifespan_timeout: seconds a request waits for lifespan startup, and
            the Gateway for lifespan shutdown.
    """

    channel = "web"
    response_timeout: float = 30.0
    lifespan_timeout: float = 10.0

    def init(self, apps: dict[str, ASGIApp], **kwargs: Any) -> None:
        self.apps = apps
        self._asgi_loop: asyncio.AbstractEventLoop | None = None
        self._asgi_thread: threading.Thread | None = None
        self._lifespans: dict[str, Lifespan] = {}
        self._calls: dict[Any, HTTPCall | WSCall] = {}  # sock -> its current call
        self._asgi_tasks: set[asyncio.Task[None]] = set()  # touched on the asyncio loop only
        self._held: dict[Any, list[bytes]] = {}  # sock -> reads set aside until the 101
        self._wschannel = f"asgi-ws-{id(self):x}"

        @handler("read", channel=self._wschannel)
        def _on_ws_message(self: Gateway, sock: Any, data: Any) -> None:
            call = self._calls.get(sock)
            if isinstance(call, WSCall):
                call.c_message(data)

        @handler("close", channel=self._wschannel, priority=1.0)
        def _on_ws_close(self: Gateway, sock: Any = None, *args: Any) -> None:
            call = self._calls.get(sock)
            if isinstance(call, WSCall):
                call.c_peer_closed()

        self.addHandler(_on_ws_message)
        self.addHandler(_on_ws_close)

    # -- the asyncio loop ----------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._asgi_loop is not None:
            return self._asgi_loop
        aio = getattr(self.root, "_aio", None)  # set while the tree runs under run_async()
        if aio is not None:
            loop: asyncio.AbstractEventLoop = aio.loop
        else:
            loop = asyncio.new_event_loop()
            self._asgi_thread = threading.Thread(
                target=_run_loop, args=(loop,), name=f"asgi-gateway-{id(self):x}", daemon=True
            )
            self._asgi_thread.start()
        self._asgi_loop = loop
        for mount, app in self.apps.items():  # (Lifespan calls back here: loop is set)
            lifespan = self._lifespans[mount] = Lifespan(self, app)
            loop.call_soon_threadsafe(self._spawn, lifespan.run())
        return loop

    def _spawn(self, coro: Any) -> None:
        """Start ``coro`` as a task, keeping a reference (asyncio loop only)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._asgi_tasks.add(task)
        task.add_done_callback(self._asgi_tasks.discard)

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        self._ensure_loop()

    @handler("stopped", channel="*")
    def _on_stopped(self, manager: Any) -> None:
        loop, thread = self._asgi_loop, self._asgi_thread
        if loop is None:
            return
        self._asgi_loop = self._asgi_thread = None
        lifespans = list(self._lifespans.values())
        self._lifespans = {}
        shutdown = shutdown_all(lifespans, self.lifespan_timeout)
        if thread is None:
            loop.call_soon_threadsafe(self._spawn, shutdown)  # run_async: not awaited
            return
        try:
            asyncio.run_coroutine_threadsafe(shutdown, loop).result(self.lifespan_timeout + 1)
        except Exception:
            log.exception("ASGI lifespan shutdown failed")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(self.lifespan_timeout)

    # -- requests --------------------------------------------------------------------

    @handler("request", priority=0.2)
    def _on_request(self, event: Event, req: Request, res: Response, *args: Any) -> Any:
        mount = mount_for(self.apps, req.path)
        if mount is None:
            return None
        event.stop()
        loop = self._ensure_loop()
        lifespan = self._lifespans[mount]
        call: HTTPCall | WSCall
        if str(req.headers.get("Upgrade", "")).lower() == "websocket":
            call = WSCall(self, loop, lifespan, req, res, mount)
        else:
            call = HTTPCall(self, loop, lifespan, req, res, mount)
        self._calls[req.sock] = call
        loop.call_soon_threadsafe(self._spawn, call.run())
        return True  # "the response comes later" (web.md §4.4)

    @handler("asgi_action")
    def _on_action(self, fn: Any, *args: Any) -> None:
        fn(*args)

    @handler("stream", priority=1.0)
    def _on_stream(self, event: Event, res: Response, data: Any) -> None:
        if data is WAIT:
            event.stop()  # parked: the next send() fires the stream again

    @handler("read", priority=11)  # before the codec (10) and HTTP (0)
    def _on_raw_read(self, event: Any, sock: Any, *args: Any) -> None:
        if sock not in self._held or not take_handover(self._held, event, sock):
            return  # (every read of the server passes here: one lookup for the rest)
        call = self._calls.get(sock)
        if isinstance(call, WSCall):
            call.c_switched()

    @handler("disconnect")
    def _on_disconnect(self, sock: Any = None, *args: Any) -> None:
        self._held.pop(sock, None)
        call = self._calls.pop(sock, None)
        if call is not None:
            call.c_disconnected()


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The worker thread of a Gateway's own asyncio loop: run until stopped, then tidy up."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
