"""Request smuggling probes against a real server (RFC 9112 §6.3, §11.2).

Every ambiguous framing must be refused with a 4xx/501 and the connection
closed; the handler must never see the smuggled second request.
"""

from __future__ import annotations

import pytest
from sec_harness import running


@pytest.fixture
def sec():
    with running() as server:
        yield server


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def _chunk_body_with(inner: bytes) -> bytes:
    return b"0\r\n\r\n" + inner


PROBES = {
    "cl-then-te": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + _chunk_body_with(SMUGGLED)
    ),
    "te-then-cl": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 6\r\n\r\n" + _chunk_body_with(SMUGGLED)
    ),
    "te-chunked-identity": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        b"0\r\n\r\n" + SMUGGLED
    ),
    "te-identity-chunked-cl": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-xchunked": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-xchunked-with-cl": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-chunked-twice": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-chunked-then-identity-lines": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-gzip-only": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-obs-fold": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n"
        b"Content-Length: 5\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-obs-fold-tab": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x\r\n\tchunked\r\n\r\n0\r\n\r\n"
        + SMUGGLED
    ),
    "te-space-before-colon": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n"
        b"Content-Length: 5\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "cl-space-before-colon": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello" + SMUGGLED
    ),
    "te-vertical-tab": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "te-nul": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n" + SMUGGLED
    ),
    "header-name-nul": (b"GET /a HTTP/1.1\r\nHost: x\r\nX-A\x00b: 1\r\n\r\n" + SMUGGLED),
    "header-value-nul": (b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\x00c\r\n\r\n" + SMUGGLED),
    "cl-duplicate-different": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\n" + SMUGGLED
    ),
    "cl-list-different": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 37\r\n\r\n" + SMUGGLED
    ),
    "cl-plus": (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello" + SMUGGLED),
    "cl-minus": (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + SMUGGLED),
    "cl-hex": (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello" + SMUGGLED),
    "cl-underscore": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1_0\r\n\r\nhelloworld" + SMUGGLED
    ),
    "cl-empty": (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n" + SMUGGLED),
    "cl-unicode-digit": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: \xd9\xa5\r\n\r\nhello" + SMUGGLED
    ),
    "chunk-size-plus": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n"
        + SMUGGLED
    ),
    "chunk-size-0x": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0x5\r\nhello\r\n0\r\n\r\n" + SMUGGLED
    ),
    "chunk-size-huge": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"10000000000000000005\r\nhello\r\n0\r\n\r\n" + SMUGGLED
    ),
    "chunk-data-overrun": (
        # declared 2 bytes, sends 5 before the CRLF: the chunk must end in CRLF
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n"
        + SMUGGLED
    ),
    "chunk-bare-lf-after-data": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n"
        + SMUGGLED
    ),
    "bare-lf-request": (b"GET /a HTTP/1.1\nHost: x\n\n" + SMUGGLED),
    "bare-lf-header": (b"GET /a HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n" + SMUGGLED),
    "bare-cr-header": (b"GET /a HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n" + SMUGGLED),
    "bare-cr-request-line": (b"GET /a HTTP/1.1\rHost: x\r\n\r\n" + SMUGGLED),
    "bare-cr-in-value-hides-cl": (
        b"POST /a HTTP/1.1\r\nHost: x\r\nX-A: b\rContent-Length: 37\r\n\r\n" + SMUGGLED
    ),
    "space-in-header-name": (b"GET /a HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n" + SMUGGLED),
    "first-header-folded": (b"GET /a HTTP/1.1\r\n Host: x\r\n\r\n" + SMUGGLED),
    "duplicate-host": (b"GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + SMUGGLED),
    "space-in-target": (b"GET /a HTTP/1.1 HTTP/1.1\r\nHost: x\r\n\r\n" + SMUGGLED),
    "http-version-lowercase": (b"GET /a http/1.1\r\nHost: x\r\n\r\n" + SMUGGLED),
}


# Framing errors inside a chunked body, found after the head was accepted.
BODY_PROBES = {
    "chunk-size-plus",
    "chunk-size-0x",
    "chunk-size-huge",
    "chunk-data-overrun",
    "chunk-bare-lf-after-data",
}


@pytest.mark.parametrize("name", sorted(set(PROBES) - BODY_PROBES))
def test_ambiguous_framing_is_refused_and_closed(sec, name):
    out, closed = sec.exchange(PROBES[name])
    status = sec.status_of(out)
    assert status in (400, 413, 431, 501), (name, out[:200])
    assert sec.responses(out) == 1, (name, out)
    assert closed, name
    sec.settle()
    paths = [path for _, path, _ in sec.seen]
    assert "/smuggled" not in paths, (name, paths)
    assert paths == [], (name, paths)


def test_duplicate_equal_content_length_is_one_request(sec):
    """RFC 9110 §8.6 lets a recipient accept ``N, N``; it must still be ONE body."""
    data = (
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
        b"Connection: close\r\n\r\nhello"
    )
    sec.assert_one_request_or_refused(data, ("POST", "/a", b"hello"), refusals=(400,))


def test_second_request_inside_chunk_body_is_data(sec):
    """A request spelled inside a chunk is body bytes, not a request."""
    inner = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n"
    )
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) == 1
    assert sec.status_of(out) == 200
    assert out.endswith(inner)
    sec.settle()
    assert sec.seen == [("POST", "/echo", inner)]


def test_second_request_inside_content_length_body_is_data(sec):
    inner = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n" % len(inner) + inner
    )
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) == 1
    sec.settle()
    assert sec.seen == [("POST", "/echo", inner)]


def test_chunked_body_with_trailer_then_pipelined_request(sec):
    """A well-framed chunked request followed by a real second one: exactly two."""
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
        b"GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) == 2
    sec.settle()
    assert sec.seen == [("POST", "/echo", b"hello"), ("GET", "/second", b"")]


def test_chunked_case_insensitive_is_accepted_as_chunked(sec):
    """``Chunked`` is the same coding (RFC 9112 §7: case-insensitive); one request only."""
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n"
        b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    sec.assert_one_request_or_refused(data, ("POST", "/echo", b"hello"), refusals=(400, 501))


def test_http10_with_transfer_encoding_is_refused(sec):
    """RFC 9112 §6.1: TE in an HTTP/1.0 request means faulty framing; close after."""
    data = (
        b"POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 5\r\n\r\n0\r\n\r\n" + SMUGGLED
    )
    out, closed = sec.exchange(data)
    assert closed
    assert sec.responses(out) <= 1
    sec.settle()
    assert "/smuggled" not in [path for _, path, _ in sec.seen]


@pytest.mark.parametrize("name", sorted(BODY_PROBES))
def test_bad_chunk_framing_closes_without_dispatch(sec, name):
    """A chunked body that breaks framing: closed, never dispatched, nothing smuggled.

    The server currently closes without a status line here (no 400); at most
    one response is allowed and it must be a 4xx.
    """
    sec.assert_closed_without_dispatch(PROBES[name], name)


@pytest.mark.parametrize(
    "body",
    [
        b"+5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"10000000000000000005\r\nhello\r\n0\r\n\r\n",
        b"2\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhello\n0\r\n\r\n",
    ],
)
def test_a_framing_error_inside_a_body_gets_a_400_and_a_close(sec, body):
    head = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    out, closed = sec.exchange(head + body)
    assert out.startswith(b"HTTP/1.1 400 "), out[:80]
    assert closed
