"""Socket components: stream clients, UNIX sockets and socket pairs.

A socket component owns one non-blocking socket and never blocks the loop:
it watches the socket through the tree's poller (see ``_attach``) and reacts
to the poller's ``_read``/``_write``/``_disconnect`` events (priority 1, on the
component's channel). Outgoing data is queued by ``write`` and sent as the
socket accepts it; ``close`` waits until the queue is flushed.

``Client`` is the transport-independent part (buffering, reading, closing);
subclasses add how a connection is made (``UNIXClient.connect``; TCP, UDP,
servers and TLS follow the same pattern). ``Pipe()`` builds two connected
``UNIXClient`` components, which is how a process-mode component talks to
its parent (``circuits.core.bridge``).

Shutdown: on ``stopped`` every client fires ``close()`` on its own channel.
Data still queued then is only sent if the loop keeps running long enough;
``close()`` itself never blocks.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections import deque
from socket import (
    AF_INET,
    IPPROTO_IP,
    SOCK_STREAM,
    gaierror,
    getaddrinfo,
    getfqdn,
    gethostbyname,
    gethostname,
)
from typing import Any

from ..core.components import BaseComponent
from ..core.handlers import handler
from ..core.pollers import BasePoller, Poller
from ..core.utils import findcmp
from ._attach import PollerUser
from .events import (
    close,
    closed,
    connect,
    connected,
    disconnect,
    disconnected,
    error,
    read,
    ready,
    unreachable,
    write,
)

__all__ = [
    "BACKLOG",
    "BUFSIZE",
    "BaseComponent",
    "BasePoller",
    "Client",
    "Pipe",
    "Poller",
    "UNIXClient",
    "close",
    "closed",
    "connect",
    "connected",
    "disconnect",
    "disconnected",
    "error",
    "findcmp",
    "handler",
    "parse_ipv4_parameter",
    "parse_ipv6_parameter",
    "read",
    "ready",
    "unreachable",
    "write",
]

log = logging.getLogger(__name__)

# One recv() per readable event reads at most this much (3.2.5's value).
BUFSIZE = 4096
# listen() backlog of servers (3.2.5's value; the kernel caps it at somaxconn).
BACKLOG = 5000

# Bytes one writable event may send before giving the loop back to others.
WRITE_BUDGET_BYTES = 256 * 1024

# connect() results that mean "connected or getting there".
_CONNECTING = (0, errno.EISCONN, errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EALREADY)
# send() errors after which the peer is gone: close quietly.
_PEER_GONE = (errno.EPIPE, errno.ENOTCONN)


def parse_ipv4_parameter(bind: Any) -> Any:
    """Normalise an IPv4 bind argument.

    Args:
        bind: a port (bound on the address the host name resolves to, or
            ``0.0.0.0`` if that fails), ``"host:port"``, or an address tuple.

    Returns:
        ``(host, port)`` for an int or a ``"host:port"`` string; anything else unchanged.

    Raises:
        ValueError: a string with more than one colon, or a port that is not a number.
    """
    if isinstance(bind, int):
        try:
            return (gethostbyname(gethostname()), bind)
        except gaierror:
            return ("0.0.0.0", bind)
    if isinstance(bind, str) and ":" in bind:
        host, port = bind.split(":")
        return (host, int(port))
    return bind


def parse_ipv6_parameter(bind: Any) -> Any:
    """Normalise an IPv6 bind argument.

    Args:
        bind: a port (bound on the host's fully qualified name, or ``::`` if
            that does not resolve), or an address tuple.

    Returns:
        The socket address for an int; anything else unchanged.
    """
    if isinstance(bind, int):
        try:
            infos = getaddrinfo(getfqdn(), bind, socket.AF_INET6)
        except gaierror:
            infos = []
        if infos:
            return infos[0][4]
        return ("::", bind)
    return bind


class Client(PollerUser):
    """The base of stream clients: buffered writes, reads, closing.

    Args:
        bind: a ``socket.socket`` to use as is, or the local address to bind
            a new socket to (``None``: do not bind).
        bufsize: bytes read per readable event.
        channel: the component's channel.
        **kwargs: passed to ``init()``.
    """

    channel = "client"

    socket_family: int = AF_INET
    socket_type: int = SOCK_STREAM
    socket_protocol: int = IPPROTO_IP
    socket_options: list[tuple[int, int, int]] = []

    def __init__(
        self, bind: Any = None, bufsize: int = BUFSIZE, channel: Any = channel, **kwargs: Any
    ) -> None:
        super().__init__(channel=channel, **kwargs)
        self.host: Any = None
        self.port: Any = 0
        self.secure = False
        self.server: dict[str, Any] = {}
        self.issuer: dict[str, Any] = {}
        self._bufsize = bufsize
        self._ssock: Any = None
        self._poller: BasePoller | None = None
        self._buffer: deque[bytes] = deque()
        self._closeflag = False
        self._connected = False
        self._sock: socket.socket
        if isinstance(bind, socket.socket):
            self._bind = bind.getsockname()
            self._sock = bind
        else:
            self._bind = self.parse_bind_parameter(bind)
            self._sock = self._create_socket()

    def parse_bind_parameter(self, bind: Any) -> Any:
        """Normalise the ``bind`` constructor argument (IPv4 rules)."""
        return parse_ipv4_parameter(bind)

    def _create_socket(self) -> socket.socket:
        sock = socket.socket(self.socket_family, self.socket_type, self.socket_protocol)
        for level, option, value in self.socket_options:
            sock.setsockopt(level, option, value)
        sock.setblocking(False)
        if self._bind is not None:
            sock.bind(self._bind)
        return sock

    @property
    def connected(self) -> bool:
        """Whether the socket is connected."""
        return self._connected

    # -- poller attachment -------------------------------------------------

    def _poller_attached(self, poller: BasePoller) -> None:
        if self._buffer:  # written before the poller was known
            poller.addWriter(self, self._sock)

    # -- requests ------------------------------------------------------------

    @handler("write")
    def write(self, data: bytes) -> None:
        """Queue ``data``; it is sent as the socket becomes writable.

        Raises:
            TypeError: ``data`` is a ``str`` (encode it first).
        """
        if isinstance(data, str):
            raise TypeError(f"write() takes bytes, not str ({data[:40]!r}): encode it first")
        if not data:
            return
        if self._sock.fileno() < 0:
            self.fire(error(OSError(errno.EBADF, f"write() on a closed socket: {data[:40]!r}")))
            return
        self._buffer.append(data)
        poller = self._poller
        if poller is not None and not poller.isWriting(self._sock):
            poller.addWriter(self, self._sock)

    @handler("close")
    def close(self) -> None:
        """Close once everything queued was sent."""
        if not self._buffer:
            self._close()
        else:
            self._closeflag = True

    def _close(self) -> None:
        """Close now, dropping unsent data; fires ``disconnected()``."""
        if not self._connected:
            return
        sock = self._sock
        if self._poller is not None:
            self._poller.discard(sock)
        self._buffer.clear()
        self._closeflag = False
        self._connected = False
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass
        self.fire(disconnected())

    # -- readiness, from the poller ----------------------------------------

    @handler("_read", priority=1)
    def _on_read_ready(self, sock: Any) -> None:
        if sock is not self._sock:
            return  # another component's socket on the same channel
        try:
            if self._ssock is not None:
                data = self._ssock.read(self._bufsize)
            else:
                data = sock.recv(self._bufsize)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.fire(error(exc))
            self._close()
            return
        if data:
            e = read(data)
            e.notify = True
            self.fire(e)
        else:
            # The peer closed: stop watching the (forever readable) EOF.
            if self._poller is not None:
                self._poller.removeReader(sock)
            self.close()

    @handler("_write", priority=1)
    def _on_write_ready(self, sock: Any) -> None:
        if sock is not self._sock:
            return
        self._flush(sock)

    @handler("_disconnect", priority=1)
    def _on_disconnect(self, sock: Any) -> None:
        if sock is self._sock:
            self._close()

    def _flush(self, sock: socket.socket) -> None:
        """Send queued chunks until the socket would block or the budget is spent."""
        buffer = self._buffer
        budget = WRITE_BUDGET_BYTES
        while buffer and budget > 0:
            data = buffer.popleft()
            try:
                sent = self._ssock.write(data) if self._ssock is not None else sock.send(data)
            except (BlockingIOError, InterruptedError):
                buffer.appendleft(data)
                return
            except OSError as exc:
                if exc.errno in _PEER_GONE:
                    # Also when never connected (_close() is then a no-op):
                    # nothing can be sent, so stop watching for writability.
                    buffer.clear()
                    self._closeflag = False
                    if self._poller is not None:
                        self._poller.removeWriter(sock)
                    self._close()
                    return
                self.fire(error(exc))  # this chunk is lost; the connection stays
                break
            if sent < len(data):
                buffer.appendleft(data[sent:])
                return
            budget -= sent
        if not buffer:
            if self._closeflag:
                self._close()
            elif self._poller is not None:
                self._poller.removeWriter(sock)

    # -- lifecycle -----------------------------------------------------------

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        self.fire(close())

    @handler("prepare_unregister", channel="*")
    def _on_prepare_unregister(self, event: Any, c: Any) -> None:
        if event.in_subtree(self):
            self._close()


class UNIXClient(Client):
    """A client of a UNIX stream socket (also each end of a ``Pipe()``).

    Args:
        bind: a ``socket.socket`` to use, or a path to bind the client to.
        bufsize: bytes read per readable event.
        channel: the component's channel.
    """

    socket_family = getattr(socket, "AF_UNIX", AF_INET)
    socket_options = []

    @handler("ready")
    def _on_ready(self, component: Any, bind: Any = None) -> None:
        # A socket that is connected from the start (a Pipe end) is watched now.
        if self._poller is not None and self._connected:
            self._poller.addReader(self, self._sock)

    @handler("connect")
    def connect(self, path: str, secure: bool = False, **kwargs: Any) -> None:
        """Connect to the UNIX socket at ``path``; fires ``connected(hostname, path)``.

        A failure fires ``error(errno)`` with the bare error number (3.2.5's shape).

        Raises:
            NotImplementedError: ``secure=True`` (TLS is not available yet).
        """
        if secure:
            raise NotImplementedError("TLS over UNIX sockets is not supported yet")
        self.secure = secure
        if self._sock.fileno() < 0:  # closed by an earlier disconnect
            self._sock = self._create_socket()
        result = self._sock.connect_ex(path)
        if result not in _CONNECTING:
            self.fire(error(result))
            return
        self._connected = True
        if self._poller is not None:
            self._poller.addReader(self, self._sock)
        self.fire(connected(gethostname(), path))


def Pipe(*channels: Any, **kwargs: Any) -> tuple[UNIXClient, UNIXClient]:
    """Two connected ``UNIXClient`` components over ``socket.socketpair()``.

    Writing on one fires ``read(data)`` on the other's channel; closing one
    fires ``disconnected()`` on both.

    Args:
        *channels: the two ends' channels (default ``"a"`` and ``"b"``).
        **kwargs: passed to both ``UNIXClient`` components.

    Returns:
        The two ends, already connected (no ``connect``/``connected`` events).

    Raises:
        RuntimeError: the platform has no ``socketpair()``.
        ValueError: one channel was given instead of two.
    """
    if not hasattr(socket, "socketpair"):
        raise RuntimeError("No socketpair support available.")
    if not channels:
        channels = ("a", "b")
    elif len(channels) < 2:
        raise ValueError(f"Pipe() takes two channels (or none), not {channels!r}")
    s1, s2 = socket.socketpair()
    s1.setblocking(False)
    s2.setblocking(False)
    a = UNIXClient(s1, channel=channels[0], **kwargs)
    b = UNIXClient(s2, channel=channels[1], **kwargs)
    a._connected = b._connected = True
    return a, b
