"""fire() from other threads into a running loop: nothing lost, nothing doubled, no lag."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter

import pytest

from circuits import Component, Event, handler


class hit(Event):
    pass


class ping(Event):
    pass


THREADS = 8
PER_THREAD = 2000


@pytest.mark.slow
def test_many_threads_firing_at_once_every_event_handled_exactly_once(running):
    total = THREADS * PER_THREAD
    done = threading.Event()

    class Sink(Component):
        def init(self):
            self.seen: Counter[tuple[int, int]] = Counter()
            self.count = 0

        def hit(self, t, i):
            self.seen[(t, i)] += 1
            self.count += 1
            if self.count == total:
                done.set()

    app = running(Sink())
    barrier = threading.Barrier(THREADS)

    def producer(t):
        barrier.wait(5)
        for i in range(PER_THREAD):
            app.fire(hit(t, i))

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not any(th.is_alive() for th in threads)
    assert done.wait(30), f"only {app.count} of {total} events handled"
    # a sync round trip: anything handled twice would have been handled by now
    synced = threading.Event()
    app.addHandler(handler("ping")(lambda self: synced.set()))
    app.fire(ping())
    assert synced.wait(5), "no 'ping'"
    assert app.count == total
    assert len(app.seen) == total
    assert set(app.seen.values()) == {1}


def test_events_from_one_thread_keep_their_order(running):
    done = threading.Event()

    class Sink(Component):
        def init(self):
            self.order: list[int] = []

        def hit(self, t, i):
            self.order.append(i)
            if i == 499:
                done.set()

    app = running(Sink())
    producer = threading.Thread(target=lambda: [app.fire(hit(0, i)) for i in range(500)])
    producer.start()
    producer.join(10)
    assert done.wait(5), "not all events handled"
    assert app.order == list(range(500))


@pytest.mark.slow
def test_an_idle_loop_wakes_within_a_few_ms_of_a_cross_thread_fire(running):
    idle = threading.Event()
    handled = threading.Event()

    class App(Component):
        def init(self):
            self.handled_at = 0.0

        @handler("generate_events", priority=-50)
        def _watch(self, event):
            if event.time_left < 0:  # about to block with nothing scheduled
                idle.set()

        def ping(self):
            self.handled_at = time.perf_counter()
            handled.set()

    app = running(App())
    latencies = []
    for _ in range(20):
        assert idle.wait(5), "the loop never went idle"
        idle.clear()
        handled.clear()
        t0 = time.perf_counter()
        app.fire(ping())
        assert handled.wait(5), "no 'ping'"
        latencies.append(app.handled_at - t0)
    assert max(latencies) < 0.1
    assert statistics.median(latencies) < 0.01


def test_fire_from_a_thread_while_the_loop_is_not_running_is_queued():
    handled = []

    class App(Component):
        def hit(self, t, i):
            handled.append((t, i))

    app = App()
    th = threading.Thread(target=lambda: app.fire(hit(1, 2)))
    th.start()
    th.join(5)
    assert len(app) == 1
    while len(app):
        app.flush()
    assert handled == [(1, 2)]


def test_stop_from_another_thread(running):
    stopped = threading.Event()

    class App(Component):
        def stopped(self, manager):
            stopped.set()

    app = running(App())
    th = threading.Thread(target=app.stop)
    th.start()
    th.join(5)
    assert stopped.wait(5), "no 'stopped'"
    thread = app._Manager__thread
    if thread is not None:
        thread.join(5)
    assert not app.running


def test_wait_event_iterated_by_hand_from_another_thread(running):
    done = threading.Event()

    class App(Component):
        def ping(self):
            return "pong"

        def ping_done(self, value):
            done.set()  # the done step has run: the Value is final

    app = running(App())
    gen = app.waitEvent("ping")
    state = next(gen)  # installs the temporary handler from this thread
    assert state is not None
    app.fire(ping())
    assert done.wait(5), "no 'ping_done'"
    cv = next(gen)
    assert cv.value.value == "pong"
    with pytest.raises(StopIteration):
        next(gen)
