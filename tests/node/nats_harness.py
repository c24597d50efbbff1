"""An inbox for NatsTransport tests that waits with deadlines (the server: `brokers`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.node.brokers import TIMEOUT_S

from circuits.node._transport import Delivery


class Inbox:
    """Collects deliveries and link states from a transport's thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.deliveries: list[Delivery] = []
        self.states: list[str] = []

    def deliver(self, delivery: Delivery) -> None:
        with self.cond:
            self.deliveries.append(delivery)
            self.cond.notify_all()

    def on_state(self, state: str, error: BaseException | None) -> None:
        with self.cond:
            self.states.append(state)
            self.cond.notify_all()

    @property
    def payloads(self) -> list[bytes]:
        with self.cond:
            return [d.payload for d in self.deliveries]

    def wait_for(
        self, predicate: Callable[[Inbox], bool], what: str, timeout: float = TIMEOUT_S
    ) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self), timeout), f"timed out: {what}"

    def wait_payload(self, payload: bytes, timeout: float = TIMEOUT_S) -> None:
        self.wait_for(lambda box: payload in box.payloads, f"no {payload!r}", timeout)

    def wait_state(self, state: str, count: int = 1, timeout: float = TIMEOUT_S) -> None:
        self.wait_for(lambda box: box.states.count(state) >= count, f"{count}x {state!r}", timeout)
