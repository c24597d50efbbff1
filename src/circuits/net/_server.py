"""Stream servers: ``Server``, ``TCPServer``, ``TCP6Server``, ``UNIXServer``.

A server listens on one socket and keeps a set of accepted peers
(``_clients``), each with its own outgoing queue (``_buffers``). Everything
is driven by the poller's readiness events on the server's channel:

* the listening socket readable -> accept every waiting peer (up to
  ``ACCEPTS_PER_EVENT``), fire ``connect(sock, *peer)`` for each;
* a peer readable -> one ``recv``, ``read(sock, data)`` (``notify`` is on:
  bytes returned by a ``read`` handler are written back, 3.2.5's echo);
* ``write(sock, data)`` -> sent at once if the socket takes it, the rest
  (a ``memoryview`` slice, never a copy) when it becomes writable;
* ``close(sock)`` / ``close()`` -> after the queue is flushed.

TLS peers first go through a non-blocking handshake (``_handshakes``, see
``_tls``); only a completed handshake makes them clients and fires
``connect``. A failed one fires ``error(sock, exc)`` and is dropped, and
everybody else is unaffected.

Errors on one peer never escape to the loop: they are logged on
``circuits.net`` with the peer's address and fired as ``error(sock, exc)``.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from collections import defaultdict, deque
from socket import (
    AF_INET,
    IPPROTO_IP,
    IPPROTO_TCP,
    SO_REUSEADDR,
    SOCK_STREAM,
    SOL_SOCKET,
    TCP_NODELAY,
)
from typing import Any

from ..core.events import Event
from ..core.handlers import handler
from ..core.pollers import BasePoller
from ._attach import PollerUser
from ._common import (
    ACCEPT_TRANSIENT,
    BACKLOG,
    BUFSIZE,
    PEER_GONE,
    SEND_AGAIN,
    WRITE_BUDGET_BYTES,
    SocketSet,
    close_quietly,
    log,
    parse_ipv4_parameter,
    parse_ipv6_parameter,
    peer_name,
)
from ._region import FileRegion
from ._tls import handshake_step, server_context
from .events import closed, connect, disconnect, drained, error, read, ready, write

__all__ = ["Server", "TCP6Server", "TCPServer", "UNIXServer"]

# Peers accepted per readable event of the listening socket: enough to
# drain a burst of connections in one go, few enough not to starve the
# peers already connected.
ACCEPTS_PER_EVENT = 128

# Bytes one readable event may read from a plain peer (in ``bufsize``
# chunks, one ``read`` event each) before the loop serves the others; the
# same bound as a writable event's (``WRITE_BUDGET_BYTES``).
READ_BUDGET_BYTES = 256 * 1024

# sendmsg() takes at most IOV_MAX buffers (1024 on Linux, POSIX's minimum is 16).
try:
    IOV_MAX = max(16, min(1024, os.sysconf("SC_IOV_MAX")))
except (AttributeError, ValueError, OSError):
    IOV_MAX = 16
_GATHER = hasattr(socket.socket, "sendmsg")

_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Server(PollerUser):
    """The base of servers: accepting, per-peer buffers, closing, TLS.

    Args:
        bind: a port, ``"host:port"``, an address tuple, a path (UNIX), or a
            ``socket.socket`` to use as is.
        secure: wrap every accepted connection in TLS.
        backlog: ``listen()`` backlog.
        bufsize: bytes read per readable event.
        channel: the component's channel.
        **kwargs: ``socket_options`` (extra ``(level, option, value)``),
            ``certfile``, ``keyfile``, ``ca_certs``, ``cert_reqs`` (default
            ``ssl.CERT_NONE``), ``ssl_version`` (default ``ssl.PROTOCOL_TLS``).
            Others are ignored.

    Raises:
        RuntimeError: ``secure`` without ``certfile``.
        ValueError: the certificate or key cannot be loaded.
        OSError: the address cannot be bound.
    """

    channel = "server"

    # write(sock, FileRegion) is sent with os.sendfile (see _region.py).
    accepts_file_regions = True
    # Connections taken per readable event of the listener. Processes that
    # share one listening socket (web workers) take fewer, so that a burst
    # of connections is spread over them instead of going to the first awake.
    accepts_per_event = ACCEPTS_PER_EVENT

    socket_family: int = AF_INET
    socket_type: int = SOCK_STREAM
    socket_protocol: int = IPPROTO_IP
    socket_options: list[tuple[int, int, int]] = []

    def __init__(
        self,
        bind: Any,
        secure: bool = False,
        backlog: int = BACKLOG,
        bufsize: int = BUFSIZE,
        channel: Any = channel,
        **kwargs: Any,
    ) -> None:
        super().__init__(channel=channel)
        self.socket_options = [*type(self).socket_options, *kwargs.get("socket_options", ())]
        self.secure = secure
        self.certfile: str | None = kwargs.get("certfile")
        self.keyfile: str | None = kwargs.get("keyfile")
        self.cert_reqs: int = kwargs.get("cert_reqs", ssl.CERT_NONE)
        self.ssl_version: int = kwargs.get("ssl_version", ssl.PROTOCOL_TLS)
        self.ca_certs: str | None = kwargs.get("ca_certs")
        if secure and not self.certfile:
            raise RuntimeError("certfile must be specified for server-side operations")
        # Built now, so that a bad certificate fails here, not at the first peer.
        self._context: ssl.SSLContext | None = None
        if self.certfile:
            self._context = server_context(
                self.certfile, self.keyfile, self.ca_certs, self.cert_reqs, self.ssl_version
            )
        self._backlog = backlog
        self._bufsize = bufsize
        self._poller: BasePoller | None = None
        self._clients: SocketSet = SocketSet()
        self._buffers: defaultdict[Any, deque[Any]] = defaultdict(deque)
        self._closeq: SocketSet = SocketSet()
        # Clients whose queue waits for the idle step (see write()).
        self._unsent: dict[Any, None] = {}
        self._drain_waiters: set[Any] = set()  # sockets to fire drained() for
        # TLS sockets whose handshake is running -> (peer address, is a starttls upgrade)
        self._handshakes: dict[Any, tuple[Any, bool]] = {}
        self._bind = self.parse_bind_parameter(bind)
        self._sock: Any
        if isinstance(bind, socket.socket):
            self._sock = bind
        else:
            self._sock = self._create_socket()

    def parse_bind_parameter(self, bind: Any) -> Any:
        """Normalise the ``bind`` constructor argument (IPv4 rules)."""
        return parse_ipv4_parameter(bind)

    def _create_socket(self) -> Any:
        sock = socket.socket(self.socket_family, self.socket_type, self.socket_protocol)
        try:
            for level, option, value in self.socket_options:
                sock.setsockopt(level, option, value)
            sock.setblocking(False)
            sock.bind(self._bind)
            if self.socket_type == SOCK_STREAM:
                sock.listen(self._backlog)
        except BaseException:
            sock.close()
            raise
        return sock

    # -- the bound address ---------------------------------------------------

    @property
    def connected(self) -> bool:
        """Always ``True`` (3.2.5)."""
        return True

    @property
    def host(self) -> Any:
        """The bound host (the path for UNIX sockets); ``None`` once closed."""
        name = self._sockname()
        return name[0] if isinstance(name, tuple) else name

    @property
    def port(self) -> int | None:
        """The bound port; ``None`` for UNIX sockets and once closed."""
        name = self._sockname()
        return int(name[1]) if isinstance(name, tuple) else None

    def _sockname(self) -> Any:
        """The listening socket's ``getsockname()``; ``None`` once closed."""
        if self._sock is None:
            return None
        try:
            return self._sock.getsockname()
        except OSError:
            return None

    # -- poller attachment -------------------------------------------------

    def _poller_attached(self, poller: BasePoller) -> None:
        if self._sock is not None:
            poller.addReader(self, self._sock)

    def _ready_event(self) -> Event:
        return ready(self, (self.host, self.port))

    # -- readiness, from the poller ----------------------------------------

    @handler("_read", priority=1)
    def _on_read_ready(self, sock: Any) -> None:
        if sock is self._sock:
            self._accept()
        elif sock in self._clients:
            self._recv(sock)
        elif sock in self._handshakes:
            self._continue_handshake(sock)

    @handler("_write", priority=1)
    def _on_write_ready(self, sock: Any) -> None:
        if sock in self._clients:
            self._flush(sock)
        elif sock in self._handshakes:
            self._continue_handshake(sock)

    @handler("_disconnect", priority=1)
    def _on_disconnect(self, sock: Any) -> None:
        if sock in self._handshakes:
            self._drop_handshake(sock)
        else:
            self._close(sock)

    def _accept(self) -> None:
        listener = self._sock
        poller = self._poller
        for _ in range(self.accepts_per_event):
            try:
                newsock, address = listener.accept()
            except OSError as exc:
                if exc.errno in ACCEPT_TRANSIENT:
                    if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                        log.warning("server %s: accept() failed, retrying: %s", self._bind, exc)
                    return
                raise
            newsock.setblocking(False)
            if self.secure and self._context is not None:
                try:
                    ssock = self._context.wrap_socket(
                        newsock, server_side=True, do_handshake_on_connect=False
                    )
                except (OSError, ValueError) as exc:
                    log.info("server %s: TLS setup for %s failed: %s", self._bind, address, exc)
                    self.fire(error(newsock, exc))
                    close_quietly(newsock)
                    continue
                self._handshakes[ssock] = (address, False)
                if poller is not None:
                    poller.addReader(self, ssock)
                continue
            self._clients.append(newsock)
            if poller is not None:
                poller.addReader(self, newsock)
            self.fire(connect(newsock, *_peer_args(address)))

    def _recv(self, sock: Any) -> None:
        """Read what ``sock`` has, one ``read(sock, data)`` per ``recv(bufsize)``.

        A plain socket is drained: ``recv`` is repeated while it fills the
        whole ``bufsize`` (a short read means the kernel buffer is empty), up
        to ``READ_BUDGET_BYTES``. Each chunk still is its own ``read`` event,
        as if the poller had reported the socket once per chunk; draining only
        saves the readiness round trip (a wait and a ``_read`` event) per chunk.
        """
        if isinstance(sock, ssl.SSLSocket):
            self._recv_tls(sock)
            return
        bufsize = self._bufsize
        budget = READ_BUDGET_BYTES
        fire = self.fire
        first = True
        while True:
            try:
                data = sock.recv(bufsize)
            except _WOULD_BLOCK:
                return
            except OSError as exc:
                self._recv_failed(sock, exc)
                return
            if not data:
                if first:
                    self._eof(sock)
                # else: the reads just fired go first; the socket stays
                # readable at EOF, so the next readiness handles it.
                return
            e = read(sock, data)
            e.notify = True
            fire(e)
            budget -= len(data)
            if budget <= 0 or len(data) < bufsize:
                return
            first = False

    def _recv_tls(self, sock: Any) -> None:
        try:
            data = sock.recv(self._bufsize)
            # The rest of a TLS record is decrypted already; the kernel
            # socket will not become readable for it.
            while pending := sock.pending():
                data += sock.recv(pending)
        except _WOULD_BLOCK:
            return
        except OSError as exc:
            self._recv_failed(sock, exc)
            return
        if data:
            self._fire_notified(read(sock, data))
        else:
            self._eof(sock)

    def _recv_failed(self, sock: Any, exc: OSError) -> None:
        log.info("server %s: recv from %s failed: %s", self._bind, peer_name(sock), exc)
        self.fire(error(sock, exc))
        self._close(sock)

    def _eof(self, sock: Any) -> None:
        # The peer is gone; flush what is queued, then close.
        if self._poller is not None:
            self._poller.removeReader(sock)
        self._close_when_flushed(sock)

    # -- TLS handshakes --------------------------------------------------------

    def _continue_handshake(self, sock: Any) -> None:
        address, upgrade = self._handshakes[sock]
        poller = self._poller
        try:
            want = handshake_step(sock)
        except (OSError, ValueError) as exc:
            log.info("server %s: TLS handshake with %s failed: %s", self._bind, address, exc)
            self._drop_handshake(sock)
            self.fire(error(sock, exc))
            return
        if want is not None:
            if poller is not None:
                if want == "read":
                    poller.removeWriter(sock)
                    poller.addReader(self, sock)
                else:
                    poller.addWriter(self, sock)
            return
        del self._handshakes[sock]
        self._clients.append(sock)
        if poller is not None:
            poller.removeWriter(sock)
            poller.addReader(self, sock)
        if not upgrade:
            self.fire(connect(sock, *_peer_args(address)))

    def _drop_handshake(self, sock: Any) -> None:
        self._handshakes.pop(sock, None)
        if self._poller is not None:
            self._poller.discard(sock)
        close_quietly(sock)

    @handler("starttls")
    def starttls(self, sock: Any) -> None:
        """Upgrade the accepted plain connection ``sock`` to TLS.

        From then on the events for this peer carry the ``ssl.SSLSocket``;
        no second ``connect`` is fired.

        Raises:
            RuntimeError: the server has no certificate, or ``sock`` is TLS already.
            ValueError: ``sock`` is not a client of this server.
        """
        if self._context is None:
            raise RuntimeError("starttls() needs a server built with certfile=...")
        if isinstance(sock, ssl.SSLSocket):
            raise RuntimeError(f"{sock!r} is using TLS already")
        if sock not in self._clients:
            raise ValueError(f"starttls({sock!r}): not a client of this server")
        pending = self._buffers.get(sock)
        if pending:
            self._unsent.pop(sock, None)
            self._flush(sock)  # the last plaintext (e.g. "ready for TLS") goes first
            if self._buffers.get(sock):
                log.warning("server %s: starttls drops unsent plaintext", self._bind)
        self._clients.remove(sock)
        self._buffers.pop(sock, None)
        if self._poller is not None:
            self._poller.discard(sock)  # the wrapper takes over the descriptor
        ssock = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        self._handshakes[ssock] = (None, True)
        if self._poller is not None:
            self._poller.addReader(self, ssock)
        self._continue_handshake(ssock)

    # -- writing -----------------------------------------------------------------

    @handler("write")
    def write(self, sock: Any, data: bytes) -> None:
        """Queue ``data`` for ``sock``; dropped if ``sock`` is not a live client.

        ``data`` may also be a `FileRegion` (part of a file, sent with
        ``os.sendfile``), queued in order with the bytes.

        While the loop runs, the queue is sent at the loop's idle step (before
        it waits for I/O), so the writes of one batch - e.g. the echoes of
        several ``read`` events - leave in one ``sendmsg``. Outside a running
        loop it is sent at once.

        Raises:
            TypeError: ``data`` is a ``str`` (encode it first).
        """
        if isinstance(data, str):
            raise TypeError(f"write() takes bytes, not str ({data[:40]!r}): encode it first")
        if sock not in self._clients or not data:
            if isinstance(data, FileRegion):
                data.close()  # it owns its file
            return
        buffer = self._buffers[sock]
        buffer.append(data)
        if len(buffer) == 1:
            # An empty queue means the socket is not watched for writing.
            if self.root._running:
                self._unsent[sock] = None
            else:
                self._flush(sock)

    @handler("generate_events", priority=1)
    def _on_generate_events(self) -> None:
        # The idle step: send what this tick's batch queued.
        if self._unsent:
            unsent = self._unsent
            self._unsent = {}
            for sock in unsent:
                self._flush(sock)

    def _flush(self, sock: Any) -> None:
        """Send queued chunks until the socket would block or the budget is spent.

        Several queued chunks go out in one ``sendmsg`` (plain sockets); a
        partly sent chunk stays queued as a ``memoryview`` slice, never a copy.
        """
        buffer = self._buffers.get(sock)
        budget = WRITE_BUDGET_BYTES
        gather = _GATHER and not isinstance(sock, ssl.SSLSocket)
        while buffer and budget > 0:
            if type(buffer[0]) is FileRegion:
                if not self._send_region(sock, buffer):
                    return  # the socket was closed
                if buffer and type(buffer[0]) is FileRegion:
                    break  # the socket is full
                continue
            try:
                if gather and len(buffer) > 1:
                    chunks = _take(buffer, budget)
                    size = sum(map(len, chunks))
                    sent = sock.sendmsg(chunks)
                else:
                    data = buffer[0]
                    size = len(data)
                    sent = sock.send(data)
            except _WOULD_BLOCK:
                break
            except OSError as exc:
                if exc.errno in SEND_AGAIN:
                    break
                if exc.errno not in PEER_GONE:
                    log.info("server %s: send to %s failed: %s", self._bind, peer_name(sock), exc)
                    self.fire(error(sock, exc))
                self._close(sock)
                return
            budget -= sent
            _consume(buffer, sent)
            if sent < size:
                break  # the socket is full
        self._flushed(sock, buffer)

    def _send_region(self, sock: Any, buffer: deque[Any]) -> bool:
        """Send from the `FileRegion` at the head of ``buffer``; False if ``sock`` was closed."""
        region = buffer[0]
        budget = WRITE_BUDGET_BYTES  # then the other sockets get their turn
        while region.count and budget > 0:
            try:
                budget -= region.send(sock)
            except _WOULD_BLOCK:
                return True
            except (OSError, EOFError) as exc:
                if not (isinstance(exc, OSError) and exc.errno in PEER_GONE):
                    log.info(
                        "server %s: sendfile to %s failed: %s", self._bind, peer_name(sock), exc
                    )
                    self.fire(error(sock, exc))
                self._close(sock)
                return False
        if not region.count:
            buffer.popleft()
            region.close()
        return True

    def _flushed(self, sock: Any, buffer: Any) -> None:
        """After a flush: watch for writability while data is left, else finish up."""
        poller = self._poller
        if buffer:
            if poller is not None and not poller.isWriting(sock):
                poller.addWriter(self, sock)
            return
        self._buffers.pop(sock, None)
        if poller is not None:
            poller.removeWriter(sock)
        if sock in self._closeq:
            self._close(sock)
        elif self._drain_waiters and sock in self._drain_waiters:
            self._drain_waiters.discard(sock)
            self.fire(drained(sock))

    @property
    def peer_count(self) -> int:
        """How many peers are connected (TLS handshakes under way included)."""
        return len(self._clients) + len(self._handshakes)

    def pending_bytes(self, sock: Any) -> int:
        """How many bytes are queued for ``sock`` and not yet sent."""
        buffer = self._buffers.get(sock)
        return sum(map(len, buffer)) if buffer else 0

    def notify_when_drained(self, sock: Any) -> None:
        """Fire ``drained(sock)`` once the queue of ``sock`` is empty (at once if it is)."""
        if sock not in self._clients:
            return
        if self._buffers.get(sock):
            self._drain_waiters.add(sock)
        else:
            self.fire(drained(sock))

    # -- closing -------------------------------------------------------------------

    @handler("close")
    def close(self, sock: Any = None) -> None:
        """Close ``sock`` once flushed; without it, the whole server, then ``closed()``."""
        if sock is not None:
            self._close_when_flushed(sock)
            return
        if self._sock is not None:
            self._close(self._sock)
        for s in list(self._handshakes):
            self._drop_handshake(s)
        for s in list(self._clients):
            self._close_when_flushed(s)
        self.fire(closed())

    def close_listener(self) -> None:
        """Stop accepting: close the listening socket only; the peers carry on.

        For a graceful stop (draining). Only ``close()``: a listening socket
        shared with other processes keeps accepting there (see `_close`).
        """
        if self._sock is not None:
            self._close(self._sock)

    def _close_when_flushed(self, sock: Any) -> None:
        if sock in self._unsent:
            del self._unsent[sock]
            self._flush(sock)
        if self._buffers.get(sock):
            self._closeq.append(sock)
        else:
            self._close(sock)

    def _close(self, sock: Any) -> None:
        """Close ``sock`` now (listening socket or client); fires ``disconnect(sock)``."""
        if sock is None:
            return
        listener = sock is self._sock
        if listener:
            self._sock = None
        elif sock in self._clients:
            self._clients.remove(sock)
        else:
            return
        if self._poller is not None:
            self._poller.discard(sock)
        _drop_queue(self._buffers.pop(sock, None))
        self._drain_waiters.discard(sock)
        self._closeq.pop(sock, None)
        self._unsent.pop(sock, None)
        if listener:
            # close() only: shutdown() would stop the socket for the other
            # processes that share it (forked workers accepting on one port).
            try:
                sock.close()
            except OSError:
                pass
        else:
            close_quietly(sock)
        self.fire(disconnect(sock))

    # -- echo by return value, lifecycle -----------------------------------------

    @handler("read_value_changed")
    def _on_read_value_changed(self, value: Any) -> None:
        result = value.value
        if isinstance(result, bytes):
            self.fire(write(value.event.args[0], result))

    @handler("prepare_unregister", channel="*")
    def _on_prepare_unregister(self, event: Any, component: Any) -> None:
        # Leaving the tree: close the listener and the clients now; left
        # watched, a readable listener nobody accepts from would spin the loop.
        if event.in_subtree(self):
            self.close()

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        # At once: the loop is ending, a queued close() might never run, and
        # the sockets would be left to the garbage collector.
        self.close()


class TCPServer(Server):
    """A TCP server (IPv4): ``TCPServer(0)``, ``TCPServer(("127.0.0.1", 0))``, ..."""

    socket_protocol = IPPROTO_TCP
    socket_options = [(SOL_SOCKET, SO_REUSEADDR, 1), (IPPROTO_TCP, TCP_NODELAY, 1)]


class TCP6Server(TCPServer):
    """A TCP server over IPv6 (bind parsing by the IPv6 rules)."""

    socket_family = socket.AF_INET6

    def parse_bind_parameter(self, bind: Any) -> Any:
        """Normalise the ``bind`` constructor argument (IPv6 rules)."""
        return parse_ipv6_parameter(bind)


class UNIXServer(Server):
    """A UNIX stream socket server; ``bind`` is a path (an existing file is replaced)."""

    socket_family = getattr(socket, "AF_UNIX", AF_INET)
    socket_options = [(SOL_SOCKET, SO_REUSEADDR, 1)]

    def parse_bind_parameter(self, bind: Any) -> Any:
        """The path as given."""
        return bind

    def _create_socket(self) -> Any:
        if isinstance(self._bind, (str, bytes)) and os.path.exists(self._bind):
            os.unlink(self._bind)
        return super()._create_socket()


def _drop_queue(buffer: deque[Any] | None) -> None:
    """Forget a closed socket's unsent queue, closing the files of its regions."""
    for data in buffer or ():
        if type(data) is FileRegion:
            data.close()


def _take(buffer: deque[Any], budget: int) -> list[Any]:
    """The first queued chunks, up to ``budget`` bytes (at least one) and ``IOV_MAX``;
    a `FileRegion` ends the run (it is sent on its own)."""
    chunks = []
    for data in buffer:
        if type(data) is FileRegion:
            break
        chunks.append(data)
        budget -= len(data)
        if budget <= 0 or len(chunks) == IOV_MAX:
            break
    return chunks


def _consume(buffer: deque[Any], sent: int) -> None:
    """Drop ``sent`` bytes from the front of ``buffer``."""
    while sent:
        data = buffer[0]
        if sent < len(data):
            view = data if isinstance(data, memoryview) else memoryview(data)
            buffer[0] = view[sent:]
            return
        buffer.popleft()
        sent -= len(data)


def _peer_args(address: Any) -> tuple[Any, ...]:
    """``connect`` arguments after the socket: 3.2.5 star-unpacked the peer name.

    An unbound UNIX peer's name is ``''``, which unpacks to nothing; a bound
    one's is a path, passed whole (3.2.5 would have split it into characters).
    """
    if isinstance(address, tuple):
        return address
    if address:
        return (address,)
    return ()
