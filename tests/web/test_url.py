from __future__ import annotations

import codecs

import pytest

from circuits.web.url import ASCII, IDNA, PORTS, URL, UTF8, W1252, parse_url


def test_constants():
    assert PORTS == {"http": 80, "https": 443}
    assert IDNA.name == codecs.lookup("idna").name
    assert (UTF8.name, ASCII.name, W1252.name) == ("utf-8", "ascii", "cp1252")


def test_parse_fields():
    u = parse_url("HTTP://Example.com:80/a/b;;p=1;?&x=1&&y=2&#frag")
    assert u._scheme == b"http"
    assert u._host == b"Example.com"
    assert u._port is None
    assert u._path == b"/a/b"
    assert u._params == b"p=1"
    assert u._query == b"x=1&y=2"
    assert u._fragment == b"frag"
    assert parse_url("http://h:8080")._port == b"8080"
    assert parse_url("http://h")._path == b"/"
    assert parse_url("ftp://h:443/")._port is None


def test_bad_port():
    with pytest.raises(ValueError, match="port"):
        parse_url("http://h:x/")


def test_sanitize_canonical_and_text():
    u = parse_url("http://EX.com/a//b/./c/../d/?b=2&a=1#f")
    u.sanitize().canonical().defrag()
    assert u.unicode() == "http://ex.com/a/b/d/?a=1&b=2"
    assert str(u) == u.unicode()
    assert bytes(u) == u.utf8() == b"http://ex.com/a/b/d/?a=1&b=2"
    assert repr(u) == "<url.URL object \"b'http://ex.com/a/b/d/?a=1&b=2'\" >"


def test_escape_unescape_deparam():
    u = parse_url("http://h/a b/%7E?x=1&utm=2")
    assert u.escape()._path == b"/a%20b/~"
    assert u.unescape()._path == b"/a b/~"
    assert u.deparam(["utm"])._query == b"x=1"


def test_relative_and_call():
    base = parse_url("http://h/a/b")
    assert base.relative("c").unicode() == "http://h/a/c"
    assert base("../x") == "http://h/x"


def test_equality_and_equiv():
    assert parse_url("http://h/") == "http://h:80/"
    assert parse_url("http://h/") != "http://h/x"
    assert parse_url("http://H/a/./b?y=1&x=2").equiv("http://h:80/a/b?x=2&y=1")
    assert parse_url("http://h/?a=1") != parse_url("http://h/?a=2")


def test_punycode():
    u = parse_url("http://bücher.de/")
    assert u.punycode()._host == b"xn--bcher-kva.de"
    assert u.unpunycode()._host == "bücher.de".encode()
    with pytest.raises(TypeError):
        parse_url("/relative").punycode()
    assert not URL.parse("/x").absolute()
