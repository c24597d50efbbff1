"""The multipart/form-data engine: bytes in, parts out."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, strategies as st
from tests.strategies import cut_points, multipart_bodies, multipart_boundaries, splits

from circuits._sansio.multipart import (
    Finished,
    MultipartParseError,
    MultipartReader,
    PartData,
    PartEnd,
    PartStart,
    boundary_from_content_type,
    parse_options_header,
)

B = b"xYzZY"


def encode(boundary: bytes, parts, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """A multipart/form-data encoder: parts are (headers, body) with headers as bytes lines."""
    out = [preamble]
    for i, (headers, body) in enumerate(parts):
        out.append((b"\r\n" if i or preamble else b"") + b"--" + boundary + b"\r\n")
        out.extend(line + b"\r\n" for line in headers)
        out.append(b"\r\n" + body)
    out.append((b"\r\n" if parts or preamble else b"") + b"--" + boundary + b"--" + epilogue)
    return b"".join(out)


def field(name: str, body: bytes, filename: str | None = None, ctype: str | None = None):
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    headers = [disposition.encode("latin-1")]
    if ctype is not None:
        headers.append(f"Content-Type: {ctype}".encode("latin-1"))
    return headers, body


def parse(boundary: bytes, pieces, **limits):
    """Feed pieces then EOF; return coalesced events."""
    reader = MultipartReader(boundary, **limits)
    events: list = []
    for piece in [*(p for p in pieces if p), b""]:  # b"" is the end
        reader.receive_data(piece)
        while (event := reader.next_event()) is not None:
            if isinstance(event, PartData) and events and isinstance(events[-1], PartData):
                events[-1] = PartData(events[-1].data + event.data)
            else:
                events.append(event)
    return events


def summary(events):
    out, current = [], None
    for event in events:
        if isinstance(event, PartStart):
            current = [event.name, event.filename, event.content_type, b""]
        elif isinstance(event, PartData):
            current[3] += event.data
        elif isinstance(event, PartEnd):
            out.append(tuple(current))
    assert isinstance(events[-1], Finished)
    return out


CASES = [
    ([field("a", b"1")], [("a", None, None, b"1")]),
    ([field("a", b"")], [("a", None, None, b"")]),
    (
        [field("f", b"\r\n--xYz\r\n", "a.txt", "text/plain"), field("b", b"2")],
        [("f", "a.txt", "text/plain", b"\r\n--xYz\r\n"), ("b", None, None, b"2")],
    ),
    ([], []),
    (
        [([b"Content-Disposition: form-data; name=f; filename*=UTF-8''%C3%A4.txt"], b"x")],
        [("f", "\xe4.txt", None, b"x")],
    ),
    (
        [([b"content-disposition: form-data;", b'  name="folded"'], b"x")],
        [("folded", None, None, b"x")],
    ),
]


@pytest.mark.parametrize(("parts", "expected"), CASES)
def test_table(parts, expected):
    body = encode(B, parts, preamble=b"ignored\r\n", epilogue=b"\r\nignored too")
    assert summary(parse(B, [body])) == expected


def test_first_delimiter_may_start_the_body_and_padding_is_allowed():
    body = b"--xYzZY  \t\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--xYzZY--"
    assert summary(parse(B, [body])) == [("a", None, None, b"v")]


BAD = [
    b"",  # no delimiter at all
    b"--xYzZY\r\n",  # ends inside the headers
    b"--xYzZY\r\nContent-Disposition: form-data; name=a\r\n\r\nv",  # no close delimiter
    b"--xYzZYjunk\r\n",  # boundary followed by something else
    b"--xYzZY\r\nNoColon\r\n\r\nv\r\n--xYzZY--",
    b"--xYzZY\r\nContent-Type: text/plain\r\n\r\nv\r\n--xYzZY--",  # no disposition
    b"--xYzZY\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--xYzZY--",
    b"--xYzZY\r\nContent-Disposition: form-data\r\n\r\nv\r\n--xYzZY--",  # no name
    b"--xYzZY\r\n folded first\r\n\r\nv\r\n--xYzZY--",
]


@pytest.mark.parametrize("body", BAD)
def test_malformed(body):
    with pytest.raises(MultipartParseError):
        parse(B, [body])


def test_error_is_sticky():
    reader = MultipartReader(B)
    reader.receive_data(b"--xYzZYjunk\r\n")
    for _ in range(2):
        with pytest.raises(MultipartParseError):
            reader.next_event()


def test_limits():
    big_header = [b"Content-Disposition: form-data; name=a", b"X: " + b"y" * 100]
    with pytest.raises(MultipartParseError, match="headers over"):
        parse(B, [encode(B, [(big_header, b"")])], max_header_bytes=64)
    many = [b"Content-Disposition: form-data; name=a"] + [b"X: y"] * 4
    with pytest.raises(MultipartParseError, match="headers in a part"):
        parse(B, [encode(B, [(many, b"")])], max_header_count=3)
    with pytest.raises(MultipartParseError, match="more than 2 parts"):
        parse(B, [encode(B, [field("a", b"")] * 3)], max_parts=2)
    with pytest.raises(MultipartParseError, match="part body over"):
        parse(B, [encode(B, [field("a", b"x" * 100)])], max_part_bytes=99)
    assert summary(parse(B, [encode(B, [field("a", b"x" * 99)])], max_part_bytes=99))


def test_epilogue_data_is_ignored():
    reader = MultipartReader(B)
    reader.receive_data(b"--xYzZY--")
    assert reader.next_event() == Finished()
    reader.receive_data(b"more")
    reader.receive_data(b"")
    assert reader.next_event() is None


def test_boundary_from_content_type():
    assert boundary_from_content_type('multipart/form-data; boundary="a b"') == b"a b"
    assert boundary_from_content_type(b"Multipart/Form-Data; charset=x; boundary=xyz") == b"xyz"
    for bad in (
        "text/plain; boundary=a",
        "multipart/form-data",
        'multipart/form-data; boundary="a "',
    ):
        with pytest.raises(MultipartParseError):
            boundary_from_content_type(bad)
    with pytest.raises(MultipartParseError):
        MultipartReader(b"x" * 71)


def test_parse_options_header():
    assert parse_options_header('Form-Data; Name="a\\"b"; filename="C:\\dir\\f"; x') == (
        "form-data",
        {"name": 'a"b', "filename": "C:\\dir\\f", "x": ""},
    )


@given(st.binary(max_size=300), multipart_boundaries)
def test_any_bytes_give_parts_or_the_parse_error(data, boundary):
    try:
        events = parse(boundary, [data])
    except MultipartParseError:
        return
    assert isinstance(events[-1], Finished)


@given(multipart_boundaries, multipart_bodies, cut_points)
def test_round_trip_and_split_invariance(boundary, parts, cuts):
    # RFC 2046 §5.1.1: a boundary must not occur in the parts it delimits
    # (a sender picks one that does not); with it inside, the body is another one.
    assume(all(b"\r\n--" + boundary not in b"\r\n" + payload for _, _, payload in parts))
    body = encode(boundary, [field(name, payload, filename) for name, filename, payload in parts])
    whole = parse(boundary, [body])
    assert summary(whole) == [(n, f, None, p) for n, f, p in parts]
    assert parse(boundary, [body[i : i + 1] for i in range(len(body))]) == whole
    assert parse(boundary, splits(body, cuts)) == whole
