"""The server-side events of circuits.web (web.md §2, §24).

``request``, ``response`` and ``stream`` fire their ``_success``,
``_failure`` and ``_complete`` children on the same channels, which is how
the HTTP component learns a handler's result; ``terminate`` is plain.

They take Event's ``*args`` at run time (one of each is made per request: no
extra call); the signatures under ``TYPE_CHECKING`` are for type checkers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from circuits.core.events import Event as Event

if TYPE_CHECKING:
    from .wrappers import Request, Response

__all__ = ["Event", "request", "response", "stream", "terminate"]


class request(Event):
    """A parsed request: args ``(req, res)`` or ``(req, res, peer_cert)`` for TLS clients."""

    success = True
    failure = True
    complete = True

    if TYPE_CHECKING:

        @overload
        def __init__(self, req: Request, res: Response, /) -> None: ...
        @overload
        def __init__(self, req: Request, res: Response, peer_cert: dict[str, Any], /) -> None: ...
        def __init__(self, *args: Any) -> None: ...


class response(Event):
    """Send a response: args ``(res)``; fire it yourself to answer asynchronously."""

    success = True
    failure = True
    complete = True

    if TYPE_CHECKING:

        def __init__(self, res: Response, /) -> None: ...


class stream(Event):
    """Send the next body chunk: args ``(res, data)``; ``data`` ``None`` ends the stream."""

    success = True
    failure = True
    complete = True

    if TYPE_CHECKING:

        def __init__(self, res: Response, data: bytes | str | None, /) -> None: ...


class terminate(Event):
    """Stop the server process (``BaseServer`` raises ``SystemExit(0)``)."""
