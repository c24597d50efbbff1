"""Memory transports: a server component and its peers, with no socket.

``MemoryServer`` stands in for a ``TCPServer`` on its channel: it fires
``ready(server, bind)`` when its loop starts, ``connect(sock, host, port)``,
``read(sock, data)`` and ``disconnect(sock)``, and handles ``write(sock,
data)`` and ``close(sock)`` / ``close()``. Its peers are either

- ``MemoryClient``, a component standing in for a ``TCPClient`` (``connect``
  -> ``connected``, ``write(data)``, ``read(data)``, ``close()`` ->
  ``disconnected``), in the same tree or in another one; or
- ``MemoryConnection`` (``server.open()``), a blocking byte pipe for the test
  thread: ``send(data)``, ``recv()``, ``close()``.

Ordering: bytes a peer sends become ``read`` events in the order sent; the
server's writes reach the peer in the order its loop handled them. Every
hand-over goes through ``fire()`` (safe from any thread) or a lock, so the two
sides may run in different threads.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from circuits.core.components import BaseComponent
from circuits.core.handlers import handler
from circuits.net.events import (
    close as close,
    closed,
    connect as connect,
    connected,
    disconnect,
    disconnected,
    read as read,
    ready,
    write as write,
)
from circuits.web._mount import Unlistening

__all__ = ["MemoryClient", "MemoryConnection", "MemoryServer", "MemorySocket"]

MEMORY_HOST = "memory"
# The default of MemoryConnection.recv(): long enough for any loop to answer,
# short enough that a test waiting for nothing fails quickly.
RECV_TIMEOUT_S = 5.0

_peer_ports = itertools.count(1)


class MemorySocket:
    """The server side's handle of one memory connection (the ``sock`` of its events)."""

    def __init__(
        self, server: MemoryServer, deliver: Callable[[bytes], None], hangup: Callable[[], None]
    ) -> None:
        self.server = server
        self.peer = (MEMORY_HOST, next(_peer_ports))
        self.closed = False
        self._deliver = deliver
        self._hangup = hangup

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<MemorySocket {self.peer[0]}:{self.peer[1]} {state}>"

    def getpeername(self) -> tuple[str, int]:
        """The peer's made-up address, ``("memory", n)``."""
        return self.peer

    def getsockname(self) -> tuple[str, int]:
        """The server's address, ``("memory", 0)``."""
        return (MEMORY_HOST, 0)

    # -- the peer's side --------------------------------------------------------

    def peer_send(self, data: bytes) -> None:
        """Bytes from the peer: fired as ``read(sock, data)`` on the server's channel."""
        if data and not self.closed:
            self.server.fire(read(self, bytes(data)))

    def peer_close(self) -> None:
        """The peer hung up: the server fires ``disconnect(sock)`` (once)."""
        if not self.closed:
            self.closed = True
            self.server._forget(self)


class MemoryServer(Unlistening, BaseComponent):
    """A server transport without a socket; peers connect with `open` or `MemoryClient`.

    ``MemoryServer(channel="server")``: see ``init``.
    """

    channel = "server"

    def init(self, channel: Any = channel) -> None:  # BaseComponent has set the channel
        """Take the constructor's arguments.

        Args:
            channel: the channel of its events (as a ``TCPServer``'s).
        """
        self._socks: list[MemorySocket] = []
        self._socks_lock = threading.Lock()
        self._listening = True

    @property
    def host(self) -> str:
        """``"memory"``."""
        return MEMORY_HOST

    @property
    def peer_count(self) -> int:
        """How many connections are open."""
        with self._socks_lock:
            return len(self._socks)

    @property
    def connected(self) -> bool:
        """Whether it accepts connections (until ``close()``)."""
        return self._listening

    def attach(self, deliver: Callable[[bytes], None], hangup: Callable[[], None]) -> MemorySocket:
        """Accept a peer: ``deliver(data)`` gets what the server writes, ``hangup()`` its close.

        Both are called from the server's loop thread. Fires ``connect(sock,
        "memory", n)``.

        Raises:
            ConnectionRefusedError: the server was closed.
        """
        if not self._listening:
            raise ConnectionRefusedError(f"{self!r} is closed")
        sock = MemorySocket(self, deliver, hangup)
        with self._socks_lock:
            self._socks.append(sock)
        self.fire(connect(sock, *sock.peer))
        return sock

    def open(self) -> MemoryConnection:
        """Connect a blocking `MemoryConnection` (for the test thread)."""
        return MemoryConnection(self)

    def close_listener(self) -> None:
        """Refuse new connections; open ones stay."""
        self._listening = False

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        self.fire(ready(self, (self.host, self.port)))

    @handler("write")
    def _on_write(self, sock: MemorySocket, data: bytes) -> None:
        if not sock.closed and data:
            sock._deliver(bytes(data))

    @handler("close")
    def _on_close(self, sock: MemorySocket | None = None) -> None:
        if sock is None:
            self._listening = False
            with self._socks_lock:
                socks = list(self._socks)
            for s in socks:
                self._hang_up(s)
            self.fire(closed())
        else:
            self._hang_up(sock)

    def _hang_up(self, sock: MemorySocket) -> None:
        if not sock.closed:
            sock.closed = True
            sock._hangup()
            self._forget(sock)

    def _forget(self, sock: MemorySocket) -> None:
        with self._socks_lock:
            if sock in self._socks:
                self._socks.remove(sock)
        self.fire(disconnect(sock))


class MemoryConnection:
    """A blocking byte pipe to a `MemoryServer`, used from the test thread.

    Args:
        server: the server to connect to (its loop must be running to answer).
    """

    def __init__(self, server: MemoryServer) -> None:
        self._cond = threading.Condition()
        self._buf = bytearray()
        self._eof = False
        self.sock = server.attach(self._deliver, self._hangup)

    def __enter__(self) -> MemoryConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether either side closed the connection."""
        return self.sock.closed

    def send(self, data: bytes) -> None:
        """Send ``data`` to the server (a ``read(sock, data)`` event there).

        Raises:
            ConnectionError: the connection is closed.
        """
        if self.sock.closed:
            raise ConnectionResetError(f"send() on a closed memory connection: {data[:40]!r}")
        self.sock.peer_send(data)

    def recv(self, timeout: float = RECV_TIMEOUT_S) -> bytes:
        """What the server wrote since the last call; ``b""`` once it closed and all was read.

        Raises:
            TimeoutError: nothing arrived within ``timeout`` seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._buf or self._eof, timeout):
                raise TimeoutError(f"the memory server sent nothing within {timeout} s")
            data = bytes(self._buf)
            self._buf.clear()
            return data

    def recv_until(
        self, predicate: Callable[[bytes], bool], timeout: float = RECV_TIMEOUT_S
    ) -> bytes:
        """Wait until ``predicate(received)`` holds (or the server closed); return and take it all.

        Raises:
            TimeoutError: the predicate stayed false for ``timeout`` seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._eof or predicate(bytes(self._buf)), timeout):
                raise TimeoutError(
                    f"waited {timeout} s for more data; got {bytes(self._buf)[:200]!r}"
                )
            data = bytes(self._buf)
            self._buf.clear()
            return data

    def close(self) -> None:
        """Hang up (the server fires ``disconnect(sock)``); closing twice is harmless."""
        self.sock.peer_close()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _deliver(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def _hangup(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()


class MemoryClient(BaseComponent):
    """A client transport connected to a `MemoryServer` instead of a socket.

    Handles the events of a ``TCPClient`` on its channel: ``connect(host,
    port)`` (the address is only echoed in ``connected(host, port)``),
    ``write(data)`` and ``close()``; fires ``read(data)`` and
    ``disconnected()``. The server may run in another tree and thread.
    ``MemoryClient(server, channel="client")``: see ``init``.
    """

    channel = "client"

    def init(self, server: MemoryServer, channel: Any = channel) -> None:
        """Take the constructor's arguments.

        Args:
            server: the server ``connect`` reaches.
            channel: the channel of its events (as a ``TCPClient``'s).
        """
        self._server = server
        self._sock: MemorySocket | None = None

    @property
    def connected(self) -> bool:
        """Whether a connection is open."""
        return self._sock is not None and not self._sock.closed

    @handler("connect")
    def _on_connect(
        self, host: Any = MEMORY_HOST, port: Any = 0, *args: Any, **kwargs: Any
    ) -> None:
        if self.connected:
            return
        self._sock = self._server.attach(self._deliver, self._hangup)
        self.fire(connected(host, port))

    @handler("write")
    def _on_write(self, data: bytes) -> None:
        if self._sock is None or self._sock.closed:
            raise ConnectionResetError(f"write() on a closed memory connection: {data[:40]!r}")
        self._sock.peer_send(data)

    @handler("close")
    def _on_close(self) -> None:
        sock = self._sock
        if sock is not None and not sock.closed:
            sock.peer_close()
            self.fire(disconnected())

    def _deliver(self, data: bytes) -> None:  # the server's loop thread
        self.fire(read(data))

    def _hangup(self) -> None:  # the server's loop thread
        self.fire(disconnected())
