"""Helpers for testing circuits applications, and the pytest plugin's home.

The pytest plugin (`circuits.testing.plugin`, registered through the
``pytest11`` entry point, so installing circuits is enough) provides the
fixtures ``manager``, ``watcher``, ``clock``, ``web_server`` and
``web_client``. Everything it uses is here and works without pytest:

- `running` runs a tree in a thread for a ``with`` block;
- `Watcher` records the events of a tree; ``watcher.wait("name")`` waits for one;
- `FakeClock` (``set_clock``) moves the time of timers, ``sleep()`` and
  ``call``/``wait`` timeouts on demand;
- `MemoryServer`, `MemoryClient` and `MemoryConnection` connect a client to a
  server with no socket;
- `WebClient` sends requests and WebSocket messages to a circuits.web tree
  in process (`MemoryWebServer`).
"""

from __future__ import annotations

from circuits.core._clock import FakeClock as FakeClock, set_clock as set_clock

from ._memory import (
    MemoryClient as MemoryClient,
    MemoryConnection as MemoryConnection,
    MemoryServer as MemoryServer,
    MemorySocket as MemorySocket,
)
from ._running import running as running
from ._watcher import Watcher as Watcher
from ._web import (
    MemoryWebServer as MemoryWebServer,
    WebClient as WebClient,
    WebResponse as WebResponse,
    WebSocketClosed as WebSocketClosed,
    WebSocketHandshakeError as WebSocketHandshakeError,
    WebSocketSession as WebSocketSession,
)

__all__ = [
    "FakeClock",
    "MemoryClient",
    "MemoryConnection",
    "MemoryServer",
    "MemorySocket",
    "MemoryWebServer",
    "Watcher",
    "WebClient",
    "WebResponse",
    "WebSocketClosed",
    "WebSocketHandshakeError",
    "WebSocketSession",
    "running",
    "set_clock",
]
