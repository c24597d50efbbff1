"""The clock seam: FakeClock, set_clock, and waking running loops on advance()."""

from __future__ import annotations

import threading
import time

import pytest

from circuits import Component, Event, Manager, handler, sleep
from circuits.core import _clock


class nap(Event):
    pass


@pytest.fixture
def clock():
    fake = _clock.FakeClock(500.0)
    previous = _clock.set_clock(fake)
    yield fake
    _clock.set_clock(previous)


def test_the_system_clock_is_the_default():
    assert isinstance(_clock.get_clock(), _clock.SystemClock)
    assert abs(_clock.now() - time.time()) < 1


def test_set_clock_returns_the_previous_one_and_none_restores_the_system_clock():
    fake = _clock.FakeClock(1.0)
    previous = _clock.set_clock(fake)
    try:
        assert _clock.get_clock() is fake
        assert _clock.now() == 1.0
        assert _clock.set_clock(None) is fake
        assert isinstance(_clock.get_clock(), _clock.SystemClock)
    finally:
        _clock.set_clock(previous)


def test_fake_clock_only_moves_when_told(clock):
    assert clock.time() == 500.0
    assert _clock.now() == 500.0
    clock.advance(0.25)
    assert _clock.now() == 500.25
    clock.advance(0)
    assert _clock.now() == 500.25


def test_fake_clock_cannot_go_backwards(clock):
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert clock.time() == 500.0


def test_fake_clock_starts_at_the_real_time_by_default():
    assert abs(_clock.FakeClock().time() - time.time()) < 1


def test_sleep_reads_the_seam(clock):
    s = sleep(3)
    assert s.expiry == 503.0
    clock.advance(3)
    assert s.expired


def test_advance_with_no_running_loop_is_harmless(clock):
    m = Manager()
    clock.advance(10)
    assert len(m) == 0


def test_advance_wakes_a_running_loop(clock):
    woke = threading.Event()
    ready = threading.Event()

    class App(Component):
        def nap(self):
            s = sleep(3600)  # expiry fixed before the test advances the clock
            ready.set()
            yield s
            woke.set()

    app = App()
    started = threading.Event()
    app.addHandler(handler("started", channel="*")(lambda self, manager: started.set()))
    thread, _ = app.start()
    try:
        assert started.wait(5), "no 'started'"
        app.fire(nap())
        assert ready.wait(5), "no 'nap'"
        assert not woke.is_set()
        clock.advance(3600)  # an hour passes at once
        assert woke.wait(5), "the loop was not woken"
    finally:
        app.stop()
        thread.join(5)
    assert not thread.is_alive()
    assert app not in _clock.running_roots
