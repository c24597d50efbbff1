"""WebSockets for ``circuits.web``: the server-side dispatcher and a client (web.md §19).

``WebSocketClient`` is imported on first use: ``circuits.protocols.http``
imports ``circuits.web.headers``, so loading ``circuits.web`` (whose
dispatchers export ``WebSocketsDispatcher``) may happen while that module is
half-initialised, and the client needs its ``HTTP``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dispatcher import WebSocketsDispatcher as WebSocketsDispatcher

if TYPE_CHECKING:
    from .client import WebSocketClient as WebSocketClient

__all__ = ["WebSocketClient", "WebSocketsDispatcher"]


def __getattr__(name: str) -> Any:
    if name == "WebSocketClient":
        from .client import WebSocketClient

        return WebSocketClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
