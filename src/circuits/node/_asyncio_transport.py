"""`AsyncioTransport`: the machinery shared by transports whose client is asyncio.

The Redis and NATS clients are asyncio libraries, while a `Node` calls
`Transport.send` from its own (not asyncio) loop. Such a transport runs one
asyncio loop in one daemon worker thread and keeps, under one lock:

* the outbox, a deque of messages for the loop's sender. `send` appends to it
  and decides `BufferFull` synchronously in the caller's thread; it wakes the
  sender with ``call_soon_threadsafe`` only when the sender sleeps (``_idle``),
  so a burst of sends costs one wake-up;
* whether the link is up, and whether the transport was stopped.

What the loop reads in one pass is handed to the Node as one batch
(`DeliveryBatch`, ``deliver_many``); state changes reach ``on_state`` once
each. A subclass connects, sends and receives in `_main`, on the loop.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import threading
from collections import deque
from typing import Any, Generic, TypeVar

from ._transport import BufferFull, Delivery, DeliveryBatch, Transport, TransportError

__all__ = ["AsyncioTransport", "describe"]

_Item = TypeVar("_Item")


class AsyncioTransport(Transport, Generic[_Item]):
    """A `Transport` run by an asyncio loop in a worker thread; ``_Item`` is what the outbox holds.

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
            try:
                self._loop.call_soon_threadsafe(self._wakeup.set)
            except RuntimeError:  # loop closed: stop() raced us
                pass

    def _set_connected(self, up: bool) -> None:
        with self._lock:
            self._connected = up

    # -- the worker thread -------------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
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

    @abc.abstractmethod
    async def _main(self) -> None:
        """Connect, send and receive until stopped (on the worker loop)."""

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
