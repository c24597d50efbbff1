"""WebSocket framing component: raw socket bytes in, messages out (RFC 6455).

``WebSocketCodec`` is registered as a child of the component that produces the
raw ``read`` events (a ``TCPClient`` subtree, or a server for one peer socket)
once the HTTP upgrade is done. The framing is ``circuits._sansio.websocket``.

Differences from 3.2.5, all on invalid input: frames must be masked by clients
and unmasked by servers, invalid UTF-8 closes with 1007 (instead of U+FFFD),
messages over ``max_message_bytes`` close with 1009, reserved opcodes close with
1002; a split frame header is buffered; pongs echo exactly the ping payload;
pings after our close are ignored; the client's close frame is masked and
carries a status code; the codec takes its parent's ``read`` events from
``register()`` on, not from the later ``registered`` event. And a Close we
send that the peer leaves unanswered ends the TCP connection after
``close_timeout`` seconds (3.2.5 waited forever).

The close handshake (RFC 6455 §5.5.1, §7.1): a peer's Close is answered with
ours and then the TCP connection is closed (``close`` on the parent's
channel). A Close we send first (a ``close`` on the codec's channel) starts a
`Timer`, the only one a codec ever has: the peer's Close, a protocol error or
the end of the connection cancels it; when it fires, the TCP connection is
closed without the peer's answer. Nothing of this runs per message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .._sansio.websocket import (
    MAX_MESSAGE_BYTES,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketEngine,
    WebSocketProtocolError,
)
from ..core.components import BaseComponent as BaseComponent
from ..core.events import Event
from ..core.handlers import handler as handler
from ..core.timers import Timer
from ..net.events import close as close, read as read, write as write

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..core.manager import Manager

__all__ = ["BaseComponent", "WebSocketCodec", "close", "handler", "read", "write"]

log = logging.getLogger("circuits.protocols")

# How long a Close we sent waits for the peer's before we close the TCP
# connection anyway (RFC 6455 §7.1.1 has the server close TCP first and lets a
# client close it itself after "a reasonable amount of time"). A live peer
# answers within one round trip, so this only bounds how long a crashed,
# stuck or half-open peer keeps its connection, codec and handlers. 5 s is the
# default CloseTimeout of ASP.NET Core's WebSocket transport; the websockets
# library and netty wait 10 s, Chromium gives a server 2 s to drop the TCP
# connection once the Close frames are exchanged.
CLOSE_TIMEOUT_S = 5.0


class _close_timeout(Event):
    """Internal: the peer did not answer our Close in time: ``_close_timeout()``."""


class WebSocketCodec(BaseComponent):
    """Decode frames from the parent's ``read`` events; encode ``write`` events.

    Client mode (``sock is None``): fires ``read(message)`` on its channel and
    sends ``write(frame)`` on the parent's channel. Server mode: the same with
    ``sock`` as first argument; other sockets' events pass through untouched.
    Text messages are ``str``, binary ones ``bytearray``.

    Args:
        sock: the peer socket (server mode), or ``None`` (client mode).
        data: bytes already received after the HTTP upgrade.
        max_message_bytes: the largest message accepted (close 1009 beyond).
        close_timeout: seconds a Close we sent waits for the peer's before
            the TCP connection is closed anyway; ``None`` waits forever.
        channel: the codec's channel (default ``"ws"``).

    Raises:
        ValueError: ``close_timeout`` is negative.
    """

    channel = "ws"

    def __init__(
        self,
        sock: Any = None,
        data: bytes = b"",
        *args: Any,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        close_timeout: float | None = CLOSE_TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        self._close_timeout_s = _check_close_timeout(close_timeout)
        super().__init__(*args, **kwargs)
        self._sock = sock
        self._close_timer: Timer | None = None  # only between our Close and the peer's
        role = Role.CLIENT if sock is None else Role.SERVER
        self._engine = WebSocketEngine(role, max_message_bytes=max_message_bytes)
        self._parent_channel: Any = None
        self._close_code = 1000  # what our close frame says
        self._unsent: list[bytes] = []  # frames produced before we knew the parent
        if data:
            self._receive(bytes(data))  # fired events wait for registration

    @property
    def _close_sent(self) -> bool:
        return self._engine.close_sent

    @property
    def _close_received(self) -> bool:
        return self._engine.close_received

    def register(self, parent: Manager) -> Self:
        """Register under ``parent`` and take its ``read`` events from now on.

        The raw handlers go on here, not on ``registered`` as in 3.2.5: a
        ``read`` dispatched between ``register()`` and that event would reach
        the parent's other handlers (the HTTP protocol), which no longer want
        it after a protocol switch.

        Returns:
            ``self``.
        """
        if parent is not self:
            self._take_reads(parent)
        super().register(parent)
        self._flush_unsent()
        return self

    @handler("registered")
    def _on_registered(self, component: Any, parent: Any) -> None:
        if component is self:  # registered without register() (registerChild)
            self._take_reads(parent)
            self._flush_unsent()

    def _take_reads(self, parent: Any) -> None:
        if self._parent_channel is not None:
            return
        self._parent_channel = parent.channel

        @handler("read", channel=parent.channel, priority=10)
        def _on_raw_read(self: WebSocketCodec, event: Any, *args: Any) -> None:
            if self._sock is not None and args[0] != self._sock:
                return
            event.stop()
            self._receive(args[-1])

        @handler("disconnect", channel=parent.channel)
        def _on_disconnect(self: WebSocketCodec, *args: Any) -> None:
            if self._sock is None or (args and args[0] == self._sock):
                self._cancel_close_timer()
                self.unregister()

        self.addHandler(_on_raw_read)
        self.addHandler(_on_disconnect)
        if self._sock is None:
            # A client transport reports its end as ``disconnected()``.
            @handler("disconnected", channel=parent.channel)
            def _on_disconnected(self: WebSocketCodec, *args: Any) -> None:
                self._cancel_close_timer()

            self.addHandler(_on_disconnected)

    def _flush_unsent(self) -> None:
        if self._parent_channel is not None:
            for frame in self._unsent:
                self._send_frame(frame)
            self._unsent.clear()

    def _receive(self, data: bytes) -> None:
        engine = self._engine
        engine.receive_data(data)
        while True:
            try:
                ev = engine.next_event()
            except WebSocketProtocolError as exc:
                log.info("%s: websocket protocol error, closing: %s", self._peer(), exc)
                self._cancel_close_timer()  # the connection ends now
                if not engine.close_sent:
                    self._send_frame(engine.send(CloseConnection(exc.code, exc.reason)))
                self.fire(close(*self._who()), self._parent_channel)
                return
            if ev is None:
                return
            if isinstance(ev, TextMessage):
                self.fire(read(*self._who(), ev.data))
            elif isinstance(ev, BytesMessage):
                self.fire(read(*self._who(), bytearray(ev.data)))
            elif isinstance(ev, Ping):
                if not engine.close_sent:  # RFC 6455 §5.5.1: no frames after close
                    self._send_frame(engine.send(Pong(ev.payload)))
            elif isinstance(ev, CloseConnection):
                self._cancel_close_timer()  # answered in time, if we closed first
                self._close_code = ev.code  # echoed in our reply (§5.5.1)
                self.fire(close(*self._who()))

    @handler("write")
    def _on_write(self, *args: Any) -> None:
        if self._sock is not None and args[0] != self._sock:
            return
        data = args[-1]
        if self._engine.close_sent:
            return
        msg = TextMessage(data) if isinstance(data, str) else BytesMessage(bytes(data))
        self._send_frame(self._engine.send(msg))

    @handler("close")
    def _on_close(self, *args: Any) -> None:
        if self._sock is not None and args and args[0] != self._sock:
            return
        engine = self._engine
        if not engine.close_sent:
            self._send_frame(engine.send(CloseConnection(self._close_code)))
            if not engine.close_received:
                self._start_close_timer()
        if engine.close_received:
            # §5.5.1: "After both sending and receiving a Close message, an
            # endpoint ... MUST close the underlying TCP connection." §7.1.1:
            # "the underlying TCP connection, in most normal cases, SHOULD be
            # closed first by the server": a client gives the server
            # ``close_timeout`` seconds to do so (the server then keeps no
            # TIME_WAIT state), then closes it itself.
            if self._sock is None and self._close_timeout_s:
                self._start_close_timer()
            else:
                self.fire(close(*self._who()), self._parent_channel)

    def _start_close_timer(self) -> None:
        # §7.1.1: the TCP connection "SHOULD be closed first by the server";
        # "In abnormal cases (such as not having received a TCP Close from the
        # server after a reasonable amount of time) a client MAY initiate the
        # TCP Close". So either side drops a peer that leaves our Close
        # unanswered for ``close_timeout`` seconds.
        if self._close_timeout_s is None or self._close_timer is not None:
            return
        timer = Timer(self._close_timeout_s, _close_timeout(), self)
        self._close_timer = timer.register(self)

    def _cancel_close_timer(self) -> None:
        timer, self._close_timer = self._close_timer, None
        if timer is not None:
            timer.unregister()

    @handler("_close_timeout")
    def _on_close_timeout(self) -> None:
        if self._close_timer is None:  # cancelled after the timer fired
            return
        self._close_timer = None  # a one-shot timer unregisters itself
        waited_for = "TCP close" if self._engine.close_received else "Close frame"
        log.info(
            "%s: no %s within %s s of our Close, closing the connection",
            self._peer(),
            waited_for,
            self._close_timeout_s,
        )
        self.fire(close(*self._who()), self._parent_channel)

    def _who(self) -> tuple[Any, ...]:
        return () if self._sock is None else (self._sock,)

    def _peer(self) -> Any:
        return "server" if self._sock is None else self._sock

    def _send_frame(self, frame: bytes) -> None:
        if self._parent_channel is None:
            self._unsent.append(frame)
            return
        self.fire(write(*self._who(), frame), self._parent_channel)


def _check_close_timeout(close_timeout: float | None) -> float | None:
    """``close_timeout`` if valid (seconds >= 0, or ``None``).

    Raises:
        ValueError: it is negative.
    """
    if close_timeout is not None and close_timeout < 0:
        raise ValueError(f"close_timeout must be >= 0 seconds or None, not {close_timeout!r}")
    return close_timeout
