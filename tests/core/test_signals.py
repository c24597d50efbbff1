"""Signals and exit statuses of a real application process.

Each test writes a small script to ``tmp_path`` and runs it with
``sys.executable``; the script prints ``ready`` from its ``started`` handler
so the test knows the loop is running (and idle) before it signals.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SRC = str(Path(__file__).resolve().parents[2] / "src")

HEADER = """\
import sys
from circuits import Component, Event, handler
"""


def launch(tmp_path: Path, body: str) -> subprocess.Popen[bytes]:
    script = tmp_path / "app.py"
    script.write_text(HEADER + textwrap.dedent(body))
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, bytes, bytes]:
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=5)
        pytest.fail(f"the application did not exit: {out!r} {err!r}")
    return proc.returncode, out, err


def wait_ready(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # bounded: the script exits on error, closing stdout
    if line != b"ready\n":
        proc.kill()
        _, err = proc.communicate(timeout=5)
        pytest.fail(f"no 'ready' from the application: {line!r} {err!r}")


IDLE_APP = """
class App(Component):
    def started(self, manager):
        print("ready", flush=True)

App().run()
print("returned", flush=True)
"""


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_without_a_handler_exits_with_status_0(tmp_path, signo):
    proc = launch(tmp_path, IDLE_APP)
    wait_ready(proc)
    proc.send_signal(signo)
    rc, _, err = finish(proc)
    assert rc == 0, err
    assert err == b""


USER_HANDLER_APP = """
class App(Component):
    def started(self, manager):
        print("ready", flush=True)

    def signal(self, signo, stack):
        print("signal", signo, flush=True)
        self.stop()

    def stopped(self, manager):
        print("stopped", flush=True)

App().run()
print("returned", flush=True)
"""


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_a_user_signal_handler_runs(tmp_path, signo):
    proc = launch(tmp_path, USER_HANDLER_APP)
    wait_ready(proc)
    proc.send_signal(signo)
    rc, out, err = finish(proc)
    assert rc == 0, err
    assert out.splitlines() == [f"signal {int(signo)}".encode(), b"stopped", b"returned"]
    assert err == b""


EXIT_APP = """
class App(Component):
    def started(self, manager):
        raise SystemExit({code!r})

App().run()
print("returned", flush=True)
"""


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_system_exit_from_started_sets_the_exit_status(tmp_path, code):
    rc, out, err = finish(launch(tmp_path, EXIT_APP.format(code=code)))
    assert rc == code
    assert out == b""  # SystemExit(code) propagated out of run()
    assert err == b""


def test_system_exit_with_a_string_prints_it_and_exits_1(tmp_path):
    rc, out, err = finish(launch(tmp_path, EXIT_APP.format(code="foobar")))
    assert rc == 1
    assert err == b"foobar\n"
    assert out == b""


PLAIN_EXIT_APP = """
class App(Component):
    def started(self, manager):
        raise SystemExit

    def stopped(self, manager):
        print("stopped", flush=True)

App().run()
print("returned", flush=True)
"""


def test_system_exit_without_a_code_returns_from_run(tmp_path):
    rc, out, err = finish(launch(tmp_path, PLAIN_EXIT_APP))
    assert rc == 0, err
    assert out.splitlines() == [b"stopped", b"returned"]
    assert err == b""
