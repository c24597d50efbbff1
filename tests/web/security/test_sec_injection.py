"""Response header injection, error pages and redirects against a real server."""

from __future__ import annotations

import pytest
from sec_harness import running


@pytest.fixture
def sec():
    with running() as server:
        yield server


def _get(sec, path: str) -> tuple[bytes, bool]:
    return sec.exchange(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )


def _head(out: bytes) -> bytes:
    return out.partition(b"\r\n\r\n")[0]


@pytest.mark.parametrize("path", ["/inject-crlf", "/inject-lf", "/inject-cr", "/inject-name"])
def test_header_with_cr_or_lf_is_not_emitted(sec, path):
    out, closed = _get(sec, path)
    assert closed
    assert sec.responses(out) == 1
    assert sec.status_of(out) == 500, out[:300]
    assert b"injected" not in out
    assert b"Set-Cookie" not in out
    assert b"X-Evil" not in out
    assert b"should not be sent" not in out
    for line in _head(out).split(b"\r\n"):
        assert b"\r" not in line
        assert b"\n" not in line


def test_server_survives_injection_attempt(sec):
    _get(sec, "/inject-crlf")
    out, _ = _get(sec, "/fine")
    assert sec.status_of(out) == 200
    assert out.endswith(b"ok GET /fine 0")


def test_handler_exception_is_500_without_traceback(sec):
    out, closed = _get(sec, "/boom")
    assert closed
    assert sec.responses(out) == 1
    assert sec.status_of(out) == 500
    assert b"Traceback" not in out
    assert b"secret detail" not in out
    assert b"ValueError" not in out
    assert b"<script>" not in out
    assert b'File "' not in out
    assert b".py" not in out


def test_error_page_does_not_reflect_the_path_unescaped(sec):
    out, _ = sec.exchange(
        b"GET /missing%3Cscript%3E HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert b"<script>" not in out


@pytest.mark.parametrize("path", ["/redirect-quote", "/redirect-newline"])
def test_redirect_location_is_encoded(sec, path):
    out, closed = _get(sec, path)
    assert closed
    assert sec.responses(out) == 1
    status = sec.status_of(out)
    assert 300 <= status < 400 or status == 500, out[:300]
    head = _head(out)
    for line in head.split(b"\r\n"):
        assert b"\r" not in line
        assert b"\n" not in line
    assert not [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"set-cookie")]
    assert b"\r\nSet-Cookie" not in out
    if status != 500:
        location = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"location:")]
        assert len(location) == 1
        value = location[0].partition(b":")[2].strip()
        # ' is a legal sub-delim in a URI (RFC 3986 §2.2); these are not.
        for bad in (b'"', b"<", b">", b" ", b"\t", b"\r", b"\n"):
            assert bad not in value, (bad, value)
        body = out.partition(b"\r\n\r\n")[2]
        assert b'a"b' not in body
        assert b"b'c" not in body
        assert b"<d>" not in body
