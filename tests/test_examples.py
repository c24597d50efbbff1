"""Each example runs."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@contextmanager
def _running(script: Path, banner: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``script 0``; yield it and its first line, which starts with ``banner``.

    Killed on the way out if it is still running.
    """
    with subprocess.Popen(
        [sys.executable, str(script), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith(banner), line
            yield proc, line
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


@pytest.mark.slow
def test_hello_server_serves_and_stops_on_sigint():
    with _running(EXAMPLES / "hello_server.py", "Serving on http://127.0.0.1:") as (proc, line):
        url = line.split()[-1]
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            assert response.read() == b"Hello World!\n"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0


@pytest.mark.slow
def test_web_app_serves_and_stops_on_sigint():
    # tests/web/test_browser.py drives it in a browser; this is the plain-HTTP smoke test
    app = EXAMPLES / "web_app" / "app.py"
    with _running(app, "Serving on http://127.0.0.1:") as (proc, line):
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
            assert b'<strong id="count">1</strong>' in response.read()
        with urllib.request.urlopen(url + "api/hello?name=Ada", timeout=5) as response:
            assert response.headers["Content-Type"] == "application/json"
            assert json.load(response) == {"greeting": "Hello, Ada!", "visits": 0}
        with urllib.request.urlopen(url + "static/style.css", timeout=5) as response:
            assert response.headers["Content-Type"] == "text/css"
        proc.send_signal(signal.SIGINT)  # the server closes, then exits after its 3 s grace
        assert proc.wait(timeout=15) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()


@pytest.mark.slow
def test_async_echo_echoes_lines_and_stops_on_sigint():
    with _running(EXAMPLES / "async_echo.py", "Echoing on 127.0.0.1:") as (proc, line):
        port = int(line.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"hello\nworld\n")
            with conn.makefile("rb") as replies:
                assert replies.readline() == b"hello\n"
                assert replies.readline() == b"world\n"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == ""


@pytest.mark.slow
def test_inspect_and_sniff_work_against_the_web_app(tmp_path, monkeypatch):
    # The app registers an Inspector; its socket goes to $XDG_RUNTIME_DIR/circuits-<pid>.sock.
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    app = EXAMPLES / "web_app" / "app.py"
    with _running(app, "Serving on http://127.0.0.1:") as (proc, line):
        url = line.split()[2]
        sock = tmp_path / f"circuits-{proc.pid}.sock"
        assert sock.exists()  # it listens from `started`, before the server is ready
        tree = _tool("-m", "circuits", "inspect", str(proc.pid))
        for name in ("App", "Server", "Root", "Api", "Echo", "Sessions", "Inspector"):
            assert name in tree, tree
        assert "Handlers:" in tree
        assert " Sessions/web\n" in tree  # labelled by class, not by its `name` (the cookie's)
        assert _tool("-m", "circuits", "inspect", "--dot", str(proc.pid)).startswith("digraph")

        with subprocess.Popen(
            [sys.executable, "-m", "circuits.sniff", "--name", "request", str(proc.pid)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as sniff:
            try:
                assert sniff.stderr is not None
                assert sniff.stdout is not None
                assert "attached" in sniff.stderr.readline()
                with urllib.request.urlopen(url + "api/hello", timeout=5) as response:
                    assert response.status == 200
                seen = sniff.stdout.readline().split()
            finally:
                sniff.terminate()
                sniff.wait(timeout=5)
        assert seen[1:3] == ["web", "request"], seen  # time, channel, name, args
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    assert not sock.exists()


def _tool(*args: str) -> str:
    """Run ``python ARGS``; return its stdout (it must succeed)."""
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=10, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout
