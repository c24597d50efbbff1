"""circuits.web.parsers.http.HttpParser: the 3.2.5 API over the http1 engine."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given, strategies as st
from tests.strategies import cut_points, splits

from circuits.web.headers import Headers
from circuits.web.parsers import BAD_FIRST_LINE as REEXPORTED
from circuits.web.parsers.http import (
    BAD_FIRST_LINE,
    INVALID_CHUNK,
    INVALID_HEADER,
    METHOD_RE,
    HttpParser,
)

GET = b"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\nA: \xe4\r\nA: b\r\n\r\n"


def feed(parser: HttpParser, *pieces: bytes) -> HttpParser:
    for piece in pieces:
        assert parser.execute(piece, len(piece)) == (len(piece) if parser.errno is None else 0)
    return parser


@pytest.mark.parametrize("kind", [0, 2])
def test_request(kind):
    p = feed(HttpParser(kind), GET)
    assert p.errno is None
    assert p.is_message_begin()
    assert p.is_headers_complete()
    assert p.is_message_complete()
    assert p.get_method() == "GET"
    assert p.get_version() == (1, 1)
    assert p.get_url() == "/a/b?x=1&y=2"
    assert (p.get_path(), p.get_query_string(), p.get_scheme()) == ("/a/b", "x=1&y=2", None)
    headers = p.get_headers()
    assert isinstance(headers, Headers)
    assert headers["a"] == "\xe4, b"
    assert p.should_keep_alive()
    assert not p.is_upgrade()
    assert not p.is_chunked()
    assert p.recv_body() == b""


def test_absolute_target_and_body_byte_at_a_time():
    data = b"POST http://h/p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n\xe4bcde"
    p = feed(HttpParser(0), *(data[i : i + 1] for i in range(len(data))))
    assert p.get_scheme() == "http"
    assert p.get_path() == "/p"
    assert p.is_message_complete()
    assert p.recv_body() == b"\xe4bcde"
    assert p.recv_body() == b""


def test_chunked_partial_body_and_recv_body_into():
    p = feed(HttpParser(0), b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert p.is_headers_complete()
    assert p.is_chunked()
    assert not p.is_message_complete()
    feed(p, b"5\r\nhello\r\n")
    assert p.is_partial_body()
    buf = bytearray(3)
    assert p.recv_body_into(buf) == 3
    assert buf == b"hel"
    feed(p, b"0\r\n\r\n")
    assert p.is_message_complete()
    assert not p.is_partial_body()
    assert p.recv_body() == b"lo"


@pytest.mark.parametrize(
    ("data", "errno"),
    [
        (b"FOO\r\n\r\n", BAD_FIRST_LINE),
        (b"GET / HTTP/1.1 x\r\nHost: h\r\n\r\n", BAD_FIRST_LINE),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", BAD_FIRST_LINE),
        (b"GET /#frag HTTP/1.1\r\nHost: h\r\n\r\n", BAD_FIRST_LINE),
        (b"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", INVALID_HEADER),
        (b"GET / HTTP/1.1\r\nHost: h\r\nA B: c\r\n\r\n", INVALID_HEADER),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", INVALID_CHUNK),
    ],
)
def test_errors(data, errno):
    p = HttpParser(0)
    assert p.execute(data, len(data)) == 0
    assert p.errno == errno
    assert p.errstr
    assert p.error_status_hint is not None
    assert p.error_status_hint >= 400
    assert p.execute(b"more", 4) == 0


def test_response_kind_1_and_detected():
    data = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nX: \xe4\r\nSet-Cookie: a=1\r\n"
    data += b"Set-Cookie: b=2\r\n\r\nno"
    for kind in (1, 2):
        p = feed(HttpParser(kind), data[:3], data[3:])
        assert p.errno is None
        assert p.get_status_code() == 404
        assert p.get_reason() == "Not Found"
        assert p.get_headers()["X"] == "\xe4"
        assert p.get_headers()["Set-Cookie"] == ["a=1", "b=2"]
        assert p.is_message_complete()
        assert p.recv_body() == b"no"


def test_response_until_close():
    p = feed(HttpParser(1), b"HTTP/1.0 200 OK\r\n\r\nabc")
    assert not p.is_message_complete()
    assert not p.should_keep_alive()
    assert p.execute(b"", 0) == 0
    assert p.errno is None
    assert p.is_message_complete()
    assert p.recv_body() == b"abc"


@pytest.mark.parametrize(
    ("version", "connection", "keep"),
    [
        (b"1.1", b"", True),
        (b"1.1", b"close", False),
        (b"1.0", b"", False),
        (b"1.0", b"keep-alive", True),
    ],
)
def test_should_keep_alive(version, connection, keep):
    extra = b"Connection: " + connection + b"\r\n" if connection else b""
    p = feed(HttpParser(0), b"GET / HTTP/" + version + b"\r\nHost: h\r\n" + extra + b"\r\n")
    assert p.should_keep_alive() is keep


def test_upgrade():
    p = feed(
        HttpParser(0), b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: ws\r\n\r\n"
    )
    assert p.is_upgrade()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_decompress(encoding):
    body = b"hello " * 100
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    head = f"POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: {encoding}\r\n"
    data = f"{head}Content-Length: {len(packed)}\r\n\r\n".encode() + packed
    assert feed(HttpParser(0, decompress=True), data).recv_body() == body
    assert feed(HttpParser(0), data).recv_body() == packed
    broken = f"{head}Content-Length: 3\r\n\r\nabc".encode()
    p = HttpParser(0, decompress=True)
    assert p.execute(broken, len(broken)) == 0
    assert p.errno == INVALID_CHUNK


def test_constants():
    assert (BAD_FIRST_LINE, INVALID_HEADER, INVALID_CHUNK) == (0, 1, 2)
    assert REEXPORTED == 0
    assert METHOD_RE.match("GET")
    assert not METHOD_RE.match("get")


def _events(parser: HttpParser):
    return (
        parser.errno,
        parser.get_method(),
        parser.get_url(),
        parser.get_version(),
        list(parser.get_headers().items()),
        parser.recv_body(),
        parser.is_message_complete(),
    )


@given(st.binary(max_size=200), st.sampled_from([0, 1, 2]))
def test_any_bytes_give_a_message_or_errno(data, kind):
    p = HttpParser(kind)
    p.execute(data, len(data))
    p.execute(b"", 0)
    assert p.errno in (None, BAD_FIRST_LINE, INVALID_HEADER, INVALID_CHUNK)


@given(cut_points)
def test_split_invariance(cuts):
    message = GET.replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\nabc")
    pieces = [p for p in splits(message, cuts) if p]
    assert _events(feed(HttpParser(2), *pieces)) == _events(feed(HttpParser(2), message))
