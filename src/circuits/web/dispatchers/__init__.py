"""Dispatchers: components that route a ``request`` event to its handler."""

from __future__ import annotations

from ..websockets.dispatcher import WebSocketsDispatcher as WebSocketsDispatcher
from .dispatcher import Dispatcher as Dispatcher
from .jsonrpc import JSONRPC as JSONRPC
from .static import Static as Static
from .virtualhosts import VirtualHosts as VirtualHosts
from .xmlrpc import XMLRPC as XMLRPC

__all__ = ["JSONRPC", "XMLRPC", "Dispatcher", "Static", "VirtualHosts", "WebSocketsDispatcher"]
