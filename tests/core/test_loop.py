"""The main loop: tick, run/start/stop/join, exit paths, idling, error reports."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from circuits import Component, Event, Manager, handler
from circuits.core.events import generate_events
from circuits.core.helpers import FallBackGenerator
from circuits.core.manager import TIMEOUT


class ping(Event):
    pass


class step(Event):
    pass


class boom(Event):
    pass


class Recorder(Component):
    """Logs started/stopped; ``then`` runs in the started handler (no subclassing:
    a subclass would inherit the base's handlers as aliases, spec §6.3)."""

    def init(self, then=None):
        self.log: list[str] = []
        self.stopped_seen = threading.Event()
        self.then = then

    def started(self, manager):
        self.log.append("started")
        if self.then is not None:
            self.then(self)

    def stopped(self, manager):
        self.log.append("stopped")
        self.stopped_seen.set()


def test_timeout_constant():
    assert TIMEOUT == 0.1


def test_tick_without_running_does_not_fire_generate_events():
    seen = []

    class Gen(Component):
        def generate_events(self, event):
            seen.append(event)

    app = Gen()
    app.fire(ping())
    app.tick()
    app.tick()
    assert seen == []


# -- start / stop / join -------------------------------------------------------


def test_start_stop_join():
    app = Recorder()
    ready = threading.Event()
    app.addHandler(handler("started", channel="*")(lambda self, manager: ready.set()))
    thread, other = app.start()
    try:
        assert other is None
        assert isinstance(thread, threading.Thread)
        assert thread.daemon
        assert thread.name == "Recorder"
        assert app._Manager__thread is thread
        assert ready.wait(5), "no 'started'"
        assert app.running
    finally:
        app.stop()
        thread.join(5)
    assert not thread.is_alive()
    assert not app.running
    assert app.stopped_seen.is_set()
    assert app.log == ["started", "stopped"]
    assert app._Manager__thread is None
    assert app._executing_thread is None
    app.join()  # nothing left to join


def test_run_in_the_calling_thread_until_stop():
    app = Recorder(then=lambda self: self.stop())
    assert app.run() is None
    assert app.log == ["started", "stopped"]
    assert not app.running
    assert app._Manager__thread is None
    assert app._executing_thread is None


def test_a_subclass_whose_tick_clears_running_returns_after_draining():
    handled = []

    class Chain(Component):
        def started(self, manager):
            self.fire(step(1))

        def step(self, n):
            handled.append(n)
            if n < 5:
                self.fire(step(n + 1))

    class Draining(Manager):
        def tick(self, timeout=-1):
            self._running = False
            super().tick(timeout)

    m = Draining()
    Chain().register(m)
    m.run()
    assert handled == [1, 2, 3, 4, 5]
    assert not m.running
    assert len(m) == 0


def test_stop_is_a_no_op_when_not_running():
    app = Recorder()
    app.stop()
    app.stop(3)  # no SystemExit either
    assert len(app) == 0
    assert app.log == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, SystemExit(3)])
def test_exit_exceptions_are_swallowed_outside_a_running_loop(exc):
    log = []

    class App(Component):
        @handler("ping", priority=1)
        def first(self):
            log.append("first")
            raise exc

        @handler("ping")
        def second(self):
            log.append("second")

    app = App()
    app.fire(ping())
    while len(app):
        app.flush()
    assert log == ["first", "second"]
    assert not app.running


def test_system_exit_without_code_ends_run_normally():
    def leave(self):
        raise SystemExit

    app = Recorder(then=leave)
    assert app.run() is None
    assert app.log == ["started", "stopped"]
    assert app._Manager__thread is None


def test_keyboard_interrupt_in_a_handler_ends_run_normally():
    def interrupt(self):
        raise KeyboardInterrupt

    app = Recorder(then=interrupt)
    app.run()
    assert app.log == ["started", "stopped"]


def test_system_exit_with_a_code_propagates_out_of_run():
    def leave(self):
        raise SystemExit(3)

    app = Recorder(then=leave)
    with pytest.raises(SystemExit) as info:
        app.run()
    assert info.value.code == 3
    assert not app.running


# SystemExit leaves run() in the loop thread; the default threading.excepthook
# ignores it, pytest's records it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_system_exit_in_a_started_thread_ends_only_that_thread():
    class App(Component):
        def ping(self):
            raise SystemExit(2)

    app = App()
    ready = threading.Event()
    app.addHandler(handler("started", channel="*")(lambda self, manager: ready.set()))
    thread, _ = app.start()
    try:
        assert ready.wait(5), "no 'started'"
        app.fire(ping())
        thread.join(5)
        assert not thread.is_alive()
        assert not app.running
    finally:
        app.stop()
        thread.join(5)


# -- errors ------------------------------------------------------------------------


class Boom(Component):
    def boom(self):
        raise ValueError("kaboom")


def test_errors_go_to_the_current_stderr(capsys, monkeypatch):
    # With no logging handler that would show the report, it goes to the
    # sys.stderr of the moment (the one capsys installed).
    monkeypatch.setattr(logging.getLogger("circuits.core"), "propagate", False)
    app = Boom()
    app.fire(boom())
    while len(app):
        app.flush()
    err = capsys.readouterr().err
    assert "ValueError" in err
    assert "kaboom" in err
    assert err.startswith("ERROR ")


def test_errors_go_to_the_circuits_core_logger(caplog):
    app = Boom()
    with caplog.at_level(logging.ERROR, logger="circuits.core"):
        app.fire(boom())
        while len(app):
            app.flush()
    records = [r for r in caplog.records if r.name == "circuits.core"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert "kaboom" in records[0].getMessage()


def test_an_exception_escaping_the_loop_is_reported_and_ends_run(caplog):
    class Broken(Manager):
        def tick(self, timeout=-1):
            raise RuntimeError("loop broke")

    m = Broken()
    with caplog.at_level(logging.ERROR, logger="circuits.core"):
        assert m.run() is None
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "circuits.core")
    assert "Unhandled ERROR: loop broke" in text
    assert m._Manager__thread is None


# -- generate_events and idling ------------------------------------------------------


class Resumable:
    def __init__(self):
        self.resumed = 0

    def resume(self):
        self.resumed += 1

    def handler(self, event):
        pass


def test_reduce_time_left_only_shrinks():
    e = generate_events(threading.RLock(), -1)
    assert e.time_left == -1
    e.reduce_time_left(-1)
    assert e.time_left == -1
    e.reduce_time_left(5)
    assert e.time_left == 5
    e.reduce_time_left(10)
    assert e.time_left == 5
    e.reduce_time_left(-1)
    assert e.time_left == 5
    e.reduce_time_left(2.5)
    assert e.time_left == 2.5


def test_reduce_time_left_to_zero_resumes_the_current_handler_owner():
    owner = Resumable()
    e = generate_events(threading.RLock(), 3)
    e.handler = owner.handler
    e.reduce_time_left(1)
    assert owner.resumed == 0
    e.reduce_time_left(0)
    assert e.time_left == 0
    assert owner.resumed == 1
    e.reduce_time_left(0)  # already 0: nothing to wake
    assert owner.resumed == 1


def test_fallback_generator_does_not_wait_when_no_time_is_left():
    fb = FallBackGenerator()
    e = generate_events(threading.RLock(), 0)
    t0 = time.perf_counter()
    fb._on_generate_events(e)
    assert e.stopped
    assert time.perf_counter() - t0 < 0.05


def test_fallback_generator_is_woken_by_resume():
    fb = FallBackGenerator()
    e = generate_events(threading.RLock(), -1)
    e.handler = fb._on_generate_events
    waker = threading.Timer(0, e.reduce_time_left, args=(0,))
    waker.start()
    try:
        fb._on_generate_events(e)  # would block for IDLE_SLICE_S without the wake
    finally:
        waker.join(5)
    assert e.stopped
    assert e.time_left == 0


def test_fallback_generator_is_woken_by_a_signal_handler_in_its_own_thread():
    # SIGINT/SIGTERM handlers run in the loop (main) thread, possibly while it
    # is inside the idle wait; resume() from there must wake it, never block.
    fb = FallBackGenerator()
    e = generate_events(threading.RLock(), -1)
    e.handler = fb._on_generate_events
    previous = signal.signal(signal.SIGUSR1, lambda signo, frame: e.reduce_time_left(0))
    try:
        sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGUSR1))
        sender.start()
        fb._on_generate_events(e)  # returns once the handler has run, whenever
        sender.join(5)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert e.stopped
    assert e.time_left == 0


def test_the_idle_flag_is_an_event():
    fb = FallBackGenerator()
    flag = fb._continue
    assert not flag.is_set()
    assert flag.wait(0) is False
    fb.resume()
    fb.resume()  # idempotent
    assert flag.is_set()
    assert flag.wait(5) is True
    assert flag.is_set()  # waiting does not consume it
    flag.clear()
    flag.clear()
    assert not flag.is_set()
    assert flag.wait(0.001) is False


def test_a_producer_calling_reduce_time_left_zero_is_called_again_at_once(running):
    done = threading.Event()

    class Producer(Component):
        def init(self):
            self.produced = 0
            self.handled = 0

        def generate_events(self, event):
            if self.produced < 100:
                self.produced += 1
                self.fire(step(self.produced))
                event.reduce_time_left(0)

        def step(self, n):
            self.handled += 1
            if self.handled == 100:
                done.set()

    app = running(Producer())
    assert done.wait(5), "the producer was not called back"
    assert app.handled == 100


def test_idle_time_left_is_unlimited_without_timers_or_tasks(running):
    idle = threading.Event()
    seen: list[float] = []

    class Watch(Component):
        @handler("generate_events", priority=-50)
        def _watch(self, event):
            seen.append(event.time_left)
            if event.time_left < 0:
                idle.set()

    running(Watch())
    assert idle.wait(5), "the loop never went idle"
    assert seen[-1] < 0


@pytest.mark.slow
def test_an_idle_loop_uses_no_cpu_and_wakes_on_a_cross_thread_fire(running):
    idle = threading.Event()
    handled = threading.Event()

    class App(Component):
        def init(self):
            self.rounds = 0
            self.handled_at = 0.0

        @handler("generate_events", priority=-50)
        def _count(self, event):
            self.rounds += 1
            if event.time_left < 0:
                idle.set()

        def ping(self):
            self.handled_at = time.perf_counter()
            handled.set()

    app = running(App())
    assert idle.wait(5), "the loop never went idle"
    rounds = app.rounds
    cpu = time.process_time()
    assert not handled.wait(0.25)  # a window of idleness to measure
    assert time.process_time() - cpu < 0.05
    assert app.rounds - rounds <= 1
    t0 = time.perf_counter()
    app.fire(ping())
    assert handled.wait(5), "no 'ping'"
    assert app.handled_at - t0 < 0.05


def test_stop_with_a_code_from_a_handler_leaves_run_with_that_code():
    # stop(3) raises SystemExit(3) inside the handler; the dispatcher must pass
    # it on (the loop has already stopped), not swallow it
    class App(Component):
        def started(self, manager):
            self.stop(3)

    with pytest.raises(SystemExit) as exc:
        App().run()
    assert exc.value.code == 3


def test_run_async_delivers_stopped_when_leaving_through_system_exit():
    import circuits

    seen = []

    class App(Component):
        def started(self, manager):
            raise SystemExit(0)

        def stopped(self, manager):
            seen.append("stopped")

    with pytest.raises(SystemExit):
        circuits.run_async(App())
    assert seen == ["stopped"]


def test_stop_on_a_component_stops_its_running_application():
    class Child(Component):
        channel = "child"

        def hello(self):
            self.stop()

    class App(Component):
        def init(self):
            self.child = Child().register(self)

        def started(self, manager):
            self.fire(Event.create("hello"), "child")

    app = App()
    thread = threading.Thread(target=app.run, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "stop() on a child did not stop the application"
    assert not app.running
