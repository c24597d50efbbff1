"""A user's echo server and client on ``circuits.net``, checked with ``mypy --strict``."""

from __future__ import annotations

import socket
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from circuits import Component, Debugger, Event, handler
from circuits.net.events import close, connect, connected, disconnect, read, ready, write
from circuits.net.sockets import TCPClient, TCPServer, UDPServer, UNIXServer

if TYPE_CHECKING:
    from typing_extensions import assert_type


class EchoServer(Component):
    channel = "server"

    def init(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = TCPServer((host, port), channel=self.channel).register(self)
        self.peers: set[socket.socket] = set()

    def ready(self, server: TCPServer, bind: tuple[str, int]) -> None:
        port: int | None = server.port
        del port

    def connect(self, sock: socket.socket, host: str, port: int) -> None:
        self.peers.add(sock)

    def disconnect(self, sock: socket.socket) -> None:
        self.peers.discard(sock)

    def read(self, sock: socket.socket, data: bytes) -> bytes:
        return data  # a server echoes what a read handler returns

    @handler("read", priority=1)
    def _log_read(self, sock: socket.socket, data: bytes) -> None:
        self.fire(write(sock, data.upper()))

    def shutdown(self) -> None:
        for sock in self.peers:
            self.fire(close(sock))
        self.fire(close())


class EchoClient(Component):
    channel = "client"

    def init(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.client = TCPClient(channel=self.channel).register(self)
        self.received: list[bytes] = []

    def ready(self, component: TCPClient) -> None:
        self.fire(connect(self.host, self.port))

    def connected(self, host: str, port: int) -> None:
        self.fire(write(b"hello"))

    def read(self, data: bytes) -> None:
        self.received.append(data)

    def disconnected(self) -> None:
        pass

    @handler("talk")
    def _talk(self) -> Generator[Any, Any, bytes]:
        yield self.call(connect(self.host, self.port), self.channel)
        value = yield self.wait("read", self.channel, timeout=5)
        return bytes(value.value or b"")

    @handler("talk_async")
    async def _talk_async(self) -> bytes:
        self.fire(write(b"ping"))
        value = await self.wait("read", self.channel, timeout=5)
        data: bytes = value.value
        return data


def build() -> EchoServer:
    app = EchoServer(port=0)
    client = EchoClient("127.0.0.1", 8000).register(app)
    Debugger().register(app)
    assert_type(app.server, TCPServer)
    assert_type(client.client, TCPClient)
    connected_: bool = client.client.connected
    del connected_
    udp = UDPServer(("127.0.0.1", 0), channel="udp").register(app)
    unix = UNIXServer("/tmp/sample.sock", channel="unix").register(app)
    assert_type(udp, UDPServer)
    assert_type(unix, UNIXServer)
    events: list[Event] = [
        connect("127.0.0.1", 8000),
        connected("127.0.0.1", 8000),
        read(b"x"),
        write(b"x"),
        disconnect(),
        close(),
        ready(client.client),
    ]
    del events
    return app
