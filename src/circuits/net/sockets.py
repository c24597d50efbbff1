"""Socket components: TCP/UDP/UNIX clients and servers, TLS, socket pairs.

This module is the public facade (3.2.5's import path); the work lives in
private modules, re-exported here so each name is one object everywhere:

* ``_common`` - ``BUFSIZE``, ``BACKLOG``, bind parsing;
* ``_client`` - ``Client``, ``TCPClient``, ``TCP6Client``, ``UNIXClient``, ``Pipe``;
* ``_server`` - ``Server``, ``TCPServer``, ``TCP6Server``, ``UNIXServer``;
* ``_udp`` - ``UDPServer`` (= ``UDPClient``), ``UDP6Server`` (= ``UDP6Client``);
* ``_tls`` - ``wrap_socket``, ``do_handshake`` (non-blocking handshakes).

Every component watches its sockets through the tree's poller (``_attach``)
and never blocks the loop, TLS handshakes included. On ``stopped`` every
socket component fires ``close()`` on its own channel.

``gethostname`` and ``getfqdn`` are looked up here at call time by the bind
parsers (3.2.5 programs monkeypatch them on this module).
"""

from __future__ import annotations

from socket import getfqdn as getfqdn, gethostname as gethostname

from ..core.components import BaseComponent as BaseComponent
from ..core.handlers import handler as handler
from ..core.pollers import BasePoller as BasePoller, Poller as Poller
from ..core.utils import findcmp as findcmp
from ._client import (
    Client as Client,
    Pipe as Pipe,
    TCP6Client as TCP6Client,
    TCPClient as TCPClient,
    UNIXClient as UNIXClient,
)
from ._common import (
    BACKLOG as BACKLOG,
    BUFSIZE as BUFSIZE,
    parse_ipv4_parameter as parse_ipv4_parameter,
    parse_ipv6_parameter as parse_ipv6_parameter,
)
from ._server import (
    Server as Server,
    TCP6Server as TCP6Server,
    TCPServer as TCPServer,
    UNIXServer as UNIXServer,
)
from ._tls import do_handshake as do_handshake, wrap_socket as wrap_socket
from ._udp import (
    UDP6Client as UDP6Client,
    UDP6Server as UDP6Server,
    UDPClient as UDPClient,
    UDPServer as UDPServer,
)
from .events import (
    close as close,
    closed as closed,
    connect as connect,
    connected as connected,
    disconnect as disconnect,
    disconnected as disconnected,
    error as error,
    read as read,
    ready as ready,
    unreachable as unreachable,
    write as write,
)

__all__ = [
    "BACKLOG",
    "BUFSIZE",
    "BaseComponent",
    "BasePoller",
    "Client",
    "Pipe",
    "Poller",
    "Server",
    "TCP6Client",
    "TCP6Server",
    "TCPClient",
    "TCPServer",
    "UDP6Client",
    "UDP6Server",
    "UDPClient",
    "UDPServer",
    "UNIXClient",
    "UNIXServer",
    "close",
    "closed",
    "connect",
    "connected",
    "disconnect",
    "disconnected",
    "do_handshake",
    "error",
    "findcmp",
    "handler",
    "parse_ipv4_parameter",
    "parse_ipv6_parameter",
    "read",
    "ready",
    "unreachable",
    "wrap_socket",
    "write",
]
