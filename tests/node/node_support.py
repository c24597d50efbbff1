"""Helpers for the node tests: running managers, an event recorder, an in-memory transport."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

from circuits import BaseComponent, Manager, handler
from circuits.node._transport import Delivery, Target, Transport


class Recorder(BaseComponent):
    """Records every event of the tree; ``wait_for`` blocks until one matches."""

    def init(self):
        self.events = []
        self._cond = threading.Condition()

    @handler(channel="*", priority=999.9)
    def _record(self, event, *args, **kwargs):
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def find(self, name, channel=None):
        with self._cond:
            return [
                e
                for e in self.events
                if e.name == name and (channel is None or channel in e.channels)
            ]

    def wait_until(self, predicate, timeout=5.0, what="condition"):
        with self._cond:
            ok = self._cond.wait_for(predicate, timeout)
        names = [e.name for e in self.events][-30:]
        assert ok, f"timed out waiting for {what}; last events: {names}"

    def wait_for(self, name, channel=None, count=1, timeout=5.0):
        self.wait_until(
            lambda: len(self.find(name, channel)) >= count, timeout, f"{name!r} on {channel!r}"
        )
        return self.find(name, channel)[count - 1]


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
