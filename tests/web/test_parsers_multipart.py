"""circuits.web.parsers.multipart: the bottle-style API over the multipart engine."""

from __future__ import annotations

from io import BytesIO

import pytest

from circuits._sansio.multipart import MultipartParseError
from circuits.web.parsers import MultipartParser as Reexported
from circuits.web.parsers.multipart import (
    MultiDict,
    MultipartError,
    MultipartParser,
    copy_file,
    header_quote,
    header_unquote,
    parse_form_data,
    parse_options_header,
    tob,
)

BOUNDARY = "----b0und"
BODY = (
    b"------b0und\r\n"
    b'Content-Disposition: form-data; name="text"\r\n\r\n'
    b"\xe4 latin\r\n"
    b"------b0und\r\n"
    b'Content-Disposition: form-data; name="file"; filename="h\xc3\xa9.txt"\r\n'
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"h\xc3\xa9llo\r\n"
    b"------b0und\r\n"
    b'Content-Disposition: form-data; name="text"\r\n\r\n'
    b"second\r\n"
    b"------b0und--\r\n"
)


def test_parts():
    parser = MultipartParser(BytesIO(BODY), BOUNDARY, len(BODY), buffer_size=7)
    parts = parser.parts()
    assert [p.name for p in parts] == ["text", "file", "text"]
    text, upload, _ = parts
    assert text.value == "\xe4 latin"
    assert text.charset == "latin1"
    assert text.filename is None
    assert upload.charset == "utf-8"
    assert upload.value == "h\xe9llo"
    assert upload.filename == "h\xc3\xa9.txt"  # header bytes are Latin-1
    assert upload.content_type == "text/plain; charset=utf-8"
    assert upload.headers["content-type"] == "text/plain; charset=utf-8"
    assert upload.is_buffered()
    assert upload.size == 6
    assert parser.get("file") is upload
    assert parser.get("nope") is None
    assert [p.value for p in parser.get_all("text")] == ["\xe4 latin", "second"]
    assert Reexported is MultipartParser


def test_large_part_goes_to_a_file(tmp_path):
    body = BODY.replace(b"h\xc3\xa9llo", b"x" * 100)
    parser = MultipartParser(BytesIO(body), BOUNDARY, memfile_limit=50)
    upload = parser.get("file")
    assert upload is not None
    assert not upload.is_buffered()
    assert upload.size == 100
    with pytest.raises(MultipartError):
        upload.value  # noqa: B018
    assert upload.save_as(str(tmp_path / "f")) == 100
    assert (tmp_path / "f").read_bytes() == b"x" * 100
    upload.file.close()


@pytest.mark.parametrize(
    "kwargs", [{"mem_limit": 10}, {"disk_limit": 10}, {"content_length": len(BODY) - 10}]
)
def test_limits_and_truncation(kwargs):
    with pytest.raises(MultipartError):
        MultipartParser(BytesIO(BODY), BOUNDARY, **kwargs).parts()


def test_malformed():
    assert MultipartError is MultipartParseError
    assert issubclass(MultipartError, ValueError)
    with pytest.raises(MultipartError):
        MultipartParser(BytesIO(b"garbage"), BOUNDARY).parts()
    with pytest.raises(MultipartError):
        MultipartParser(BytesIO(BODY), "bad boundary ")


def test_parse_form_data():
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(len(BODY)),
        "wsgi.input": BytesIO(BODY),
    }
    forms, files = parse_form_data(environ, charset="latin1")
    assert forms.getall("text") == ["\xe4 latin", "second"]
    assert files["file"].filename == "h\xc3\xa9.txt"
    qs = b"a=1&a=2&b=%C3%A4"
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(qs)),
        "wsgi.input": BytesIO(qs),
    }
    forms, files = parse_form_data(environ)
    assert forms.getall("a") == ["1", "2"]
    assert forms["b"] == "\xe4"
    assert not files
    bad = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": "text/plain", "wsgi.input": BytesIO()}
    assert parse_form_data(bad) == (MultiDict(), MultiDict())
    with pytest.raises(MultipartError):
        parse_form_data(bad, strict=True)


def test_multidict():
    d = MultiDict(a=1)
    d["a"] = 2
    d.append("b", 3)
    assert d["a"] == 2
    assert d.get("a", index=0) == 1
    assert d.getall("a") == [1, 2]
    assert d.get("x") is None
    assert d.getall("x") == []
    d.replace("a", 5)
    assert list(d.iterallitems()) == [("a", 5), ("b", 3)]
    assert len(d) == 2
    del d["b"]
    assert "b" not in d
    with pytest.raises(KeyError):
        d["b"]


def test_helpers():
    assert tob("\xe4") == b"\xc3\xa4"
    assert tob(b"x") == b"x"
    target = BytesIO()
    assert copy_file(BytesIO(b"abcdef"), target, maxread=4, buffer_size=3) == 4
    assert target.getvalue() == b"abcd"
    assert header_quote("token") == "token"
    assert header_quote('a "b"') == '"a \\"b\\""'
    assert header_unquote(header_quote('a "b"')) == 'a "b"'
    assert header_unquote('"C:\\dir\\f.txt"', filename=True) == "f.txt"
    assert parse_options_header("Text/Plain; Charset=utf-8") == ("text/plain", {"charset": "utf-8"})
    options = {"x": "1"}
    assert parse_options_header("a; y=2", options) == ("a", {"x": "1", "y": "2"})
