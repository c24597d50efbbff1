"""Run a component tree in a thread for the length of a ``with`` block."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from circuits.core.handlers import handler
from circuits.core.manager import Manager

__all__ = ["running"]

M = TypeVar("M", bound=Manager)

# How long starting and stopping may take before the test fails: far more
# than an idle loop needs, short enough to fail a hung test quickly.
START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 10.0


@contextmanager
def running(app: M) -> Iterator[M]:
    """Run ``app``'s loop in a daemon thread; yield it once ``started`` was handled.

    On leaving, the loop is stopped and its thread joined.

    Raises:
        AssertionError: the loop did not start, or did not stop, in time.
    """
    ready = threading.Event()

    @handler("started", channel="*", priority=-1e9)
    def _testing_started(self: Any, manager: Any) -> None:
        ready.set()

    app.addHandler(_testing_started)
    thread, _ = app.start()
    try:
        if not ready.wait(START_TIMEOUT_S):
            raise AssertionError(f"{app!r} did not start within {START_TIMEOUT_S} s")
        yield app
    finally:
        app.stop()
        thread.join(STOP_TIMEOUT_S)
    if thread.is_alive():
        raise AssertionError(f"{app!r} did not stop within {STOP_TIMEOUT_S} s")
