"""asyncio interop: run a manager on an asyncio loop, and await circuits from asyncio.

Theory of operation
-------------------
``Manager.run_async()`` runs the circuits loop as a coroutine on the running
asyncio loop, in the loop's thread. Each iteration is a non-blocking
``tick``: timers, generator tasks, one batch, and a ``generate_events`` whose
would-be waiters (pollers, the fallback) are told not to wait; the time they
would have waited is spent in asyncio instead (``AsyncioDriver.idle``), on a
future that anything may complete:

* ``fire()`` from another thread or from asyncio code: while the driver
  idles, ``root._gen_event`` is an event whose ``reduce_time_left(0)`` calls
  ``AsyncioDriver.resume()``, the same path that wakes a blocking poller;
* descriptors: sockets adopt an :class:`AsyncioPoller`, whose readiness
  callbacks (``loop.add_reader``/``add_writer``) fire ``_read``/``_write``;
* timers, sleeps and timeouts: the idle wait ends at the next deadline.

``async def`` handlers run as real asyncio tasks (``asyncio.current_task()``,
cancellation, contextvars and timeouts all behave), so any asyncio awaitable
works in them. circuits' own awaitables (``call``, ``wait``, ``sleep``, a
``Value``) notice they run inside an asyncio task and wait on an asyncio
future that the circuits side completes (:func:`wait_future`), from any
thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal as _signal
import sys
import threading
from threading import get_ident
from typing import Any

from . import _clock
from ._coroutines import _no_loop_hint, _Wait
from .events import Event, generate_events, started
from .pollers import BasePoller
from .utils import findtype
from .values import Value

__all__ = ["AsyncioDriver", "AsyncioPoller", "run_async", "run_on_asyncio", "wait_future"]

log = logging.getLogger(__name__)

# How long cancelled async handlers get to finish when the loop stops.
CANCEL_GRACE_S = 5.0
# Idle wait cap when the tree has a poller asyncio cannot watch (Select/Poll
# have no descriptor of their own to add as a reader).
BLIND_POLL_S = 0.01


def _settle(fut: asyncio.Future[Any], value: Any, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)


class _FutureResumer:
    """Completes an asyncio future when a circuits wait ends, from any thread."""

    __slots__ = ("fut", "loop", "thread")

    def __init__(self, loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any]) -> None:
        self.loop = loop
        self.fut = fut
        self.thread = get_ident()

    def __call__(self, value: Value | None, exc: BaseException | None) -> None:
        if get_ident() == self.thread:
            _settle(self.fut, value, exc)
        else:
            self.loop.call_soon_threadsafe(_settle, self.fut, value, exc)


def _on_root_thread(root: Any, fn: Any, *args: Any) -> None:
    """Run ``fn`` where the root's loop runs (now, if that is here or nowhere)."""
    if root._loop_ident in (None, get_ident()):
        fn(*args)
    else:
        root._call_in_loop(fn, *args)


def wait_future(w: _Wait) -> asyncio.Future[Value]:
    """An asyncio future completed with the Value a circuits wait ends with.

    Cancelling the future cancels the wait (its temporary handlers go away).
    """
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Value] = loop.create_future()
    root = w.manager.root
    resumer = _FutureResumer(loop, fut)

    def start() -> None:
        ready = root._start_wait(w, resumer)
        if ready is not None:
            resumer(ready, None)

    def on_done(f: asyncio.Future[Value]) -> None:
        if f.cancelled() and not w.done:
            _on_root_thread(root, root._cancel_wait, w)

    fut.add_done_callback(on_done)
    _on_root_thread(root, start)
    return fut


class AsyncioPoller(BasePoller):
    """A poller on the asyncio loop: ``add_reader``/``add_writer`` callbacks.

    It never waits itself (the asyncio loop does); sockets adopt it like any
    poller.

    Args:
        loop: the asyncio loop (default: the running one).
        channel: the poller's channel.
    """

    channel = "asyncio"
    _idles = False
    # Its generate_events handler has nothing to do: the dispatcher leaves it
    # out, so that an idle loop need not build the event at all.
    _passive = True

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, channel: Any = channel
    ) -> None:
        super().__init__(channel=channel)
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._numbers: dict[Any, int] = {}
        self._interest: dict[int, tuple[bool, bool]] = {}

    def _generate_events(self, event: Any) -> None:
        pass  # readiness arrives through the asyncio loop's callbacks

    def _watch(self, fd: Any, reading: bool, writing: bool) -> None:
        n = self._numbers.get(fd)
        if n is None:
            n = fd if isinstance(fd, int) else fd.fileno()
            if n < 0:
                raise ValueError(f"cannot watch {fd!r}: it is closed")
            self._numbers[fd] = n
        was_reading, was_writing = self._interest.get(n, (False, False))
        loop = self._loop
        if reading and not was_reading:
            loop.add_reader(n, self._fire_ready, fd, True, False)
        elif was_reading and not reading:
            loop.remove_reader(n)
        if writing and not was_writing:
            loop.add_writer(n, self._fire_ready, fd, False, True)
        elif was_writing and not writing:
            loop.remove_writer(n)
        self._interest[n] = (reading, writing)

    def _forget(self, fd: Any) -> None:
        n = self._numbers.pop(fd, None)
        if n is None:
            return
        reading, writing = self._interest.pop(n, (False, False))
        if reading:
            self._loop.remove_reader(n)
        if writing:
            self._loop.remove_writer(n)

    def _close(self) -> None:
        for fd in list(self._numbers):
            self._forget(fd)


class AsyncioDriver:
    """The state of one ``run_async()``: async handler tasks and the idle wait."""

    def __init__(self, root: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.root = root
        self.loop = loop
        self.thread = get_ident()
        # task -> (owning component, event, handler coroutine)
        self.tasks: dict[asyncio.Task[None], tuple[Any, Event, Any]] = {}
        self._wake: asyncio.Future[None] | None = None
        self._woken = False
        self.blind = False  # a poller asyncio cannot watch is in the tree
        self._wake_event = generate_events(root._lock, -1)
        self._wake_event.handler = self.resume

    # -- async handlers -------------------------------------------------------

    def spawn(self, event: Event, coro: Any) -> None:
        """Run an ``async def`` handler's coroutine as an asyncio task."""
        owner = getattr(event.handler, "__self__", None)
        task = self.loop.create_task(self._handle(event, coro))
        self.tasks[task] = (owner, event, coro)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        _, event, coro = self.tasks.pop(task)
        # Cancelled before its first step (spawned and unregistered in one
        # batch, or a stop): _handle never ran, so end the event here.
        if task.cancelled() and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
            coro.close()
            self.root._task_cancelled(event)

    async def _handle(self, event: Event, coro: Any) -> None:
        root = self.root
        try:
            result = await coro
        except asyncio.CancelledError:
            root._task_cancelled(event)
            raise
        except KeyboardInterrupt:
            root._task_cancelled(event)
            root.stop()
        except SystemExit as e:
            root._task_cancelled(event)
            root._exit(e)
        except Exception:
            root._task_failed(event, None, _no_loop_hint(sys.exc_info()))  # type: ignore[arg-type]
        else:
            if result is not None:
                event.value.value = result
            root._task_finished(event, None, False)

    def cancel_owned_by(self, nodes: set[int]) -> None:
        """Cancel the async handlers of these components (by ``id``)."""
        for task, (owner, _, _) in list(self.tasks.items()):
            if id(owner) in nodes:
                task.cancel()

    # -- idling -----------------------------------------------------------------

    def resume(self) -> None:
        """End the idle wait (thread- and signal-safe)."""
        if self._woken:
            return
        self._woken = True
        if get_ident() == self.thread:
            self._end_wait()
        else:
            self.loop.call_soon_threadsafe(self._end_wait)

    def _end_wait(self) -> None:
        fut = self._wake
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def idle(self, timeout: float) -> None:
        """Wait in asyncio for at most ``timeout`` seconds (< 0: until woken)."""
        root = self.root
        if self.blind:
            timeout = BLIND_POLL_S if timeout < 0 else min(timeout, BLIND_POLL_S)
        wake = self._wake_event
        with root._lock:
            if root._queue or root._queue.heap or root._pending or root._tasks_ready:
                return
            self._woken = False
            self._wake = self.loop.create_future()
            wake._time_left = timeout  # reduce_time_left(0) -> resume(): see module doc
            root._gen_event = wake
        timer = self.loop.call_later(timeout, self._end_wait) if timeout >= 0 else None
        try:
            await self._wake
        finally:
            root._gen_event = None
            self._wake = None
            if timer is not None:
                timer.cancel()


async def run_on_asyncio(root: Any) -> None:
    """The body of ``Manager.run_async()`` (see the module doc)."""
    loop = asyncio.get_running_loop()
    if root._running:
        raise RuntimeError(f"{root!r} is already running")
    driver = AsyncioDriver(root, loop)
    root._aio = driver
    root._running = True
    root.root._executing_thread = threading.current_thread()
    prev_ident = root._loop_ident
    root._loop_ident = get_ident()
    _clock.running_roots.add(root)
    signals = _add_signal_handlers(root, loop)
    poller, watched = _attach_pollers(root, loop, driver)
    normal = False
    try:
        root.fire(started(root))
        while root._running or len(root):
            idle = root._tick(-1, False)
            if idle == 0:
                await asyncio.sleep(0)  # let async handlers and other tasks run
            else:
                await driver.idle(idle)
        for _ in range(3):
            root._tick(-1, False)
            await asyncio.sleep(0)
        normal = True
    finally:
        if not normal:
            try:
                root._tick(-1, False)  # as run(): deliver what stop() fired
            except Exception:
                pass
        await _cancel_all(driver)
        for signo in signals:
            loop.remove_signal_handler(signo)
        for fd in watched:
            loop.remove_reader(fd)
        if poller is not None:
            poller._close()
        _clock.running_roots.discard(root)
        root._aio = None
        root._running = False
        root._loop_ident = prev_ident
        if normal:
            root.root._executing_thread = None


async def _cancel_all(driver: AsyncioDriver) -> None:
    tasks = [t for t in driver.tasks if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=CANCEL_GRACE_S)
        for task in pending:
            log.warning("async handler %r ignored cancellation", task)


def _add_signal_handlers(root: Any, loop: asyncio.AbstractEventLoop) -> list[int]:
    if threading.current_thread() is not threading.main_thread():
        return []
    added: list[int] = []
    for signo in (_signal.SIGINT, _signal.SIGTERM):
        try:
            loop.add_signal_handler(signo, root._on_signal, signo, None)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not on this platform / loop
        added.append(signo)
    return added


def _attach_pollers(
    root: Any, loop: asyncio.AbstractEventLoop, driver: AsyncioDriver
) -> tuple[AsyncioPoller | None, list[int]]:
    """Give the tree an AsyncioPoller, or make its pollers wake the asyncio loop."""
    pollers = findtype(root, BasePoller, all=True)
    if not pollers:
        return AsyncioPoller(loop).register(root), []
    watched = []
    for p in pollers:
        kernel = getattr(p, "_epoll", None) or getattr(p, "_kqueue", None)
        if kernel is not None:
            fd = kernel.fileno()
            loop.add_reader(fd, driver.resume)
            watched.append(fd)
        elif not isinstance(p, AsyncioPoller):
            driver.blind = True
            log.warning(
                "%r cannot be watched by asyncio: polling it every %s s; "
                "use EPoll/KQueue or no poller at all under run_async()",
                p,
                BLIND_POLL_S,
            )
    return None, watched


def run_async(app: Any) -> None:
    """Run ``app`` on a new asyncio loop until it stops: ``asyncio.run(app.run_async())``."""
    asyncio.run(app.run_async())
