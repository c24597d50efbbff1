"""Timer: one-shot and persistent, datetime intervals, reset, cancellation.

Timers only fire inside a running loop; these tests run one in a thread and
step a ``FakeClock`` (``advance()`` wakes the loop), so nothing waits for real
time except the single slow real-clock test.
"""

from __future__ import annotations

import itertools
import threading
import time
from datetime import datetime, timedelta

import pytest

from circuits import Component, Event, Manager, Timer, handler


class ding(Event):
    pass


class sync(Event):
    pass


class App(Component):
    """Records ``ding``s; ``sync`` round trips tell the test the loop caught up."""

    def init(self):
        self.dings: list[Event] = []
        self.ding_seen = threading.Event()
        self.synced = threading.Event()
        self.gone: list[object] = []
        self.gone_seen = threading.Event()

    def ding(self, event):
        self.dings.append(event)
        self.ding_seen.set()

    def sync(self):
        self.synced.set()

    @handler("unregistered", channel="*")
    def _unregistered(self, component, manager):
        self.gone.append(component)
        self.gone_seen.set()

    def settle(self) -> None:
        """Return once a ``generate_events`` ran after the call (two round trips)."""
        for _ in range(2):
            self.synced.clear()
            self.fire(sync())
            assert self.synced.wait(5), "no 'sync'"

    def expect_ding(self, n: int) -> None:
        while len(self.dings) < n:
            self.ding_seen.clear()
            if len(self.dings) >= n:
                break
            assert self.ding_seen.wait(5), f"no 'ding' #{n}"


@pytest.fixture
def app(running):
    return running(App())


def test_attributes_and_expiry_from_construction(clock):
    start = clock.time()
    e = ding()
    t = Timer(5, e, "a", "b")
    assert t.interval == 5
    assert t.event is e
    assert t.channels == ("a", "b")
    assert t.persist is False
    assert t.expiry == start + 5
    assert t.channel == "*"
    assert Timer(1, ding(), persist=True).persist is True


def test_reset(clock):
    start = clock.time()
    t = Timer(10, ding())
    clock.advance(4)
    t.reset()
    assert t.expiry == start + 14
    t.reset(3)
    assert t.interval == 3
    assert t.expiry == start + 7


def test_datetime_interval(clock):
    start = clock.time()
    when = datetime.now() + timedelta(seconds=30)
    t = Timer(when, ding())
    # computed against the wall clock, microseconds dropped
    assert 28.9 <= t.interval <= 30.01
    assert t.expiry == pytest.approx(start + t.interval)


def test_a_timer_does_nothing_without_a_running_loop(clock):
    m = App()
    Timer(1, ding()).register(m)
    clock.advance(5)
    for _ in range(3):
        m.tick()
    assert m.dings == []


def test_one_shot_fires_once_and_unregisters(clock, app):
    e = ding()
    t = Timer(5, e).register(app)
    app.settle()
    clock.advance(4.9)
    app.settle()
    assert app.dings == []
    clock.advance(0.1)
    app.expect_ding(1)
    assert app.dings == [e]
    assert app.gone_seen.wait(5), "the timer did not unregister"
    assert app.gone == [t]
    app.settle()
    assert t not in app.components
    assert t.parent is t
    clock.advance(10)
    app.settle()
    assert app.dings == [e]


def test_persistent_timer_refires_the_same_instance(clock, app):
    e = ding()
    t = Timer(2, e, persist=True).register(app)
    app.settle()
    for n in range(1, 4):
        clock.advance(2)
        app.expect_ding(n)
    app.settle()
    assert len(app.dings) == 3
    assert all(d is e for d in app.dings)
    assert t.expiry == pytest.approx(clock.time() + 2)
    assert t in app.components


def test_fires_on_the_given_channels(clock, app):
    other: list[str] = []

    class Elsewhere(Component):
        channel = "elsewhere"

        def ding(self):
            other.append(self.channel)
            app.ding_seen.set()

    Elsewhere().register(app)
    Elsewhere(channel="nowhere").register(app)
    Timer(1, ding(), "elsewhere").register(app)
    app.settle()
    clock.advance(1)
    while not other:
        assert app.ding_seen.wait(5), "no 'ding'"
        app.ding_seen.clear()
    app.settle()
    assert other == ["elsewhere"]
    assert [d.channels for d in app.dings] == [("elsewhere",)]  # App is on "*"


def test_unregister_cancels(clock, app):
    t = Timer(5, ding()).register(app)
    app.settle()
    t.unregister()
    assert app.gone_seen.wait(5), "the timer did not unregister"
    clock.advance(10)
    app.settle()
    assert app.dings == []


def test_datetime_timer_fires(clock, app):
    Timer(datetime.now() + timedelta(seconds=30), ding()).register(app)
    app.settle()
    clock.advance(29)  # up to 1 s early (dropped microseconds), never 2 s
    app.settle()
    assert app.dings == []
    clock.advance(2)
    app.expect_ding(1)


@pytest.mark.slow
def test_a_real_clock_persistent_timer_keeps_its_interval(running):
    done = threading.Event()
    stamps: list[float] = []

    class Beat(Component):
        def ding(self):
            stamps.append(time.perf_counter())
            if len(stamps) == 4:
                done.set()

    m = Manager()
    Beat().register(m)
    Timer(0.05, ding(), persist=True).register(m)
    running(m)
    assert done.wait(5), "the timer did not fire 4 times"
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(0.04 <= g < 0.09 for g in gaps), gaps
