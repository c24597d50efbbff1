"""The Manager: event queue, dispatcher, coroutine scheduler and main loop.

Theory of operation
-------------------
Every component is a Manager; only the *root* of a tree uses its queue. A
``fire`` anywhere appends ``(event, channels)`` to the root's queue and
returns the event's :class:`Value`; nothing runs synchronously.

``flush`` dispatches one *batch*: the events queued when the batch started,
lowest ``priority`` first, FIFO within a priority (priority-0 events, the
common case, live in a deque; others in a heap merged in at batch start).
Events fired during the batch wait for the next one, so a handler never
re-enters the dispatcher.

Dispatch looks the handler list up in the root's cache by ``(name,
channels)`` (see ``_registry``), calls each handler, stores results in the
Value and, when every handler (including coroutines) has finished, runs the
*done step*: ``<name>_done``/``<name>_success``, resuming ``call``/``wait``
waiters, and completion tracking for ``<name>_complete``.

A tick (``tick``) = expire due sleeps and wait timeouts, advance every
runnable coroutine task once, flush one batch, then - while running - the
idle step: a ``generate_events`` event whose ``time_left`` says how long the
loop may block (0 when work is pending, until the next timer, or forever).
Pollers and the fallback generator block for that long; ``fire`` from
another thread or a signal wakes them at once through ``reduce_time_left(0)``.

Threads: the loop thread (and a thread that is flushing by hand) appends to
the queue without locking; other threads take the root's lock and wake the
loop. Batches are counted, never swapped, so no event can be lost or handled
twice.

Coroutines: a handler returning a generator becomes a task. ``yield None``
gives way for one tick; ``yield self.call(e)``/``self.wait(...)`` parks the
task until the awaited event is done and resumes it right there, in the same
tick (3.2.5 needed a full extra tick and a 0.1 s idle); ``yield sleep(s)``
parks it on the root's timer heap. Timeouts are in seconds.
"""

from __future__ import annotations

import atexit
import heapq
import itertools
import logging
import os
import signal as _signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from threading import get_ident
from types import CoroutineType, FrameType, GeneratorType, MethodType
from typing import TYPE_CHECKING, Any, Literal, overload

from . import _clock
from ._coroutines import (
    CallValue as CallValue,
    ExceptionWrapper as ExceptionWrapper,
    ExcInfo,
    Scheduler,
    Sleep as Sleep,
    TimeoutError as TimeoutError,
    _exc_info,
    sleep as sleep,
)
from ._registry import CACHE_KEYS_PER_NAME, Index, build_handlers, next_seq, walk
from .events import Event, exception, generate_events, signal, started, stopped
from .handlers import handler
from .values import Value

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from typing_extensions import Self

    from .bridge import Bridge
    from .components import BaseComponent

__all__ = [
    "TIMEOUT",
    "CallValue",
    "Event",
    "ExceptionWrapper",
    "Manager",
    "Sleep",
    "TimeoutError",
    "UnregistrableError",
    "Value",
    "exception",
    "generate_events",
    "handler",
    "signal",
    "sleep",
    "started",
    "stopped",
]

log = logging.getLogger("circuits.core")
# A library leaves output to the application (logging HOWTO); unhandled error
# reports still reach stderr when nothing is configured (helpers.emit_error).
log.addHandler(logging.NullHandler())

# How long the loop idles at most while coroutine tasks that yielded ``None``
# are waiting for their next step (3.2.5's value; tests derive polls from it).
TIMEOUT = 0.1


# "<name>_success"/"<name>_complete" per event name, built once.
_CHILD_NAMES: dict[str, dict[str, str]] = {}
_CHANNELS_ATTR = {"success": "success_channels", "complete": "complete_channels"}


class UnregistrableError(Exception):
    """A component with its own running loop cannot join a running tree."""


class _Queue(deque[Event]):
    """Queued events (channels in ``event.channels``): priority 0 in the deque,
    others in ``heap`` as ``(priority, seq, event, channels)``."""

    # Made a list on the first prioritized fire: most queues never need one.
    heap: list[tuple[float, int, Event, tuple[Any, ...]]] = ()  # type: ignore[assignment]

    def push(self, priority: float, event: Event, channels: tuple[Any, ...]) -> None:
        if not self.heap:
            self.heap = []
        heapq.heappush(self.heap, (priority, next(_prio_seq), event, channels))


_prio_seq = itertools.count()
_new_value = object.__new__
_refcount = sys.getrefcount
# Up to 3.13 every reference a frame holds is counted; from 3.14 the
# interpreter may borrow them, and sys.getrefcount() can no longer prove that
# nothing else holds an object.
_COUNTED_REFS = sys.version_info < (3, 14)
_NO_CACHE: dict[str, Any] = {}  # never written to: see Manager._handlers_for


class Manager(Scheduler):
    """The base of every component: a tree node, an event queue and a loop.

    Args:
        *args: accepted and ignored.
        **kwargs: accepted and ignored.
    """

    # Root-only state: class defaults, replaced on the instance when used.
    _index: Index | None = None
    _batch_left = 0
    _loop_ident: int | None = None
    _cause: Event | None = None
    _gen_event: generate_events | None = None
    _fallbacks: dict[str, Any] | None = None
    _aio: Any = None  # the asyncio driver while run_async() runs (see _asyncio)
    _unregister_pending = False
    # Completion tracking (event -> [pending count, cause]) and the timer heap
    # (sleeps, wait timeouts) are made on first use: most components never
    # need them, and every container allocated per component costs GC time.
    _effects: dict[Event, list[Any]] | None = None
    # The dispatch cache ((name -> channels -> handlers), see _handlers_for)
    # and the catch-all handlers on "*": shared empty defaults until used.
    _cache: dict[str, dict[tuple[Any, ...], tuple[tuple[Any, bool], ...]]] = _NO_CACHE
    _globals: set[Any] = frozenset()  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._queue = _Queue()
        self._handlers: dict[str, set[Any]] = {}
        self._handler_seq: dict[Any, int] = {}
        self._lock = threading.RLock()
        self._running = False
        self._executing_thread: threading.Thread | None = None
        self.__thread: threading.Thread | None = None
        self.__process: BaseProcess | None = None
        self.root: Manager = self
        self.parent: Manager = self
        self.components: set[Manager] = set()

    # -- dunder protocol ---------------------------------------------------

    def __repr__(self) -> str:
        name = self.__class__.__name__
        channel = str(getattr(self, "channel", ""))
        state = "R" if self.running else "S"
        me = f"{os.getpid()}:{threading.current_thread().name}"
        return f"<{name}/{channel} {me} (queued={len(self)}) [{state}]>"

    def __contains__(self, y: object) -> bool:
        return any(x is y or x.__class__ == y for x in self.components)

    def __len__(self) -> int:
        return len(self._queue) + len(self._queue.heap)

    def __bool__(self) -> bool:
        return True

    def __add__(self, y: BaseComponent) -> Self:
        y.register(self)
        return self

    def __iadd__(self, y: BaseComponent) -> Self:
        y.register(self)
        return self

    def __sub__(self, y: BaseComponent) -> Self:
        if y.parent is not y:
            y.unregister()
        return self

    def __isub__(self, y: BaseComponent) -> Self:
        if y.parent is not y:
            y.unregister()
        return self

    # -- properties --------------------------------------------------------

    @property
    def name(self) -> str:
        """The class name."""
        return self.__class__.__name__

    @property
    def running(self) -> bool:
        """Whether this manager's loop is running."""
        return self._running

    @property
    def pid(self) -> int:
        """This process' pid, or the child's after ``start(process=True)``."""
        if self.__process is not None and self.__process.pid is not None:
            return self.__process.pid
        return os.getpid()

    # -- handler registry --------------------------------------------------

    def getHandlers(self, event: Event, channel: Any, **kwargs: Any) -> set[Any]:
        """Handlers of this manager and its descendants for ``event`` on ``channel``."""
        name = event.name
        exclude_globals = kwargs.get("exclude_globals", False)
        found: set[Any] = set()
        for node in walk(self):
            if not exclude_globals:
                found.update(node._globals)
            hs = list(node._handlers.get(name, ())) + list(node._handlers.get("*", ()))
            for h in hs:
                hc = h.channel
                if hc is None:
                    hc = getattr(node, "channel", None)
                if channel == "*" or hc == "*" or hc == channel or channel is node:
                    found.add(h)
        return found

    def addHandler(self, f: Any) -> Any:
        """Add a handler (a ``@handler`` function, bound here, or a bound method).

        Returns:
            The bound handler.
        """
        method: Any = MethodType(f, self) if isinstance(f, _FunctionType) else f
        names = method.names
        with self.root._lock:
            self._handler_seq.setdefault(method, next_seq())
            if not names and method.channel == "*":
                if not isinstance(self._globals, set):
                    self._globals = set()
                self._globals.add(method)
                keys: tuple[str, ...] = ("*",)
            elif not names:
                self._handlers.setdefault("*", set()).add(method)
                keys = ("*",)
            else:
                for name in names:
                    self._handlers.setdefault(name, set()).add(method)
                keys = names
            root = self.root
            if root._index is not None:
                seq = self._handler_seq[method]
                for key in keys:
                    root._index.add(key, self, method, seq)
            root._invalidate()
        setattr(self, method.__name__, method)
        return method

    def removeHandler(self, method: Any, event: str | None = None) -> None:
        """Remove a handler for all its names, or for ``event`` only.

        Raises:
            KeyError: if the handler is not registered under that name.
        """
        names = method.names if event is None else [event]
        root = self.root
        with root._lock:
            for name in names:
                hs = self._handlers[name]
                hs.remove(method)
                if root._index is not None:
                    root._index.remove(name, self, method)
                if not hs:
                    del self._handlers[name]
                    try:
                        delattr(self, method.__name__)
                    except AttributeError:
                        pass
            if method not in self._globals and not any(
                method in hs for hs in self._handlers.values()
            ):
                self._handler_seq.pop(method, None)
            root._invalidate()

    def _invalidate(self) -> None:
        self._cache.clear()

    def _handlers_for(self, name: str, channels: tuple[Any, ...]) -> tuple[tuple[Any, bool], ...]:
        """The cached call list for ``name`` on ``channels`` (root only)."""
        with self._lock:
            index = self._index
            if index is None:
                index = Index()
                for node in walk(self):
                    index.add_node(node)
                self._index = index
            handlers = build_handlers(self, index, name, channels)
            if name == "generate_events":
                handlers = [
                    h
                    for h in handlers
                    if not getattr(getattr(h, "__self__", None), "_passive", False)
                ]
                handlers.append(self._fallback("generate").generate_events)
            elif not handlers and name == "exception":
                handlers.append(self._fallback("exception").exception)
            elif not handlers and name == "signal":
                handlers.append(self._fallback("signal").signal)
            entry = tuple((h, bool(h.event)) for h in handlers)
            if self._cache is _NO_CACHE:
                self._cache = {}
            per_name = self._cache.setdefault(name, {})
            if len(per_name) >= CACHE_KEYS_PER_NAME:
                per_name.clear()
            try:
                per_name[channels] = entry
            except TypeError:
                pass  # an unhashable channel: computed on each dispatch
            return entry

    def _fallback(self, kind: str) -> Any:
        fallbacks = self._fallbacks
        if fallbacks is None:
            fallbacks = self._fallbacks = {}
        fb = fallbacks.get(kind)
        if fb is None:
            from .helpers import (
                FallBackExceptionHandler,
                FallBackGenerator,
                FallBackSignalHandler,
            )

            cls = {
                "generate": FallBackGenerator,
                "exception": FallBackExceptionHandler,
                "signal": FallBackSignalHandler,
            }[kind]
            fb = fallbacks[kind] = cls()
        return fb

    # -- tree --------------------------------------------------------------

    def registerChild(self, component: Manager) -> None:
        """Add ``component`` (and its subtree) under this manager."""
        root = self.root
        with root._lock:
            if component._executing_thread is not None:
                if root._executing_thread is not None:
                    raise UnregistrableError()
                root._executing_thread = component._executing_thread
                component._executing_thread = None
            self.components.add(component)
            if root._index is not None:
                for node in walk(component):
                    root._index.add_node(node)
            component._index = None
            root._invalidate()
            queue = component._queue
            if queue:
                while len(queue):
                    root._queue.append(queue.popleft())
                for priority, _, event, channels in queue.heap:
                    root._queue.push(priority, event, channels)
                queue.heap = []

    def unregisterChild(self, component: Manager) -> None:
        """Remove ``component`` (and its subtree) from under this manager."""
        root = self.root
        with root._lock:
            self.components.discard(component)
            if root._index is not None:
                for node in walk(component):
                    root._index.remove_node(node)
            root._invalidate()

    def _updateRoot(self, root: Manager) -> None:
        for node in walk(self):
            node.root = root

    # -- firing ------------------------------------------------------------

    def fireEvent(self, event: Event, *channels: Any, priority: float = 0) -> Value:
        """Queue ``event`` on ``channels`` (default: its own, else this manager's).

        Safe from any thread; wakes an idle loop.

        Returns:
            The event's new :class:`Value`, filled in as handlers return.
        """
        if not channels:
            channels = event.channels
            if not channels:
                try:
                    channels = (self.channel,)  # type: ignore[attr-defined]
                except AttributeError:
                    channels = ("*",)
            elif type(channels) is not tuple:
                channels = tuple(channels)
        event.channels = channels
        # Value(event, self) without the __init__ call: this is per fire.
        event.value = value = _new_value(Value)
        value.event = event
        value.manager = self
        root = self.root
        if get_ident() == root._loop_ident:
            cause = root._cause
            if cause is not None:
                effects = root._effects
                assert effects is not None  # a cause is only set while tracking
                effects[event] = [1, cause]
                effects[cause][0] += 1
            if priority:
                with root._lock:
                    root._queue.push(priority, event, channels)
            else:
                root._queue.append(event)
            gen = root._gen_event
            if gen is not None:
                # A signal handler interrupting the idle wait runs on this
                # thread: wake the wait (a poller retries it after EINTR).
                gen.reduce_time_left(0)
        else:
            root._fire_locked(event, channels, priority)
        return value

    fire = fireEvent

    def _fire_locked(self, event: Event, channels: tuple[Any, ...], priority: float = 0) -> None:
        """Queue from a foreign thread (or a signal handler) and wake the loop."""
        with self._lock:
            if priority:
                self._queue.push(priority, event, channels)
            else:
                self._queue.append(event)
            gen = self._gen_event
            if gen is not None:
                gen.reduce_time_left(0)

    def wake(self) -> None:
        """Wake the root's loop if it is idle (thread-safe)."""
        root = self.root
        with root._lock:
            gen = root._gen_event
            if gen is not None:
                gen.reduce_time_left(0)

    # -- flushing and dispatching -----------------------------------------

    def flushEvents(self) -> None:
        """Dispatch one batch: the events queued when it started (see module doc)."""
        root = self.root
        if root is not self:
            root.flushEvents()
            return
        if not self._batch_left:
            queue = self._queue
            if queue.heap:
                self._merge_priorities()
            self._batch_left = len(queue)
            if not self._batch_left:
                return
        prev = self._loop_ident
        self._loop_ident = get_ident()
        queue = self._queue
        popleft = queue.popleft
        cache = self._cache
        effects = self._effects
        try:
            # The dispatch of one event (spec §4.6), inlined: this loop is the
            # hot path. Completion tracking only costs when it is in use.
            while self._batch_left > 0:
                self._batch_left -= 1
                if not len(queue):
                    self._batch_left = 0
                    break
                event = popleft()
                channels = event.channels
                if event.cancelled:
                    if effects and event in effects:
                        self._completed(event)
                    continue
                tracked = False
                if effects or event.complete:
                    if (
                        event.complete
                        and (effects is None or event not in effects)
                        and self._listened_child(event, "complete")
                    ):
                        if effects is None:
                            effects = self._effects = {}
                        effects[event] = [1, None]
                    if effects and event in effects:
                        tracked = True
                        prev_cause = self._cause
                        self._cause = event
                name = event.name
                try:
                    handlers = cache[name][channels]
                except (KeyError, TypeError):
                    handlers = self._handlers_for(name, channels)
                value = event.value
                raised = False
                args = event.args
                kwargs = event.kwargs
                for h, pass_event in handlers:
                    event.handler = h
                    try:
                        if pass_event:
                            result = h(event, *args, **kwargs)
                        elif kwargs:
                            result = h(*args, **kwargs)
                        elif args:
                            result = h(*args)
                        else:
                            result = h()
                    except Exception:
                        raised = True
                        result = _exc_info()
                        self._handler_failed(event, h, result)
                    except KeyboardInterrupt:
                        self.stop()
                        result = None
                    except SystemExit as e:
                        self._exit(e)
                        result = None
                    if result is not None:
                        self._store_result(event, value, result)
                    if event.stopped:
                        break
                if tracked:
                    self._cause = prev_cause
                if (
                    event.waitingHandlers
                    or event.alert_done
                    or event.success
                    or value._waiters is not None
                    or effects
                ):
                    self._event_done(event, raised)
                    finished = not event.waitingHandlers
                else:
                    value._done = True
                    finished = True
                if finished and _COUNTED_REFS and _refcount(value) == 3 and _refcount(event) == 3:
                    # Nothing but this loop holds the event or its Value (each
                    # is held by the other, a local and the call): break their
                    # cycle so both are freed now, not by the cyclic GC.
                    del value.event
        finally:
            self._loop_ident = prev

    flush = flushEvents

    def _merge_priorities(self) -> None:
        queue = self._queue
        with self._lock:
            heap = sorted(queue.heap)
            queue.heap = []
            n = len(queue)
            head = [queue.popleft() for _ in range(n)]
            before = [e for p, _, e, _ in heap if p < 0]
            after = [e for p, _, e, _ in heap if p > 0]
            queue.extendleft(reversed(before + head + after))

    def _store_result(self, event: Event, value: Value, result: Any) -> None:
        """A handler returned ``result``: a generator becomes a task, anything else a value."""
        kind = type(result)
        if kind is GeneratorType or kind is CoroutineType:
            event.waitingHandlers += 1
            value.promise = True
            if kind is CoroutineType and self._aio is not None:
                self._aio.spawn(event, result)  # a real asyncio task (run_async)
                return
            key = (event, result, None)
            if kind is CoroutineType:
                self._own_coroutine(key, getattr(event.handler, "__self__", None))
            self._add_task(key)
            self._tasks_ready = True
        else:
            value.value = result

    def _handler_failed(self, event: Event, h: Any, excinfo: ExcInfo) -> None:
        if event.name == "exception":
            # An exception handler that raises is reported once, by the
            # fallback printer: firing another exception event could loop.
            from .helpers import report_error

            report_error(excinfo[0], excinfo[1], excinfo[2], h, event)
            return
        value = event.value
        value.errors = True
        if event.failure:
            self.fire(event.child("failure", event, excinfo), *event.channels)
        self.fire(exception(excinfo[0], excinfo[1], excinfo[2], handler=h, fevent=event))

    def _event_done(self, event: Event, raised: bool) -> None:
        """The done step: derived events, waiters, completion (spec §4.7)."""
        if event.waitingHandlers:
            return
        value = event.value
        if event.alert_done and self._listened(f"{event.name}_done", event.channels):
            # Only built when someone listens: call()/wait() resume through
            # Value waiters, not through this event.
            self.fire(event.child("done", value.value), *event.channels)
        if not raised and event.success and self._listened_child(event, "success"):
            channels = getattr(event, "success_channels", event.channels)
            self.fire(event.child("success", event, value.value), *channels)
        if value is not None:
            self._resolve(value)
        if self._effects and event in self._effects:
            self._completed(event)

    def _resolve(self, value: Value) -> None:
        """Mark ``value`` done and resume whoever waits for it (loop thread only)."""
        value._done = True
        waiters = value._waiters
        if waiters is not None:
            value._waiters = None
            for resume in waiters:
                resume(value)

    def _listened(self, name: str, channels: tuple[Any, ...]) -> bool:
        """Whether any handler would receive ``name`` fired on ``channels``."""
        try:
            return bool(self._cache[name][channels])
        except (KeyError, TypeError):
            return bool(self._handlers_for(name, channels))

    def _listened_child(self, event: Event, kind: str) -> bool:
        """Whether ``<name>_<kind>`` (success, complete) would reach a handler.

        Unheard, it is neither built nor fired (nor, for complete, tracked):
        the common server events cost nothing for the features nobody uses.
        """
        names = _CHILD_NAMES.get(event.name)
        if names is None:
            if len(_CHILD_NAMES) > 4096:
                _CHILD_NAMES.clear()
            name = event.name
            names = _CHILD_NAMES[name] = {
                "success": f"{name}_success",
                "complete": f"{name}_complete",
            }
        channels = getattr(event, _CHANNELS_ATTR[kind], event.channels)
        return self._listened(names[kind], channels)

    def _completed(self, event: Event | None) -> None:
        effects = self._effects
        if effects is None:
            return
        while event is not None:
            record = effects.get(event)
            if record is None:
                return
            record[0] -= 1
            if record[0] > 0:
                return
            del effects[event]
            if event.complete:
                channels = getattr(event, "complete_channels", event.channels)
                value = event.value.value if event.value is not None else None
                self.fire(event.child("complete", event, value), *channels)
            event = record[1]

    # -- the loop ----------------------------------------------------------

    def tick(self, timeout: float = -1) -> None:
        """One loop iteration: timers, tasks, one batch, then the idle step."""
        self._tick(timeout, True)

    def _tick(self, timeout: float, block: bool) -> float:
        """``tick()``; returns how long the loop may idle (< 0: unlimited)."""
        if self._pending:
            self._run_pending()
        if self._timers:
            self._run_timers()
        tasks = self._tasks
        if tasks:
            self._tasks_ready = False
            for event, task, parent in list(tasks):
                if (event, task, parent) in tasks:
                    self._step(event, task, parent, None, None)
        if self._queue or self._batch_left or self._queue.heap:
            self.flush()
        if self._running:
            return self._generate(timeout, block)
        return 0

    def _generate(self, timeout: float, block: bool = True) -> float:
        """The idle step: fire ``generate_events`` and let it block (module doc).

        With ``block`` false (under asyncio, whose loop does the waiting) the
        handlers that would wait - pollers and the fallback - see a
        ``time_left`` of 0, and the time they would have waited is returned.
        """
        try:
            handlers = self._cache["generate_events"][("*",)]
        except KeyError:
            handlers = self._handlers_for("generate_events", ("*",))
        only_fallback = len(handlers) == 1
        if only_fallback and (
            self._queue or self._tasks_ready or self._pending or not self._running
        ):
            return 0  # only the fallback, which would not wait: skip the event
        with self._lock:
            if self._queue or self._batch_left or self._queue.heap or not self._running:
                time_left: float = 0
            else:
                time_left = timeout
                if self._tasks_ready or self._pending:
                    time_left = 0
                elif self._tasks:
                    # Only tasks that poll (yield None) are left: 3.2.5's cadence.
                    time_left = TIMEOUT if time_left < 0 else min(time_left, TIMEOUT)
                if self._timers:
                    due = max(0.0, self._timers[0][0] - _clock.now())
                    time_left = due if time_left < 0 else min(time_left, due)
            if only_fallback and (time_left == 0 or not block):
                return time_left  # the fallback would only wait: skip the event
            event = generate_events(self._lock, timeout)
            event.reduce_time_left(time_left)
            event.channels = ("*",)
            event.value = Value(event, self)
            self._gen_event = event
        prev = self._loop_ident
        self._loop_ident = get_ident()
        idle: float | None = None
        try:
            for h, pass_event in handlers:
                if self._queue:
                    event.reduce_time_left(0)
                if (
                    not block
                    and idle is None
                    and getattr(getattr(h, "__self__", None), "_idles", False)
                ):
                    idle = event.time_left  # what this poller/fallback would wait
                    event.reduce_time_left(0)
                event.handler = h
                try:
                    if pass_event:
                        h(event)
                    else:
                        h()
                except Exception:
                    etype, evalue, etb = _exc_info()
                    self._handler_failed(event, h, (etype, evalue, etb))
                except KeyboardInterrupt:
                    self.stop()
                except SystemExit as e:
                    self._exit(e)
                if event.stopped:
                    break
        finally:
            self._gen_event = None
            self._loop_ident = prev
        return event.time_left if idle is None else idle

    async def run_async(self) -> None:
        """Run the loop on the running asyncio loop until ``stop()``.

        Descriptors are watched with the asyncio loop's ``add_reader``/
        ``add_writer``, the loop idles in asyncio, and ``async def`` handlers
        run as asyncio tasks, so any asyncio awaitable works inside them.
        """
        from ._asyncio import run_on_asyncio

        await run_on_asyncio(self)

    def run(self, socket: Any = None) -> None:
        """Run the loop in this thread until ``stop()``.

        Args:
            socket: (process mode) the pipe end to bridge to the parent.
        """
        atexit.register(self.stop)
        previous = self._install_signals()
        self._running = True
        me = threading.current_thread()
        self.root._executing_thread = me
        prev_ident = self._loop_ident
        self._loop_ident = get_ident()
        _clock.running_roots.add(self)
        normal = False
        try:
            if socket is not None:
                from .bridge import Bridge

                Bridge(socket, channel=socket.channel).register(self)
            self.fire(started(self))
            try:
                while self._running or len(self):
                    self.tick()
                for _ in range(3):
                    self.tick()
            except Exception as exc:
                from .helpers import report_unhandled

                report_unhandled(exc)
            normal = True
        finally:
            try:
                self.tick()
            except Exception:
                pass
            self._close_coroutines()  # stopping cancels pending async handlers
            _clock.running_roots.discard(self)
            self._loop_ident = prev_ident
            self._restore_signals(previous)
            atexit.unregister(self.stop)
            if normal:
                self.root._executing_thread = None
                self.__thread = None
                self.__process = None

    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return previous
        for signo in (_signal.SIGINT, _signal.SIGTERM):
            try:
                previous[signo] = _signal.signal(signo, self._on_signal)
            except (ValueError, OSError):
                pass
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for signo, prev in previous.items():
            try:
                if _signal.getsignal(signo) == self._on_signal:
                    _signal.signal(signo, prev)
            except (ValueError, OSError, TypeError):
                pass

    def _on_signal(self, signo: int, stack: FrameType | None) -> None:
        try:
            channels: tuple[Any, ...] = (self.channel,)  # type: ignore[attr-defined]
        except AttributeError:
            channels = ("*",)
        e = signal(signo, stack)
        e.channels = channels
        e.value = Value(e, self)
        self.root._fire_locked(e, channels)

    @overload
    def start(
        self, process: Literal[False] = False, link: Manager | None = None
    ) -> tuple[threading.Thread, None]: ...
    @overload
    def start(
        self, process: Literal[True], link: Manager | None = None
    ) -> tuple[BaseProcess, Bridge | None]: ...
    @overload
    def start(
        self, process: bool, link: Manager | None = None
    ) -> tuple[threading.Thread | BaseProcess, Bridge | None]: ...

    def start(
        self, process: bool = False, link: Manager | None = None
    ) -> tuple[threading.Thread | BaseProcess, Bridge | None]:
        """Run the loop in a new daemon thread (or a forked process).

        Args:
            process: run in a child process instead of a thread.
            link: (process mode) a manager to connect to the child with a Bridge.

        Returns:
            ``(thread, None)`` or ``(process, bridge_or_None)``.
        """
        if process:
            import multiprocessing
            import uuid
            import warnings

            ctx = multiprocessing.get_context("fork")
            bridge = None
            target: Callable[[], None] = self.run
            child_end: Any = None
            if link is not None:
                from ..net.sockets import Pipe
                from .bridge import Bridge

                channel = uuid.uuid4()
                parent_end, child_end = Pipe(channel, channel)
                bridge = Bridge(parent_end, channel=channel).register(link)

                def child_main() -> None:
                    # Each process keeps only its own end open, so that either
                    # side reads EOF when the other one goes away.
                    parent_end._sock.close()
                    self.run(child_end)

                target = child_main
            proc = ctx.Process(target=target, name=self.name, daemon=True)
            with warnings.catch_warnings():
                # Process mode is a fork of this manager by definition (3.2.5);
                # Python 3.12+ warns when a process with threads forks.
                warnings.filterwarnings(
                    "ignore", "This process .* is multi-threaded", DeprecationWarning
                )
                proc.start()
            if child_end is not None:
                child_end._sock.close()
            self.__process = proc
            return proc, bridge
        thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self.__thread = thread
        thread.start()
        return thread, None

    def join(self) -> None:
        """Wait for the thread or process started by ``start()``."""
        if self.__thread is not None:
            return self.__thread.join()
        if self.__process is not None:
            return self.__process.join()
        return None

    def _exit(self, e: SystemExit) -> None:
        """A handler raised ``SystemExit``: stop with its code.

        When the loop had already stopped (the handler called ``stop(code)``
        itself, which raises), a code is passed on instead of being lost; with
        no loop running at all, the exit is swallowed (3.2.5).
        """
        if self.running:
            self.stop(e.code)
        elif e.code is not None and self.root._executing_thread is not None:
            raise e

    def stop(self, code: int | str | None = None) -> None:
        """Stop the loop: fire ``stopped``, then return from ``run()``.

        Args:
            code: if not ``None``, raise ``SystemExit(code)`` once stopped.
        """
        process = self.__process
        if process is not None and process.pid != os.getpid() and process.is_alive():
            process.terminate()
            process.join(TIMEOUT)
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, _signal.SIGKILL)
        if not self.running:
            root = self.root
            if root is not self and root.running:
                # A component of a running application stops the application
                # (3.2.5 silently did nothing: only the root's loop runs).
                root.stop(code)
            return
        self._running = False
        self.fire(stopped(self))
        if self.root._executing_thread is None:
            for _ in range(3):
                self.tick()
        if code is not None:
            raise SystemExit(code)


_FunctionType = type(lambda: None)
