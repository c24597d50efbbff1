"""Size limits and pipelining integrity against a real server.

Oversized input gets its status (414 / 431 / 413 / 400) and the connection is
closed; N pipelined requests get N responses, in order, and nothing more.
"""

from __future__ import annotations

import socket
import time

import pytest
from sec_harness import running

from circuits._sansio.http1._limits import (
    MAX_BODY_BYTES,
    MAX_CHUNK_LINE_BYTES,
    MAX_HEAD_BYTES,
    MAX_HEADER_COUNT,
    MAX_REQUEST_LINE_BYTES,
)


@pytest.fixture
def sec():
    with running() as server:
        yield server


TAIL = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

LIMIT_PROBES = {
    "request-line": (
        b"GET /" + b"a" * (MAX_REQUEST_LINE_BYTES + 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        414,
    ),
    "request-line-query": (
        b"GET /?q=" + b"a" * (MAX_REQUEST_LINE_BYTES + 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        414,
    ),
    "header-count": (
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADER_COUNT + 5))
        + b"\r\n",
        431,
    ),
    "one-huge-header": (
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 10) + b"\r\n\r\n",
        431,
    ),
    "head-bytes-few-fields": (
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-%d: " % i + b"b" * 8000 + b"\r\n" for i in range(10))
        + b"\r\n",
        431,
    ),
    "content-length-over-limit": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1),
        413,
    ),
    "content-length-overflow": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 40 + b"\r\n\r\n",
        None,  # 400 or 413: either refuses it
    ),
}


@pytest.mark.parametrize("name", sorted(LIMIT_PROBES))
def test_limit_is_refused_and_closed(sec, name):
    data, status = LIMIT_PROBES[name]
    out, closed = sec.exchange(data + TAIL)
    got = sec.status_of(out)
    if status is None:
        assert got in (400, 413), (name, out[:200])
    else:
        assert got == status, (name, out[:200])
    assert sec.responses(out) == 1
    assert closed, name
    sec.settle()
    assert sec.seen == []


def test_head_just_under_the_limits_is_served(sec):
    target = b"/" + b"a" * (MAX_REQUEST_LINE_BYTES - 200)
    headers = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADER_COUNT - 5))
    data = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n"
    out, closed = sec.exchange(data)
    assert sec.status_of(out) == 200, out[:200]
    assert closed
    assert len(sec.seen) == 1


def test_long_chunk_size_line_is_refused_without_dispatch(sec):
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=" + b"e" * (MAX_CHUNK_LINE_BYTES + 10) + b"\r\nhello\r\n0\r\n\r\n" + TAIL
    )
    sec.assert_closed_without_dispatch(data)


def test_huge_chunk_trailer_is_refused_without_dispatch(sec):
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\nX-T: " + b"t" * (MAX_HEAD_BYTES + 10) + b"\r\n\r\n" + TAIL
    )
    sec.assert_closed_without_dispatch(data)


@pytest.mark.slow
def test_chunked_body_over_limit_is_not_dispatched(sec):
    """Chunked bodies count against the body limit too (no Content-Length to check)."""
    chunk = b"x" * (1 << 20)
    with sec.connect() as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        out = b""
        closed = False
        try:
            for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        try:
            while part := s.recv(65536):
                out += part
            closed = True
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            pass
    assert closed
    assert sec.responses(out) <= 1
    if out:
        assert sec.status_of(out) == 413, out[:200]
    sec.settle()
    assert sec.seen == []


# -- pipelining -----------------------------------------------------------------


def test_many_pipelined_requests_answered_in_order(sec):
    n = 50
    data = b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(n))
    data += b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) == n + 1
    assert out.count(b"HTTP/1.1 200 OK\r\n") == n + 1
    positions = [out.index(b"ok GET /p%d 0" % i) for i in range(n)]
    assert positions == sorted(positions)
    assert out.endswith(b"ok GET /last 0")
    sec.settle()
    assert [path for _, path, _ in sec.seen] == [f"/p{i}" for i in range(n)] + ["/last"]


def test_pipelined_bodies_stay_with_their_requests(sec):
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree"
    )
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) == 3
    assert out.index(b"\r\n\r\none") < out.index(b"\r\n\r\ntwo") < out.index(b"\r\n\r\nthree")
    sec.settle()
    assert sec.seen == [
        ("POST", "/echo", b"one"),
        ("POST", "/echo", b"two"),
        ("POST", "/echo", b"three"),
    ]


def test_bad_request_after_good_pipelined_ones_stops_there(sec):
    data = (
        b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /bad HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
        b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) == 3
    assert out.count(b"HTTP/1.1 200 OK\r\n") == 2
    third = out.rindex(b"HTTP/1.1 ")
    assert sec.status_of(out[third:]) == 400
    sec.settle()
    assert [path for _, path, _ in sec.seen] == ["/one", "/two"]


def test_pipelined_error_response_closes_and_drops_the_rest(sec):
    """A handler error (500 + Connection: close) ends the pipeline."""
    data = b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n"
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) == 1
    assert sec.status_of(out) == 500
    sec.settle()
    assert [path for _, path, _ in sec.seen] == ["/boom"]


@pytest.mark.slow
def test_request_sent_one_byte_at_a_time_is_one_request(sec):
    data = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    with sec.connect() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            s.sendall(data[i : i + 1])
            time.sleep(0.002)
        out = b""
        while part := s.recv(65536):
            out += part
    assert sec.responses(out) == 1
    assert out.endswith(b"\r\n\r\nhello")
    sec.settle()
    assert sec.seen == [("POST", "/echo", b"hello")]


def test_431_has_its_reason_phrase(sec):
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-n: v\r\n" * 105 + b"\r\n"
    out, closed = sec.exchange(head)
    assert out.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), out[:80]
    assert closed
