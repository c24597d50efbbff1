"""The circuits.bench command, in process (main()) and as the installed script."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import circuits
from circuits import _bench

TOTAL = re.compile(r"^Total Events: (\d+) \((\d+)/s after (\d+\.\d\d)s\)$")


def script():
    """The installed console script (next to this Python), else the module."""
    path = Path(sys.executable).with_name("circuits.bench")
    if path.exists():
        return [str(path)]
    found = shutil.which("circuits.bench")
    return [found] if found else [sys.executable, "-m", "circuits._bench"]


def run_script(*args):
    return subprocess.run(
        [*script(), *args], capture_output=True, text=True, timeout=30, check=False
    )


def test_quiet_prints_only_total(capsys):
    assert _bench.main(["-e", "2000", "-q"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1
    m = TOTAL.match(lines[0])
    assert m, out
    assert int(m[1]) > 2000
    assert int(m[1]) < 2020  # registration and stop/term events only


def test_verbose_speed(capsys):
    assert _bench.main(["-e", "100"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        "Setting up Speed Test...",
        "Setting up Sender...",
        "Setting up Receiver...",
        "",
    ]
    assert TOTAL.match(lines[4])


def test_sync_mode_has_no_responder(capsys):
    # Two "registered" events and "hello" pass the limit; then stop and term.
    assert _bench.main(["-m", "sync", "-e", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Setting up Sender...", "Setting up Receiver..."]
    m = TOTAL.match(lines[-1])
    assert m
    assert 5 <= int(m[1]) <= 7


def test_latency_mode(capsys, monkeypatch):
    monkeypatch.setattr(_bench, "LATENCY_PAUSE_S", 0)
    assert _bench.main(["-m", "latency", "-e", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Setting up Latency Test..."
    latencies = [line for line in lines if line.startswith("Latency: ")]
    assert latencies
    assert all(re.fullmatch(r"Latency: \d+\.\d{9} us", line) for line in latencies)
    assert TOTAL.match(lines[-1])


def test_latency_json_collects_latencies(capsys, monkeypatch):
    monkeypatch.setattr(_bench, "LATENCY_PAUSE_S", 0)
    assert _bench.main(["-m", "latency", "-e", "10", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["mode"] == "latency"
    assert figures["latency_us"]
    assert all(x >= 0 for x in figures["latency_us"])


def test_json(capsys):
    assert _bench.main(["-e", "1000", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    figures = json.loads(out)
    assert set(figures) == {"events", "seconds", "rate", "mode"}
    assert figures["mode"] == "speed"
    assert figures["events"] > 1000
    assert figures["seconds"] > 0
    assert figures["rate"] >= figures["events"] / figures["seconds"]


def test_debug_prints_events_on_stderr(capsys):
    assert _bench.main(["-e", "10", "-q", "-d"]) == 0
    err = capsys.readouterr().err
    assert "<hello[*] ('hello' )>" in err.splitlines()
    assert "<term[*] ( )>" in err.splitlines()


def test_profile_prints_stats_on_stderr(capsys):
    assert _bench.main(["-e", "100", "-q", "-p", "-s"]) == 0
    captured = capsys.readouterr()
    assert TOTAL.match(captured.out.strip())
    assert "function calls" in captured.err


def test_time_limit(capsys, monkeypatch):
    # A clock that advances one second per reading passes "-t 1" at once.
    ticks = iter(range(1000))
    monkeypatch.setattr(_bench, "_now", lambda: float(next(ticks)))
    assert _bench.main(["-m", "sync", "-t", "1", "-q"]) == 0
    assert TOTAL.match(capsys.readouterr().out.strip())


def test_keyboard_interrupt_fires_stop(capsys, monkeypatch):
    real_tick = _bench.Manager.tick
    calls = []

    def tick(self, timeout=-1):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_tick(self, timeout)

    monkeypatch.setattr(_bench.Manager, "tick", tick)
    assert _bench.main(["-m", "sync", "-q"]) == 0  # no limit: only the interrupt ends it
    assert TOTAL.match(capsys.readouterr().out.strip())


@pytest.mark.parametrize("args", [["-m", "bogus"], ["-b"], ["-e", "x"]])
def test_usage_errors(args, capsys):
    with pytest.raises(SystemExit) as info:
        _bench.main(args)
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("Usage: circuits.bench [options]\n")


def test_script_quiet():
    proc = run_script("-e", "2000", "-q")
    assert proc.returncode == 0, proc.stderr
    m = TOTAL.match(proc.stdout.strip())
    assert m, proc.stdout
    assert int(m[1]) > 2000


def test_script_json():
    proc = run_script("-e", "2000", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["events"] > 2000


def test_script_version():
    proc = run_script("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"circuits.bench v{circuits.__version__}\n"


def test_script_help():
    proc = run_script("--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("Usage: circuits.bench [options]\n")
    assert "--json" in proc.stdout


def test_script_bad_mode():
    proc = run_script("-m", "fast")
    assert proc.returncode == 2
    assert "invalid choice: 'fast'" in proc.stderr
