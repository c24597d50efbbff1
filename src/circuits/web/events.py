"""The server-side events of circuits.web (web.md §2, §24).

``request``, ``response`` and ``stream`` fire their ``_success``,
``_failure`` and ``_complete`` children on the same channels, which is how
the HTTP component learns a handler's result; ``terminate`` is plain.
"""

from __future__ import annotations

from circuits.core.events import Event as Event

__all__ = ["Event", "request", "response", "stream", "terminate"]


class request(Event):
    """A parsed request: args ``(req, res)`` or ``(req, res, peer_cert)`` for TLS clients."""

    success = True
    failure = True
    complete = True


class response(Event):
    """Send a response: args ``(res)``; fire it yourself to answer asynchronously."""

    success = True
    failure = True
    complete = True


class stream(Event):
    """Send the next body chunk: args ``(res, data)``; ``data`` ``None`` ends the stream."""

    success = True
    failure = True
    complete = True


class terminate(Event):
    """Stop the server process (``BaseServer`` raises ``SystemExit(0)``)."""
