"""``async def`` handlers and asyncio interop (issue #5).

Most tests run under both loops through the ``loop`` fixture: the plain loop
(``app.start()``, a thread) and the asyncio loop (``circuits.run_async(app)``
in a thread). Tests of what only one loop does follow, and the asyncio ones
that share the test's own loop run ``await app.run_async()`` inside
``asyncio.run``. Every wait is bounded: ``threading.Event.wait(5)`` or
``asyncio.wait_for(..., 5)``; durations are bounded on both sides only where
the contract promises a time (sleep accuracy, a prompt stop or wake-up).
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

import circuits
from circuits import Component, Event, Manager, TimeoutError, Timer, handler, sleep
from circuits.core import _clock, pollers
from circuits.core._asyncio import AsyncioPoller
from circuits.core.values import Value
from circuits.net.sockets import Pipe, write as write_event

WAIT = 5.0  # the bound of every wait: a failure, never a pass, takes this long

MODES = ["start", "run_async"]


class Loop:
    """Runs apps in a loop thread: ``app.start()`` or ``circuits.run_async(app)``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.running: list[tuple[Manager, threading.Thread]] = []

    @property
    def is_asyncio(self) -> bool:
        return self.mode == "run_async"

    def start(self, app: Manager) -> Manager:
        ready = threading.Event()

        @handler("started", channel="*")
        def _loop_started(self: Any, manager: Any) -> None:
            ready.set()

        app.addHandler(_loop_started)
        if self.mode == "start":
            thread, _ = app.start()
        else:
            thread = threading.Thread(
                target=circuits.run_async, args=(app,), name="run_async", daemon=True
            )
            thread.start()
        self.running.append((app, thread))
        assert ready.wait(WAIT), "no 'started'"
        return app

    def stop(self, app: Manager, within: float = WAIT) -> None:
        """Stop ``app`` and assert that its loop thread ends ``within`` seconds."""
        for a, thread in self.running:
            if a is app:
                app.stop()
                thread.join(within)
                assert not thread.is_alive(), f"the {self.mode} loop did not stop in {within} s"

    def stop_all(self) -> None:
        for app, thread in self.running:
            app.stop()
            thread.join(WAIT)
        alive = [thread for _, thread in self.running if thread.is_alive()]
        assert not alive, "loop thread did not stop"


@pytest.fixture(params=MODES)
def loop(request: pytest.FixtureRequest) -> Iterator[Loop]:
    """Start apps under the plain loop or the asyncio loop; stop them in teardown."""
    runner = Loop(request.param)
    yield runner
    runner.stop_all()


def outcome(value: Value, timeout: float = WAIT) -> Any:
    """Await ``value`` from asyncio code in this (non-loop) thread."""

    async def main() -> Any:
        return await asyncio.wait_for(_awaited(value), timeout)

    return asyncio.run(main())


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Wait for a condition set by the app running on this very asyncio loop."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the condition was not met in time"
        await asyncio.sleep(0.001)


# -- events -------------------------------------------------------------------


class ping(Event):
    success = True
    complete = True


class boom(Event):
    success = True
    failure = True
    complete = True


class quiet_boom(Event):
    pass


class inner(Event):
    pass


class inner_async(Event):
    pass


class hang(Event):
    complete = True


class quick(Event):
    pass


class meet(Event):
    success = True


class go(Event):
    pass


class later(Event):
    pass


class timed(Event):
    pass


class nap(Event):
    pass


class mixed(Event):
    success = True


class hit(Event):
    pass


class asks(Event):
    pass


class drop(Event):
    pass


class fetch(Event):
    pass


class with_asyncio(Event):
    pass


class zero(Event):
    pass


# -- return value, success, complete --------------------------------------------


class Pinger(Component):
    def init(self) -> None:
        self.log: list[Any] = []
        self.done = threading.Event()

    async def ping(self, x: int) -> int:
        await sleep(0)
        self.log.append("returned")
        return x * 2

    def ping_success(self, e: Event, value: Any) -> None:
        self.log.append(("success", value))

    def ping_complete(self, e: Event, value: Any) -> None:
        self.log.append(("complete", value))
        self.done.set()


def test_async_handler_result_becomes_the_value_and_success_follows(loop: Loop) -> None:
    app = loop.start(Pinger())
    v = app.fire(ping(21))
    assert outcome(v) == 42
    assert app.done.wait(WAIT), "no 'ping_complete'"
    assert v.value == 42
    assert not v.errors
    assert app.log == ["returned", ("success", 42), ("complete", 42)]


class Decorated(Component):
    @handler("ping")
    async def _any_name(self, x: int) -> str:
        await sleep(0)
        return f"pong {x}"


def test_handler_decorator_on_an_async_def(loop: Loop) -> None:
    app = loop.start(Decorated())
    assert outcome(app.fire(ping(1))) == "pong 1"


def test_async_handler_added_with_add_handler(loop: Loop) -> None:
    @handler("ping")
    async def _added(self: Any, x: int) -> int:
        await sleep(0)
        return -x

    app = loop.start(Manager())
    app.addHandler(_added)
    assert outcome(app.fire(ping(3), "*")) == -3


# -- mixed generator, plain and async handlers --------------------------------


class Mixed(Component):
    def init(self) -> None:
        self.log: list[str] = []
        self.succeeded = threading.Event()

    @handler("mixed")
    def _plain(self) -> str:
        return "plain"

    @handler("mixed")
    def _generator(self) -> Iterator[Any]:
        yield None  # give way for a tick
        self.log.append("generator")
        yield "generator"

    @handler("mixed")
    async def _coroutine(self) -> str:
        await sleep(0.01)
        self.log.append("coroutine")
        return "coroutine"

    def mixed_success(self, e: Event, value: Any) -> None:
        self.log.append("success")
        self.succeeded.set()


def test_mixed_generator_plain_and_async_handlers_on_one_event(loop: Loop) -> None:
    app = loop.start(Mixed())
    v = app.fire(mixed())
    result = outcome(v)
    assert sorted(result) == ["coroutine", "generator", "plain"]
    assert app.succeeded.wait(WAIT), "no 'mixed_success'"
    assert sorted(app.log[:2]) == ["coroutine", "generator"]
    assert app.log[2:] == ["success"]  # once, after both finished


# -- concurrency --------------------------------------------------------------


class Meeting(Component):
    def init(self) -> None:
        self.parked = 0
        self.both_parked = threading.Event()
        self.succeeded = threading.Event()

    async def _park(self) -> Any:
        self.parked += 1
        if self.parked == 2:
            self.both_parked.set()
        v = await self.wait("go")
        return v.value

    @handler("meet")
    async def _first(self) -> Any:
        return ("first", await self._park())

    @handler("meet")
    async def _second(self) -> Any:
        return ("second", await self._park())

    def go(self) -> str:
        return "went"

    def meet_success(self, e: Event, value: Any) -> None:
        self.succeeded.set()


def test_async_handlers_of_one_event_run_concurrently_with_the_loop(loop: Loop) -> None:
    app = loop.start(Meeting())
    v = app.fire(meet())
    # Both handlers are parked at once, and the loop still dispatches 'go'.
    assert app.both_parked.wait(WAIT), "the handlers did not run concurrently"
    assert not app.succeeded.is_set()
    app.fire(go())
    assert sorted(outcome(v)) == [("first", "went"), ("second", "went")]
    assert app.succeeded.wait(WAIT), "no 'meet_success'"


# -- exceptions ---------------------------------------------------------------


class Failing(Component):
    def init(self) -> None:
        self.log: list[Any] = []
        self.reported = threading.Event()
        self.completed = threading.Event()

    async def boom(self) -> None:
        await sleep(0)
        raise ValueError("bad")

    async def quiet_boom(self) -> None:
        await sleep(0)
        raise ValueError("quiet")

    def quiet_boom_failure(self, e: Event, error: Any) -> None:
        self.log.append("quiet failure")

    def boom_failure(self, e: Event, error: Any) -> None:
        self.log.append(("failure", error[0], str(error[1])))

    def boom_success(self, e: Event, value: Any) -> None:
        self.log.append("success")

    def boom_complete(self, e: Event, value: Any) -> None:
        self.completed.set()

    @handler("exception", channel="*")
    def _on_exception(self, etype: Any, evalue: Any, tb: Any, **kwargs: Any) -> None:
        self.log.append(("exception", etype, kwargs["fevent"].name))
        self.reported.set()


def test_exception_in_an_async_handler(loop: Loop) -> None:
    app = loop.start(Failing())
    v = app.fire(boom())
    with pytest.raises(ValueError, match="bad"):
        outcome(v)
    assert app.reported.wait(WAIT), "no 'exception'"
    assert app.completed.wait(WAIT), "no 'boom_complete'"
    assert v.errors
    etype, evalue, _ = v.value
    assert etype is ValueError
    assert str(evalue) == "bad"
    assert ("failure", ValueError, "bad") in app.log
    assert ("exception", ValueError, "boom") in app.log
    assert "success" not in app.log
    # Without the failure flag: the exception event only.
    app.reported.clear()
    with pytest.raises(ValueError, match="quiet"):
        outcome(app.fire(quiet_boom()))
    assert app.reported.wait(WAIT), "no 'exception'"
    assert app.log[-1] == ("exception", ValueError, "quiet_boom")
    assert "quiet failure" not in app.log


# -- call / wait / Value inside async handlers ---------------------------------


class Asker(Component):
    def init(self) -> None:
        self.results: dict[str, Any] = {}
        self.done = threading.Event()

    def inner(self, n: int) -> Any:
        if n < 0:
            raise KeyError(n)
        return n + 1

    async def inner_async(self, n: int) -> int:
        await sleep(0)
        return n * 3

    @handler("exception", channel="*")
    def _expected_errors(self, *args: Any, **kwargs: Any) -> None:
        pass  # the KeyErrors are on purpose: not reported on stderr

    @handler("asks")
    async def _by_await(self) -> None:
        e = inner(1)
        v = await self.call(e)
        self.results["await"] = (v, v is e.value, type(v).__name__)
        failed = await self.call(inner(-1))
        self.results["await failed"] = (failed.errors, failed.value[0])
        fired = self.fire(inner(10))
        self.results["await fired"] = await fired
        self.results["await fired again"] = await fired  # already done: at once
        self.results["await async"] = (await self.call(inner_async(2))).value
        try:
            await self.fire(inner(-2))
        except KeyError as exc:
            self.results["await fired failed"] = exc.args
        self.done.set()

    @handler("asks")
    def _by_yield(self) -> Iterator[Any]:
        e = inner(1)
        v = yield self.call(e)
        self.results["yield"] = (v, v is e.value, type(v).__name__)


def test_await_call_gives_what_yield_call_gives(loop: Loop) -> None:
    app = loop.start(Asker())
    outcome(app.fire(asks()))
    assert app.done.is_set()
    r = app.results
    by_await, by_yield = r["await"], r["yield"]
    assert by_await[1:] == by_yield[1:] == (True, "Value")
    assert by_await[0].value == by_yield[0].value == 2
    assert r["await failed"] == (True, KeyError)  # a Value with errors, not a raise
    assert r["await fired"] == r["await fired again"] == 11  # a fired Value gives its value
    assert r["await async"] == 6  # a call to an async handler
    assert r["await fired failed"] == (-2,)  # ...or raises its handler's error


class Waiter(Component):
    def init(self) -> None:
        self.parked = threading.Event()

    async def timed(self) -> Any:
        self.parked.set()
        v = await self.wait("later")
        return (v.value, v.event.name)

    def later(self) -> int:
        return 42


def test_await_wait_gives_the_awaited_events_value(loop: Loop) -> None:
    app = loop.start(Waiter())
    v = app.fire(timed())
    assert app.parked.wait(WAIT), "the handler did not start"
    app.fire(later())
    assert outcome(v) == (42, "later")


class Waiters(Component):
    """``wait(name, *channels)`` listens on the given channel only."""

    channel = "waiters"

    def init(self) -> None:
        self.parked = threading.Event()

    async def timed(self) -> Any:
        self.parked.set()
        v = await self.wait("later", "elsewhere")
        return v.value


class Elsewhere(Component):
    channel = "elsewhere"

    def later(self) -> str:
        return "there"


def test_await_wait_on_a_channel(loop: Loop) -> None:
    app = Waiters()
    Elsewhere().register(app)
    loop.start(app)
    v = app.fire(timed())
    assert app.parked.wait(WAIT), "the handler did not start"
    app.fire(later(), "waiters")  # not on 'elsewhere': ignored
    app.fire(later(), "elsewhere")
    assert outcome(v) == "there"


# -- timeouts and sleep -------------------------------------------------------


class Timeouts(Component):
    def init(self) -> None:
        self.elapsed: dict[str, float] = {}

    async def hang(self) -> None:
        await self.wait("never")

    def quick(self) -> str:
        return "still working"

    async def timed(self) -> Any:
        t0 = time.monotonic()
        try:
            await self.call(hang(), timeout=0.05)
        except TimeoutError:
            self.elapsed["call"] = time.monotonic() - t0
        t0 = time.monotonic()
        try:
            await self.wait("never", timeout=0.05)
        except TimeoutError:
            self.elapsed["wait"] = time.monotonic() - t0
        v = await self.call(quick(), timeout=5)
        return v.value


def test_call_and_wait_timeouts_raise_timeout_error_and_the_handler_goes_on(loop: Loop) -> None:
    app = loop.start(Timeouts())
    assert outcome(app.fire(timed())) == "still working"
    assert set(app.elapsed) == {"call", "wait"}
    for what, elapsed in app.elapsed.items():
        assert 0.04 <= elapsed < 2, f"{what} timed out after {elapsed} s"
    assert circuits.TimeoutError is TimeoutError


class Napper(Component):
    async def nap(self, seconds: float) -> float:
        t0 = time.monotonic()
        await circuits.sleep(seconds)
        return time.monotonic() - t0


def test_await_sleep_is_accurate(loop: Loop) -> None:
    app = loop.start(Napper())
    elapsed = outcome(app.fire(nap(0.1)))
    assert 0.095 <= elapsed < 0.6
    assert outcome(app.fire(nap(0))) < 0.5


# -- cancellation -------------------------------------------------------------


class Stuck(Component):
    """Its handlers wait forever and record how they end."""

    channel = "stuck"

    def init(self) -> None:
        self.parked = threading.Event()
        self.ended: list[str] = []

    @handler("hang")
    async def _waits(self) -> None:
        try:
            self.parked.set()
            await self.wait("never")
        except BaseException as exc:
            self.ended.append(type(exc).__name__)
            raise

    @handler("nap")
    async def _sleeps(self) -> None:
        try:
            self.parked.set()
            await circuits.sleep(1000)
        except BaseException as exc:
            self.ended.append(type(exc).__name__)
            raise


def cancelled_name(loop: Loop) -> str:
    return "CancelledError" if loop.is_asyncio else "GeneratorExit"


class Owner(Component):
    def init(self) -> None:
        self.stuck = Stuck().register(self)
        self.completed = threading.Event()
        self.unregistered = threading.Event()

    def drop(self) -> None:
        self.stuck.unregister()

    @handler("unregistered", channel="*")
    def _on_unregistered(self, component: Any, manager: Any) -> None:
        if component is self.stuck:
            self.unregistered.set()

    @handler("hang_complete", channel="*")
    def _on_complete(self, e: Event, value: Any) -> None:
        self.completed.set()


def test_unregistering_cancels_the_components_async_handlers(loop: Loop) -> None:
    app = loop.start(Owner())
    v = app.fire(hang(), "stuck")
    assert app.stuck.parked.wait(WAIT), "the handler did not start"
    app.fire(drop())
    assert app.unregistered.wait(WAIT), "no 'unregistered'"
    assert app.completed.wait(WAIT), "the cancelled event did not complete"
    assert app.stuck.ended == [cancelled_name(loop)]
    assert "never" not in app.stuck._handlers  # its wait() is gone too
    assert v.errors
    etype, evalue, _ = v.value
    assert etype is asyncio.CancelledError
    assert isinstance(evalue, asyncio.CancelledError)
    # The loop goes on.
    assert outcome(app.fire(quick())) is None


def test_stop_cancels_pending_async_handlers_and_returns_promptly(loop: Loop) -> None:
    app = loop.start(Stuck())
    waits = app.fire(hang())
    assert app.parked.wait(WAIT), "the handler did not start"
    app.parked.clear()
    sleeps = app.fire(nap())
    assert app.parked.wait(WAIT), "the handler did not start"
    t0 = time.monotonic()
    loop.stop(app, within=1.0)
    assert time.monotonic() - t0 < 1.0
    assert app.ended == [cancelled_name(loop)] * 2
    assert "never" not in app._handlers  # the wait's temporary handler went
    for v in (waits, sleeps):
        assert v.errors
        assert v.value[0] is asyncio.CancelledError


class Quitter(Component):
    def init(self) -> None:
        self.ended: list[str] = []

    async def drop(self) -> None:
        self.stop()
        try:
            await circuits.sleep(1000)
        except BaseException as exc:
            self.ended.append(type(exc).__name__)
            raise


def test_a_handler_that_stops_its_app_is_cancelled(loop: Loop) -> None:
    app = loop.start(Quitter())
    thread = loop.running[-1][1]
    v = app.fire(drop())
    thread.join(WAIT)
    assert not thread.is_alive(), "the loop did not stop"
    assert app.ended == [cancelled_name(loop)]
    assert v.errors


# -- wake-ups and threads -----------------------------------------------------


class Hits(Component):
    def init(self, expected: int = 1) -> None:
        self.expected = expected
        self.seen: list[int] = []
        self.all_seen = threading.Event()

    async def hit(self, n: int) -> None:
        self.seen.append(n)
        if len(self.seen) >= self.expected:
            self.all_seen.set()


def test_fire_from_another_thread_wakes_the_idle_loop(loop: Loop) -> None:
    app = loop.start(Hits())
    # An idle loop with nothing timed waits forever: only the wake-up ends it.
    t0 = time.monotonic()
    app.fire(hit(1))
    assert app.all_seen.wait(WAIT), "the idle loop was not woken"
    assert time.monotonic() - t0 < 0.5
    assert app.seen == [1]


@pytest.mark.slow
def test_four_threads_fire_ten_thousand_events_each_handled_once(loop: Loop) -> None:
    threads_n, per_thread = 4, 2500
    app = loop.start(Hits(threads_n * per_thread))
    go_now = threading.Barrier(threads_n)

    def firer(k: int) -> None:
        go_now.wait(WAIT)
        for i in range(per_thread):
            app.fire(hit(k * per_thread + i))

    threads = [threading.Thread(target=firer, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 4)
    assert app.all_seen.wait(WAIT * 4), f"only {len(app.seen)} events handled"
    assert sorted(app.seen) == list(range(threads_n * per_thread))


# -- Value awaited from asyncio code -------------------------------------------


def test_value_awaited_from_asyncio_while_the_app_runs_in_a_thread_with_start() -> None:
    runner = Loop("start")
    app = runner.start(Pinger())
    try:

        async def main() -> list[int]:
            values = [app.fire(ping(n)) for n in range(5)]
            return list(await asyncio.wait_for(asyncio.gather(*values), WAIT))

        assert asyncio.run(main()) == [0, 2, 4, 6, 8]
    finally:
        runner.stop_all()


def test_a_value_not_returned_by_fire_cannot_be_awaited() -> None:
    with pytest.raises(TypeError, match="not returned by fire"):
        outcome(Value(ping(1)))


# -- the plain loop and asyncio awaitables ------------------------------------


class UsesAsyncio(Component):
    async def with_asyncio(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "slept"

    async def zero(self) -> str:
        result = await asyncio.sleep(0)  # a bare yield: fine under the plain loop
        return f"zero {result}"


class Reports(Component):
    def init(self) -> None:
        self.errors: list[BaseException] = []
        self.reported = threading.Event()

    @handler("exception", channel="*")
    def _on_exception(self, etype: Any, evalue: Any, tb: Any, **kwargs: Any) -> None:
        self.errors.append(evalue)
        self.reported.set()


def test_awaiting_asyncio_under_the_plain_loop_says_to_use_run_async() -> None:
    runner = Loop("start")
    app = UsesAsyncio()
    reports = Reports().register(app)
    runner.start(app)
    try:
        v = app.fire(with_asyncio(0.01))
        with pytest.raises(RuntimeError, match="run_async") as info:
            outcome(v)
        assert v.errors
        assert v.value[0] is RuntimeError
        assert reports.reported.wait(WAIT), "no 'exception'"
        assert reports.errors == [info.value]
        # The app goes on, and asyncio.sleep(0) only gives way.
        assert outcome(app.fire(zero())) == "zero None"
    finally:
        runner.stop_all()


def test_asyncio_awaitables_work_under_run_async() -> None:
    runner = Loop("run_async")
    app = runner.start(UsesAsyncio())
    try:
        assert outcome(app.fire(with_asyncio(0.01))) == "slept"
        assert outcome(app.fire(zero())) == "zero None"
    finally:
        runner.stop_all()


class Native(Component):
    async def fetch(self) -> Any:
        task = asyncio.current_task()
        try:
            await asyncio.wait_for(asyncio.Event().wait(), 0.01)
        except asyncio.TimeoutError:
            timed_out = True
        else:
            timed_out = False
        return (task is not None, timed_out)


# -- run_async on the test's own asyncio loop ----------------------------------


def test_await_run_async_on_the_running_loop() -> None:
    async def main() -> Any:
        app = Native()
        runner = asyncio.create_task(app.run_async())
        try:
            result = await asyncio.wait_for(app.fire(fetch()), WAIT)
        finally:
            app.stop()
            await asyncio.wait_for(runner, WAIT)
        return result

    assert asyncio.run(main()) == (True, True)


def test_circuits_run_async_returns_after_stop() -> None:
    app = Hits()

    @handler("started", channel="*")
    def _stop_at_once(self: Any, manager: Any) -> None:
        self.stop()

    app.addHandler(_stop_at_once)
    thread = threading.Thread(target=circuits.run_async, args=(app,), daemon=True)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "circuits.run_async(app) did not return"
    assert not app.running


def test_stop_under_await_run_async_cancels_and_returns_promptly() -> None:
    async def main() -> tuple[float, list[str], Value]:
        app = Stuck()
        runner = asyncio.create_task(app.run_async())
        v = app.fire(hang())
        await _until(app.parked.is_set)
        t0 = time.monotonic()
        app.stop()
        await asyncio.wait_for(runner, WAIT)
        return time.monotonic() - t0, app.ended, v

    elapsed, ended, v = asyncio.run(main())
    assert elapsed < 1.0
    assert ended == ["CancelledError"]
    assert v.errors
    assert v.value[0] is asyncio.CancelledError


def test_fire_from_an_asyncio_task_wakes_the_idle_run_async_loop() -> None:
    async def main() -> float:
        app = Hits()
        runner = asyncio.create_task(app.run_async())
        try:
            # Wait until the loop idles: with nothing timed, it idles forever.
            await _until(lambda: app._gen_event is not None)

            async def outside_circuits() -> None:
                app.fire(hit(7))

            t0 = time.monotonic()
            await asyncio.create_task(outside_circuits())
            await _until(app.all_seen.is_set)
            return time.monotonic() - t0
        finally:
            app.stop()
            await asyncio.wait_for(runner, WAIT)

    assert asyncio.run(main()) < 0.1


class Echo(Component):
    def init(self, port: int) -> None:
        self.port = port

    async def fetch(self, data: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(data)
            await writer.drain()
            return await reader.readexactly(len(data))
        finally:
            writer.close()
            await writer.wait_closed()


def test_an_async_handler_talks_to_an_asyncio_server() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def main() -> Any:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        app = Echo(port)
        runner = asyncio.create_task(app.run_async())
        try:
            return await asyncio.wait_for(app.fire(fetch(b"hello circuits")), WAIT)
        finally:
            app.stop()
            await asyncio.wait_for(runner, WAIT)
            server.close()
            await server.wait_closed()

    assert asyncio.run(main()) == b"hello circuits"


class PipeApp(Component):
    def init(self) -> None:
        self.a, self.b = Pipe("a", "b")
        self.a.register(self)
        self.b.register(self)
        self.ready: set[Any] = set()
        self.got = bytearray()
        self.both_ready = threading.Event()
        self.arrived = threading.Event()

    @handler("ready", channel="*")
    def _on_ready(self, component: Any, bind: Any = None) -> None:
        self.ready.add(component)
        if {self.a, self.b} <= self.ready:
            self.both_ready.set()

    @handler("read", channel="b")
    def _on_read(self, data: bytes) -> None:
        self.got += data
        if self.got == b"through the pipe":
            self.arrived.set()


def test_a_pipe_under_run_async_goes_through_the_asyncio_poller() -> None:
    async def main() -> tuple[bytes, Any, Any]:
        app = PipeApp()
        runner = asyncio.create_task(app.run_async())
        try:
            await _until(app.both_ready.is_set)
            app.fire(write_event(b"through the pipe"), "a")
            await _until(app.arrived.is_set)
            return bytes(app.got), app.a._poller, app.b._poller
        finally:
            app.stop()
            await asyncio.wait_for(runner, WAIT)

    got, poller_a, poller_b = asyncio.run(main())
    assert got == b"through the pipe"
    assert isinstance(poller_a, AsyncioPoller)
    assert poller_b is poller_a


@pytest.mark.parametrize("poller", [None, "EPoll", "Poll", "Select"])
def test_a_pipe_under_run_async_with_the_trees_own_poller(poller: str | None) -> None:
    """A poller already in the tree keeps the descriptors; asyncio is woken by it."""
    if poller is not None and not hasattr(pollers, poller):
        pytest.skip(f"no {poller} here")

    async def main() -> bytes:
        app = PipeApp()
        if poller is not None:
            getattr(pollers, poller)().register(app)
        runner = asyncio.create_task(app.run_async())
        try:
            await _until(app.both_ready.is_set)
            app.fire(write_event(b"through the pipe"), "a")
            await _until(app.arrived.is_set)
            return bytes(app.got)
        finally:
            app.stop()
            await asyncio.wait_for(runner, WAIT)

    assert asyncio.run(main()) == b"through the pipe"


def test_run_async_twice_is_an_error() -> None:
    async def main() -> None:
        app = Hits()
        runner = asyncio.create_task(app.run_async())
        try:
            await _until(lambda: app.running)
            with pytest.raises(RuntimeError, match="already running"):
                await app.run_async()
        finally:
            app.stop()
            await asyncio.wait_for(runner, WAIT)

    asyncio.run(main())


# -- timers -------------------------------------------------------------------


class ring(Event):
    pass


class arm(Event):
    pass


class Alarm(Component):
    async def arm(self, seconds: float) -> float:
        t0 = time.monotonic()
        Timer(seconds, ring()).register(self)
        v = await self.wait("ring")
        assert v.value == "rang"
        return time.monotonic() - t0

    def ring(self) -> str:
        return "rang"


def test_a_timer_wakes_an_async_handler(loop: Loop) -> None:
    app = loop.start(Alarm())
    assert 0.045 <= outcome(app.fire(arm(0.05))) < 1


# -- edge cases of cancellation -------------------------------------------------


class kick(Event):
    pass


class SameBatch(Component):
    """Spawns a handler and unregisters its component in one batch."""

    def init(self) -> None:
        self.stuck = Stuck().register(self)
        self.values: list[Value] = []
        self.completed = threading.Event()

    def drop(self) -> None:
        # Next batch: kick, prepare_unregister. The batch after: hang (fired by
        # kick) and prepare_unregister_complete, which cancels it unstarted.
        self.fire(kick())
        self.stuck.unregister()

    def kick(self) -> None:
        self.values.append(self.fire(hang(), "stuck"))

    @handler("hang_complete", channel="*")
    def _on_complete(self, e: Event, value: Any) -> None:
        self.completed.set()


def test_a_handler_cancelled_before_its_first_step_ends_its_event(loop: Loop) -> None:
    app = loop.start(SameBatch())
    app.fire(drop())
    assert app.completed.wait(WAIT), "the cancelled event did not complete"
    [v] = app.values
    assert v.errors
    assert v.value[0] is asyncio.CancelledError
    assert app.stuck.ended == []  # it never ran
    gc.collect()  # an unawaited coroutine would warn now (an error here)


def test_a_value_awaited_with_a_timeout_from_asyncio_leaves_the_app_going(loop: Loop) -> None:
    app = loop.start(Owner())
    v = app.fire(hang(), "stuck")
    with pytest.raises(asyncio.TimeoutError):
        outcome(v, timeout=0.01)
    assert not v.errors  # only the awaiting gave up
    assert outcome(app.fire(quick())) is None


# -- the plain loop driven by hand, with a fake clock --------------------------


class Dozer(Component):
    def init(self) -> None:
        self.log: list[str] = []

    async def nap(self, seconds: float) -> str:
        await sleep(seconds)
        self.log.append("woke")
        return "rested"

    async def timed(self) -> str:
        try:
            await self.wait("never", timeout=5)
        except TimeoutError:
            return "timed out"
        return "not timed out"


def ticks(m: Manager, n: int = 3) -> None:
    for _ in range(n):
        m.tick()


def test_await_sleep_by_hand_follows_the_clock(clock: _clock.FakeClock) -> None:
    app = Dozer()
    v = app.fire(nap(10))
    ticks(app)
    clock.advance(9.9)
    ticks(app)
    assert app.log == []
    clock.advance(0.1)
    ticks(app)
    assert app.log == ["woke"]
    assert v.value == "rested"
    assert not app._tasks


def test_await_wait_timeout_by_hand_follows_the_clock(clock: _clock.FakeClock) -> None:
    app = Dozer()
    v = app.fire(timed())
    ticks(app)
    assert "never" in app._handlers
    clock.advance(4.9)
    ticks(app)
    assert v.value is None
    clock.advance(0.1)
    ticks(app)
    assert v.value == "timed out"
    assert "never" not in app._handlers


def test_closing_a_waiting_coroutine_by_hand_leaves_nothing_behind(
    clock: _clock.FakeClock,
) -> None:
    app = Owner()
    waits = app.fire(hang(), "stuck")
    sleeps = app.fire(nap(), "stuck")
    ticks(app)
    assert "never" in app.stuck._handlers
    app.fire(drop())
    ticks(app, 5)
    assert app.unregistered.is_set()
    assert app.stuck.ended == ["GeneratorExit", "GeneratorExit"]
    assert waits.errors
    assert sleeps.errors
    assert "never" not in app.stuck._handlers  # the wait's temporary handler went
    clock.advance(1000)  # the closed sleeper's time comes
    ticks(app)
    assert not app._tasks  # it is not stepped again and again


def test_awaiting_the_value_of_a_cancelled_handler_raises_a_runtime_error() -> None:
    # not CancelledError: the awaiting task itself was not cancelled
    async def main() -> BaseException:
        app = Stuck()
        runner = asyncio.create_task(app.run_async())
        v = app.fire(hang())
        await _until(app.parked.is_set)
        app.stop()
        await asyncio.wait_for(runner, WAIT)
        try:
            await v
        except BaseException as e:
            return e
        raise AssertionError("awaiting the Value did not raise")

    error = asyncio.run(main())
    assert type(error) is RuntimeError
    assert "cancelled" in str(error)
    assert isinstance(error.__cause__, asyncio.CancelledError)
