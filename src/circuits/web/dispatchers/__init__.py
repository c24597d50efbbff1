"""Dispatchers: components that route a ``request`` event to its handler."""

from __future__ import annotations

from .dispatcher import Dispatcher as Dispatcher
from .static import Static as Static

__all__ = ["Dispatcher", "Static"]
