"""Coroutine handlers: tick timing, call/wait, sleep, timeouts, failing coroutines.

Most tests drive the loop by hand with ``tick()`` and step time with a
``FakeClock``; the few that need a running loop start it in a thread (fixture
``running``) and synchronise on ``threading.Event``s.
"""

from __future__ import annotations

import builtins
import threading
import time

import pytest

import circuits
from circuits import Component, Event, Manager, TimeoutError, handler, sleep
from circuits.core.manager import CallValue, Sleep
from circuits.core.values import Value


class foo(Event):
    success = True


class bar(Event):
    pass


class baz(Event):
    pass


class never(Event):
    pass


class bad(Event):
    success = True
    failure = True
    complete = True


def ticks(m: Manager, n: int) -> None:
    for _ in range(n):
        m.tick()


# -- tick timing (spec §4.9) -------------------------------------------------


class XY(Component):
    def init(self):
        self.log: list[str] = []

    def foo(self):
        yield "x"
        yield "y"

    def foo_success(self, evt, value):
        self.log.append("success")


def test_tick_timing_of_a_generator_handler():
    app = XY()
    v = app.fire(foo())
    app.tick()  # dispatch: the task is registered, not advanced
    assert not v.result
    assert v.value is None
    app.tick()
    assert v.value == "x"
    app.tick()
    assert v.value == ["x", "y"]
    assert app.log == []
    app.tick()  # StopIteration -> done step -> success dispatched in this tick
    assert app.log == ["success"]


# -- call / wait resume in the same tick -------------------------------------


class Caller(Component):
    def init(self):
        self.got: list[object] = []

    def foo(self):
        x = yield self.call(bar())
        self.got.append(x)

    def bar(self):
        return "bar result"


def test_call_resumes_in_the_same_tick_as_the_awaited_event_is_done():
    app = Caller()
    app.fire(foo())
    app.tick()  # dispatches foo; its coroutine is registered
    assert app.got == []
    app.tick()  # foo yields call(bar); bar is dispatched and foo resumes at once
    assert len(app.got) == 1
    x = app.got[0]
    assert isinstance(x, Value)
    assert x.value == "bar result"
    assert not x.errors
    assert "bar_done" not in app._handlers


class Chain(Component):
    def foo(self):
        a = yield self.call(bar(1))
        b = yield self.call(baz(2))
        yield a.value + b.value

    def bar(self, n):
        return n * 10

    def baz(self, n):
        return n * 100


def test_chained_calls():
    app = Chain()
    e = foo()
    v = app.fire(e)
    ticks(app, 3)  # dispatch, both calls resolve in tick 2, the sum in tick 3
    assert v.value == 210
    ticks(app, 2)
    assert v.value == 210
    assert e.waitingHandlers == 0


class CallThenSleep(Component):
    def init(self):
        self.log: list[str] = []

    def foo(self):
        yield self.call(bar())
        self.log.append("called")
        yield sleep(10)
        self.log.append("slept")

    def bar(self):
        return 1


def test_sleep_right_after_a_call_really_sleeps(clock):
    app = CallThenSleep()
    v = app.fire(foo())
    ticks(app, 5)
    assert app.log == ["called"]
    assert v.value is None  # the Sleep was not stored as a result
    clock.advance(9.9)
    ticks(app, 3)
    assert app.log == ["called"]
    clock.advance(0.1)
    app.tick()
    assert app.log == ["called", "slept"]


class WaitDone(Component):
    def init(self):
        self.got: list[object] = []

    def foo(self, evt):
        x = yield self.wait(evt)
        self.got.append(x)

    def bar(self):
        return "early"


def test_wait_on_an_already_completed_event_returns_at_once():
    app = WaitDone()
    early = bar()
    app.fire(early)
    while len(app):
        app.flush()
    assert early.value.value == "early"
    app.fire(foo(early))
    app.tick()  # dispatch foo
    app.tick()  # foo yields wait(early): already done, resumes in this step
    assert len(app.got) == 1
    assert app.got[0] is early.value
    assert "bar_done" not in app._handlers


class WaitByName(Component):
    def init(self):
        self.got: list[object] = []

    def foo(self):
        self.fire(bar())
        x = yield self.wait("bar")
        self.got.append(x.value)

    def bar(self):
        return "named"


def test_wait_by_name_cannot_miss_an_event_fired_just_before():
    app = WaitByName()
    app.fire(foo())
    ticks(app, 2)
    assert app.got == ["named"]
    assert "bar_done" not in app._handlers
    assert len(app._handlers["bar"]) == 1  # the temporary handler is gone


# -- failing coroutines finish ------------------------------------------------


class Failing(Component):
    def init(self):
        self.log: list[object] = []
        self.called: list[Value] = []

    def bad(self):
        yield None
        raise ValueError("coroutine failed")

    def bad_failure(self, evt, excinfo):
        self.log.append(("failure", excinfo[0]))

    def bad_success(self, evt, value):
        self.log.append("success")

    def bad_complete(self, evt, value):
        self.log.append("complete")

    def exception(self, etype, evalue, tb, handler=None, fevent=None):
        self.log.append(("exception", etype, handler, fevent))

    def foo(self):
        v = yield self.call(bad())
        self.called.append(v)


def test_a_raising_generator_handler_finishes_with_errors():
    app = Failing()
    e = bad()
    v = app.fire(e)
    ticks(app, 6)
    assert e.waitingHandlers == 0
    assert v.errors
    assert v.value[0] is ValueError
    assert isinstance(v.value[1], ValueError)
    assert ("failure", ValueError) in app.log
    assert "complete" in app.log
    assert "success" not in app.log
    assert ("exception", ValueError, None, e) in app.log


def test_call_on_a_raising_coroutine_returns_the_value_with_errors():
    app = Failing()
    app.fire(foo())
    ticks(app, 8)
    assert len(app.called) == 1
    result = app.called[0]
    assert result.errors is True
    assert result.value[0] is ValueError
    assert str(result.value[1]) == "coroutine failed"


class PlainRaises(Component):
    def init(self):
        self.called: list[Value] = []

    def bar(self):
        raise KeyError("plain")

    def foo(self):
        v = yield self.call(bar())
        self.called.append(v)

    def exception(self, *args, **kwargs):
        pass


def test_call_on_a_plain_handler_that_raises_returns_errors():
    app = PlainRaises()
    app.fire(foo())
    ticks(app, 3)
    assert len(app.called) == 1
    assert app.called[0].errors
    assert app.called[0].value[0] is KeyError


# -- timeouts in seconds --------------------------------------------------------


def test_timeout_error_is_the_circuits_one():
    assert circuits.TimeoutError is TimeoutError
    assert TimeoutError is not builtins.TimeoutError
    assert issubclass(TimeoutError, Exception)


class Waiter(Component):
    def init(self, timeout=5.0):
        self.timeout = timeout
        self.log: list[str] = []

    def foo(self):
        try:
            yield self.wait("never", timeout=self.timeout)
        except TimeoutError:
            self.log.append("timeout")
        yield None  # after catching, yielding None must not hang the coroutine
        yield "after"

    def foo_success(self, evt, value):
        self.log.append("success")


def test_wait_timeout_is_in_seconds_of_the_clock(clock):
    app = Waiter(5.0)
    v = app.fire(foo())
    ticks(app, 20)  # loop iterations do not count
    assert app.log == []
    clock.advance(4.99)
    ticks(app, 3)
    assert app.log == []
    clock.advance(0.01)
    app.tick()
    assert app.log == ["timeout"]
    ticks(app, 3)
    assert v.value == "after"
    assert app.log == ["timeout", "success"]
    assert "never" not in app._handlers  # the temporary handler is gone


class SlowCallee(Component):
    def init(self):
        self.log: list[object] = []

    def bar(self):
        yield sleep(100)
        yield "late"

    def foo(self):
        try:
            yield self.call(bar(), timeout=1)
        except TimeoutError as exc:
            self.log.append(type(exc))
        yield "gave up"


def test_call_timeout_raises_at_the_yield(clock):
    app = SlowCallee()
    v = app.fire(foo())
    ticks(app, 5)
    assert app.log == []
    clock.advance(1)
    app.tick()
    assert app.log == [TimeoutError]
    ticks(app, 2)
    assert v.value == "gave up"


class Finishes(Component):
    def init(self):
        self.log: list[str] = []

    def bar(self):
        return "quick"

    def foo(self):
        x = yield self.call(bar(), timeout=10)
        self.log.append(x.value)
        yield sleep(20)
        self.log.append("no timeout")


def test_a_completed_call_never_times_out_later(clock):
    app = Finishes()
    app.fire(foo())
    ticks(app, 2)
    assert app.log == ["quick"]
    clock.advance(20)
    ticks(app, 2)
    assert app.log == ["quick", "no timeout"]


@pytest.mark.slow
def test_wait_timeout_in_a_running_loop_uses_wall_time(running):
    done = threading.Event()

    class App(Component):
        def init(self):
            self.elapsed = -1.0

        def foo(self):
            t0 = time.perf_counter()
            try:
                yield self.wait("never", timeout=0.05)
            except TimeoutError:
                self.elapsed = time.perf_counter() - t0
                done.set()

    app = running(App())
    app.fire(foo())
    assert done.wait(5), "no TimeoutError"
    assert 0.045 <= app.elapsed < 0.09


@pytest.mark.slow
def test_sleep_is_accurate_in_a_running_loop(running):
    done = threading.Event()

    class App(Component):
        def init(self):
            self.elapsed: list[float] = []

        def foo(self, s):
            t0 = time.perf_counter()
            yield sleep(s)
            self.elapsed.append(time.perf_counter() - t0)
            done.set()

    app = running(App())
    app.fire(foo(0.05))
    assert done.wait(5), "sleep never resumed"
    assert 0.049 <= app.elapsed[0] < 0.09


# -- Sleep objects ------------------------------------------------------------------


def test_sleep_object_api(clock):
    start = clock.time()
    s = sleep(2)
    assert isinstance(s, Sleep)
    assert s.expiry == start + 2
    assert not s.expired
    assert repr(s) == "sleep(2.0)"
    assert iter(s) is s
    assert next(s) is s
    assert s.task is None
    s.task = "t"
    assert s.task == "t"
    clock.advance(1.5)
    assert repr(s) == "sleep(0.5)"
    assert not s.expired
    clock.advance(0.5)
    assert s.expired
    with pytest.raises(StopIteration):
        next(s)


def test_sleep_accepts_numbers_and_strings_of_numbers(clock):
    assert sleep("1.5").expiry == clock.time() + 1.5
    assert sleep(0).expired


def test_sleep_rejects_non_floats():
    with pytest.raises(TypeError, match="a float is required"):
        sleep("soon")


# -- waitEvent iterated by hand ----------------------------------------------------


class Foo(Component):
    def foo(self):
        return "foo value"


def test_wait_event_iterated_by_hand():
    m = Manager()
    Foo().register(m)
    gen = m.waitEvent("foo")
    state = next(gen)
    assert state is not None
    assert not isinstance(state, CallValue)
    m.fire(foo())
    while len(m):
        m.flush()
    cv = next(gen)
    assert isinstance(cv, CallValue)
    assert isinstance(cv.value, Value)
    assert cv.value.value == "foo value"
    with pytest.raises(StopIteration):
        next(gen)
    assert "foo" not in m._handlers
    assert "foo_done" not in m._handlers


def test_wait_event_by_hand_stops_when_the_event_was_not_seen():
    m = Manager()
    gen = m.waitEvent("foo")
    next(gen)
    with pytest.raises(StopIteration):
        next(gen)
    assert m._handlers == {}


def test_wait_event_by_hand_in_a_for_loop():
    m = Manager()
    Foo().register(m)
    seen = []
    for state in m.waitEvent("foo"):
        seen.append(state)
        if len(seen) == 1:
            m.fire(foo())
            while len(m):
                m.flush()
    assert len(seen) == 2
    assert seen[1].value.value == "foo value"


# -- a zero timeout waits for nothing (3.2.5 test-suite case, §4.9) --------------------


class hello(Event):
    pass


class ZeroTimeout(Component):
    def init(self, timeout):
        self.timeout = timeout
        self.outcome = None

    def hello(self):
        return "hello"

    @handler("go")
    def _go(self):
        self.fire(hello())
        try:
            value = yield self.wait("hello", timeout=self.timeout)
            self.outcome = value.value
        except TimeoutError as e:
            self.outcome = e


@pytest.mark.parametrize(("timeout", "expected"), [(0, TimeoutError), (10, "hello")])
def test_a_zero_timeout_times_out_unless_already_done(timeout, expected):
    app = ZeroTimeout(timeout)
    app.fire(Event.create("go"))
    for _ in range(6):
        app.tick()
    if expected is TimeoutError:
        assert isinstance(app.outcome, TimeoutError)
    else:
        assert app.outcome == expected
