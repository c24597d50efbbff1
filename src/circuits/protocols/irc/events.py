"""IRC events: ``response`` (incoming, named after the command), ``request``, ``reply``."""

from __future__ import annotations

from ...core.events import Event as Event

__all__ = ["Event", "reply", "request", "response"]


class response(Event):
    """An incoming message; ``response.create("privmsg", prefix, *args)`` names it."""


class reply(Event):
    """A server's reply to a client (not fired by this package)."""


class request(Event):
    """An outgoing message: ``request(Message(...))``."""
