"""Coroutine handlers: tasks, ``call``/``wait``, ``sleep`` and timeouts.

A handler that returns a generator becomes a *task* ``(event, generator,
parent)``. ``_step`` advances it and acts on what it yields:

* ``None``: the task stays runnable and is advanced again next tick;
* a ``call()``/``wait()`` object (:class:`_Wait`): the task is parked on the
  awaited event's :class:`Value` (its ``_waiters``) and resumed with that
  Value from inside the event's done step, in the same tick; a Value that is
  already done resumes it at once;
* a :class:`Sleep`: the task is parked on the root's timer heap until then;
* anything else: stored in the event's Value, and the task stays runnable.

Timeouts are entries of the same timer heap, in clock seconds; an expired
wait throws :class:`TimeoutError` into the task at its ``yield``. A task that
raises finishes its event with the error (3.2.5 left it hanging).

This module holds the machinery as a mixin of :class:`~.manager.Manager`;
the public names are re-exported by ``circuits.core.manager``.
"""

from __future__ import annotations

import heapq
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterator
from inspect import isgenerator
from types import CoroutineType, TracebackType
from typing import TYPE_CHECKING, Any

from . import _clock
from ._registry import next_seq
from .events import Event, exception
from .handlers import handler
from .values import Value

if TYPE_CHECKING:
    from .manager import Manager

__all__ = ["CallValue", "ExceptionWrapper", "Sleep", "TimeoutError", "sleep"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class TimeoutError(Exception):
    """A ``call``/``wait`` did not complete in time."""


class CallValue:
    """Wraps the Value a ``wait``/``call`` generator yields when iterated by hand."""

    def __init__(self, value: Any) -> None:
        self.value = value


class ExceptionWrapper:
    """Carries an exception as a value."""

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception

    def extract(self) -> BaseException:
        return self.exception


class Sleep(Iterator["Sleep"]):
    """A pause in a coroutine handler: ``yield sleep(seconds)``."""

    def __init__(self, seconds: float) -> None:
        self._task: Any = None
        try:
            self.expiry = _clock.now() + float(seconds)
        except ValueError:
            raise TypeError("a float is required") from None

    def __iter__(self) -> Sleep:
        return self

    def __repr__(self) -> str:
        return f"sleep({self.expiry - _clock.now()!r})"

    def __next__(self) -> Sleep:
        if self.expired:
            raise StopIteration
        return self

    def __await__(self) -> Generator[Any, Any, None]:
        if _in_asyncio_task():
            import asyncio

            yield from asyncio.sleep(max(0.0, self.expiry - _clock.now())).__await__()
        else:
            yield self

    @property
    def expired(self) -> bool:
        return _clock.now() >= self.expiry

    @property
    def task(self) -> Any:
        return self._task

    @task.setter
    def task(self, task: Any) -> None:
        self._task = task


def sleep(seconds: float) -> Sleep:
    """Pause a coroutine handler: ``yield sleep(0.5)``.

    Raises:
        TypeError: if ``seconds`` is not a number.
    """
    return Sleep(seconds)


class _Wait:
    """What ``call()``/``wait()`` return: yielded from a coroutine handler.

    The scheduler reads its fields directly. Iterated by hand (outside a
    handler), the first ``next()`` starts waiting and yields this object, the
    next one yields a :class:`CallValue` with the awaited event's Value (or
    stops if the event was not seen yet).
    """

    __slots__ = ("_by_hand", "call", "channels", "done", "event", "manager", "target", "timeout")

    def __init__(
        self,
        manager: Any,
        event: Event | Value | str,
        channels: tuple[Any, ...],
        timeout: float,
        call: bool,
    ) -> None:
        self.manager = manager
        self.event = event
        self.channels = channels
        self.timeout = timeout
        self.call = call
        self.target: Value | None = None  # the awaited event's Value once known
        self.done = False  # resumed, timed out or cancelled
        self._by_hand = 0

    def __iter__(self) -> _Wait:
        return self

    def __next__(self) -> Any:
        self._by_hand += 1
        if self._by_hand == 1:
            self.manager.root._start_wait(self, None)
            return self
        target = self.target
        if self._by_hand == 2 and target is not None and target._done:
            return CallValue(target)
        self.manager.root._cancel_wait(self)
        raise StopIteration

    def __await__(self) -> Generator[Any, Any, Value]:
        if _in_asyncio_task():
            from ._asyncio import wait_future

            value: Value = yield from wait_future(self).__await__()
            return value
        root = self.manager.root  # holds the wait, even if the manager leaves the tree
        try:
            value = yield self
        except GeneratorExit:
            root._cancel_wait(self)  # closed while waiting (stop, unregister): drop the waiter
            raise
        return value

    def send(self, value: Any) -> Any:
        return self.__next__()

    def throw(self, *args: Any) -> Any:
        self.manager.root._cancel_wait(self)
        raise StopIteration

    def close(self) -> None:
        self.manager.root._cancel_wait(self)


class _TaskResumer:
    """Resumes a circuits-driven task when its wait ends (value or exception)."""

    __slots__ = ("key", "root")

    def __init__(self, root: Any, key: tuple[Event, Any, Any]) -> None:
        self.root = root
        self.key = key

    def __call__(self, value: Value | None, exc: BaseException | None) -> None:
        key = self.key
        self.root._step(key[0], key[1], key[2], value, exc)


def _in_asyncio_task() -> bool:
    """Whether the caller runs inside an asyncio task (so awaitables must be futures)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False  # nothing can be running on asyncio
    try:
        return asyncio.current_task() is not None
    except RuntimeError:
        return False  # no running loop in this thread


class Scheduler:
    """The coroutine machinery of a Manager (mixin; state lives on the root)."""

    # A task became runnable for a reason other than polling (new, woken,
    # produced a value): the loop must not idle before stepping it.
    _tasks_ready = False
    _waiting: dict[_Wait, list[Any]] | None = None  # name waits: their temporary handlers
    _timers: list[tuple[float, int, Any]] = ()  # type: ignore[assignment]
    _pending: deque[tuple[Callable[..., Any], tuple[Any, ...]]] | None = None
    # Runnable tasks; a shared empty frozenset until the first task (lazy, as
    # most components never run one).
    _tasks: set[tuple[Event, Any, Any]] = frozenset()  # type: ignore[assignment]
    # Circuits-driven coroutine tasks -> the component whose handler they are.
    _coros: dict[tuple[Event, Any, Any], Any] | None = None

    if TYPE_CHECKING:
        root: Manager
        _gen_event: Any

        def fire(self, event: Event, *channels: Any, priority: float = 0) -> Value: ...
        def stop(self, code: int | str | None = None) -> None: ...
        def _exit(self, e: SystemExit) -> None: ...
        def wake(self) -> None: ...
        def addHandler(self, f: Any) -> Any: ...
        def removeHandler(self, method: Any, event: str | None = None) -> None: ...
        def _event_done(self, event: Event, raised: bool) -> None: ...

    def _add_task(self, task: tuple[Event, Any, Any]) -> None:
        tasks = self._tasks
        if not isinstance(tasks, set):  # the shared empty default: make our own
            tasks = self._tasks = set()
        tasks.add(task)

    def _drop_task(self, task: tuple[Event, Any, Any]) -> None:
        tasks = self._tasks
        if task in tasks:
            tasks.remove(task)

    def registerTask(self, task: tuple[Event, Any, Any]) -> None:
        """Make ``task`` (``(event, generator, parent)``) runnable."""
        self.root._add_task(task)

    def unregisterTask(self, task: tuple[Event, Any, Any]) -> None:
        """Forget ``task``; a task that is not registered is ignored."""
        self.root._drop_task(task)

    def processTask(self, event: Event, task: Any, parent: Any = None) -> None:
        """Advance one coroutine task by one step."""
        self.root._step(event, task, parent, None, None)

    def _step(
        self, event: Event, task: Any, parent: Any, send: Any, throw: BaseException | None
    ) -> None:
        """Advance a task, then act on what it yields (see module doc)."""
        key = (event, task, parent)
        is_coro = type(task) is CoroutineType
        if is_coro and task.cr_frame is None:
            # Closed (cancelled) while it was waiting; a sleep that ended
            # afterwards made it runnable again: forget it.
            self._drop_task(key)
            return
        coros = self._coros if is_coro else None
        while True:
            try:
                if throw is not None:
                    exc, throw = throw, None
                    yielded = task.throw(exc)
                else:
                    yielded = task.send(send)
            except StopIteration as stop:
                self._drop_task(key)
                if coros:
                    coros.pop(key, None)
                if stop.value is not None and type(task) is CoroutineType:
                    event.value.value = stop.value  # an async handler's return value
                self._task_finished(event, parent, False)
                return
            except KeyboardInterrupt:
                self._drop_task(key)
                self.stop()
                return
            except SystemExit as e:
                self._drop_task(key)
                self._exit(e)
                return
            except Exception:
                self._drop_task(key)
                if coros:
                    coros.pop(key, None)
                self._task_failed(event, parent, _no_loop_hint(_exc_info()))
                return
            send = None
            if yielded is None:
                self._add_task(key)
                if is_coro:
                    # A bare yield in a coroutine (asyncio.sleep(0)) asks to go
                    # on at once, as asyncio does; a generator's "yield" keeps
                    # 3.2.5's polling cadence.
                    self._tasks_ready = True
                return
            kind = type(yielded)
            if kind is _Wait:
                self._drop_task(key)
                ready = self._start_wait(yielded, _TaskResumer(self, key))
                if ready is None:
                    return  # parked until the awaited event is done
                send = ready
                continue
            if kind is Sleep or isinstance(yielded, Sleep):
                self._drop_task(key)
                yielded.task = key
                self._push_timer(yielded.expiry, ("sleep", key))
                return
            if hasattr(yielded, "_asyncio_future_blocking"):
                throw = RuntimeError(_NEEDS_ASYNCIO)
                continue
            if isgenerator(yielded):
                throw = TypeError(
                    f"a coroutine handler yielded a generator ({yielded!r}); "
                    "use 'yield from' to delegate, or yield self.call()/self.wait()"
                )
                continue
            event.value.value = yielded
            self._add_task(key)
            self._tasks_ready = True
            return

    def _task_finished(self, event: Event, parent: Any, raised: bool) -> None:
        if parent is not None:
            self._add_task(parent)
        event.waitingHandlers -= 1
        if event.waitingHandlers <= 0:
            event.waitingHandlers = 0
            event.value.inform(True)
            self._event_done(event, raised)

    def _task_cancelled(self, event: Event) -> None:
        """An async handler was cancelled (stop/unregister): its event ends, with errors."""
        value = event.value
        value.errors = True
        exc = asyncio_cancelled()
        value.value = (type(exc), exc, None)
        self._task_finished(event, None, True)

    def _own_coroutine(self, key: tuple[Event, Any, Any], owner: Any) -> None:
        """Remember which component a circuits-driven coroutine belongs to."""
        if self._coros is None:
            self._coros = {}
        self._coros[key] = owner

    def _close_coroutines(self, nodes: set[int] | None = None) -> None:
        """Close the coroutine handlers of these components (by ``id``; all if None)."""
        if not self._coros:
            return
        for key, owner in list(self._coros.items()):
            if nodes is None or id(owner) in nodes:
                del self._coros[key]
                self._drop_task(key)
                key[1].close()  # GeneratorExit at its await: a clean close
                self._task_cancelled(key[0])

    def _task_failed(self, event: Event, parent: Any, excinfo: ExcInfo) -> None:
        # 3.2.5 left such an event unfinished forever; it finishes, with errors.
        value = event.value
        value.errors = True
        value.value = excinfo
        if event.failure:
            self.fire(event.child("failure", event, excinfo), *event.channels)
        self.fire(exception(excinfo[0], excinfo[1], excinfo[2], handler=None, fevent=event))
        self._task_finished(event, parent, True)

    # -- call / wait -------------------------------------------------------

    def waitEvent(self, event: Event | Value | str, *channels: Any, **kwargs: Any) -> _Wait:
        """Wait for an event: ``value = yield self.wait("name")``.

        Args:
            event: an event name (the next one dispatched on the channels) or
                an event instance (that very event).
            *channels: where to listen (default: this manager's channel).
            timeout: seconds (< 0: no limit); on expiry ``TimeoutError`` is
                raised at the ``yield``.

        Returns:
            A generator-like object to yield from a coroutine handler; it
            resumes the handler with the awaited event's :class:`Value`.
        """
        timeout = kwargs.get("timeout", -1)
        if isinstance(event, Event):
            channels = event.channels or channels
        return _Wait(self, event, channels, -1 if timeout is None else timeout, False)

    wait = waitEvent

    def callEvent(self, event: Event, *channels: Any, **kwargs: Any) -> _Wait:
        """Fire ``event`` and wait until it is done: ``value = yield self.call(e)``.

        Args:
            event: the event to fire.
            *channels: where to fire it (normal ``fire`` rules).
            timeout: seconds (< 0: no limit); on expiry ``TimeoutError`` is
                raised at the ``yield``.

        Returns:
            A generator-like object to yield from a coroutine handler; it
            resumes the handler with the event's :class:`Value`.
        """
        timeout = kwargs.get("timeout", -1)
        return _Wait(self, event, channels, -1 if timeout is None else timeout, True)

    call = callEvent

    def _start_wait(self, w: _Wait, task: Any) -> Value | None:
        """Start waiting; returns the Value at once if it is already done.

        ``task`` is called as ``task(value, None)`` when the awaited event is
        done, or ``task(None, TimeoutError())`` on timeout (``None``: a wait
        iterated by hand, which its caller polls).
        """
        if w.timeout is not None and w.timeout > 0 and task is not None:
            self._push_timer(_clock.now() + w.timeout, ("timeout", w, task))
        ready = self._begin_wait(w, task)
        if ready is None and w.timeout == 0 and task is not None:
            # A zero timeout waits for nothing: unless the awaited event is
            # already done, the wait times out now, whichever loop runs it.
            self._cancel_wait(w)
            task(None, TimeoutError())
        return ready

    def _begin_wait(self, w: _Wait, task: Any) -> Value | None:
        manager = w.manager
        event = w.event
        if isinstance(event, Value):  # internal: a Value resolved by _resolve()
            return self._attach(w, task, event)
        if w.call:
            assert isinstance(event, Event)
            event.alert_done = True
            target = manager.fire(event, *w.channels)
        elif isinstance(event, Event):
            event.alert_done = True
            target = event.value
            if target is None:  # not fired yet: wait for it by identity
                self._install_name_waiter(w, task, event.name, identity=event)
                return None
        else:
            self._install_name_waiter(w, task, event, identity=None)
            return None
        return self._attach(w, task, target)

    def _attach(self, w: _Wait, task: Any, target: Value) -> Value | None:
        w.target = target
        if target._done:
            w.done = True
            return target

        def resume(value: Value, w: _Wait = w, task: Any = task) -> None:
            # A wait iterated by hand (task None) is polled by its caller instead.
            if not w.done and task is not None:
                w.done = True
                task(value, None)

        target._when_done(resume)  # not done yet (checked above): queued
        return None

    def _install_name_waiter(self, w: _Wait, task: Any, name: str, identity: Event | None) -> None:
        manager = w.manager
        channels = w.channels or (None,)
        installed: list[Any] = []

        def on_event(event: Event, *args: Any, **kwargs: Any) -> None:
            if w.done or w.target is not None or (identity is not None and event is not identity):
                return
            for h in installed:
                try:
                    manager.removeHandler(h)
                except (KeyError, ValueError):
                    pass
            installed.clear()
            event.alert_done = True
            self._attach(w, task, event.value)

        for channel in channels:
            f = handler(name, channel=channel, priority=float("inf"))(_waiter_function(on_event))
            installed.append(manager.addHandler(f))
        # remembered so that a timeout or close() can remove them
        if self._waiting is None:
            self._waiting = {}
        self._waiting[w] = installed

    def _cancel_wait(self, w: _Wait) -> None:
        w.done = True
        installed = self._waiting.pop(w, ()) if self._waiting else ()
        for h in installed:
            try:
                w.manager.removeHandler(h)
            except (KeyError, ValueError):
                pass

    def _push_timer(self, when: float, entry: Any) -> None:
        if not self._timers:
            self._timers = []
        heapq.heappush(self._timers, (when, next_seq(), entry))
        gen = self._gen_event
        if gen is not None:
            # Pushed while the loop idles (from an asyncio task or a signal
            # handler on its thread): let it recompute its deadline.
            gen.reduce_time_left(0)

    def _run_timers(self) -> None:
        """Resume sleepers whose time has come; throw TimeoutError at expired waits."""
        timers = self._timers
        now = _clock.now()
        while timers and timers[0][0] <= now:
            _, _, entry = heapq.heappop(timers)
            if entry[0] == "sleep":
                self._add_task(entry[1])
                self._tasks_ready = True
            else:
                _, w, task = entry
                if w.done:
                    continue
                self._cancel_wait(w)
                task(None, TimeoutError())

    def _call_in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread at its next tick (thread-safe)."""
        root = self.root
        with root._lock:
            if root._pending is None:
                root._pending = deque()
            root._pending.append((fn, args))
        root.wake()

    def _run_pending(self) -> None:
        pending = self._pending
        assert pending is not None
        while pending:
            fn, args = pending.popleft()
            fn(*args)


def _exc_info() -> ExcInfo:
    """``sys.exc_info()`` inside an ``except`` block, typed as not ``None``."""
    return sys.exc_info()  # type: ignore[return-value]


def _waiter_function(on_event: Callable[..., None]) -> Callable[..., None]:
    """A fresh function object (handler attributes are per function)."""

    def _on_awaited_event(self: Any, event: Event, *args: Any, **kwargs: Any) -> None:
        on_event(event, *args, **kwargs)

    return _on_awaited_event


_NEEDS_ASYNCIO = (
    "this handler awaits an asyncio awaitable, which needs the asyncio loop: run the "
    "application with 'await app.run_async()' (or circuits.run_async(app)) instead of "
    "app.run()/app.start(); under those, await only circuits' own call(), wait() and sleep()"
)


def _no_loop_hint(excinfo: ExcInfo) -> ExcInfo:
    """Turn asyncio's "no running event loop" into an error that says what to do."""
    etype, evalue, etb = excinfo
    if etype is RuntimeError and "no running event loop" in str(evalue):
        better = RuntimeError(_NEEDS_ASYNCIO)
        better.__cause__ = evalue
        return RuntimeError, better, etb
    return excinfo


def asyncio_cancelled() -> BaseException:
    """An ``asyncio.CancelledError`` (asyncio is only imported when needed)."""
    import asyncio

    return asyncio.CancelledError()
