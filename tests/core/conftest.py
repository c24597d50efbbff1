"""Fixtures shared by the core tests: a loop thread and a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from circuits import Manager, handler
from circuits.core import _clock


@pytest.fixture
def running() -> Iterator[Callable[[Manager], Manager]]:
    """Start apps in a loop thread; stop and join them in teardown."""
    started: list[tuple[Manager, threading.Thread]] = []

    def start(app: Manager) -> Manager:
        ready = threading.Event()

        @handler("started", channel="*")
        def _loop_started(self, manager):
            ready.set()

        app.addHandler(_loop_started)
        thread, _ = app.start()
        started.append((app, thread))
        assert ready.wait(5), "no 'started'"
        return app

    yield start
    for app, thread in started:
        app.stop()
        thread.join(10)
        assert not thread.is_alive(), "loop thread did not stop"


@pytest.fixture
def clock() -> Iterator[_clock.FakeClock]:
    """A fake clock installed as the core's clock (``clock.advance(s)``)."""
    fake = _clock.FakeClock(1000.0)
    previous = _clock.set_clock(fake)
    yield fake
    _clock.set_clock(previous)
