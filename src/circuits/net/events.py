"""The events of the socket components (``circuits.net.sockets``).

Clients consume ``connect``/``write``/``close`` and fire ``connected``,
``read``, ``disconnected``, ``error`` and ``unreachable``; servers fire
``connect``/``disconnect`` per peer, ``read(sock, data)`` and ``closed``.
Every socket component fires ``ready`` once it is attached to a poller.
"""

from __future__ import annotations

from typing import Any

from ..core.events import Event

__all__ = [
    "Event",
    "broadcast",
    "close",
    "closed",
    "connect",
    "connected",
    "disconnect",
    "disconnected",
    "drained",
    "error",
    "read",
    "ready",
    "starttls",
    "unreachable",
    "write",
]


class connect(Event):
    """Connect: a request to a client, or a server's report of an accepted peer.

    Clients take ``(host, port, secure=False, **tls_kwargs)`` (UNIX clients
    ``(path, ...)``); servers fire ``(sock, *peer_address)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class disconnect(Event):
    """Server: one of its sockets was closed: ``disconnect(sock)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class connected(Event):
    """Client: the connection is established: ``connected(host, port)``."""

    def __init__(self, host: Any, port: Any) -> None:
        super().__init__(host, port)


class drained(Event):
    """Server: a socket's write queue has emptied: ``drained(sock)``.

    Fired only for sockets whose ``Server.notify_when_drained(sock)`` asked
    for it (once per request): producers use it to pause while a slow peer
    catches up (back-pressure).
    """


class disconnected(Event):
    """Client: the socket was closed: ``disconnected()``."""

    def __init__(self) -> None:
        super().__init__()


class read(Event):
    """Data arrived: ``read(data)`` (clients), ``read(sock, data)`` (servers)."""

    # No __init__ of its own: one is fired per chunk of socket data, and
    # Event.__init__ already takes ``*args``.


class write(Event):
    """Request to send: ``write(data)`` (clients), ``write(sock, data)`` (servers)."""

    # No __init__ of its own: one is fired per chunk of socket data, and
    # Event.__init__ already takes ``*args``.


class error(Event):
    """A socket error: ``error(exc)`` (clients), ``error(sock, exc)`` (servers)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)


class unreachable(Event):
    """A connection attempt failed: ``unreachable(host, port, reason)``."""

    def __init__(self, host: Any, port: Any, reason: Any = None) -> None:
        super().__init__(host, port, reason)


class broadcast(Event):
    """UDP: request to broadcast ``broadcast(data, port)``."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)


class close(Event):
    """Request to close: ``close()`` (everything) or ``close(sock)`` (servers)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)


class closed(Event):
    """Server: closed after an argument-less ``close()``."""


class ready(Event):
    """The component is attached to a poller and can do I/O.

    Clients fire ``ready(component)``, servers ``ready(component, (host, port))``.

    Args:
        component: the socket component.
        bind: the bound address (servers); omitted from the arguments when ``None``.
    """

    def __init__(self, component: Any, bind: Any = None) -> None:
        if bind is None:
            super().__init__(component)
        else:
            super().__init__(component, bind)


class starttls(Event):
    """Server: upgrade an accepted connection to TLS: ``starttls(sock)``."""

    def __init__(self, sock: Any) -> None:
        super().__init__(sock)
