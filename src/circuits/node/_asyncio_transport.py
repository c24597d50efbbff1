"""`AsyncioTransport`: the machinery shared by transports whose client is asyncio.

The Redis and NATS clients are asyncio libraries. Such a transport runs its
client coroutines (`_main`) in one of two modes:

* **thread mode** (the application runs with ``run()``/``start()``, whose
  loop is not asyncio): one asyncio loop in one daemon worker thread. Every
  message crosses threads twice: ``send`` wakes the worker loop with
  ``call_soon_threadsafe``, and a delivery is a cross-thread ``fire`` that
  takes the root's lock and wakes the circuits poller;
* **loop mode** (the application runs with ``run_async()``, so the circuits
  loop *is* an asyncio loop): `_main` runs as a task on that loop, in the
  application's thread. The Node asks for it (``start(loop=...)``) only when
  it starts the transport from a handler of a tree that ``run_async()``
  drives on the running loop; then ``send`` wakes the sender with a plain
  ``Event.set`` and deliveries are same-thread ``fire`` calls. `stop` cannot
  block there: it asks the task to end and returns it; the Node awaits it
  so that ``run_async()`` returns only once the client is closed. Cancelling
  the task (an asyncio program that ends without stopping the app) is a stop
  as well: the client is still closed.

Both modes keep, under one lock (uncontended in loop mode):

* the outbox, a deque of messages for the loop's sender. `send` appends to it
  and decides `BufferFull` synchronously in the caller's thread; it wakes the
  sender only when the sender sleeps (``_idle``), so a burst of sends costs
  one wake-up;
* whether the link is up, and whether the transport was stopped.

What the loop reads in one pass is handed to the Node as one batch
(`DeliveryBatch`, ``deliver_many``); state changes reach ``on_state`` once
each. Ordering, `BufferFull`, reconnection and state reports are the same
code in both modes. A subclass connects, sends and receives in `_main`.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._transport import BufferFull, Delivery, DeliveryBatch, Transport, TransportError

__all__ = ["AsyncioTransport", "describe"]

_Item = TypeVar("_Item")

# Loop mode, stop() from another thread: how long it waits for the task, as
# the worker-thread mode bounds its join (both transports close within ~5 s).
STOP_WAIT_S = 5.0


class AsyncioTransport(Transport, Generic[_Item]):
    """A `Transport` whose asyncio client runs on a worker's loop or the app's loop.

    ``_Item`` is what the outbox holds.

    A subclass sets ``_where`` (where the engine is, for messages: never a
    password) and implements `_main`.
    """

    _where: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The subclass's own logger, so log lines keep naming their transport.
        self._log = logging.getLogger(type(self).__module__)
        self._lock = threading.Lock()
        self._outbox: deque[_Item] = deque()
        self._connected = False
        self._stopped = False
        self._reported: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Loop mode: the task that runs _main on the application's loop.
        self._task: asyncio.Task[None] | None = None
        # The thread that runs the loop: wake-ups from it need no call_soon_threadsafe.
        self._loop_ident: int | None = None
        self._finished = threading.Event()  # loop mode: the task has ended
        self._batch: DeliveryBatch | None = None
        self._wakeup = asyncio.Event()
        # The sender sleeps on _wakeup only after setting _idle (under _lock),
        # so send() pays for call_soon_threadsafe once per sleep, not per message.
        self._idle = False

    @property
    def connected(self) -> bool:
        """Whether the link to the engine is up (and subscribed)."""
        return self._connected

    # -- any thread --------------------------------------------------------------------

    def _spawn(self) -> threading.Thread:
        """A new loop and the (unstarted) worker thread that will run it."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._batch = DeliveryBatch(loop, self._hand_over)
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name=f"circuits-{self.scheme}-{self.name}", daemon=True
        )
        return self._thread

    def _start_here(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[None]:
        """Loop mode: run `_main` as a task on ``loop``, the caller's running loop."""
        if asyncio.get_running_loop() is not loop:
            raise TransportError(
                f"{self.scheme} transport {self.name!r}: start(loop={loop!r}) must be "
                "called from a coroutine or callback running on that loop"
            )
        previous = self._task
        self._loop = loop
        self._loop_ident = threading.get_ident()
        self._batch = DeliveryBatch(loop, self._hand_over)
        self._finished = threading.Event()
        self._task = loop.create_task(
            self._run_here(previous), name=f"circuits-{self.scheme}-{self.name}"
        )
        return self._task

    def _on_loop_thread(self) -> bool:
        return threading.get_ident() == self._loop_ident

    def _call_on_loop(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` on the transport's loop: at once from its thread."""
        loop = self._loop
        if loop is None:
            return
        if self._on_loop_thread():
            callback()
            return
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:  # loop closed: stop() raced us
            pass

    @property
    def closing(self) -> asyncio.Task[None] | None:
        """Loop mode, after `stop` on the loop: the task still closing the link (await it)."""
        task = self._task
        return task if self._stopped and task is not None and not task.done() else None

    def _stop_task(self, request_stop: Callable[[], object]) -> None:
        """Loop mode part of `stop`: ask the task to end.

        From the loop's thread this cannot wait (the task needs the loop): the
        caller awaits `closing`. From another thread it waits, as the
        worker-thread mode joins its thread.
        """
        task = self._task
        if task is None or task.done():
            return
        self._call_on_loop(request_stop)
        if not self._on_loop_thread() and not self._finished.wait(STOP_WAIT_S):
            self._log.warning("%s transport %r: did not stop in time", self.scheme, self.name)

    def _enqueue(self, item: _Item, size: int) -> None:
        """Queue ``item`` (``size`` bytes of payload) for the sender, or refuse it."""
        with self._lock:
            if self._stopped:
                raise TransportError(f"{self.scheme} transport {self.name!r} is stopped")
            self._check_size(size)
            if not self._connected and len(self._outbox) >= self.buffer_limit:
                raise BufferFull(
                    f"{self.scheme} at {self._where} is unreachable and {len(self._outbox)} "
                    f"messages wait already (buffer_limit={self.buffer_limit})"
                )
            self._outbox.append(item)
            self._wake_sender()

    def _check_size(self, size: int) -> None:
        """Raise `TransportError` for a payload the engine refuses (under ``_lock``)."""

    def _wake_sender(self) -> None:
        # (under _lock)
        if self._idle and self._loop is not None:
            self._idle = False
            self._call_on_loop(self._wakeup.set)  # at once from the loop's thread

    def _set_connected(self, up: bool) -> None:
        with self._lock:
            self._connected = up

    # -- the worker thread -------------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        self._loop_ident = threading.get_ident()
        try:
            loop.run_until_complete(self._main())
        except Exception:
            self._log.exception("%s transport %r: worker crashed", self.scheme, self.name)
        finally:
            if self._batch is not None:
                self._batch.flush()  # read before the stop: still handed over
            self._set_connected(False)
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    # -- loop mode: a task on the application's loop ----------------------------------

    async def _run_here(self, previous: asyncio.Task[None] | None) -> None:
        try:
            if previous is not None:  # restarted while the last run still closes
                await asyncio.wait({previous})
            self._reset()
            if self._stopped:  # stop() came before this task ran
                return
            await self._main()
        except asyncio.CancelledError:
            raise  # (_main closed what it had opened)
        except Exception:
            self._log.exception("%s transport %r: task crashed", self.scheme, self.name)
        finally:
            if self._batch is not None:
                self._batch.flush()  # read before the stop: still handed over
            self._set_connected(False)
            self._finished.set()

    def _reset(self) -> None:
        """Loop mode, before `_main`: reset what a previous run left (default: nothing)."""

    @abc.abstractmethod
    async def _main(self) -> None:
        """Connect, send and receive until stopped (on the transport's loop).

        A cancellation must be treated as a stop: close what is open, then
        let it propagate.
        """

    def _deliver(self, delivery: Delivery) -> None:
        assert self._batch is not None
        self._batch.add(delivery)

    def _hand_over(self, deliveries: list[Delivery]) -> None:
        try:
            self.deliver_many(deliveries)
        except Exception:
            self._log.exception(
                "%s transport %r: deliver_many() failed for %d messages",
                self.scheme,
                self.name,
                len(deliveries),
            )

    def _report(self, state: str, error: BaseException | None) -> None:
        """Log a state change and pass it to ``on_state``, once per change."""
        previous, self._reported = self._reported, state
        if previous == state:
            if error is not None:
                self._log.debug(
                    "%s at %s still unreachable: %s", self.scheme, self._where, describe(error)
                )
            return
        if state == "connected":
            self._log.info("%s transport %r: connected to %s", self.scheme, self.name, self._where)
        elif error is not None:
            self._log.warning(
                "%s transport %r: %s %s: %s; retrying with backoff",
                self.scheme,
                self.name,
                "lost" if previous == "connected" else "cannot reach",
                self._where,
                describe(error),
            )
        try:
            self.on_state(state, error)
        except Exception:
            self._log.exception(
                "%s transport %r: on_state(%r) failed", self.scheme, self.name, state
            )


def describe(error: BaseException) -> str:
    """An error for a log line (redis-py's repr() of its errors is only a category)."""
    return f"{type(error).__name__}: {error}"
