"""Daemon: attributes, pid file events, and a real double fork in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import circuits
from circuits import Event, Manager
from circuits.app import Daemon
from circuits.app.daemon import daemonize, daemonized, deletepid, writepid

WAIT_S = 10


def drain(m):
    for _ in range(100):
        if not len(m):
            return
        m.flush()
    raise AssertionError(f"queue of {m!r} never drained")


def wait_until(predicate, what, timeout=WAIT_S):
    """Poll ``predicate`` (cheaply, 10 ms apart) until true or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            # A zombie (state Z) has exited; its new parent may not reap it.
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def read_pid(pidfile):
    try:
        text = pidfile.read_text()
    except FileNotFoundError:
        return None
    return int(text) if text.strip().isdigit() else None


def test_import_circuits_does_not_import_app():
    code = "import sys, circuits; print(any(m.startswith('circuits.app') for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stdout == "False\n"


def test_exports():
    import circuits.app
    import circuits.app.daemon as daemon_module

    assert circuits.app.__all__ == ("Daemon", "DropPrivileges")
    assert daemon_module.Component is circuits.Component
    assert daemon_module.Event is circuits.Event
    assert daemon_module.handler is circuits.handler
    for cls in (daemonize, daemonized, deletepid, writepid):
        assert issubclass(cls, Event)
        assert cls.__name__ == cls().name


def test_attributes(tmp_path):
    d = Daemon(str(tmp_path / "pid"))
    assert d.channel == "daemon"
    assert (d.pidfile, d.path) == (str(tmp_path / "pid"), "/")
    assert (d.stdin, d.stdout, d.stderr) == ("/dev/null",) * 3
    d = Daemon("p", path="/tmp", stdin="/in", stdout="relative.log", stderr="/err", channel="x")
    assert d.channel == "x"
    assert (d.path, d.stdin, d.stdout, d.stderr) == ("/tmp", "/in", "/dev/null", "/err")


def test_path_must_be_absolute():
    with pytest.raises(AssertionError):
        Daemon("pid", path="relative")


def test_public_methods_are_handlers():
    assert {"daemonize", "deletepid", "writepid", "registered", "started", "init"} <= set(
        Daemon("pid")._handlers
    )


def test_writepid_and_deletepid(tmp_path):
    pidfile = tmp_path / "app.pid"
    m = Manager()
    Daemon(str(pidfile)).register(m)
    m.fire(writepid(), "daemon")
    drain(m)
    assert pidfile.read_text() == str(os.getpid())
    m.fire(deletepid(), "daemon")
    drain(m)
    assert not pidfile.exists()


def test_not_daemonized_when_registered_into_stopped_app(tmp_path):
    got = []
    m = Manager()
    d = Daemon(str(tmp_path / "pid")).register(m)
    d.addHandler(circuits.handler("daemonize", channel="daemon")(lambda *a: got.append(a)))
    drain(m)
    assert got == []


def test_fork_failure(tmp_path, monkeypatch, capsys):
    def fork():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(SystemExit) as info:
        Daemon(str(tmp_path / "pid")).daemonize()
    assert info.value.code == 1
    assert capsys.readouterr().err == "fork #1 failed: 11 (Resource temporarily unavailable)\n"


APP = """
import os
import sys

from circuits import Component, Event, handler
from circuits.app import Daemon

pidfile, log, how = sys.argv[1:]


class App(Component):
    def started(self, manager):
        print("started", os.getpid(), flush=True)
        self.fire(Event.create("hello"))
        if how == "while_running":
            Daemon(pidfile, path=os.path.dirname(log), stdout=log, stderr=log).register(self)

    def hello(self):
        print("hello", os.getpid(), flush=True)

    @handler("daemonized", channel="daemon")
    def _on_daemonized(self, daemon):
        print("daemonized", os.getpid(), os.getcwd(), os.getsid(0), flush=True)

    @handler("stopped", channel="*")
    def _on_stopped(self, manager):
        print("stopped", os.getpid(), flush=True)


app = App()
if how == "at_start":
    Daemon(pidfile, path=os.path.dirname(log), stdout=log, stderr=log).register(app)
app.run()
"""


@pytest.mark.parametrize("how", ["at_start", "while_running"])
def test_daemonize_real_process(tmp_path, how):
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(APP))
    pidfile, log = tmp_path / "app.pid", tmp_path / "app.log"

    launcher = subprocess.run(
        [sys.executable, str(script), str(pidfile), str(log), how],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert launcher.returncode == 0, launcher.stderr
    assert launcher.stderr == ""

    wait_until(lambda: read_pid(pidfile) is not None, "the pid file")
    pid = read_pid(pidfile)
    try:
        wait_until(lambda: "daemonized" in log.read_text(), "the daemonized event")
        line = next(x for x in log.read_text().splitlines() if x.startswith("daemonized"))
        _, logged_pid, cwd, sid = line.split()
        assert (int(logged_pid), cwd) == (pid, str(tmp_path))
        # A new session (setsid after the first fork), not led by the daemon.
        assert int(sid) not in (os.getsid(0), pid)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not alive(pid), "the daemon to exit")
    assert log.read_text().endswith(f"stopped {pid}\n")
    # Daemonized once, although both "registered" and "started" ask for it.
    assert log.read_text().count("daemonized") == 1
    if how == "at_start":
        # The launcher runs the started handlers; the daemonize event is queued
        # first, so what they fire is handled in the daemon.
        assert launcher.stdout.startswith("started ")
        assert f"hello {pid}\n" in log.read_text()
    else:
        assert launcher.stdout.startswith("started ")
