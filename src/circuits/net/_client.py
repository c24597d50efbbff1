"""Stream clients: the ``Client`` base, ``TCPClient``/``TCP6Client``, ``UNIXClient``, ``Pipe()``.

A client owns one non-blocking socket and never blocks the loop: it watches
the socket through the tree's poller (see ``_attach``) and reacts to the
poller's ``_read``/``_write``/``_disconnect`` events (priority 1, on the
client's channel). A connection goes through up to three states, each
driven by readiness events:

1. *connecting* - a non-blocking ``connect()`` is in progress; the socket is
   watched for writability, and ``SO_ERROR`` then says whether it worked.
   A refused connection is reported at once as ``unreachable(host, port,
   None)`` (3.2.5 busy-polled ``getpeername()`` until ``connect_timeout``);
   ``connect_timeout`` still bounds a connection nobody answers.
2. *handshaking* (TLS only) - see ``_tls``; ``connected`` waits for it.
3. *connected* - reads fire ``read(data)``; ``write(data)`` queues data,
   which is sent right away if the socket takes it and otherwise as it
   becomes writable; ``close`` waits until the queue is flushed.

Partly sent chunks are re-queued as ``memoryview`` slices, so a large write
is never copied per ``send``.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from collections import deque
from socket import AF_INET, IPPROTO_IP, IPPROTO_TCP, SOCK_STREAM, TCP_NODELAY
from typing import Any

from ..core.events import Event
from ..core.handlers import handler
from ..core.pollers import BasePoller
from ..core.timers import Timer
from ._attach import ClosingPollerUser
from ._common import (
    BUFSIZE,
    CONNECTING,
    PEER_GONE,
    WRITE_BUDGET_BYTES,
    close_quietly,
    log,
    parse_ipv4_parameter,
    parse_ipv6_parameter,
)
from ._tls import handshake_step, wrap_socket
from .events import connected, disconnected, error, read, unreachable

__all__ = ["Client", "Pipe", "TCP6Client", "TCPClient", "UNIXClient"]

# Default seconds a TCP connection attempt may take (3.2.5's value).
CONNECT_TIMEOUT_S = 5

# Errors a write may raise that only mean "not now".
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError)


class _connect_timeout(Event):
    """Internal: a connection attempt ran out of time: ``_connect_timeout(sock)``."""


class Client(ClosingPollerUser):
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
        self._buffer: deque[bytes | memoryview] = deque()
        self._closeflag = False
        self._connected = False
        self._connecting = False
        self._handshaking = False
        self._sock: Any
        if isinstance(bind, socket.socket):
            self._bind = bind.getsockname()
            self._sock = bind
        else:
            self._bind = self.parse_bind_parameter(bind)
            self._sock = self._create_socket()

    def parse_bind_parameter(self, bind: Any) -> Any:
        """Normalise the ``bind`` constructor argument (IPv4 rules)."""
        return parse_ipv4_parameter(bind)

    def _create_socket(self) -> Any:
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
        if self._connecting or self._buffer:  # started before the poller was known
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
        sock = self._sock
        if sock.fileno() < 0:
            self.fire(error(OSError(errno.EBADF, f"write() on a closed socket: {data[:40]!r}")))
            return
        self._buffer.append(data)
        poller = self._poller
        if len(self._buffer) == 1 and self._connected and not self._handshaking:
            self._flush(sock)  # the socket usually takes it now: no poller round trip
        elif poller is not None and not poller.isWriting(sock):
            poller.addWriter(self, sock)

    @handler("close")
    def close(self) -> None:
        """Close once everything queued was sent."""
        self._close_after_flush()

    def _close(self) -> None:
        """Close now, dropping unsent data; fires ``disconnected()`` if it was connected."""
        if not self._connected:
            if not self._connecting and self._sock is not None:
                # Never connected: release the descriptor quietly (3.2.5 kept
                # it open); the next connect() makes a new socket.
                self._buffer.clear()
                self._closeflag = False
                close_quietly(self._sock)
            return
        sock = self._sock
        self._unwatch_and_drop_queue(sock)
        self._connected = False
        self._handshaking = False
        close_quietly(sock)
        if self._ssock is not None and self._ssock is not sock:
            close_quietly(self._ssock)
        self.fire(disconnected())

    # -- readiness, from the poller ----------------------------------------

    @handler("_read", priority=1)
    def _on_read_ready(self, sock: Any) -> None:
        if sock is not self._sock or sock.fileno() == -1:
            # Another component's socket on the same channel, or readiness
            # reported before the socket was closed.
            return
        if self._handshaking:
            self._continue_handshake()
            return
        reader = self._ssock if self._ssock is not None else sock
        try:
            data = reader.recv(self._bufsize)
            # TLS: a record may hold more than bufsize; the rest is decrypted
            # already and the kernel socket will not become readable for it.
            while isinstance(reader, ssl.SSLSocket):
                pending = reader.pending()
                if not pending:
                    break
                data += reader.recv(pending)
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except OSError as exc:
            log.info("client %s:%s: recv failed: %s", self.host, self.port, exc)
            self.fire(error(exc))
            self._close()
            return
        if data:
            self._fire_notified(read(data))
        else:
            # The peer closed: stop watching the (forever readable) EOF.
            if self._poller is not None:
                self._poller.removeReader(sock)
            self.close()

    @handler("_write", priority=1)
    def _on_write_ready(self, sock: Any) -> None:
        if sock is not self._sock:
            return
        if self._connecting:
            self._finish_connect()
        elif self._handshaking:
            self._continue_handshake()
        else:
            self._flush(sock)

    @handler("_disconnect", priority=1)
    def _on_disconnect(self, sock: Any) -> None:
        if sock is not self._sock:
            return
        if self._connecting:
            self._finish_connect()  # a refused connect is a hang-up under epoll
        else:
            self._close()

    def _flush(self, sock: Any) -> None:
        """Send queued chunks until the socket would block or the budget is spent."""
        buffer = self._buffer
        budget = WRITE_BUDGET_BYTES
        sender = self._ssock if self._ssock is not None else sock
        while buffer and budget > 0:
            data = buffer.popleft()
            try:
                sent = sender.send(data)
            except _WOULD_BLOCK:
                buffer.appendleft(data)
                sent = -1
            except OSError as exc:
                if exc.errno in PEER_GONE:
                    # Also when never connected (_close() is then a no-op):
                    # nothing can be sent, so stop watching for writability.
                    # A TLS peer may have said why it hung up before it did.
                    if isinstance(sender, ssl.SSLSocket):
                        alert = _peer_alert(sender)
                        if alert is not None:
                            log.info("client %s:%s: TLS failed: %s", self.host, self.port, alert)
                            self.fire(error(alert))
                    buffer.clear()
                    self._closeflag = False
                    if self._poller is not None:
                        self._poller.removeWriter(sock)
                    self._close()
                    return
                if isinstance(exc, ssl.SSLError):
                    # Fatal for TLS: the session cannot go on. Report once,
                    # with the peer's alert when one came (it says why).
                    exc = _peer_alert(sender) or exc
                    log.info("client %s:%s: TLS failed: %s", self.host, self.port, exc)
                    self.fire(error(exc))
                    buffer.clear()
                    self._closeflag = False
                    self._close()
                    return
                log.info("client %s:%s: send failed: %s", self.host, self.port, exc)
                self.fire(error(exc))  # this chunk is lost; the connection stays
                break
            if sent < len(data):
                if sent > 0:
                    view = data if isinstance(data, memoryview) else memoryview(data)
                    buffer.appendleft(view[sent:])
                elif sent == 0:
                    buffer.appendleft(data)
                if self._poller is not None and not self._poller.isWriting(sock):
                    self._poller.addWriter(self, sock)
                return
            budget -= sent
        if not buffer:
            if self._closeflag:
                self._close()
            elif self._poller is not None:
                self._poller.removeWriter(sock)
        elif self._poller is not None and not self._poller.isWriting(sock):
            self._poller.addWriter(self, sock)

    # -- connecting (used by TCPClient) ---------------------------------------

    def _finish_connect(self) -> None:
        """The connecting socket became writable (or hung up): did it work?"""

    def _continue_handshake(self) -> None:
        """Advance the TLS handshake; watch for what it needs, or finish it."""
        sock = self._ssock if self._ssock is not None else self._sock
        poller = self._poller
        try:
            want = handshake_step(sock)
        except (OSError, ValueError) as exc:
            log.info("client %s:%s: TLS handshake failed: %s", self.host, self.port, exc)
            self._handshaking = False
            # 3.2.5's shape: error(sock, exc) on the client too.
            self.fire(error(sock, exc))
            self._close()
            return
        if want is not None:
            if poller is not None:
                if want == "read":
                    poller.removeWriter(self._sock)
                    poller.addReader(self, self._sock)
                else:
                    poller.addWriter(self, self._sock)
            return
        self._handshaking = False
        self._established()

    def _established(self) -> None:
        """Connected (and TLS done): read, flush what was queued, announce it."""
        poller = self._poller
        if poller is not None:
            poller.addReader(self, self._sock)
            if self._buffer:
                poller.addWriter(self, self._sock)
            else:
                poller.removeWriter(self._sock)
        self.fire(connected(self.host, self.port))


class TCPClient(Client):
    """A TCP client: ``connect(host, port, secure=False, **tls)`` then read/write.

    Args:
        bind: a ``socket.socket``, or the local address to bind to.
        bufsize: bytes read per readable event.
        channel: the component's channel.
        **kwargs: passed to ``init()``: ``connect_timeout``, the seconds a
            connection attempt may take.
    """

    socket_protocol = IPPROTO_TCP
    socket_options = [(IPPROTO_TCP, TCP_NODELAY, 1)]

    def init(self, connect_timeout: float = CONNECT_TIMEOUT_S, **kwargs: Any) -> None:
        self.connect_timeout = connect_timeout
        self._connect_timer: Timer | None = None

    @handler("connect")
    def connect(self, host: Any, port: Any, secure: bool = False, **kwargs: Any) -> None:
        """Start connecting to ``(host, port)``; fires ``connected(host, port)`` when done.

        Failures fire ``unreachable(host, port, None)`` (refused, timed out)
        or ``unreachable(host, port, exc)`` + ``error(exc)`` (e.g. DNS).

        Args:
            host: host name or address.
            port: port number.
            secure: wrap the connection in TLS (``connected`` follows the handshake).
            **kwargs: TLS files: ``certfile``, ``keyfile``, ``ca_certs``.
        """
        self.host, self.port, self.secure = host, port, secure
        if secure:
            self.certfile = kwargs.get("certfile")
            self.keyfile = kwargs.get("keyfile")
            self.ca_certs = kwargs.get("ca_certs")
        if self._connected or self._connecting:
            self._close()
            self._abort_connect()
        if self._sock is None or self._sock.fileno() < 0:
            self._sock = self._create_socket()  # closed by an earlier disconnect
            self._ssock = None
        try:
            result = self._sock.connect_ex((host, port))
        except OSError as exc:  # gaierror (name resolution) included
            log.info("client: cannot connect to %s:%s: %s", host, port, exc)
            self.fire(unreachable(host, port, exc))
            self.fire(error(exc))
            self._reset_socket()
            return
        if result == errno.ECONNREFUSED:
            self._reset_socket()
            self.fire(unreachable(host, port, None))
            return
        if result not in CONNECTING:
            failure = OSError(result, os.strerror(result))
            log.info("client: cannot connect to %s:%s: %s", host, port, failure)
            self.fire(unreachable(host, port, failure))
            self.fire(error(failure))
            self._reset_socket()
            return
        self._connecting = True
        if self._poller is not None:
            self._poller.addWriter(self, self._sock)
        timer = Timer(self.connect_timeout, _connect_timeout(self._sock), self)
        self._connect_timer = timer.register(self)

    def _finish_connect(self) -> None:
        sock = self._sock
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == errno.EINPROGRESS:
            return  # spurious wake-up
        if not err:
            try:
                sock.getpeername()  # a hang-up without SO_ERROR is no connection either
            except OSError as exc:
                err = exc.errno or errno.ENOTCONN
        self._abort_connect()
        if err:
            log.debug("client: %s:%s refused: %s", self.host, self.port, os.strerror(err))
            self._reset_socket()
            self.fire(unreachable(self.host, self.port, None))
            return
        self._connected = True
        if not self.secure:
            self._established()
            return
        if self._poller is not None:
            self._poller.discard(sock)  # the wrapper takes over the descriptor
        try:
            self._sock = wrap_socket(
                sock,
                self.keyfile,
                self.certfile,
                ca_certs=self.ca_certs,
                purpose=ssl.Purpose.SERVER_AUTH,
                server_hostname=self.host,
                do_handshake_on_connect=False,
            )
        except (OSError, ValueError) as exc:
            log.info("client %s:%s: cannot set up TLS: %s", self.host, self.port, exc)
            self.fire(error(sock, exc))
            self._close()
            return
        self._handshaking = True
        self._continue_handshake()

    @handler("_connect_timeout")
    def _on_connect_timeout(self, sock: Any) -> None:
        if sock is not self._sock or not self._connecting:
            return
        self._abort_connect()
        self._reset_socket()
        self.fire(unreachable(self.host, self.port, None))

    def _abort_connect(self) -> None:
        self._connecting = False
        timer, self._connect_timer = self._connect_timer, None
        if timer is not None:
            timer.unregister()

    def _reset_socket(self) -> None:
        """A failed attempt: forget the socket (the next ``connect`` makes a new one)."""
        self._connecting = False
        if self._poller is not None:
            self._poller.discard(self._sock)
        self._buffer.clear()
        self._closeflag = False
        close_quietly(self._sock)


class TCP6Client(TCPClient):
    """A TCP client over IPv6 (bind parsing by the IPv6 rules)."""

    socket_family = socket.AF_INET6

    def parse_bind_parameter(self, bind: Any) -> Any:
        """Normalise the ``bind`` constructor argument (IPv6 rules)."""
        return parse_ipv6_parameter(bind)


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
        if self._poller is not None and self._connected and not self._handshaking:
            self._poller.addReader(self, self._sock)

    @handler("connect")
    def connect(self, path: str, secure: bool = False, **kwargs: Any) -> None:
        """Connect to the UNIX socket at ``path``; fires ``connected(hostname, path)``.

        A failure fires ``error(errno)`` with the bare error number (3.2.5's shape).

        Args:
            path: the server's socket path.
            secure: wrap the connection in TLS (``connected`` follows the handshake).
            **kwargs: TLS files: ``certfile``, ``keyfile``, ``ca_certs``; and
                ``server_hostname`` to verify (default: no host-name check).
        """
        self.secure = secure
        self.host, self.port = socket.gethostname(), path
        if self._sock.fileno() < 0:  # closed by an earlier disconnect
            self._sock = self._create_socket()
            self._ssock = None
        result = self._sock.connect_ex(path)
        if result not in CONNECTING:
            close_quietly(self._sock)  # the next connect() makes a new one
            self.fire(error(result))
            return
        self._connected = True
        if not secure:
            self._established()
            return
        hostname = kwargs.get("server_hostname")
        try:
            self._ssock = wrap_socket(
                self._sock,
                kwargs.get("keyfile"),
                kwargs.get("certfile"),
                ca_certs=kwargs.get("ca_certs"),
                check_hostname=hostname is not None,
                server_hostname=hostname,
                do_handshake_on_connect=False,
            )
        except (OSError, ValueError) as exc:
            self.fire(error(self._sock, exc))
            self._close()
            return
        # The wrapper detached the descriptor: it is the socket from now on.
        self._sock = self._ssock
        self._handshaking = True
        self._continue_handshake()


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


def _peer_alert(sock: Any) -> ssl.SSLError | None:
    """The TLS alert the peer sent, if reading now reports one."""
    try:
        sock.recv(1)
    except ssl.SSLError as exc:
        if not isinstance(exc, (ssl.SSLWantReadError, ssl.SSLWantWriteError, ssl.SSLEOFError)):
            return exc
    except OSError:
        pass
    return None
