"""Helpers shared by the core tests: drive a loop by hand, record dispatches."""

from __future__ import annotations

from typing import Any

from circuits import BaseComponent, Manager, handler

# A test that needs more batches than this has a loop that never drains.
MAX_FLUSHES = 200


def drain(m: Manager) -> int:
    """Flush ``m`` (a root) until its queue is empty; return the number of batches."""
    n = 0
    while len(m):
        m.flush()
        n += 1
        assert n < MAX_FLUSHES, f"queue of {m!r} never drained"
    return n


class Recorder(BaseComponent):
    """Records every dispatched event (a catch-all on every channel)."""

    def init(self, *args: Any, **kwargs: Any) -> None:
        self.events: list[Any] = []

    @handler(channel="*", priority=999.9)
    def _record(self, event: Any, *args: Any, **kwargs: Any) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [e.name for e in self.events]
