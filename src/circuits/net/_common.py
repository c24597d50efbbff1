"""What every socket component shares: limits, errno classes, bind parsing.

The public names are re-exported by ``circuits.net.sockets``. 3.2.5 programs
(and its test-suite) monkeypatch ``circuits.net.sockets.gethostname`` and
``getfqdn``, so the bind parsers look those two up on that module at call
time instead of binding them here.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

__all__ = [
    "BACKLOG",
    "BUFSIZE",
    "WRITE_BUDGET_BYTES",
    "SocketSet",
    "close_quietly",
    "parse_ipv4_parameter",
    "parse_ipv6_parameter",
    "peer_name",
]

# Errors of the socket components are logged here (with the peer address),
# whichever module they come from.
log = logging.getLogger("circuits.net")

# One recv() per readable event reads at most this much (3.2.5's value).
BUFSIZE = 4096
# listen() backlog of servers (3.2.5's value; the kernel caps it at somaxconn).
BACKLOG = 5000

# Bytes one writable event may send before giving the loop back to others.
WRITE_BUDGET_BYTES = 256 * 1024

# connect() results that mean "connected or getting there".
CONNECTING = (0, errno.EISCONN, errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EALREADY)
# send() errors after which the peer is gone: close quietly.
PEER_GONE = (errno.EPIPE, errno.ENOTCONN)
# send() errors that only mean "not now": keep the data, try again when writable.
SEND_AGAIN = (errno.EINTR, errno.EWOULDBLOCK, errno.EAGAIN, errno.ENOBUFS)
# accept() errors that are not the listening socket's fault (the peer gave
# up, or the process is out of descriptors/memory for a moment): skip them.
ACCEPT_TRANSIENT = (
    errno.EWOULDBLOCK,
    errno.EAGAIN,
    errno.EPERM,
    errno.EMFILE,
    errno.ENOBUFS,
    errno.ENFILE,
    errno.ENOMEM,
    errno.ECONNABORTED,
)


def _facade() -> Any:
    from . import sockets

    return sockets


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
            return (socket.gethostbyname(_facade().gethostname()), bind)
        except socket.gaierror:
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
            infos = socket.getaddrinfo(_facade().getfqdn(), bind, socket.AF_INET6)
        except socket.gaierror:
            infos = []
        if infos:
            return infos[0][4]
        return ("::", bind)
    return bind


class SocketSet(dict[Any, None]):
    """An insertion-ordered set of sockets with the list methods 3.2.5 code uses.

    ``Server._clients`` was a list in 3.2.5 (``in``, ``append``, ``remove``,
    iteration); with thousands of peers list removal is quadratic, so this is
    a dict underneath.
    """

    def append(self, sock: Any) -> None:
        self[sock] = None

    def remove(self, sock: Any) -> None:
        try:
            del self[sock]
        except KeyError:
            raise ValueError(f"{sock!r} is not a client of this server") from None


def peer_name(sock: Any) -> str:
    """``host:port`` (or the path) of ``sock``'s peer for log messages; never raises."""
    try:
        peer = sock.getpeername()
    except (OSError, AttributeError):
        return f"<fd {_fileno(sock)}, no peer>"
    if isinstance(peer, tuple):
        return f"{peer[0]}:{peer[1]}"
    return str(peer) or "<unnamed unix socket>"


def _fileno(sock: Any) -> int:
    try:
        return int(sock.fileno())
    except (OSError, AttributeError):
        return -1


def close_quietly(sock: Any) -> None:
    """``shutdown`` + ``close``, ignoring errors (the peer may be gone already)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass
    try:
        sock.close()
    except OSError:
        pass
