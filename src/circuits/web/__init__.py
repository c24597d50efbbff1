"""circuits.web: an HTTP/1.1 server and web framework on the circuits core.

The server (``Server``, ``BaseServer``) runs the ``HTTP`` protocol component
on the strict sans-I/O HTTP/1.1 engine; controllers (``Controller``,
``JSONController``, ``expose``) answer URL paths through the ``Dispatcher``;
``Static``, ``Sessions``, ``VirtualHosts``, ``XMLRPC``, ``JSONRPC`` and the
access ``Logger`` are components to register beside them. WebSockets live in
``circuits.web.websockets``, WSGI in ``circuits.web.wsgi``, the HTTP client
in ``circuits.web.client``; the guide is docs/web.md.
"""

from __future__ import annotations

from .controllers import (
    BaseController as BaseController,
    Controller as Controller,
    JSONController as JSONController,
    expose as expose,
    exposeJSON as exposeJSON,
)
from .dispatchers import (
    JSONRPC as JSONRPC,
    XMLRPC as XMLRPC,
    Dispatcher as Dispatcher,
    Static as Static,
    VirtualHosts as VirtualHosts,
)
from .errors import (
    forbidden as forbidden,
    httperror as httperror,
    notfound as notfound,
    redirect as redirect,
)
from .events import request as request, response as response, stream as stream
from .loggers import Logger as Logger
from .servers import BaseServer as BaseServer, Server as Server
from .sessions import Sessions as Sessions
from .url import URL as URL, parse_url as parse_url
