"""Helpers for the circuits.io tests: a recorder to wait on, a running tree.

Both are thin layers over circuits.testing: `Recorder` is a ``Watcher`` with a
``pred`` filter on the event's arguments, `running` is ``testing.running``
with a Recorder registered before the loop starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from circuits import Manager
from circuits.testing import Watcher, running as run_in_thread

WAIT_S = 5  # bounds a failing wait; passing tests never reach it


class Recorder(Watcher):
    """Records every handled event; ``wait_for`` blocks until a matching one was handled."""

    def find(self, name: str, channel: Any = None, pred: Any = None) -> list[Any]:
        return [e for e in super().find(name, channel) if pred is None or pred(*e.args)]

    def wait_for(
        self, name: str, channel: Any = None, count: int = 1, pred: Any = None, timeout=WAIT_S
    ) -> Any:
        self.wait_until(
            lambda events: len(self.find(name, channel, pred)) >= count,
            timeout,
            f"{name!r} on {channel!r}" + ("" if count == 1 else f" ({count} times)"),
        )
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
    with run_in_thread(m):
        yield m, rec
