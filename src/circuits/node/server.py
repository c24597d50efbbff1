"""The node ``Server``: accepts node connections, one `Protocol` per peer."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable
from typing import Any

from ..core.components import BaseComponent as BaseComponent
from ..core.events import Event
from ..core.handlers import handler as handler
from ..net.sockets import TCPServer as TCPServer
from .protocol import Firewall, Protocol as Protocol

__all__ = ["BaseComponent", "Protocol", "Server", "TCPServer", "handler"]

log = logging.getLogger("circuits.node")


class Server(BaseComponent):
    """A TCP server whose peers run events here and receive ours.

    Args:
        port: the port to listen on (0: any free port).
        server_ip: the address to bind.
        channel: the channel of this component, its `TCPServer` and its protocols.
        receive_event_firewall: ``f(event, sock)`` for calls from peers.
        send_event_firewall: ``f(event, sock)`` for calls to peers.
        **kwargs: passed to the `TCPServer` (``bufsize``, ``secure``, ...).
    """

    channel = "node"
    # The protocol made for each peer (a subclass may carry packets elsewhere).
    protocol_class: type[Protocol] = Protocol

    def __init__(
        self,
        port: int,
        server_ip: str = "0.0.0.0",
        channel: Any = channel,
        receive_event_firewall: Firewall | None = None,
        send_event_firewall: Firewall | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(channel=channel)
        self._receive_event_firewall = receive_event_firewall
        self._send_event_firewall = send_event_firewall
        self._protocols: dict[Any, Protocol] = {}  # peer socket -> its protocol, in order
        self.server: TCPServer = TCPServer((server_ip, port), channel=channel, **kwargs)
        self.server.register(self)

    @property
    def host(self) -> Any:
        """The bound address."""
        return self.server.host

    @property
    def port(self) -> int | None:
        """The bound port."""
        port: int | None = self.server.port
        return port

    @handler("connect")
    def _on_connect(self, sock: Any, *peer: Any) -> None:
        if sock not in self.server._clients:
            return  # another server on the same channel accepted it
        self._protocols[sock] = self.protocol_class(
            sock=sock,
            server=self.server,
            channel=self.channel,
            receive_event_firewall=self._receive_event_firewall,
            send_event_firewall=self._send_event_firewall,
        ).register(self)

    @handler("read")
    def _on_read(self, sock: Any, data: bytes) -> None:
        protocol = self._protocols.get(sock)
        if protocol is not None:
            protocol.add_buffer(data)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        protocol = self._protocols.pop(sock, None)
        if protocol is not None:
            protocol.connection_lost()
            protocol.unregister()

    def send(self, event: Event, sock: Any, no_result: bool = False) -> Generator[Any, None, None]:
        """Send ``event`` to the peer ``sock``: its protocol's ``send`` generator.

        With ``no_result`` the packet is written now (no result is awaited);
        otherwise nothing is sent until the caller drives the generator
        (``yield`` it from a handler), as in 3.2.5.

        Raises:
            KeyError: ``sock`` is not a connected peer.
        """
        protocol = self._protocols[sock]
        if no_result:
            event.node_without_result = True  # type: ignore[attr-defined]
        gen = protocol.send(event)
        if no_result:
            try:
                next(gen)
            except StopIteration:
                pass
        return gen

    def send_to(self, event: Event, socks: Iterable[Any]) -> None:
        """Send ``event`` to each of ``socks``, without results."""
        for sock in socks:
            self.send(event, sock, no_result=True)

    def send_all(self, event: Event) -> None:
        """Send ``event`` to every connected peer, without results."""
        self.send_to(event, list(self._protocols))

    def get_socks(self) -> list[Any]:
        """The connected peer sockets, in connection order."""
        return list(self._protocols)
