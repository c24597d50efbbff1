"""circuits.io.process: a real child (sys.executable -c ...) with its three pipes."""

from __future__ import annotations

import sys

import pytest
from io_support import running

from circuits.io import File, Process, close, write
from circuits.io.events import started
from circuits.io.process import terminated

PY = sys.executable


def test_defaults_before_start():
    p = Process([PY, "-c", "pass"])
    assert p.channel == "process"
    assert p.p is None
    assert p.status is None
    assert (p._stdin, p._stdout, p._stderr) == (None, None, None)
    assert not p._terminated
    assert not p._stdout_closed
    assert not p._stderr_closed
    assert p.stdout.getvalue() == b""
    assert terminated(p).name == "terminated"
    assert started(p).name == "started"


def test_output_status_and_event_order():
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    p = Process([PY, "-c", code])
    with running(p) as (_m, rec):
        p.start()
        pid = p.p.pid
        assert rec.wait_for("started", "process").args == [p]
        rec.wait_for("terminated", "process")
        assert p.status == 3
        assert p.stdout.getvalue().splitlines() == [b"out"]
        assert p.stderr.getvalue().splitlines() == [b"err"]
        assert rec.data(f"{pid}.stdout").splitlines() == [b"out"]
        assert rec.data(f"{pid}.stderr").splitlines() == [b"err"]
        assert p._terminated
        assert p._stdout_closed
        assert p._stderr_closed
        assert isinstance(p._stdin, File)
        assert [f.channel for f in (p._stdin, p._stdout, p._stderr)] == [
            f"{pid}.stdin",
            f"{pid}.stdout",
            f"{pid}.stderr",
        ]
        outputs = (f"{pid}.stdout", f"{pid}.stderr", "process")
        order = [
            e.name
            for e in rec.events
            if e.name in ("eof", "closed", "terminated") and e.channels[0] in outputs
        ]
        assert sorted(order[:4]) == ["closed", "closed", "eof", "eof"]
        assert order[4:] == ["terminated"]
        opened = rec.find("opened", f"{pid}.stdout")[0]
        assert opened.args[1] == "rb"


def test_write_to_stdin_and_close_it():
    code = "import sys; data = sys.stdin.read(); sys.stdout.write(data.upper())"
    p = Process([PY, "-c", code])
    with running(p) as (m, rec):
        p.start()
        p.write("hello ")  # str is UTF-8 encoded
        m.fire(write(b"world"), p._stdin)  # or target the File directly
        m.fire(close(), p._stdin.channel)
        rec.wait_for("terminated", "process")
        assert p.stdout.getvalue() == b"HELLO WORLD"
        assert p.status == 0


def test_failing_command_reports_status_and_stderr():
    p = Process([PY, "-c", "raise SystemExit('boom')"])
    with running(p) as (_m, rec):
        p.start()
        rec.wait_for("terminated", "process")
        assert p.status == 1
        assert b"boom" in p.stderr.getvalue()


def test_missing_program_raises_on_start():
    p = Process(["/nonexistent/program"])
    with pytest.raises(FileNotFoundError):
        p.start()
    assert p.p is None


def test_stop_terminates_a_running_child():
    p = Process([PY, "-c", "import sys; print('up', flush=True); sys.stdin.read()"])
    with running(p) as (_m, rec):
        p.start()
        rec.wait_for("read", f"{p.p.pid}.stdout")
        p.stop()
        rec.wait_for("eof", p._stdout.channel)
        rec.wait_for("terminated", "process")
        assert p.status is not None
        assert p.status < 0  # killed by SIGTERM


def test_two_processes_are_tracked_independently():
    p1 = Process([PY, "-c", "print(1)"])
    p2 = Process([PY, "-c", "import sys; print(2, flush=True); sys.stdin.read()"])
    with running(p1, p2) as (m, rec):
        p1.start()
        p2.start()
        rec.wait_for("terminated", "process", pred=lambda p: p is p1)
        rec.wait_for("read", p2._stdout.channel)
        assert p1._terminated
        assert not p2._terminated  # p2's pipes are still open
        assert not p2._stdout_closed
        assert not p2._stderr_closed
        m.fire(close(), p2._stdin.channel)
        rec.wait_for("terminated", "process", pred=lambda p: p is p2)
        assert p2._terminated
        assert p2._stdout_closed
        assert p2._stderr_closed
        assert p1.stdout.getvalue().strip() == b"1"
        assert p2.stdout.getvalue().strip() == b"2"


def test_shell_and_cwd(tmp_path):
    p = Process("pwd", cwd=str(tmp_path), shell=True)
    with running(p) as (_m, rec):
        p.start()
        rec.wait_for("terminated", "process")
    assert p.stdout.getvalue().strip() == str(tmp_path).encode()
