"""Helpers for the node tests: running managers, an event recorder, an in-memory transport,
and nodes with an application to run on a real broker."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple

import pytest
from tests.core.support import WaitingRecorder as Recorder
from tests.node.brokers import wait_until

import circuits
from circuits import Component, Event, Manager, handler
from circuits.node import BufferFull, Node, RemoteError, broadcast, remote
from circuits.node._transport import Backoff, Delivery, Target, Transport


class Loops:
    """Managers running in threads; ``stop_all`` stops and joins them."""

    def __init__(self):
        self.running: list[tuple[Manager, threading.Thread]] = []

    def start(self, *components) -> tuple[Manager, Recorder]:
        m = Manager()
        rec = Recorder().register(m)
        for c in components:
            c.register(m)
        thread, _ = m.start()
        self.running.append((m, thread))
        return m, rec

    def stop_all(self):
        for m, _ in self.running:
            m.stop()
        for _, thread in self.running:
            thread.join(5)
            assert not thread.is_alive(), "loop thread did not stop"


def fire_and_wait(m, rec, event, timeout=5.0):
    """Fire ``event`` (a remote/to_group) on ``m`` and wait until its Value is done.

    ``success``/``failure`` make the loop fire ``<name>_success`` or
    ``<name>_failure`` after the done step; the recorder wakes on them.
    """
    event.success = True
    event.failure = True
    value = m.fire(event)
    rec.wait_until(lambda: value._done, timeout, f"the result of {event!r}")
    return value


class MemoryBus:
    """An in-process engine: named nodes, broadcast, groups (round robin)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.nodes: dict[str, MemoryTransport] = {}
        self.groups: dict[str, list[str]] = defaultdict(list)
        self.turn: dict[str, int] = defaultdict(int)
        self.sent: list[tuple[bytes, Target]] = []

    def route(self, payload: bytes, target: Target) -> None:
        with self.lock:
            self.sent.append((payload, target))
            if target.mode == "node":
                dest = [self.nodes[target.name]] if target.name in self.nodes else []
            elif target.mode == "broadcast":
                dest = [
                    t for t in self.nodes.values() if "*" in t.channels or target.name in t.channels
                ]
            else:
                members = self.groups.get(target.name) or []
                if not members:
                    return  # nobody serves the group: the caller times out
                i = self.turn[target.name] % len(members)
                self.turn[target.name] += 1
                dest = [self.nodes[members[i]]]
        for t in dest:
            t.deliver(Delivery(payload, target))


BUS = MemoryBus()


class MemoryTransport(Transport):
    """``memory://bus``: delivers through `BUS` (synchronously, from the sender's thread)."""

    scheme = "memory"
    on_start: Callable[[MemoryTransport], None] | None = None

    def start(self) -> None:
        with BUS.lock:
            BUS.nodes[self.name] = self
            for g in self.groups:
                BUS.groups[g].append(self.name)
        self.on_state("connected", None)

    def stop(self) -> None:
        with BUS.lock:
            BUS.nodes.pop(self.name, None)
            for g in self.groups:
                if self.name in BUS.groups[g]:
                    BUS.groups[g].remove(self.name)

    def send(self, payload: bytes, target: Target) -> None:
        # From the node's loop thread; deliver on another thread as a real engine would.
        threading.Thread(target=BUS.route, args=(payload, target), daemon=True).start()

    @property
    def connected(self) -> bool:
        return self.name in BUS.nodes


# -- nodes on a real broker (test_node_redis.py, test_node_nats.py) -------------------

# Reconnect at once after a broker restart: a test waits for it.
FAST_BACKOFF = Backoff(initial=0.05, maximum=0.2, jitter=0.0)


class hello(Event):
    pass


class boom(Event):
    pass


class note(Event):
    pass


class job(Event):
    pass


class App(Component):
    """What a node runs for others; records what came, wakes waiters."""

    channel = "app"

    def init(self, name=""):
        self.node_name = name
        self.notes = []
        self.jobs = []
        self._cond = threading.Condition()

    def hello(self, x):
        return f"{self.node_name}: Hi {x}"

    def boom(self):
        raise ValueError("no way")

    def note(self, text):
        with self._cond:
            self.notes.append(text)
            self._cond.notify_all()

    def job(self, i):
        with self._cond:
            self.jobs.append(i)
            self._cond.notify_all()
        return i

    def wait_until(self, predicate, what, timeout=5.0):
        with self._cond:
            assert self._cond.wait_for(predicate, timeout), (
                f"{self.node_name}: timed out waiting for {what} (notes={self.notes},"
                f" jobs={self.jobs})"
            )


class AsyncApp(App):
    """`App` with ``async def`` handlers that await asyncio: for a node under run_async()."""

    # (override: a subclass's handler otherwise runs besides the base class's)
    @handler("hello", override=True)
    async def hello(self, x):
        await asyncio.sleep(0.001)  # an asyncio awaitable: only run_async() allows it
        return f"{self.node_name}: Hi {x}"

    @handler("boom", override=True)
    async def boom(self):
        await asyncio.sleep(0.001)
        raise ValueError("no way")


class Member(NamedTuple):
    node: Node
    app: App
    manager: Manager
    rec: Recorder


def start_member(loops, url, name, **kwargs) -> Member:
    """A Node named ``name`` and an `App`, in a Manager of their own, connected."""
    kwargs.setdefault("backoff", copy.copy(FAST_BACKOFF))
    node = Node(url=url, name=name, **kwargs)
    app = App(name)
    m, rec = loops.start(node, app)
    rec.wait_for("connected_to", channel="node")
    return Member(node, app, m, rec)


def start_async_member(loops, url, name, **kwargs) -> Member:
    """As `start_member`, with an `AsyncApp`, run by ``circuits.run_async`` in a thread."""
    kwargs.setdefault("backoff", copy.copy(FAST_BACKOFF))
    m = Manager()
    rec = Recorder().register(m)
    node = Node(url=url, name=name, **kwargs).register(m)
    app = AsyncApp(name).register(m)
    thread = threading.Thread(target=circuits.run_async, args=(m,), name=name, daemon=True)
    thread.start()
    loops.running.append((m, thread))
    rec.wait_for("connected_to", channel="node")
    return Member(node, app, m, rec)


def fire_all_and_wait(m, rec, events, timeout=5.0):
    """Fire ``events`` (remote/to_group) on ``m`` at once; wait until every Value is done."""
    values = []
    for event in events:
        event.success = True
        event.failure = True
        values.append(m.fire(event))
    rec.wait_until(
        lambda: all(v._done for v in values), timeout, f"the results of {len(values)} calls"
    )
    return values


def own_broadcasts(member):
    """The member's own broadcasts, echoed back by the engine, once fully handled."""
    # Transports that read several messages at once hand them over as one
    # _node_deliveries event (a list); the others as _node_delivery events.
    singles = [(e, [e.args[1]]) for e in member.rec.find("_node_delivery")]
    batches = [(e, e.args[1]) for e in member.rec.find("_node_deliveries")]
    return [
        d
        for e, deliveries in singles + batches
        if e.value._done
        for d in deliveries
        if d.target.mode == "broadcast"
    ]


def flush_after(sender, receiver):
    """After a broker restart, let ``sender`` flush what it kept only once ``receiver`` is back.

    Broadcast and node messages are fire-and-forget on both brokers: sent
    before the receiver has subscribed again, they would be lost. The
    sender's transport reports "connected" before it flushes, so its report
    waits (in the transport's thread) for the receiver's second ``connected_to``.
    """
    report = sender.node.transport.on_state

    def on_state(state, error):
        if state == "connected":
            wait_until(
                lambda: len(receiver.rec.find("connected_to")) >= 2, "the receiver to reconnect"
            )
        report(state, error)

    sender.node.transport.on_state = on_state


class go(Event):
    pass


class AsyncCaller(Component):
    """Runs under run_async(): an async handler awaits remote calls."""

    channel = "caller"

    async def go(self, target):
        results = {}
        value = await self.call(remote(hello("async"), target, channel="app"))
        results["value"] = value.value
        value = await self.call(remote(boom(), target, channel="app"))
        results["error"] = error_of(value)
        value = await self.call(remote(hello("late"), "ghost", channel="app", timeout=0.2))
        results["timeout"] = error_of(value)
        await asyncio.sleep(0)  # an asyncio awaitable: only run_async() allows it
        return results


def error_of(value):
    try:
        value.outcome()
    except Exception as exc:
        return exc
    return None


def run_async_caller(url, target):
    """Run a caller node under ``await app.run_async()``; what its ``go`` handler returns."""

    async def main():
        m = Manager()
        rec = Recorder().register(m)
        Node(url=url, name="asyncio-caller", backoff=copy.copy(FAST_BACKOFF)).register(m)
        AsyncCaller().register(m)
        running = asyncio.create_task(m.run_async())
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while not rec.find("connected_to", "node"):
                assert loop.time() < deadline, "the asyncio caller did not connect"
                await asyncio.sleep(0.01)
            return await asyncio.wait_for(m.fire(go(target), "caller"), 10)
        finally:
            m.stop()
            await asyncio.wait_for(running, 5)

    return asyncio.run(main())


def remote_error_of(value) -> RemoteError:
    """The `RemoteError` that ``value.outcome()`` raises (the test fails if it does not)."""
    with pytest.raises(RemoteError) as info:
        value.outcome()
    return info.value


# How many notes `stop_broker` has a member broadcast while the broker is down.
NOTES_WHILE_DOWN = 3


def stop_broker(server, sender, receiver):
    """Stop the broker; once both members saw it go, ``sender`` broadcasts notes."""
    server.stop()
    sender.rec.wait_for("disconnected_from", channel="node")
    receiver.rec.wait_for("disconnected_from", channel="node")
    for k in range(NOTES_WHILE_DOWN):
        sender.manager.fire(broadcast(note(f"while down {k}"), channel="app"))


def assert_buffer_full(sender, limit):
    """One more broadcast from ``sender`` is refused: its buffer holds ``limit`` already."""
    full = fire_and_wait(sender.manager, sender.rec, broadcast(note("one too many"), channel="app"))
    with pytest.raises(BufferFull, match=f"buffer_limit={limit}"):
        full.outcome()


def restart_broker(server, sender, receiver):
    """Start the broker again: ``sender`` reconnects; ``receiver`` gets the notes kept."""
    server.start()
    sender.rec.wait_for("connected_to", channel="node", count=2, timeout=10)
    receiver.app.wait_until(
        lambda: len(receiver.app.notes) == NOTES_WHILE_DOWN, "the broadcasts kept while down"
    )
    assert receiver.app.notes == [f"while down {k}" for k in range(NOTES_WHILE_DOWN)]
