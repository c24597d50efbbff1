"""circuits.io._inotify: the pure parser of ``struct inotify_event`` records."""

from __future__ import annotations

import struct
import sys

import pytest
from hypothesis import given, strategies as st

if not sys.platform.startswith("linux"):
    pytest.skip("inotify is Linux only", allow_module_level=True)

from circuits.io._inotify import (
    HEADER,
    IN_CREATE,
    IN_ISDIR,
    IN_MOVED_FROM,
    InotifyParser,
    Record,
    encode_record,
    parse_records,
)

CASES = [
    # (records, comment)
    ([Record(1, IN_CREATE, 0, b"file.txt")], "one named record"),
    ([Record(1, IN_CREATE | IN_ISDIR, 0, b"sub")], "a directory"),
    ([Record(2, 0x400, 0, b"")], "no name: about the watched path itself"),
    (
        [Record(1, IN_MOVED_FROM, 77, b"a"), Record(1, 0x80, 77, b"b")],
        "a move: two records sharing a cookie",
    ),
    ([Record(-1, 0x4000, 0, b"")], "queue overflow has wd -1"),
]


@pytest.mark.parametrize(("records", "comment"), CASES)
def test_parse_whole(records, comment):
    data = b"".join(encode_record(r, pad_to=16) for r in records)
    assert parse_records(data) == (records, b"")


def test_header_layout_matches_the_kernel():
    assert HEADER.size == 16
    raw = struct.pack("=iIII", 5, IN_CREATE, 0, 16) + b"name\0".ljust(16, b"\0")
    assert parse_records(raw) == ([Record(5, IN_CREATE, 0, b"name")], b"")


def test_incomplete_record_is_kept():
    data = encode_record(Record(1, IN_CREATE, 0, b"abc"))
    records, rest = parse_records(data[:-1])
    assert records == []
    assert rest == data[:-1]
    records, rest = parse_records(data[:10])
    assert (records, rest) == ([], data[:10])


def test_parser_reassembles_byte_by_byte():
    recs = [Record(1, IN_CREATE, 0, b"x"), Record(3, 2, 0, b"")]
    data = b"".join(map(encode_record, recs))
    p = InotifyParser()
    got = []
    for i in range(len(data)):
        got += p.feed(data[i : i + 1])
    assert got == recs
    assert p.pending == 0


names = st.binary(min_size=0, max_size=40).map(lambda b: b.replace(b"\0", b""))
records = st.builds(
    Record,
    wd=st.integers(-1, 2**31 - 1),
    mask=st.integers(0, 2**32 - 1),
    cookie=st.integers(0, 2**32 - 1),
    name=names,
)


@given(st.lists(records, max_size=10), st.sampled_from([1, 4, 16]), st.data())
def test_any_split_parses_the_same(recs, pad, data):
    blob = b"".join(encode_record(r, pad_to=pad) for r in recs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(blob)), max_size=8)))
    p = InotifyParser()
    got = []
    start = 0
    for cut in [*cuts, len(blob)]:
        got += p.feed(blob[start:cut])
        start = cut
    assert got == recs
    assert p.pending == 0
    assert parse_records(blob) == (recs, b"")


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(blob):
    recs, rest = parse_records(blob)
    assert len(rest) <= len(blob)
    # Whatever was parsed re-encodes to a prefix of the same length when the
    # name had no padding ambiguity; at least the record count is bounded.
    assert len(recs) <= len(blob) // HEADER.size
