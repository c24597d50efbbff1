"""Form-body processors: urlencoded and multipart bodies into keyword arguments (web.md §13)."""

from __future__ import annotations

import io

import pytest

from circuits.web import processors
from circuits.web.dispatchers import dispatcher
from circuits.web.headers import Headers
from circuits.web.parsers.multipart import MultipartPart
from circuits.web.processors import process, process_multipart, process_urlencoded
from circuits.web.wrappers import Request


class FakeSock:
    def getpeername(self):
        return ("10.0.0.1", 5555)


def make(body=b"", qs="", content_type=None, header="Content-Type"):
    headers = Headers([("Host", "example.com")])
    if content_type is not None:
        headers[header] = content_type
    req = Request(FakeSock(), "POST", path="/", qs=qs, headers=headers)
    req.body = io.BytesIO(body)
    return req


def multipart(boundary, *parts):
    out = []
    for headers, content in parts:
        out.append(f"--{boundary}\r\n{headers}\r\n\r\n")
        out.append(content)
        out.append("\r\n")
    out.append(f"--{boundary}--\r\n")
    return "".join(out)


def test_exports():
    assert dispatcher.process is processors.process
    for name in ("HeaderElement", "MultipartParser", "QueryStringParser"):
        assert hasattr(processors, name)


@pytest.mark.parametrize(
    ("qs", "body", "expected"),
    [
        ("", b"a=1&b[]=2&b[]=3", {"a": "1", "b": ["2", "3"]}),
        ("q=1", b"a=1", {"q": "1", "a": "1"}),
        ("", b"arg=%E2%86%92", {"arg": "\u2192"}),
        ("a=1", b"a=2", {"a": "2"}),
        ("", b"", {}),
    ],
)
def test_urlencoded(qs, body, expected):
    params = {}
    process(make(body, qs, "application/x-www-form-urlencoded"), params)
    assert params == expected


def test_urlencoded_nul_bytes_intact():
    params = {}
    process(
        make(b"data=" + b"%00" * 4096, content_type="application/x-www-form-urlencoded"), params
    )
    assert params == {"data": "\x00" * 4096}


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        (None, "caf\u00e9=\u2192".encode(), {"caf\u00e9": "\u2192"}),
        ("utf-8", "name=J\u00fcrgen".encode(), {"name": "J\u00fcrgen"}),
        ("UTF-8", "name=\u65e5\u672c".encode(), {"name": "\u65e5\u672c"}),
        ("iso-8859-1", "name=J\u00fcrgen".encode("latin-1"), {"name": "J\u00fcrgen"}),
        ('"latin-1"', "name=J\u00fcrgen".encode("latin-1"), {"name": "J\u00fcrgen"}),
        ("no-such-charset", "name=J\u00fcrgen".encode(), {"name": "J\u00fcrgen"}),
    ],
)
def test_urlencoded_declared_charset(charset, body, expected):
    ctype = "application/x-www-form-urlencoded"
    if charset is not None:
        ctype += f"; charset={charset}"
    params = {}
    process(make(body, content_type=ctype), params)
    assert params == expected


def test_urlencoded_not_in_charset_raises():
    req = make(b"a=\xff", content_type="application/x-www-form-urlencoded; charset=utf-8")
    with pytest.raises(UnicodeDecodeError):
        process(req, {})


def test_process_urlencoded_direct_encoding():
    params = {}
    process_urlencoded(make("a=\u00e9".encode("cp1252")), params, encoding="cp1252")
    assert params == {"a": "\u00e9"}


@pytest.mark.parametrize(
    "ctype",
    ["APPLICATION/X-WWW-FORM-URLENCODED", "application/x-www-form-urlencoded;charset=utf-8"],
)
def test_media_type_case_and_params(ctype):
    params = {}
    process(make(b"a=1", content_type=ctype, header="Content-type"), params)
    assert params == {"a": "1"}


@pytest.mark.parametrize("ctype", [None, "", "application/json", "text/plain"])
def test_other_bodies_left_alone(ctype):
    req = make(b'{"a": 1}', content_type=ctype)
    params = {"keep": 1}
    process(req, params)
    assert params == {"keep": 1}
    assert req.body.read() == b'{"a": 1}'


BOUNDARY = "===============123=="


def test_multipart_fields_and_files():
    body = multipart(
        BOUNDARY,
        ('Content-Disposition: form-data; name="field"', "value"),
        ('Content-Disposition: form-data; name="utf"', "caf\u00e9 \u2192"),
        (
            'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            "Content-Type: text/plain",
            "file body",
        ),
        ('Content-Disposition: form-data; name="field"', "later"),
    ).encode()
    req = make(body, content_type=f'multipart/form-data; boundary="{BOUNDARY}"')
    params = {}
    process(req, params)
    assert set(params) == {"field", "utf", "file"}
    assert params["field"] == "later"
    assert params["utf"] == "caf\u00e9 \u2192"  # UTF-8 by default
    assert isinstance(params["file"], MultipartPart)
    assert params["file"].filename == "a.txt"
    assert params["file"].raw == b"file body"
    assert req.body.tell() == 0


def test_multipart_declared_charset():
    body = multipart("xyz", ('Content-Disposition: form-data; name="n"', "J\u00fcrgen")).encode(
        "latin-1"
    )
    req = make(body, content_type="multipart/form-data; boundary=xyz; charset=iso-8859-1")
    params = {}
    process_multipart(req, params)
    assert params == {"n": "J\u00fcrgen"}


@pytest.mark.parametrize("boundary", ["", " ", "a ", "x" * 202, "caf\u00e9"])
def test_multipart_bad_boundary(boundary):
    req = make(b"", content_type=f'multipart/form-data; boundary="{boundary}"')
    with pytest.raises(ValueError, match="Invalid boundary in multipart form"):
        process(req, {})


def test_multipart_missing_boundary():
    with pytest.raises(ValueError, match="Invalid boundary"):
        process(make(b"", content_type="multipart/form-data"), {})
