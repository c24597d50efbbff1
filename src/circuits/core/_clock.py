"""The one clock seam of the core.

Every timed thing in the core (``Timer``, ``sleep()``, ``call``/``wait``
timeouts, idle time) reads the time through :func:`now`. Tests replace the
clock with :class:`FakeClock` and step it with ``advance()``; advancing wakes
every running loop so that what became due runs at once, with no real waiting.
"""

from __future__ import annotations

import time
import weakref
from typing import Any, Protocol

__all__ = ["Clock", "FakeClock", "SystemClock", "get_clock", "now", "set_clock"]


class Clock(Protocol):
    def time(self) -> float: ...


class SystemClock:
    """Wall-clock time (``time.time()``), as 3.2.5's absolute expiries use."""

    time = staticmethod(time.time)


class FakeClock:
    """A clock that only moves when told to.

    Args:
        start: the initial time (default: the real time now).
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every running loop."""
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards by {seconds!r} s")
        self._now += seconds
        for root in list(running_roots):
            root.wake()


# Roots whose loop is running (so a FakeClock can wake them).
running_roots: weakref.WeakSet[Any] = weakref.WeakSet()

_clock: Clock = SystemClock()
now = _clock.time


def get_clock() -> Clock:
    """The clock in use."""
    return _clock


def set_clock(clock: Clock | None) -> Clock:
    """Install ``clock`` (``None``: the system clock); returns the previous one."""
    global _clock, now
    previous = _clock
    _clock = SystemClock() if clock is None else clock
    now = _clock.time
    return previous
