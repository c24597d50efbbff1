"""The HTTP protocol component against a real server and real clients (web.md §4)."""

from __future__ import annotations

import http.client
import socket
import time

import pytest
from web_harness import started

from circuits import BaseComponent, handler
from circuits.web.events import response
from circuits.web.exceptions import NotFound
from circuits.web.servers import BaseServer


class Root(BaseComponent):
    """A minimal request handler on the web channel; routes by path."""

    channel = "web"

    def init(self) -> None:
        self.writes: list[bytes] = []

    @handler("request")
    def _on_request(self, req, res):
        path = req.path
        if path == "/":
            return "Hello World!"
        if path == "/echo":
            return req.body.read()
        if path == "/none":
            return None
        if path == "/boom":
            raise ValueError("secret detail")
        if path == "/missing":
            raise NotFound()
        if path == "/stream":
            res.body = (f"chunk{i};" for i in range(3))
            res.stream = True
            return res
        if path == "/gen":
            res.body = iter([b"a", b"", b"bb"])
            return res
        if path == "/list":
            return ["a", "b"]
        if path == "/later":
            self.fire(response(res))
            return True
        if path == "/twice":
            self.fire(response(res))
            res.body = "x"
            return res
        return f"path={path} qs={req.qs}"


class WriteSpy(BaseComponent):
    """Counts the ``write`` events on the web channel."""

    channel = "web"

    def init(self) -> None:
        self.writes: list[bytes] = []

    @handler("write", priority=10)
    def _on_write(self, sock, data):
        self.writes.append(data)


@pytest.fixture
def web():
    server = BaseServer(("127.0.0.1", 0), display_banner=True)
    spy = WriteSpy()
    with started(server, Root(), spy):
        yield server, spy
        for c in _OPEN:
            c.close()
        _OPEN.clear()


_OPEN: list[http.client.HTTPConnection] = []


def _conn(server):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    _OPEN.append(c)
    return c


def _raw(server, data: bytes, until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        if until_close:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        else:
            time.sleep(0.3)
            chunks.append(s.recv(65536))
        return b"".join(chunks)


def test_base_url(web):
    server, _ = web
    assert server.http.base == f"http://127.0.0.1:{server.port}"


def test_hello_world_one_write(web):
    server, spy = web
    c = _conn(server)
    c.request("GET", "/")
    r = c.getresponse()
    assert r.status == 200
    assert r.read() == b"Hello World!"
    assert r.getheader("Content-Length") == "12"
    assert r.getheader("Content-Type") == "text/html; charset=utf-8"
    assert r.getheader("Server").startswith("circuits.web/")
    assert len(spy.writes) == 1  # head and body together
    assert spy.writes[0].endswith(b"\r\n\r\nHello World!")


def test_keep_alive_and_query(web):
    server, _ = web
    c = _conn(server)
    for i in range(3):
        c.request("GET", f"/x?n={i}")
        r = c.getresponse()
        assert r.read() == f"path=/x qs=n={i}".encode()
        assert r.getheader("Connection") is None
    c.close()


def test_post_body(web):
    server, _ = web
    c = _conn(server)
    c.request("POST", "/echo", body=b"payload")
    assert c.getresponse().read() == b"payload"


def test_pipelined_requests_answered_in_order(web):
    server, _ = web
    data = (
        b"".join(f"GET /p{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(3))
        + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    out = _raw(server, data)
    assert out.count(b"HTTP/1.1 200 OK") == 4
    positions = [out.index(f"path=/p{i}".encode()) for i in range(3)]
    assert positions == sorted(positions)
    assert out.endswith(b"path=/last qs=")
    assert b"Connection: close" in out


def test_connection_close_honoured(web):
    server, _ = web
    out = _raw(server, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert out.endswith(b"Hello World!")


def test_http10_closes(web):
    server, _ = web
    out = _raw(server, b"GET / HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert out.endswith(b"Hello World!")


def test_head_has_no_body(web):
    server, _ = web
    c = _conn(server)
    c.request("HEAD", "/")
    r = c.getresponse()
    assert r.status == 200
    assert r.getheader("Content-Length") == "12"
    assert r.read() == b""
    c.request("GET", "/")  # the connection is still usable
    assert c.getresponse().read() == b"Hello World!"


def test_expect_100_continue(web):
    server, _ = web
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(b"abc")
        out = b""
        while not out.endswith(b"abc"):
            out += s.recv(1000)
        assert b"200 OK" in out


def test_streamed_response_is_chunked(web):
    server, _ = web
    c = _conn(server)
    c.request("GET", "/stream")
    r = c.getresponse()
    assert r.getheader("Transfer-Encoding") == "chunked"
    assert r.read() == b"chunk0;chunk1;chunk2;"
    c.request("GET", "/gen")
    r = c.getresponse()
    assert r.getheader("Transfer-Encoding") == "chunked"
    assert r.read() == b"abb"


def test_list_body(web):
    server, _ = web
    c = _conn(server)
    c.request("GET", "/list")
    r = c.getresponse()
    assert r.getheader("Content-Length") == "2"
    assert r.read() == b"ab"


def test_none_is_404(web):
    server, _ = web
    c = _conn(server)
    c.request("GET", "/none")
    assert c.getresponse().status == 404


def test_handler_exception_is_500_without_traceback(web, caplog):
    server, _ = web
    c = _conn(server)
    c.request("GET", "/boom")
    r = c.getresponse()
    body = r.read()
    assert r.status == 500
    assert b"secret detail" not in body
    assert b"Traceback" not in body
    assert b"ERROR:" not in body
    assert r.getheader("Connection") == "close"


def test_http_exception(web):
    server, _ = web
    out = _raw(server, b"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.count(b"HTTP/1.1") == 1  # exactly one response
    assert out.startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_exactly_one_response(web):
    server, _ = web
    out = _raw(server, b"GET /twice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 ") == 1
    out = _raw(server, b"GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 ") == 1


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"FOO\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nbad header line\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n", 431),
    ],
)
def test_malformed_input(web, data, status):
    server, _ = web
    out = _raw(server, data)
    assert out.startswith(b"HTTP/1.1 %d " % status), out[:80]
    assert b"Connection: close" in out or b"connection: close" in out
    assert out.count(b"HTTP/1.1 ") == 1


def test_path_guard_redirects(web):
    server, _ = web
    out = _raw(server, b"GET /static/../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 301 ")
    assert b"Location: http://x/secret.txt\r\n" in out
    out = _raw(server, b"GET /foo+bar HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 ")


def test_tls_handshake_on_plain_server_is_closed(web):
    server, _ = web
    assert _raw(server, b"\x16\x03\x01\x00\x05hello") == b""
