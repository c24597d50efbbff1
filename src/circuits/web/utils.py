"""Web utilities: query strings, gzip streaming, byte ranges and small statistics.

Everything here is stdlib: ``compress`` uses ``zlib``, ``parse_qs`` wraps
``urllib.parse`` and ``get_ranges`` parses with a strict digit grammar.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from math import sqrt
from urllib.parse import parse_qs as _parse_qs

from .exceptions import RangeUnsatisfiable as RangeUnsatisfiable

__all__ = [
    "RangeUnsatisfiable",
    "average",
    "compress",
    "get_ranges",
    "image_map_pattern",
    "is_unix_socket",
    "parse_qs",
    "stddev",
    "variance",
]

# A server-side image map click sends "?x,y" (HTML 4.01 §13.6.2).
image_map_pattern = re.compile(r"^[0-9]+,[0-9]+$")

# RFC 9110 §14.1.1: byte positions are 1*DIGIT, ASCII only
# (int() would also accept "+1", " 1" and non-ASCII digits).
_DIGITS = re.compile(r"[0-9]+")
# 3.2.5's anti-DoS heuristic: several ranges of very different lengths are refused.
_MAX_RANGE_LENGTH_STDDEV = 2.0


def parse_qs(query_string: str, keep_blank_values: bool = True) -> dict[str, str | int]:
    """Parse a query string into a dict of the first value of each key.

    Args:
        query_string: the query, without ``?``.
        keep_blank_values: keep ``a=`` as ``{'a': ''}``.

    Returns:
        ``{key: first value}``; an image-map query ``"12,34"`` gives ``{'x': 12, 'y': 34}``.
    """
    if image_map_pattern.match(query_string):
        x, y = query_string.split(",")
        return {"x": int(x), "y": int(y)}
    parsed = _parse_qs(query_string, keep_blank_values=keep_blank_values)
    return {key: values[0] for key, values in parsed.items() if values}


def compress(body: Iterable[bytes | str], compress_level: int) -> Iterator[bytes]:
    """Gzip-encode ``body`` chunk by chunk (RFC 1952).

    Args:
        body: items of bytes or str (str is encoded as UTF-8).
        compress_level: zlib level, 0-9.

    Yields:
        The gzip header, one deflate chunk per item, then the trailer.
    """
    # header: magic, method 8 (deflate), flags 0, mtime, XFL 2, OS 255 (unknown)
    yield b"\x1f\x8b\x08\x00" + struct.pack("<L", int(time.time()) & 0xFFFFFFFF) + b"\x02\xff"
    crc = 0
    size = 0
    # raw deflate (negative wbits): the gzip header and trailer are written here
    deflate = zlib.compressobj(compress_level, zlib.DEFLATED, -zlib.MAX_WBITS)
    for item in body:
        data = item.encode("utf-8") if isinstance(item, str) else bytes(item)
        size += len(data)
        crc = zlib.crc32(data, crc)
        yield deflate.compress(data)
    # trailer: CRC32 and the input size mod 2**32, little-endian
    yield deflate.flush() + struct.pack("<LL", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)


def get_ranges(headervalue: str | None, content_length: int) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` header into ``(start, stop_exclusive)`` pairs.

    ``bytes=3-6`` gives ``[(3, 7)]``; ``a-`` runs to the end, ``-n`` is the
    last n bytes. Ranges starting at or beyond the length are skipped, so
    ``[]`` means 416. Unlike 3.2.5, stops beyond the length are clamped to it.

    Args:
        headervalue: the header value, or ``None``.
        content_length: the length of the representation.

    Returns:
        The ranges without duplicates, or ``None`` when there is no header or it
        is not a valid ``bytes`` range (``None`` means: serve the whole body).

    Raises:
        RangeUnsatisfiable: several ranges whose lengths have a population
            standard deviation above 2.0 (3.2.5's anti-DoS heuristic).
    """
    if not headervalue:
        return None
    unit, sep, byteranges = headervalue.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    result: list[tuple[int, int]] = []
    for brange in byteranges.split(","):
        first, sep, last = (part.strip() for part in brange.partition("-"))
        if not sep or (first and not _DIGITS.fullmatch(first)):
            return None
        if last and not _DIGITS.fullmatch(last):
            return None
        if first:
            start = int(first)
            if not last:  # "a-": to the end, unsatisfiable when a is past it
                if start >= content_length:
                    continue
                stop = content_length - 1
            else:
                stop = int(last)
                if stop < start:
                    return None
                if start >= content_length:
                    continue
            pair = (start, min(stop, content_length - 1) + 1)
        else:
            if not last:
                return None
            suffix = int(last)
            if suffix == 0:
                continue  # an empty suffix selects nothing (RFC 9110 §14.1.3)
            pair = (max(content_length - suffix, 0), content_length)
        if pair not in result:
            result.append(pair)
    if len(result) > 1 and stddev([stop - start for start, stop in result]) > (
        _MAX_RANGE_LENGTH_STDDEV
    ):
        raise RangeUnsatisfiable()
    return result


def is_unix_socket(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists and is a Unix domain socket."""
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def average(xs: Sequence[float]) -> float:
    """The arithmetic mean of ``xs``.

    Raises:
        ValueError: ``xs`` is empty.
    """
    if not xs:
        raise ValueError(f"average of an empty sequence {xs!r}")
    return sum(xs) / len(xs)


def variance(xs: Sequence[float]) -> list[float]:
    """The squared deviations of ``xs`` from their mean (a list, as in 3.2.5)."""
    avg = average(xs)
    return [(x - avg) ** 2 for x in xs]


def stddev(xs: Sequence[float]) -> float:
    """The population standard deviation of ``xs``."""
    return sqrt(average(variance(xs)))
