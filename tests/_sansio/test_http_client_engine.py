"""The HTTP/1.1 response parser: framing, strictness, split invariance."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, strategies as st
from tests.strategies import http_responses, split_points

from circuits._sansio.http_client import (
    Data,
    EndOfMessage,
    RemoteProtocolError,
    Response,
    ResponseParser,
)


def parse(chunks, close=False, heads=()):
    parser = ResponseParser()
    for h in heads:
        parser.expect(head=h)
    out = []
    for chunk in [*chunks, b""] if close else chunks:
        parser.receive_data(chunk)
        while (ev := parser.next_event()) is not None:
            out.append(ev)
    return merge(out)


def merge(events):
    """Join adjacent Data events (their boundaries depend on the reads)."""
    out = []
    for ev in events:
        if isinstance(ev, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + ev.data)
        else:
            out.append(ev)
    return out


def split(data, cuts):
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if a != b]  # b"" = close


def resp(status=200, headers=(), version=(1, 1), reason=b"OK"):
    return Response(status, reason, version, tuple(headers))


CASES = [
    (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
        False,
        [
            resp(headers=[(b"content-length", b"5"), (b"content-type", b"text/plain")]),
            Data(b"hello"),
            EndOfMessage(),
        ],
    ),
    (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 1\r\n\r\n",
        False,
        [
            resp(headers=[(b"transfer-encoding", b"chunked")]),
            Data(b"abcde"),
            EndOfMessage(((b"x-sum", b"1"),)),
        ],
    ),
    (
        b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close",
        True,
        [resp(headers=[(b"server", b"x")], version=(1, 0)), Data(b"until close"), EndOfMessage()],
    ),
    (
        b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        False,
        [
            resp(204, reason=b"No Content"),
            EndOfMessage(),
            resp(headers=[(b"content-length", b"0")]),
            EndOfMessage(),
        ],
    ),
    (
        b"HTTP/1.1 299\r\nContent-Length: 1\r\n\r\nx",
        False,
        [resp(299, [(b"content-length", b"1")], reason=b""), Data(b"x"), EndOfMessage()],
    ),
    (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
        False,
        [
            resp(100, reason=b"Continue"),
            EndOfMessage(),
            resp(headers=[(b"content-length", b"1")]),
            Data(b"x"),
            EndOfMessage(),
        ],
    ),
]


@pytest.mark.parametrize(("data", "close", "expected"), CASES)
def test_parse(data, close, expected):
    assert parse([data], close) == expected
    assert parse([bytes([b]) for b in data], close) == expected


def test_head_response_has_no_body():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    assert parse([data], heads=[True]) == [
        resp(headers=[(b"content-length", b"5")]),
        EndOfMessage(),
    ]


def test_switching_protocols_keeps_the_rest():
    parser = ResponseParser()
    parser.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00")
    assert isinstance(parser.next_event(), Response)
    assert parser.next_event() == EndOfMessage()
    parser.receive_data(b"more")
    assert parser.next_event() is None
    assert parser.trailing_data == b"\x81\x00more"


MALFORMED = [
    (b"HTTP/1.1 20 OK\r\n\r\n", "bad status line"),
    (b"HTTP/2.0 200 OK\r\n\r\n", "expected HTTP/1.x"),
    (b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", "bad header line"),
    (b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "bad header line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
    (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "both Transfer-Encoding and Content-Length",
    ),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk-size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc", "not followed by CRLF"),
    (b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", "bad characters"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed(data, message):
    with pytest.raises(RemoteProtocolError, match=message):
        parse([data])


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nContent-",
    ],
)
def test_cut_short_by_close(data):
    with pytest.raises(RemoteProtocolError, match="closed"):
        parse([data], close=True)


def test_header_limit():
    parser = ResponseParser(max_header_bytes=100)
    parser.receive_data(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 50)
    with pytest.raises(RemoteProtocolError, match="within 100 bytes"):
        parser.next_event()
    with pytest.raises(RemoteProtocolError):  # stays broken
        parser.next_event()


def serialize(spec):
    status, headers, body, framing, chunk_sizes = spec
    head = f"HTTP/1.1 {status} X\r\n".encode()
    head += b"".join(n + b": " + v + b"\r\n" for n, v in headers)
    if framing == "length":
        return head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    out, rest, sizes = [], body, itertools.cycle(chunk_sizes)
    while rest:
        n = next(sizes)
        out.append(b"%x\r\n" % len(rest[:n]) + rest[:n] + b"\r\n")
        rest = rest[n:]
    return head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(out) + b"0\r\n\r\n"


@given(st.lists(http_responses, min_size=1, max_size=3), split_points())
def test_round_trip_and_split_invariance(specs, cuts):
    data = b"".join(serialize(s) for s in specs)
    whole = parse([data])
    assert [e.status for e in whole if isinstance(e, Response)] == [s[0] for s in specs]
    bodies = [e.data for e in whole if isinstance(e, Data)]
    assert bodies == [s[2] for s in specs if s[2]]
    assert parse(split(data, cuts)) == whole
    assert parse([bytes([b]) for b in data]) == whole


@given(st.binary(max_size=200), split_points(), st.booleans())
def test_any_bytes_give_events_or_protocol_error(data, cuts, close):
    def outcome(chunks):
        try:
            return parse(chunks, close)
        except RemoteProtocolError:
            return "error"

    result = outcome([data])
    assert result == "error" or all(isinstance(e, Response | Data | EndOfMessage) for e in result)
    assert outcome(split(data, cuts)) == result
