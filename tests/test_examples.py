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
