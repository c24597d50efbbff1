"""circuits.tools.Inspector and the commands that talk to it (inspect, sniff)."""

from __future__ import annotations

import os
import selectors
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from circuits import BaseComponent, Event, Manager, handler
from circuits.testing import running
from circuits.tools import Inspector
from circuits.tools._inspector import _Sniffer
from circuits.tools._remote import InspectorError, connect, lines, request

pytestmark = pytest.mark.slow  # a real loop thread and subprocesses

DEADLINE_S = 10.0


class ping(Event):
    pass


class pong(Event):
    pass


class Pinger(BaseComponent):
    channel = "pinger"

    @handler("ping")
    def _on_ping(self, *args):
        pass


class Ponger(BaseComponent):
    channel = "ponger"

    @handler("pong")
    def _on_pong(self, *args):
        pass


def short_dir(tmp_path: Path) -> Path:
    # AF_UNIX paths are limited to 107 bytes; pytest's tmp_path can be longer.
    if len(str(tmp_path / "circuits-0000000.sock")) < 100:
        return tmp_path
    return Path(tempfile.mkdtemp(prefix="ci-", dir="/tmp"))


@pytest.fixture
def app(tmp_path):
    m = Manager()
    inspector = Inspector(str(short_dir(tmp_path) / "app.sock")).register(m)
    Pinger().register(m)
    Ponger().register(m)
    with running(m):
        assert inspector.listening.wait(DEADLINE_S), "the inspector never listened"
        yield m, inspector
    assert not os.path.exists(inspector.path)


def command(*args):
    return [sys.executable, "-m", "circuits", *args]


def sniff_command(*args):
    script = Path(sys.executable).with_name("circuits.sniff")
    return (
        [str(script), *args] if script.exists() else [sys.executable, "-m", "circuits.sniff", *args]
    )


def read_until(fd, needle, deadline):
    """Read ``fd`` until ``needle`` shows up (or fail at ``deadline``); return what was read."""
    data = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while needle not in data:
            left = deadline - time.monotonic()
            assert left > 0, f"no {needle!r} before the deadline; got {data!r}"
            if sel.select(left):
                chunk = os.read(fd, 65536)
                assert chunk, f"EOF before {needle!r}; got {data!r}"
                data += chunk
    return data.decode()


def wait_until(predicate):
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.01)


def test_inspect_prints_the_tree_and_handler_table(app):
    _, inspector = app
    out = subprocess.run(
        command("inspect", inspector.path), capture_output=True, text=True, timeout=DEADLINE_S
    )
    assert out.returncode == 0, out.stderr
    for text in ("Manager", "Inspector", "Pinger", "Ponger", "Handlers:", "_on_ping", "_on_pong"):
        assert text in out.stdout


def test_inspect_dot(app):
    _, inspector = app
    out = subprocess.run(
        command("inspect", "--dot", inspector.path),
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("digraph")
    assert "Pinger/pinger" in out.stdout
    assert out.stdout.count("->") == 3


def test_default_path_found_by_pid(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir(tmp_path)))
    m = Manager()
    inspector = Inspector().register(m)
    assert inspector.path == os.path.join(
        os.environ["XDG_RUNTIME_DIR"], f"circuits-{os.getpid()}.sock"
    )
    with running(m):
        assert inspector.listening.wait(DEADLINE_S)
        out = subprocess.run(
            command("inspect", str(os.getpid())), capture_output=True, text=True, timeout=DEADLINE_S
        )
        assert out.returncode == 0, out.stderr
        assert "Inspector" in out.stdout


def test_sniff_prints_matching_events_only(app):
    m, inspector = app
    proc = subprocess.Popen(
        sniff_command("--name", "ping", inspector.path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + DEADLINE_S
        assert "attached" in read_until(proc.stderr.fileno(), b"attached", deadline)
        m.fire(pong("not-me"), "ponger")
        m.fire(ping("first"), "pinger")
        m.fire(pong("nor-me"), "ponger")
        m.fire(ping("last"), "pinger")
        out = read_until(proc.stdout.fileno(), b"'last'", deadline)
    finally:
        proc.terminate()
        proc.wait(DEADLINE_S)
        proc.stdout.close()
        proc.stderr.close()
    events = out.splitlines()
    assert len(events) == 2, events
    assert events[0].split()[1:] == ["pinger", "ping", "('first',)"]
    assert "pong" not in out


def test_no_catch_all_handler_without_a_sniffer(app):
    _, inspector = app
    assert not inspector.sniffing
    assert "*" not in inspector._handlers
    with connect(inspector.path, {"cmd": "sniff", "channels": ["pinger"]}) as sock:
        answers = lines(sock)
        assert next(answers) == {"ok": True}
        assert inspector.sniffing
        assert "*" in inspector._handlers
        inspector.fire(ping("seen"), "pinger")
        event = next(answers)["event"]
        answers.close()  # its makefile() holds the socket open
    assert (event["name"], event["channels"], event["args"]) == ("ping", ["pinger"], "('seen',)")
    wait_until(lambda: not inspector.sniffing)
    assert "*" not in inspector._handlers


def test_socket_is_private(app):
    _, inspector = app
    assert stat.S_ISSOCK(os.stat(inspector.path).st_mode)
    assert stat.S_IMODE(os.stat(inspector.path).st_mode) == 0o600


def test_a_full_queue_drops_and_counts():
    inspector = Inspector("/nonexistent/never-bound.sock")
    sniffer = _Sniffer(set(), set())
    sniffer.queue.maxsize = 2
    inspector._sniffers.append(sniffer)
    for i in range(5):
        e = ping("x" * 1000, i)
        e.channels = ("pinger",)
        inspector._publish(e)
    assert sniffer.queue.qsize() == 2
    assert sniffer.dropped == 3
    assert len(sniffer.queue.get_nowait()["args"]) == 200


def test_bad_requests_get_an_error(app):
    _, inspector = app
    with pytest.raises(InspectorError, match="cmd must be 'tree' or 'sniff', not 'nope'"):
        request(inspector.path, {"cmd": "nope"})
    with pytest.raises(InspectorError, match="format must be"):
        request(inspector.path, {"cmd": "tree", "format": "svg"})


def test_missing_socket_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "nobody.sock")
    for cmd in (command("inspect", missing), sniff_command(missing)):
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=DEADLINE_S)
        assert out.returncode == 1
        assert f"no inspector socket at {missing!r}" in out.stderr
        assert out.stdout == ""


def test_unknown_subcommand():
    out = subprocess.run(command("frobnicate"), capture_output=True, text=True, timeout=DEADLINE_S)
    assert out.returncode == 2
    assert "unknown command 'frobnicate'" in out.stderr


def test_the_loop_thread_draws_the_tree(app):
    # Component reprs name the calling thread: drawn by the loop, they name the loop's.
    _, inspector = app
    text = request(inspector.path, {"cmd": "tree", "format": "ascii"})["text"]
    assert f"{os.getpid()}:Manager " in text  # the loop thread is named after its manager
    assert "Inspector client" not in text
    assert "busy or blocked" not in text


class block(Event):
    pass


def test_a_blocked_loop_still_gets_its_tree_and_a_note(app):
    m, inspector = app
    release = threading.Event()
    blocked = threading.Event()

    @handler("block")
    def _block(self):
        blocked.set()
        release.wait(DEADLINE_S)

    m.addHandler(_block)
    m.fire(block())
    assert blocked.wait(DEADLINE_S)
    try:
        ascii_text = request(inspector.path, {"cmd": "tree", "format": "ascii"})["text"]
        dot_text = request(inspector.path, {"cmd": "tree", "format": "dot"})["text"]
    finally:
        release.set()
    assert ascii_text.startswith("(the loop did not answer within 1.0 s: busy or blocked)\n")
    assert "Pinger/pinger" in ascii_text
    assert dot_text.startswith("// the loop did not answer")
    assert "\ndigraph" in dot_text
