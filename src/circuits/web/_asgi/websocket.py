"""One hosted ASGI ``websocket`` call: the handshake waits for ``websocket.accept``.

After the accept, a `WebSocketCodec` on the Gateway's private channel frames
the socket (as `WebSocketsDispatcher` does); messages reach ``receive()``,
``websocket.send`` becomes ``write`` on that channel.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...net.events import close, write
from ...protocols.websocket import WebSocketCodec
from ..errors import httperror
from ..events import response
from ..websockets.dispatcher import _valid_key, accept_key
from .calls import Call, server_defaults
from .common import HOP_BY_HOP, ClientDisconnected, Message, headers_from_asgi

__all__ = ["WSCall"]

log = logging.getLogger("circuits.web.asgi")

# RFC 6455 §7.4.1: 1006 = closed without a close frame; 1011 = server error.
WS_ABNORMAL = 1006
WS_INTERNAL_ERROR = 1011


class WSCall(Call):
    """One ASGI ``websocket`` call: the handshake waits for ``websocket.accept``."""

    kind = "websocket"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        offered = self.req.headers.get("Sec-WebSocket-Protocol", "")
        self.scope["subprotocols"] = [p.strip() for p in str(offered).split(",") if p.strip()]
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.state = "connecting"  # asyncio side: connecting, accepted, closed
        self.disconnect_sent = False
        # circuits side
        self.codec: WebSocketCodec | None = None
        self.switched = False
        self.closing = False
        self.outbox: list[tuple[Any, ...]] = []  # writes made before the 101 went out

    async def receive(self) -> Message:
        if self.disconnect_sent:
            return {"type": "websocket.disconnect", "code": WS_ABNORMAL}
        message = await self.inbox.get()
        if message["type"] == "websocket.disconnect":
            self.disconnect_sent = True
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if self.disconnected or self.state == "closed":
            raise ClientDisconnected(f"the websocket of {self.req!r} is closed")
        if self.state == "connecting":
            if kind == "websocket.accept":
                if not self._handshake_ok():
                    raise ClientDisconnected(f"{self.req!r} is not a valid WebSocket handshake")
                self.state = "accepted"
                self.answered = True
                self.stop_timer()
                extra = headers_from_asgi(message.get("headers", ()))
                self.post(self.c_accept, message.get("subprotocol"), extra)
            elif kind == "websocket.close":
                self.state = "closed"
                self.answered = True
                self.stop_timer()
                self.post(self.c_refuse)
            else:
                raise RuntimeError(f"{kind!r} sent before websocket.accept")
            return
        if kind == "websocket.send":
            text, data = message.get("text"), message.get("bytes")
            if (text is None) == (data is None):
                raise ValueError("websocket.send needs exactly one of 'text' and 'bytes'")
            self.post(self.c_write, text if text is not None else bytes(data or b""))
        elif kind == "websocket.close":
            self.state = "closed"
            self.post(self.c_close, int(message.get("code", 1000)))
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an accepted websocket")

    def _handshake_ok(self) -> bool:
        headers = self.req.headers
        return (
            self.req.method == "GET"
            and _valid_key(str(headers.get("Sec-WebSocket-Key", "")))
            and str(headers.get("Sec-WebSocket-Version", "")).strip() == "13"
        )

    def returned(self) -> None:
        if self.state == "connecting":
            self.state = "closed"
            self.answered = True
            self.post(self.c_refuse)  # ASGI: closing before accept is a 403
        elif self.state == "accepted" and not self.disconnected:
            self.state = "closed"
            self.post(self.c_close, 1000)

    def fail(self, exc: BaseException | None, description: str = "") -> None:
        if self.state == "accepted" and not self.disconnected:
            if exc is not None:
                log.error("ASGI websocket application failed on %r", self.req, exc_info=exc)
            self.state = "closed"
            self.post(self.c_close, WS_INTERNAL_ERROR)
            return
        super().fail(exc, description)

    def on_message(self, message: Message) -> None:
        if not self.disconnected:
            if message["type"] == "websocket.disconnect":
                self.disconnected = True
            self.inbox.put_nowait(message)

    def on_disconnect(self) -> None:
        self.on_message({"type": "websocket.disconnect", "code": WS_ABNORMAL})

    # -- circuits side ----------------------------------------------------------------

    def c_accept(self, subprotocol: str | None, extra: list[tuple[str, str]]) -> None:
        if self.closed:
            return
        gateway, req, res = self.gateway, self.req, self.res
        res.status = 101
        res.close = False
        res.headers = server_defaults(res.headers)
        res.headers.pop("Content-Type", None)
        for name, value in extra:
            if name.lower() not in HOP_BY_HOP and not name.lower().startswith("sec-websocket-"):
                res.headers.append(name, value)
        res.headers["Upgrade"] = "websocket"
        res.headers["Connection"] = "Upgrade"
        res.headers["Sec-WebSocket-Accept"] = accept_key(str(req.headers["Sec-WebSocket-Key"]))
        if subprotocol:
            res.headers["Sec-WebSocket-Protocol"] = str(subprotocol)
        gateway._held[req.sock] = []
        self.codec = WebSocketCodec(req.sock, channel=gateway._wschannel).register(gateway)
        gateway.fire(response(res))

    def c_switched(self) -> None:
        """The 101 is out (HTTP's handover read): what the app sent meanwhile follows."""
        self.switched = True
        for args in self.outbox:
            self._deliver(*args)
        self.outbox.clear()

    def c_refuse(self) -> None:
        if self.closed:
            return
        self.res.headers = server_defaults(self.res.headers)
        self.gateway.fire(httperror(self.req, self.res, 403))

    def c_write(self, data: Any) -> None:
        if self.switched:
            self._deliver("write", data)
        else:
            self.outbox.append(("write", data))

    def c_close(self, code: int) -> None:
        if self.switched:
            self._deliver("close", code)
        else:
            self.outbox.append(("close", code))

    def _deliver(self, what: str, arg: Any) -> None:
        if self.closed:
            return
        sock, channel = self.req.sock, self.gateway._wschannel
        if what == "write":
            self.gateway.fire(write(sock, arg), channel)
            return
        self.closing = True
        if self.codec is not None:
            self.codec._close_code = arg  # what our close frame says
        self.gateway.fire(close(sock), channel)

    def c_message(self, data: Any) -> None:
        if isinstance(data, str):
            message: Message = {"type": "websocket.receive", "text": data}
        else:
            message = {"type": "websocket.receive", "bytes": bytes(data)}
        self.loop.call_soon_threadsafe(self.on_message, message)

    def c_peer_closed(self) -> None:
        if self.closing or self.codec is None:
            return  # our own close going out
        self.closing = True
        message = {"type": "websocket.disconnect", "code": self.codec._close_code}
        self.loop.call_soon_threadsafe(self.on_message, message)

    def c_disconnected(self) -> None:
        self.closed = True
        self.loop.call_soon_threadsafe(self.on_disconnect)
