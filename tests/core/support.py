"""Helpers shared by the core tests: drive a loop by hand, record dispatches."""

from __future__ import annotations

import threading
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


class WaitingRecorder(BaseComponent):
    """Records every event (before its handlers); ``wait_for`` blocks until one matches.

    For a tree run in a thread: the node and bridge tests.
    """

    def init(self):
        self.events = []
        self._cond = threading.Condition()

    @handler(channel="*", priority=999.9)
    def _record(self, event, *args, **kwargs):
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def find(self, name, channel=None):
        with self._cond:
            return [
                e
                for e in self.events
                if e.name == name and (channel is None or channel in e.channels)
            ]

    def wait_until(self, predicate, timeout=5.0, what="condition"):
        with self._cond:
            ok = self._cond.wait_for(predicate, timeout)
        names = [e.name for e in self.events][-30:]
        assert ok, f"timed out waiting for {what}; last events: {names}"

    def wait_for(self, name, channel=None, count=1, timeout=5.0):
        self.wait_until(
            lambda: len(self.find(name, channel)) >= count, timeout, f"{name!r} on {channel!r}"
        )
        return self.find(name, channel)[count - 1]
