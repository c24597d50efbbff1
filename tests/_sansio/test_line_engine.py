"""The line engine: splitting, limits, split invariance."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from tests.strategies import cut_points, line_bytes, line_streams, splits

from circuits._sansio.line import LineDecoder, LineReceived, LineTooLong, split_lines

SPLIT_CASES = [
    (b"", b"", [], b""),
    (b"1\n2\r\n3\n4", b"", [b"1", b"2", b"3"], b"4"),
    (b"\n\n", b"", [b"", b""], b""),
    (b"\nb", b"a\r", [b"a"], b"b"),
    (b"x", b"abc", [], b"abcx"),
    (b"a\rb\n", b"", [b"a\rb"], b""),
    (b"a\r\r\n", b"", [b"a\r"], b""),
]


@pytest.mark.parametrize(("data", "buffer", "lines", "rest"), SPLIT_CASES)
def test_split_lines(data, buffer, lines, rest):
    assert split_lines(data, buffer) == (lines, rest)


def drain(dec):
    """Every event until the decoder needs data; errors recorded in order."""
    out = []
    while True:
        try:
            ev = dec.next_event()
        except LineTooLong:
            out.append("too long")
            continue
        if ev is None:
            return out
        out.append(ev.data)


def feed(chunks, limit=None):
    dec = LineDecoder(limit)
    out = []
    for chunk in chunks:
        dec.receive_data(chunk)
        out += drain(dec)
    return out, dec.trailing_data


def test_decoder_basic():
    assert feed([b"1\n2\r", b"\n3\n4"]) == ([b"1", b"2", b"3"], b"4")


def test_limit_skips_the_long_line_and_carries_on():
    assert feed([b"ok\n" + b"x" * 20 + b"\nnext\n"], limit=10)[0] == [b"ok", "too long", b"next"]


def test_limit_on_an_unterminated_tail_discards_until_the_newline():
    out, tail = feed([b"x" * 5] * 10 + [b"xx\nafter\n"], limit=10)
    assert out == ["too long", b"after"]
    assert tail == b""


def test_a_line_of_exactly_the_limit_passes_even_with_a_split_crlf():
    assert feed([b"x" * 10 + b"\r", b"\n"], limit=10)[0] == [b"x" * 10]


def test_send():
    dec = LineDecoder(5)
    assert dec.send(LineReceived(b"abc")) == b"abc\r\n"
    with pytest.raises(ValueError, match="CR or LF"):
        dec.send(LineReceived(b"a\nb"))
    with pytest.raises(LineTooLong):
        dec.send(LineReceived(b"abcdef"))


@given(line_streams, cut_points, st.one_of(st.none(), st.integers(min_value=0, max_value=12)))
def test_any_split_gives_the_same_lines(data, cuts, limit):
    whole = feed([data], limit)
    assert feed(splits(data, cuts), limit) == whole
    assert feed([data[i : i + 1] for i in range(len(data))], limit) == whole


@given(line_streams)
def test_unlimited_decoder_agrees_with_split_lines(data):
    assert feed([data]) == split_lines(data)


@given(st.lists(line_bytes, max_size=10))
def test_serialize_parse_round_trip(lines):
    dec = LineDecoder(None)
    wire = b"".join(dec.send(LineReceived(line)) for line in lines)
    assert feed([wire]) == (lines, b"")


@given(line_streams, st.integers(min_value=0, max_value=12))
def test_limit_holds(data, limit):
    out, tail = feed([data], limit)
    assert all(len(x) <= limit for x in out if isinstance(x, bytes))
    assert len(tail) <= limit + 1
