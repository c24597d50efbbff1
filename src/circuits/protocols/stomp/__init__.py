"""STOMP 1.2 client component, written natively (no third-party library).

``StompClient`` (channel ``"stomp"``) speaks STOMP 1.2 over a ``TCPClient``;
its events are in ``circuits.protocols.stomp.events``.
"""

from __future__ import annotations

from . import client as client, events as events, transport as transport
from .client import StompClient as StompClient

__all__ = ("StompClient",)
