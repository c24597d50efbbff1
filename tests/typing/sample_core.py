"""A user's program on the core API, type-checked with ``mypy --strict``.

Never run: ``tests/test_typing.py`` checks it. ``assert_type`` pins the types
users rely on; it is imported under ``TYPE_CHECKING`` only, so the file needs
nothing beyond the standard library.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import AsyncIterator, Generator
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from circuits import (
    BaseComponent,
    Bridge,
    Component,
    Debugger,
    Event,
    Manager,
    Timer,
    Worker,
    handler,
    sleep,
    task,
)
from circuits.core import Value
from circuits.core.events import exception, signal, started, stopped
from circuits.core.manager import TimeoutError as CircuitsTimeout

if TYPE_CHECKING:
    # typeshed's stub of typing_extensions: checked under python_version 3.10,
    # nothing to install (this file is type-checked, never run).
    from typing_extensions import assert_type


class hello(Event):
    """An event with typed arguments."""

    def __init__(self, who: str, times: int = 1) -> None:
        super().__init__(who, times=times)


class ping(Event):
    """An event with any arguments (the default signature)."""


class Greeter(Component):
    channel = "greeter"

    def init(self, greeting: str = "Hello") -> None:
        self.greeting = greeting
        self.seen: list[str] = []

    def hello(self, who: str, times: int = 1) -> str:
        self.seen.append(who)
        return f"{self.greeting}, {who}!" * times

    @handler("ping", priority=10)
    def _on_ping(self, event: Event, *args: Any) -> None:
        event.stop()

    @handler("started", channel="*")
    def _on_started(self, manager: Manager) -> None:
        value = self.fire(hello("world"))
        assert_type(value, Value)

    @handler("stopped", channel="*")
    def _on_stopped(self, manager: Manager) -> None:
        pass

    def signal(self, signo: int, stack: Any) -> None:
        self.stop()


class Caller(BaseComponent):
    """Coroutine handlers: generators and ``async def``."""

    @handler("go")
    def _go(self) -> Generator[Any, Any, str]:
        value = yield self.call(hello("gen"), "greeter")
        got: Any = value.value
        yield sleep(0.01)
        yield self.wait("hello", "greeter", timeout=1.0)
        return str(got)

    @handler("go_async")
    async def _go_async(self) -> str:
        value = await self.call(hello("async"), "greeter")
        assert_type(value, Value)
        await sleep(0.01)
        try:
            await self.wait("hello", "greeter", timeout=0.5)
        except CircuitsTimeout:
            return "timeout"
        result: str = value.value
        return result

    @handler("exception", channel="*")
    def _on_exception(
        self,
        error_type: type[BaseException],
        value: BaseException,
        traceback: list[str],
        handler: Any = None,
        fevent: Event | None = None,
    ) -> None:
        pass


@handler("hello", channel="greeter")
def on_hello(self: Any, who: str, times: int = 1) -> str:
    """A handler function added with ``addHandler``."""
    return who * times


def blocking(n: int) -> int:
    return n * 2


def build() -> Manager:
    m = Manager()
    greeter = Greeter(greeting="Hi").register(m)
    greeter.seen.clear()  # register() returns the component's own type
    caller = Caller().register(m)
    debugger = Debugger(events=False, file=sys.stderr).register(m)
    worker = Worker(workers=2).register(m)
    timer = Timer(0.5, ping(), "greeter", persist=True).register(m)
    m += Debugger(errors=True)
    m += Debugger(logger=logging.getLogger("app"), prefix=lambda: "app")
    m += Debugger(file=io.StringIO(), prefix="app", trim=80)
    m += Debugger(file="/tmp/events.log", IgnoreEvents=["ping"])
    m.addHandler(on_hello)

    assert_type(greeter, Greeter)
    assert_type(caller, Caller)
    assert_type(debugger, Debugger)
    assert_type(worker, Worker)
    assert_type(timer, Timer)
    # @handler keeps the decorated function's type
    assert_type(on_hello(None, "x"), str)
    assert_type(greeter.hello("x", 2), str)

    timer.reset(1.0)
    expiry: float | None = timer.expiry
    del expiry
    greeter.unregister()

    v = m.fire(task(blocking, 21), "worker")
    result: Any = v.value
    del result
    errors: bool = v.errors
    del errors
    name: str = hello("x").name
    del name
    args: list[Any] = hello("x").args
    kwargs: dict[str, Any] = hello("x").kwargs
    del args, kwargs

    e = Event.create("custom", 1, 2, key="value")
    assert_type(e, Event)
    assert_type(ping.create("ping2"), ping)
    m.fire(e, "greeter", priority=1)
    m.fireEvent(ping())
    m.fire(started(m))
    m.fire(stopped(m))
    m.fire(signal(2, None))
    m.fire(exception(ValueError, ValueError("x"), None, None, e))
    return m


def run_in_thread(m: Manager) -> None:
    thread, bridge = m.start()
    assert_type(thread, threading.Thread)
    assert_type(bridge, None)
    process, link = Manager().start(process=True, link=m)
    assert_type(process, BaseProcess)
    assert_type(link, Bridge | None)
    process.join()
    running: bool = m.running
    del running
    m.stop()
    m.join()
    thread.join()


def run_blocking() -> None:
    app = Greeter()
    app += Worker()
    app.run()
    app.stop(0)


async def run_async() -> None:
    m = build()
    await m.run_async()


async def agen() -> AsyncIterator[int]:
    yield 1


def flush(m: Manager) -> None:
    while len(m):
        m.flush()
    m.tick()
    n: int = len(m)
    del n
