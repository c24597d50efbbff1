"""Dispatchers: components that route a ``request`` event to its handler."""

from __future__ import annotations

from .dispatcher import Dispatcher as Dispatcher

__all__ = ["Dispatcher"]
