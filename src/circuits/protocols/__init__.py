"""Protocol components: line splitting, WebSocket framing, IRC, HTTP client, STOMP.

Each sits on top of a socket (or file) component, turns its ``read`` events
into protocol events and protocol requests into ``write`` events. The parsing
itself lives in the sans-I/O engines of ``circuits._sansio``.
"""

from __future__ import annotations

from .irc import IRC as IRC
from .line import Line as Line

__all__ = ["IRC", "Line"]
