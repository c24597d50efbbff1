"""The seam between a `Node` and the engine that carries its messages.

A `Node` speaks to other nodes through one `Transport`, chosen by the URL
scheme it is given (``tcp://``, ``redis://``, ``nats://``). The Node owns
everything about events: encoding them (JSON, the 3.2.5 packet format),
firing what arrives, matching results to pending calls, timeouts. A
transport only moves opaque ``bytes`` between named nodes, in three
delivery modes:

* ``Target.broadcast(channel)``: every node subscribed to ``channel`` gets
  it (Redis pub/sub, NATS subjects, or every connected TCP peer);
  fire-and-forget, nothing is kept for a node that is down.
* ``Target.group(group)``: exactly one member of ``group`` gets it (Redis
  Streams with a consumer group: durable, at-least-once, a dead member's
  pending messages are claimed by another; NATS queue groups: at-most-once).
* ``Target.node(name)``: the node called ``name`` gets it (results of remote
  calls travel this way too).

Threading: a Node calls `Transport.send` from its event loop's thread; the
transport must not block it (engines with asyncio clients run their own loop
in a worker thread, or on the application's loop under ``run_async``).
Incoming messages are handed to the ``deliver`` callback given at
construction, from any thread: the Node turns them into events with its
thread-safe ``fire``. ``deliver`` returns once the message is accepted;
durable transports acknowledge after ``ack()`` is called on the `Delivery`.
A transport that reads several messages at once hands them over together
with `Transport.deliver_many` (in the order read): each thread-safe ``fire``
wakes the Node's loop, so one per batch instead of one per message matters
under load. `DeliveryBatch` collects what one pass of an asyncio worker loop
read; it costs no extra wake-up when a single message arrives.

Connection loss: ``start`` never raises for an unreachable engine; the
transport reconnects with exponential backoff (`Backoff`) and reports its
state through ``on_state`` (``"connected"``, ``"disconnected"``, with the
error). Messages sent meanwhile are kept, up to ``buffer_limit``; beyond it
`send` raises `BufferFull` (nothing is dropped silently).

Security: payloads are JSON produced and parsed by the Node; no transport
may unpickle anything.
"""

from __future__ import annotations

import abc
import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import SplitResult

__all__ = [
    "Backoff",
    "BufferFull",
    "Delivery",
    "DeliveryBatch",
    "Target",
    "Transport",
    "TransportError",
    "missing_extra",
]

# Messages a disconnected transport keeps before send() refuses more.
BUFFER_LIMIT = 10_000


class TransportError(RuntimeError):
    """The transport cannot do what was asked (bad URL, unsupported mode, ...)."""


class BufferFull(TransportError):
    """The engine is unreachable and ``buffer_limit`` messages are already waiting."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a message goes: ``mode`` is broadcast, group or node; ``name`` says which."""

    mode: Literal["broadcast", "group", "node"]
    name: str

    @classmethod
    def broadcast(cls, channel: str) -> Target:
        return cls("broadcast", channel)

    @classmethod
    def group(cls, group: str) -> Target:
        return cls("group", group)

    @classmethod
    def node(cls, name: str) -> Target:
        return cls("node", name)


@dataclass(slots=True)
class Delivery:
    """One received message: its bytes, how it was addressed, and its acknowledgement.

    ``ack`` is a no-op for fire-and-forget modes; for durable group delivery
    the message is redelivered (to this or another member) unless acked.
    """

    payload: bytes
    target: Target
    ack: Callable[[], None] = field(default=lambda: None)


@dataclass(slots=True)
class Backoff:
    """Reconnection delays: ``initial`` doubling up to ``maximum``, with +-``jitter``."""

    initial: float = 0.1
    maximum: float = 10.0
    jitter: float = 0.1
    _next: float = 0.0

    def next_delay(self) -> float:
        """The delay before the next attempt (grows until `reset`)."""
        delay = self._next or self.initial
        self._next = min(delay * 2, self.maximum)
        return max(0.0, delay * (1 + random.uniform(-self.jitter, self.jitter)))

    def reset(self) -> None:
        """After a successful connection: start again from ``initial``."""
        self._next = 0.0


class Transport(abc.ABC):
    """Moves bytes between named nodes; one instance per `Node`.

    Args:
        url: the parsed URL (scheme, host, port, path such as the Redis db).
        name: this node's name, unique among the nodes that share the engine.
        deliver: called with each `Delivery` for this node, from any thread.
        deliver_many: called with a list of deliveries read together, in
            order (default: ``deliver`` for each).
        groups: the groups this node is a member of (it gets its share of
            ``Target.group`` messages for each).
        channels: the broadcast channels this node listens to; a transport
            may accept wildcards (NATS ``*`` and ``>``; ``"*"`` means all).
        on_state: called with ``("connected", None)`` or
            ``("disconnected", error)`` when the link changes.
        buffer_limit: messages kept while disconnected.
        backoff: the reconnection schedule.
    """

    scheme: str = ""

    def __init__(
        self,
        url: SplitResult,
        name: str,
        deliver: Callable[[Delivery], None],
        *,
        groups: Sequence[str] = (),
        channels: Sequence[str] = ("*",),
        on_state: Callable[[str, BaseException | None], None] | None = None,
        buffer_limit: int = BUFFER_LIMIT,
        backoff: Backoff | None = None,
        deliver_many: Callable[[list[Delivery]], None] | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.deliver = deliver
        self.deliver_many = deliver_many or self._deliver_each
        self.groups = tuple(groups)
        self.channels = tuple(channels)
        self.on_state = on_state or (lambda state, error: None)
        self.buffer_limit = buffer_limit
        self.backoff = backoff or Backoff()

    def _deliver_each(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self.deliver(delivery)

    @abc.abstractmethod
    def start(self) -> None:
        """Begin connecting (without blocking) and receiving; reconnect on loss."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop receiving, flush what can be flushed, close the link; idempotent."""

    @abc.abstractmethod
    def send(self, payload: bytes, target: Target) -> None:
        """Queue ``payload`` for ``target``; thread-safe and non-blocking.

        Raises:
            BufferFull: disconnected and ``buffer_limit`` messages wait already.
            TransportError: this transport cannot deliver to such a target.
        """

    @property
    @abc.abstractmethod
    def connected(self) -> bool:
        """Whether the link to the engine (or to at least one peer) is up."""


class DeliveryBatch:
    """Deliveries read during one pass of an asyncio loop, handed over when it ends.

    `add` schedules a flush with ``loop.call_soon`` for the first delivery of
    a batch; the readers keep adding while their client parses messages that
    are already buffered (nothing awaits the socket then), and the flush runs
    once they wait for more. A lone message is handed over one callback later,
    without any extra wake-up. ``hand_over`` must not raise.
    """

    __slots__ = ("_hand_over", "_items", "_loop")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, hand_over: Callable[[list[Delivery]], None]
    ) -> None:
        self._loop = loop
        self._hand_over = hand_over
        self._items: list[Delivery] = []

    def add(self, delivery: Delivery) -> None:
        """Queue ``delivery`` for the end of this loop pass (on the loop's thread)."""
        items = self._items
        items.append(delivery)
        if len(items) == 1:
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Hand over what is queued now (also called when the loop stops)."""
        items = self._items
        if items:
            self._items = []
            self._hand_over(items)


def missing_extra(extra: str, module: str) -> ImportError:
    """The error for a transport whose client library is not installed."""
    return ImportError(
        f"this transport needs the {module!r} package: pip install 'circuits[{extra}]'"
    )
