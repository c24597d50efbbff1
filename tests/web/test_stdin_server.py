"""StdinServer: HTTP over a child process's stdin and stdout (web.md §3.4).

Each test runs a small app in a child Python, writes the request bytes to its
stdin, and reads what it wrote to stdout. The child's ``Quit`` component
exits when the server closes stdout (the end of the conversation), so every
test is bounded by ``communicate``'s timeout.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # a child interpreter per test

APP = r"""
import sys
from circuits import BaseComponent, handler
from circuits.web import Controller
from circuits.web._stdin import StdinServer

class Root(Controller):
    def index(self):
        return "Hello, World!"

    def echo(self, *args, **kwargs):
        return "%s %d" % (self.request.method, len(self.request.body.read()))

class Quit(BaseComponent):
    channel = "stdout"

    @handler("closed")
    def _on_closed(self):
        raise SystemExit(0)

server = StdinServer()
sys.stderr.write("props %r %r %r\n" % (server.host, server.port, server.secure))
(server + Root() + Quit()).run()
"""

TIMEOUT_S = 15


def converse(data: bytes) -> tuple[bytes, str]:
    """Feed ``data`` to a fresh child's stdin; (its stdout, its stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", APP],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(data, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"child did not finish in {TIMEOUT_S} s; stdout={out!r} stderr={err!r}")
    assert proc.returncode == 0, err.decode(errors="replace")
    return out, err.decode(errors="replace")


def split_responses(out: bytes) -> list[tuple[bytes, bytes]]:
    """(head, body) per response, framed by Content-Length."""
    found = []
    while out:
        head, sep, rest = out.partition(b"\r\n\r\n")
        assert sep, out
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        found.append((head, rest[:length]))
        out = rest[length:]
    return found


def test_keep_alive_then_close():
    out, err = converse(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    responses = split_responses(out)
    assert len(responses) == 2
    assert responses[0][0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert responses[0][1] == b"Hello, World!"
    assert responses[1][0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close" in responses[1][0]
    assert responses[1][1] == b"GET 0"
    assert "props '<stdin>' 0 False" in err


def test_body_spanning_several_reads():
    # stdin is read 4096 bytes at a time: the body arrives in several reads,
    # all from the one FakeSock peer of the conversation.
    body = b"x" * 20000
    out, _ = converse(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n"
        b"Connection: close\r\n\r\n" + body
    )
    [(head, answer)] = split_responses(out)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer == b"POST 20000"


def test_http10_ends_the_conversation():
    out, _ = converse(b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n")
    [(head, answer)] = split_responses(out)  # the second request is ignored
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nconnection: close" in head.lower()
    assert answer == b"Hello, World!"


def test_malformed_request_gets_400():
    out, _ = converse(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    [(head, _body)] = split_responses(out)
    assert head.startswith(b"HTTP/1.1 400 ")
