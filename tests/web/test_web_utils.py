from __future__ import annotations

import gzip
import socket
from io import BytesIO

import pytest

from circuits.web import exceptions
from circuits.web.utils import (
    RangeUnsatisfiable,
    average,
    compress,
    get_ranges,
    image_map_pattern,
    is_unix_socket,
    parse_qs,
    stddev,
    variance,
)


def test_parse_qs_first_value_and_image_map():
    assert parse_qs("a=1&a=2&b=") == {"a": "1", "b": ""}
    assert parse_qs("b=", keep_blank_values=False) == {}
    assert parse_qs("12,34") == {"x": 12, "y": 34}
    assert image_map_pattern.match("1,2")


def test_compress_is_gzip():
    data = b"".join(compress(BytesIO(b"Hello World!"), 1))
    assert data[:4] == b"\x1f\x8b\x08\x00"
    assert data[8:10] == b"\x02\xff"
    assert gzip.decompress(data) == b"Hello World!"
    assert gzip.decompress(b"".join(compress(["h\u00e9", b"x" * 1000], 9))) == (
        "h\u00e9".encode() + b"x" * 1000
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("bytes=3-6", [(3, 7)]),
        ("bytes=3-", [(3, 13)]),
        ("bytes=-4", [(9, 13)]),
        ("bytes=-40", [(0, 13)]),
        ("bytes=0-100", [(0, 13)]),
        ("bytes=3-6,3-6", [(3, 7)]),
        ("bytes=20-30", []),
        ("bytes=6-3", None),
        ("bytes=-", None),
        ("bytes=+1-2", None),
        ("bytes=1", None),
        ("items=1-2", None),
        ("garbage", None),
    ],
)
def test_get_ranges(value, expected):
    assert get_ranges(value, 13) == expected


def test_get_ranges_refuses_uneven_multiple_ranges():
    assert RangeUnsatisfiable is exceptions.RangeUnsatisfiable
    assert get_ranges("bytes=0-1,4-5", 100) == [(0, 2), (4, 6)]
    with pytest.raises(RangeUnsatisfiable):
        get_ranges("bytes=0-0,10-99", 100)


def test_is_unix_socket(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        assert is_unix_socket(str(path))
    assert not is_unix_socket(str(tmp_path))
    assert not is_unix_socket(str(tmp_path / "missing"))


def test_statistics():
    assert average([1, 2, 3]) == 2
    assert variance([1, 2, 3]) == [1, 0, 1]
    assert stddev([2, 4, 4, 4, 5, 5, 7, 9]) == 2.0
    with pytest.raises(ValueError, match="empty"):
        average([])
