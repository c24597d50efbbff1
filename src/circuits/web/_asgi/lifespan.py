"""The ASGI lifespan protocol of one application hosted by the `Gateway`."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from .common import ASGI_INFO, ASGIApp, Message, Scope, settle

if TYPE_CHECKING:
    from .gateway import Gateway

__all__ = ["Lifespan", "shutdown_all"]

log = logging.getLogger("circuits.web.asgi")


class Lifespan:
    """The lifespan protocol of one mounted application (asyncio side)."""

    def __init__(self, gateway: Gateway, app: ASGIApp) -> None:
        self.gateway = gateway
        self.app = app
        self.state: dict[str, Any] = {}  # the lifespan "state" extension
        loop = gateway._ensure_loop()
        # Made here (any thread) so that requests may wait on them before run() begins.
        self.ok: asyncio.Future[bool] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()

    async def run(self) -> None:
        self.inbox.put_nowait({"type": "lifespan.startup"})
        scope: Scope = {"type": "lifespan", "asgi": dict(ASGI_INFO), "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self.send)
        except Exception:
            if not self.ok.done():
                # ASGI: an app raising on the lifespan scope does not support it.
                log.debug("%r does not support lifespan", self.app, exc_info=True)
            else:
                log.exception("ASGI lifespan of %r failed", self.app)
        finally:
            if not self.ok.done():
                self.ok.set_result(True)
            settle(self.done)

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            settle_value(self.ok, True)
        elif kind == "lifespan.startup.failed":
            log.error("ASGI startup of %r failed: %s", self.app, message.get("message", ""))
            settle_value(self.ok, False)
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if kind.endswith("failed"):
                log.error("ASGI shutdown of %r failed: %s", self.app, message.get("message", ""))
            settle(self.done)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on the lifespan scope")

    async def ready(self) -> bool:
        """Whether startup completed (waits for it; False after ``lifespan_timeout``)."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.ok), self.gateway.lifespan_timeout)
        except asyncio.TimeoutError:
            log.error("ASGI startup of %r took over %s s", self.app, self.gateway.lifespan_timeout)
            return False

    async def shutdown(self, timeout: float) -> None:
        if self.done.done():
            return
        self.inbox.put_nowait({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(asyncio.shield(self.done), timeout)
        except asyncio.TimeoutError:
            log.error("ASGI shutdown of %r took over %s s", self.app, timeout)


async def shutdown_all(lifespans: list[Lifespan], timeout: float) -> None:
    await asyncio.gather(*(ls.shutdown(timeout) for ls in lifespans))


def settle_value(fut: asyncio.Future[bool], value: bool) -> None:
    if not fut.done():
        fut.set_result(value)
