"""Slow clients (slowloris, slow POST, idle keep-alive) are cut off, on a fake clock.

The server's timeouts run on the core's clock seam: a FakeClock moved past a
limit wakes the loop, and the HTTP component's sweep closes what waited too
long. No real waiting.
"""

from __future__ import annotations

import socket
import threading

import pytest
from tests.web.web_harness import started

from circuits import BaseComponent, handler
from circuits.core import _clock
from circuits.web.servers import BaseServer


class Hello(BaseComponent):
    channel = "web"

    @handler("request")
    def _on_request(self, req, res):
        return "hi"


class Seen(BaseComponent):
    """Tells the test when the server has seen a connection or data."""

    def init(self):
        self.seen = threading.Semaphore(0)

    @handler("connect", "read", channel="web", priority=-1)
    def _on_seen(self, *args):
        self.seen.release()  # after the HTTP component's own handler


@pytest.fixture
def slow():
    clock = _clock.FakeClock()
    previous = _clock.set_clock(clock)
    server = BaseServer(("127.0.0.1", 0))
    seen = Seen()
    socks: list[socket.socket] = []

    def connect() -> socket.socket:
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        socks.append(s)
        assert seen.seen.acquire(timeout=5), "the server did not see the connection"
        return s

    def sent(s: socket.socket, data: bytes) -> None:
        s.sendall(data)
        assert seen.seen.acquire(timeout=5), "the server did not see the data"

    try:
        with started(server, Hello(), seen):
            yield clock, connect, sent
            for s in socks:
                s.close()
    finally:
        _clock.set_clock(previous)


def read_all(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def test_a_head_sent_too_slowly_gets_408_and_a_close(slow):
    clock, connect, sent = slow
    s = connect()
    sent(s, b"GET / HTTP/1.1\r\nHost: x\r\n")  # ... and the rest never comes
    clock.advance(31)
    out = read_all(s)
    assert out.startswith(b"HTTP/1.1 408 "), out[:60]


def test_a_silent_connection_is_closed_without_a_word(slow):
    clock, connect, _ = slow
    s = connect()
    clock.advance(31)
    assert read_all(s) == b""


def test_a_stalled_body_gets_408(slow):
    clock, connect, sent = slow
    s = connect()
    sent(s, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
    clock.advance(61)
    assert read_all(s).startswith(b"HTTP/1.1 408 ")


def test_an_idle_keep_alive_connection_is_closed(slow):
    clock, connect, sent = slow
    s = connect()
    sent(s, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    clock.advance(61)
    assert read_all(s) == b""


def test_a_connection_within_its_limits_is_left_alone(slow):
    clock, connect, sent = slow
    s = connect()
    sent(s, b"GET / HTTP/1.1\r\nHost: x\r\n")
    clock.advance(10)  # under the head limit
    s.sendall(b"\r\n")
    assert s.recv(65536).startswith(b"HTTP/1.1 200 ")
