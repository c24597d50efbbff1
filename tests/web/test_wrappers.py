from __future__ import annotations

import email.utils
import io
from http.cookies import SimpleCookie

import pytest

from circuits.web import wrappers
from circuits.web.errors import httperror, notfound
from circuits.web.headers import Headers
from circuits.web.url import parse_url
from circuits.web.wrappers import (
    Body,
    Host,
    HTTPStatus,
    Request,
    Response,
    Status,
    file_generator,
    formatdate,
)


class FakeSock:
    def __init__(self, peer=("10.0.0.1", 5555)):
        self.peer = peer

    def getpeername(self):
        return self.peer


class FakeServer:
    host = "127.0.0.1"
    port = 8000
    display_banner = True
    debug = False


def make(method="GET", protocol=(1, 1), server=FakeServer, **headers):
    h = Headers()
    for key, value in headers.items():
        h[key.replace("_", "-")] = value
    req = Request(
        FakeSock(),
        method,
        path="/a",
        protocol=protocol,
        headers=h,
        server=server() if server else None,
    )
    return req, Response(req)


def test_reexports():
    assert wrappers.httperror is httperror
    assert wrappers.parse_url is parse_url
    assert wrappers.Headers is Headers
    assert formatdate.func is email.utils.formatdate
    assert formatdate(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_file_generator_reads_chunks_and_closes():
    f = io.BytesIO(b"abcde")
    assert list(file_generator(f, 2)) == [b"ab", b"cd", b"e"]
    assert f.closed


def test_host():
    assert repr(Host("1.2.3.4", 80)) == "Host('1.2.3.4', 80, '1.2.3.4')"
    assert Host("1.2.3.4", 80, "x").name == "x"
    assert (Host.ip, Host.port, Host.name) == ("0.0.0.0", 80, "unknown.tld")


def test_http_status():
    s = HTTPStatus(404)
    assert int(s) == 404
    assert s == 404
    assert s < 500
    assert s >= 404
    assert s > 200
    assert s <= 404
    assert str(s) == "404 Not Found"
    assert f"{s:>15}" == "  404 Not Found"
    assert repr(s) == "<Status (status=404 reason=Not Found>"
    assert (s.status, s.reason) == (404, "Not Found")
    assert str(HTTPStatus(308)) == "308 "
    assert HTTPStatus(200, "Fine").reason == "Fine"
    with pytest.raises(AttributeError):
        s.x = 1


def test_request_attributes():
    req, _ = make(Host="example.com:8080", Cookie="a=b")
    assert req.remote.ip == "10.0.0.1"
    assert req.remote.port == 5555
    assert (req.local.ip, req.local.port) == ("127.0.0.1", 8000)
    assert (req.host, req.port) == ("example.com", 8080)
    assert str(req.base) == "http://example.com:8080/"
    assert str(req.uri) == "http://example.com:8080/a"
    assert req.cookie["a"].value == "b"
    assert req.body.read() == b""
    assert req.print_debug is False
    assert req.handled is False
    assert req.index is None
    assert repr(req) == "<Request GET /a HTTP/1.1>"


def test_request_without_host_header_and_default_ports():
    req, _ = make()
    assert (req.host, req.port) == ("127.0.0.1", 8000)
    https = Request(
        FakeSock(),
        scheme="https",
        path="/x",
        qs="q=1",
        headers=Headers({"Host": "h"}),
        server=FakeServer(),
    )
    assert https.port == 443
    assert str(https.uri) == "https://h/x?q=1"


def test_request_unix_peer_and_no_server():
    req = Request(FakeSock("/tmp/sock"), scheme="")
    assert (req.remote.ip, req.remote.port, req.remote.name) == (None, None, "/tmp/sock")
    assert req.scheme == "http"
    assert req.server is None
    assert req.print_debug is False


def test_response_status_line_and_default_headers():
    req, res = make()
    assert str(res) == "HTTP/1.1 200 OK\r\n"
    assert bytes(res) == b"HTTP/1.1 200 OK\r\n"
    assert list(res.headers) == ["Date", "Server"]
    assert res.headers["Server"] == "circuits.web/" + __import__("circuits").__version__
    assert res.cookie is req.cookie
    assert repr(res) == "<Response 200 OK text/html; charset=utf-8 (0)>"


def test_response_without_server_uses_x_powered_by():
    _, res = make(server=None)
    assert "X-Powered-By" in res.headers
    assert "Server" not in res.headers


def test_prepare_plain_body():
    _, res = make()
    res.body = "Hello World!"
    res.prepare()
    text = str(res.headers)
    assert text.endswith("Content-Type: text/html; charset=utf-8\r\nContent-Length: 12\r\n\r\n")
    assert res.chunked is False
    assert res.close is False


def test_body_descriptor():
    _, res = make()
    res.body = "x"
    assert res.body == [b"x"]
    res.body = b""
    assert res.body == []
    res.body = None
    assert res.body == []
    res.body = ["a", b"b"]
    assert res.body == ["a", b"b"]
    res.body = 42
    assert res.body == [b"42"]
    res.body = res
    assert res.body == [b"42"]
    assert Body.encode_errors == "strict"
    assert isinstance(Response.body, Body)
    assert isinstance(Response.status, Status)


def test_body_httperror_and_list_length():
    req, res = make()
    res.body = notfound(req, res)
    assert isinstance(res.body[0], str)
    res.prepare()
    assert res.headers["Content-Length"] == str(len(res.body[0].encode()))


def test_file_body_streams_chunked():
    _, res = make()
    res.body = io.BytesIO(b"data")
    assert res.stream is True
    res.prepare()
    assert res.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in res.headers
    assert res.chunked is True


def test_generator_without_chunking_closes():
    _, res = make(protocol=(1, 0))
    res.body = iter([b"a"])
    res.prepare()
    assert res.close is True
    assert "Transfer-Encoding" not in res.headers
    assert "Connection" not in res.headers


def test_connection_headers():
    _, res = make()
    res.close = True
    res.prepare()
    assert res.headers["Connection"] == "close"
    _, res10 = make(protocol=(1, 0))
    res10.prepare()
    assert res10.headers["Connection"] == "Keep-Alive"


def test_status_descriptor_and_413_closes():
    _, res = make()
    res.status = 413
    assert isinstance(res.status, HTTPStatus)
    assert res.status == 413
    res.prepare()
    assert res.close is True
    assert str(res) == "HTTP/1.1 413 Request Entity Too Large\r\n"


def test_head_has_length_but_no_chunking():
    _, res = make(method="HEAD")
    res.body = "Hello World!"
    res.prepare()
    assert res.headers["Content-Length"] == "12"


def test_cookies_echoed_once_even_if_prepared_twice():
    _, res = make(Cookie="a=b")
    res.cookie["c"] = "d"
    res.cookie["c"]["path"] = "/"
    res.prepare()
    res.prepare()
    assert res.headers.get_all("Set-Cookie") == ["a=b", "c=d; Path=/"]


def test_cookie_with_control_characters_is_refused():
    _, res = make()
    res.cookie["c"] = "v"
    res.cookie["c"]["path"] = "/\r\nX-Evil: 1"
    with pytest.raises(ValueError, match="'c'"):
        res.prepare()
    res.cookie["v"] = "a\r\nb"  # values are quoted by SimpleCookie
    assert "\r" not in res.cookie["v"].OutputString()


def test_forced_chunking_never_sends_both_framings():
    _, res = make()
    res.body = "abc"
    res.headers["Transfer-Encoding"] = "chunked"
    res.prepare()
    assert res.chunked is True
    assert "Content-Length" not in res.headers


def test_prepare_twice_after_body_change():
    _, res = make()
    res.body = iter([b"x"])
    res.prepare()
    assert res.headers["Transfer-Encoding"] == "chunked"
    res.body = "abcd"
    res.prepare()
    assert res.headers["Content-Length"] == "4"
    assert "Transfer-Encoding" not in res.headers
    assert res.chunked is False


def test_no_length_for_204():
    _, res = make()
    res.status = 204
    res.prepare()
    assert "Content-Length" not in res.headers
    assert "Transfer-Encoding" not in res.headers


def test_simplecookie_type():
    req, _ = make(Cookie="bad cookie;;; ===")
    assert isinstance(req.cookie, SimpleCookie)
