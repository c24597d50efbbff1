"""ASGI 3.0 both ways: host ASGI applications in circuits.web, serve circuits.web over ASGI.

``Gateway({"/mount": app})`` is a ``request`` handler on the web channel
that runs ASGI applications (``http``, ``websocket`` and ``lifespan``
scopes) on an asyncio loop; ``Application() + Root()`` is a circuits.web
component tree that uvicorn or hypercorn can serve. The work lives in
``circuits.web._asgi`` (``gateway``, ``application``, ``wsserve``, ``common``).
"""

from __future__ import annotations

from ._asgi.application import Application as Application
from ._asgi.common import ClientDisconnected as ClientDisconnected
from ._asgi.gateway import Gateway as Gateway

__all__ = ["Application", "ClientDisconnected", "Gateway"]
