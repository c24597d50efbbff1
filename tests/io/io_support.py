"""Helpers for the circuits.io tests: a recorder to wait on, a running tree."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from circuits import BaseComponent, Manager, handler

WAIT_S = 5  # bounds a failing wait; passing tests never reach it


class Recorder(BaseComponent):
    """Records every event; ``wait_for`` blocks until a matching one was handled."""

    def init(self) -> None:
        self.events: list[Any] = []
        self._cond = threading.Condition()

    @handler(channel="*", priority=999.9)
    def _record(self, event: Any, *args: Any, **kwargs: Any) -> None:
        if event.name == "generate_events":
            return
        with self._cond:
            if not self.events or self.events[-1] is not event:
                self.events.append(event)
            self._cond.notify_all()

    def find(self, name: str, channel: Any = None, pred: Any = None) -> list[Any]:
        return [
            e
            for e in self.events
            if e.name == name
            and (channel is None or channel in e.channels)
            and (pred is None or pred(*e.args))
        ]

    def wait_for(
        self, name: str, channel: Any = None, count: int = 1, pred: Any = None, timeout=WAIT_S
    ) -> Any:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.find(name, channel, pred)) >= count, timeout)
            seen = [f"{e.name}{tuple(e.args)!r}@{e.channels}" for e in self.events][-30:]
        assert ok, f"no {name!r} on {channel!r}; last events: {seen}"
        return self.find(name, channel, pred)[count - 1]

    def data(self, channel: Any) -> bytes:
        return b"".join(e.args[0] for e in self.find("read", channel))


@contextmanager
def running(*components: Any) -> Iterator[tuple[Manager, Recorder]]:
    """A started tree holding a Recorder and ``components``; stopped and joined after."""
    m = Manager()
    rec = Recorder().register(m)
    for c in components:
        c.register(m)
    m.start()
    try:
        yield m, rec
    finally:
        m.stop()
        m.join()
