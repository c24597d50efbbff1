"""Datagram sockets: ``UDPServer`` (= ``UDPClient``) and ``UDP6Server`` (= ``UDP6Client``).

One class serves both roles: a UDP "client" is a socket bound to some
(often ephemeral) address that writes to others. It reuses ``Server``'s
poller attachment, ``ready(self, (host, port))`` and echo-by-return-value;
datagrams are addressed, so the outgoing queue holds ``(address, data)``
pairs for the one socket and ``read``/``write`` carry the peer address
where stream servers carry the peer socket.
"""

from __future__ import annotations

import socket
from socket import SO_BROADCAST, SO_REUSEADDR, SOCK_DGRAM, SOL_SOCKET
from typing import Any

from ..core.handlers import handler
from ._common import (
    PEER_GONE,
    SEND_AGAIN,
    WRITE_BUDGET_BYTES,
    close_quietly,
    log,
    parse_ipv6_parameter as _parse_ipv6,
)
from ._server import Server
from .events import closed, disconnect, error, read

__all__ = ["UDP6Client", "UDP6Server", "UDPClient", "UDPServer"]


class UDPServer(Server):
    """A UDP socket (IPv4) that reads and writes addressed datagrams.

    Events: ``read(address, data)``; requests ``write(address, data)``,
    ``broadcast(data, port)`` and ``close()``.

    Args:
        bind: a port, ``"host:port"``, an address tuple, or a ``socket.socket``.
        **kwargs: as for ``Server``.
    """

    socket_type = SOCK_DGRAM
    socket_options = [(SOL_SOCKET, SO_BROADCAST, 1), (SOL_SOCKET, SO_REUSEADDR, 1)]
    accepts_file_regions = False  # datagrams: bytes only

    @handler("_read", priority=1, override=True)
    def _on_read_ready(self, sock: Any) -> None:
        if sock is not self._sock:
            return
        try:
            data, address = sock.recvfrom(self._bufsize)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.info("udp %s: recvfrom failed: %s", self._bind, exc)
            self.fire(error(sock, exc))
            self._close(sock)
            return
        if data:
            self._fire_notified(read(address, data))

    @handler("_write", priority=1, override=True)
    def _on_write_ready(self, sock: Any) -> None:
        if sock is self._sock:
            self._flush(sock)

    @handler("_disconnect", priority=1, override=True)
    def _on_disconnect(self, sock: Any) -> None:
        self._close(sock)

    @handler("write", override=True)
    def write(self, address: Any, data: bytes) -> None:
        """Queue the datagram ``data`` for ``address``.

        Raises:
            TypeError: ``data`` is a ``str`` (encode it first).
        """
        if isinstance(data, str):
            raise TypeError(f"write() takes bytes, not str ({data[:40]!r}): encode it first")
        sock = self._sock
        if sock is None:
            return
        buffer = self._buffers[sock]
        buffer.append((address, data))
        if len(buffer) == 1:
            self._flush(sock)

    @handler("broadcast")
    def broadcast(self, data: bytes, port: int) -> None:
        """Send ``data`` to every host of the local network on ``port``."""
        self.write(("<broadcast>", port), data)

    def _flush(self, sock: Any) -> None:
        buffer = self._buffers.get(sock)
        budget = WRITE_BUDGET_BYTES
        while buffer and budget > 0:
            address, data = buffer[0]
            try:
                sock.sendto(data, address)
            except (BlockingIOError, InterruptedError):
                break
            except (OSError, TypeError, ValueError) as exc:
                # TypeError/ValueError: a malformed address; drop that datagram.
                errno_ = getattr(exc, "errno", None)
                if errno_ in SEND_AGAIN:
                    break
                buffer.popleft()
                if errno_ in PEER_GONE:
                    self._close(sock)
                    return
                log.info("udp %s: sendto %s failed: %s", self._bind, address, exc)
                self.fire(error(sock, exc))  # this datagram is lost
                continue
            buffer.popleft()
            budget -= len(data)
        self._flushed(sock, buffer)

    @handler("close", override=True)
    def close(self, sock: Any = None) -> None:
        """Fire ``closed()``, then close the socket once flushed (``disconnect(sock)``)."""
        self.fire(closed())
        if self._sock is not None:
            self._close_when_flushed(self._sock)

    def _close(self, sock: Any) -> None:
        if sock is None or sock is not self._sock:
            return
        self._sock = None
        if self._poller is not None:
            self._poller.discard(sock)
        self._buffers.pop(sock, None)
        self._closeq.pop(sock, None)
        close_quietly(sock)
        self.fire(disconnect(sock))


UDPClient = UDPServer


class UDP6Server(UDPServer):
    """A UDP socket over IPv6 (bind parsing by the IPv6 rules)."""

    socket_family = socket.AF_INET6

    def parse_bind_parameter(self, bind: Any) -> Any:
        """Normalise the ``bind`` constructor argument (IPv6 rules)."""
        return _parse_ipv6(bind)


UDP6Client = UDP6Server
