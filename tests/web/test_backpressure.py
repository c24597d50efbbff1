"""A streamed body is made no faster than the client reads it (memory per connection bounded)."""

from __future__ import annotations

import socket
import threading
import time

from tests.web.web_harness import serving

from circuits.web import Controller
from circuits.web.http import STREAM_HIGH_WATER

CHUNK = b"x" * 65536
CHUNKS = 400  # 25 MiB in all


class Producer(Controller):
    def __init__(self) -> None:
        super().__init__()
        # (not init(): a Controller exposes its public methods as pages)
        self.made = 0
        self.closed = threading.Event()

    def big(self):
        def body():
            try:
                for _ in range(CHUNKS):
                    self.made += 1
                    yield CHUNK
            finally:
                self.closed.set()

        # (a returned generator would be a coroutine handler: stream explicitly)
        self.response.body = body()
        self.response.stream = True
        return self.response


def _wait_until_steady(producer: Producer, seconds: float = 5.0) -> int:
    """The chunk count once it has stopped growing for a while (or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        made = producer.made
        if made != last:
            last, since = made, time.monotonic()
        elif time.monotonic() - since > 0.3:
            break
        time.sleep(0.02)
    return last


def test_a_stalled_reader_pauses_the_producer_and_nothing_is_lost():
    producer = Producer()
    with serving(producer) as site:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.settimeout(10)
        s.connect(("127.0.0.1", site.port))
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        # Read nothing: the producer must stop long before the end.
        made = _wait_until_steady(producer)
        queued = site.server.server.pending_bytes(next(iter(site.server.server._clients)))
        assert made < CHUNKS // 2, f"{made} of {CHUNKS} chunks made for a client that reads nothing"
        assert queued <= STREAM_HIGH_WATER + 2 * len(CHUNK)
        # Now read it all: every byte arrives, and the generator is finished and closed.
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(65536)
        first = head.partition(b"\r\n\r\n")[2]
        received = first.count(b"x")  # chunk-size lines are hex digits: no "x"
        tail = first[-5:]
        while tail != b"0\r\n\r\n":
            chunk = s.recv(1 << 20)
            assert chunk, "the server closed early"
            received += chunk.count(b"x")
            tail = (tail + chunk)[-5:]
        s.close()
        assert received == CHUNKS * len(CHUNK)
        assert producer.closed.wait(5)
        assert producer.made == CHUNKS


def test_a_client_that_leaves_while_paused_gets_its_body_closed():
    producer = Producer()
    with serving(producer) as site:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.connect(("127.0.0.1", site.port))
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        _wait_until_steady(producer)
        s.close()
        assert producer.closed.wait(5), "the paused generator was never closed"
        assert producer.made < CHUNKS
        # the server goes on serving
        status, _, _ = site.get("/big", method="HEAD")
        assert status == 200
