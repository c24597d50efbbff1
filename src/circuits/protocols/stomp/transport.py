"""``StompTransport``: a STOMP session over a ``TCPClient``.

The transport sits between the socket component and ``StompClient``: it
shares the ``TCPClient``'s channel (default ``"stomp.tcp"``), feeds its
``read`` bytes to the sans-I/O engine (``circuits._sansio.stomp``), fires what
the engine parsed as STOMP events on the ``StompClient``'s channel, and turns
requests into ``write`` events. Keeping the two layers on two channels is what
lets both use the natural names (``connect``, ``connected``, ``disconnected``).
"""

from __future__ import annotations

import logging
from typing import Any

from ..._sansio import stomp as engine
from ...core import _clock
from ...core.components import BaseComponent
from ...core.handlers import handler
from ...net import events as net
from .events import connected, connection_failed, disconnected, message, on_stomp_error, receipt

__all__ = ["StompTransport"]

log = logging.getLogger("circuits.protocols")


class StompTransport(BaseComponent):
    """Run one STOMP client session over a stream client component.

    Args:
        owner: the channel to fire STOMP events on (the ``StompClient``'s).
        client: the socket component, already on this transport's channel
            (default: a new ``TCPClient``).
        channel: the socket layer's channel.
        connect_timeout: seconds for the TCP connect (``TCPClient``).
        max_frame_bytes: engine limit for one frame.
    """

    channel = "stomp.tcp"

    def __init__(
        self,
        owner: Any,
        client: BaseComponent | None = None,
        channel: Any = "stomp.tcp",
        connect_timeout: float = 3,
        max_frame_bytes: int = engine.MAX_FRAME_BYTES,
    ) -> None:
        super().__init__(channel=channel)
        self.owner = owner
        self._max_frame_bytes = max_frame_bytes
        self.conn = engine.ClientConnection(max_frame_bytes=max_frame_bytes)
        self.uri = ""
        self.last_received = 0.0
        self.closing = False
        self._connect_request: engine.Connect | None = None
        if client is None:
            from ...net.sockets import TCPClient

            client = TCPClient(channel=channel, connect_timeout=connect_timeout)
        self.client = client.register(self)

    @property
    def session_open(self) -> bool:
        """Whether the STOMP session is CONNECTED."""
        return self.conn.state is engine.State.CONNECTED

    def open(self, host: str, port: int, request: engine.Connect, secure: bool, **tls: Any) -> None:
        """Connect the socket; CONNECT follows once it is up."""
        self.conn = engine.ClientConnection(max_frame_bytes=self._max_frame_bytes)
        self.closing = False
        self._connect_request = request
        self.uri = f"{'ssl' if secure else 'tcp'}://{host}:{port}"
        self.fire(net.connect(host, port, secure=secure, **tls))

    def send(self, request: engine.ClientRequest | engine.Heartbeat) -> None:
        """Send a request (raises ``LocalProtocolError`` when it is not allowed now)."""
        self.fire(net.write(self.conn.send(request)))

    def close(self, requested: bool = True) -> None:
        """Close the socket (after queued data is written).

        Args:
            requested: the user asked for it (``disconnected(reconnect=False)``),
                rather than a protocol failure.
        """
        self.closing = self.closing or requested
        self.fire(net.close())

    @handler("connected")
    def _on_connected(self, host: Any, port: Any) -> None:
        self.last_received = _clock.now()
        if self._connect_request is not None:
            self.send(self._connect_request)

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        self.last_received = _clock.now()
        conn = self.conn
        try:
            conn.receive_data(data)
            while (event := conn.next_event()) is not None:
                self._dispatch(event)
        except engine.RemoteProtocolError as exc:
            log.warning("%s: bad STOMP data, closing: %s", self.uri, exc)
            self.fire(on_stomp_error(None, exc), self.owner)
            self.close(requested=False)

    def _dispatch(self, event: engine.ServerEvent) -> None:
        if isinstance(event, engine.Heartbeat):
            return
        if isinstance(event, engine.Connected):
            log.debug("%s: STOMP session, heart-beat %s", self.uri, event.heartbeat)
            self.fire(connected(), self.owner)
        elif isinstance(event, engine.Message):
            self.fire(message(event.frame), self.owner)
        elif isinstance(event, engine.Receipt):
            self.fire(receipt(event.frame), self.owner)
            if self.conn.state is engine.State.CLOSED:  # the DISCONNECT receipt
                self.close()
        else:
            log.warning("%s: ERROR frame: %s", self.uri, event.message)
            err = engine.RemoteProtocolError(f"ERROR frame: {event.message!r}")
            if self._connect_request is not None and self.conn.version is None:
                self.fire(connection_failed(self.uri, err), self.owner)
            self.fire(on_stomp_error(event.frame, err), self.owner)
            self.close(requested=False)

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        receipt_id = self.conn._disconnect_receipt if self.closing else None
        self._connect_request = None
        self.fire(disconnected(reconnect=not self.closing, receipt=receipt_id), self.owner)

    @handler("unreachable")
    def _on_unreachable(self, host: Any, port: Any, reason: Any = None) -> None:
        log.warning("%s: unreachable: %s", self.uri, reason)
        self._connect_request = None
        self.fire(connection_failed(self.uri, reason), self.owner)

    @handler("error")
    def _on_error(self, *args: Any) -> None:
        exc = args[-1]
        log.warning("%s: socket error: %s", self.uri, exc)
        if self._connect_request is not None and self.conn.version is None:
            self._connect_request = None  # e.g. TLS verification failed
            self.fire(connection_failed(self.uri, exc), self.owner)
        else:
            self.fire(on_stomp_error(None, exc), self.owner)
