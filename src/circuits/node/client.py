"""The node ``Client``: one connection to a node server, with its `Protocol`."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..core.components import BaseComponent as BaseComponent
from ..core.events import Event
from ..core.handlers import handler as handler
from ..net.events import close as close, connect as connect
from ..net.sockets import TCPClient as TCPClient
from .protocol import Firewall, Protocol as Protocol

__all__ = ["BaseComponent", "Client", "Protocol", "TCPClient", "close", "connect", "handler"]


class Client(BaseComponent):
    """Connects to a node server at ``host:port`` once its socket is ready.

    Events the server sends without channels are fired on this client's
    channel. ``connected``/``disconnected``/``unreachable`` come from the
    `TCPClient` on the same channel.

    Args:
        host: the server's host.
        port: the server's port.
        channel: the channel of this component, its protocol and its socket.
        receive_event_firewall: ``f(event, None)`` for calls from the server.
        send_event_firewall: ``f(event, None)`` for calls to the server.
        **kwargs: passed to the `TCPClient` (``connect_timeout``, ``bufsize``).
    """

    channel = "node_client"
    # The protocol of the connection (a subclass may carry packets elsewhere).
    protocol_class: type[Protocol] = Protocol

    def __init__(
        self,
        host: str,
        port: int,
        channel: Any = channel,
        receive_event_firewall: Firewall | None = None,
        send_event_firewall: Firewall | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(channel=channel, **kwargs)
        self._host = host
        self._port = port
        self._protocol: Protocol = self.protocol_class(
            channel=channel,
            receive_event_firewall=receive_event_firewall,
            send_event_firewall=send_event_firewall,
        )
        self._protocol.register(self)
        self._transport: TCPClient = TCPClient(channel=channel, **kwargs)
        self._transport.register(self)

    @property
    def protocol(self) -> Protocol:
        """This connection's protocol."""
        return self._protocol

    @property
    def connected(self) -> bool:
        """Whether the connection is up."""
        return bool(self._transport.connected)

    @handler("ready")
    def _on_ready(self, component: Any, *args: Any) -> None:
        if component is self._transport:
            self.connect()

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        self._protocol.add_buffer(data)

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        self._protocol.connection_lost()

    def connect(self) -> None:
        """Connect (again) to the server."""
        self.fire(connect(self._host, self._port))

    def close(self) -> None:
        """Close the connection."""
        self.fire(close())

    def send(self, event: Event) -> Generator[Any, None, None]:
        """Send ``event`` to the server: the protocol's ``send`` generator."""
        gen: Generator[Any, None, None] = self._protocol.send(event)
        return gen
