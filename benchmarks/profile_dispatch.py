"""Where the time of one event goes: construction, fire, dispatch, GC.

    python benchmarks/profile_dispatch.py

Times each stage of the fire_burst path in isolation (best of several runs,
in nanoseconds per event) with the garbage collector on and off, so that the
per-event budget can be read off directly.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

from circuits import Component, Event, Manager, handler

N = 50_000


class ping(Event):
    """The benchmark event."""


class Noop(Component):
    channel = "bench"

    @handler("ping")
    def _ping(self) -> None:
        pass


def tree(handlers: int) -> Manager:
    m = Manager()
    for _ in range(handlers):
        Noop().register(m)
    while len(m):
        m.flush()
    return m


def best(stage: Callable[[], float], runs: int = 7) -> float:
    return min(stage() for _ in range(runs)) / N * 1e9


def construct() -> float:
    t0 = time.perf_counter()
    for _ in range(N):
        ping()
    return time.perf_counter() - t0


def fire(m: Manager) -> Callable[[], float]:
    def stage() -> float:
        events = [ping() for _ in range(N)]
        m._loop_ident = threading.get_ident()  # fire as the loop thread does
        t0 = time.perf_counter()
        for e in events:
            m.fire(e, "bench")
        secs = time.perf_counter() - t0
        m._loop_ident = None
        m._queue.clear()
        return secs

    return stage


def dispatch(m: Manager) -> Callable[[], float]:
    def stage() -> float:
        for _ in range(N):
            m.fire(ping(), "bench")
        t0 = time.perf_counter()
        m.flush()
        return time.perf_counter() - t0

    return stage


def main() -> None:
    one, ten = tree(1), tree(10)
    for label, gc_on in (("gc on", True), ("gc off", False)):
        (gc.enable if gc_on else gc.disable)()
        print(f"[{label}] ns per event")
        print(f"  Event() construction     {best(construct):7.0f}")
        print(f"  fire() (loop thread)     {best(fire(one)):7.0f}")
        print(f"  dispatch, 1 handler      {best(dispatch(one)):7.0f}")
        print(f"  dispatch, 10 handlers    {best(dispatch(ten)):7.0f}")
    gc.enable()


if __name__ == "__main__":
    main()
