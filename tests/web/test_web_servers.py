"""The web servers: TCP, UNIX and TLS binds, the banner, ``debug`` and shutdown (web.md §3)."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import time

import pytest
from web_harness import started

from circuits import BaseComponent, handler
from circuits.web.http import HTTP
from circuits.web.servers import BaseServer, FakeSock


class Hello(BaseComponent):
    channel = "web"

    @handler("request")
    def _on_request(self, req, res):
        if req.path == "/boom":
            raise ValueError("secret detail")
        return "Hello World!"


def _get(port, path="/", context=None):
    if context is None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    else:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def test_properties_and_banner(capsys):
    server = BaseServer(("127.0.0.1", 0))
    assert server.channel == "web"
    assert server.display_banner is True
    assert server.secure is False
    assert server.debug is False
    assert server.host == "127.0.0.1"
    assert server.http.base == ""
    with started(server, Hello()):
        port = server.port
        assert server.http.base == f"http://127.0.0.1:{port}"
        status, headers, body = _get(port)
        assert (status, body) == (200, b"Hello World!")
        assert headers["Server"].startswith("circuits.web/")
    assert f"ready! Listening on: http://127.0.0.1:{port}\n" in capsys.readouterr().err


def test_no_banner_no_server_header():
    server = BaseServer(0, display_banner=False)
    with started(server, Hello()):
        status, headers, _ = _get(server.port)
        assert status == 200
        assert "Server" not in headers


@pytest.mark.parametrize("debug", [False, True])
def test_debug_controls_tracebacks(debug, caplog):
    server = BaseServer(("127.0.0.1", 0), debug=debug)
    with started(server, Hello()):
        status, _, body = _get(server.port, "/boom")
        assert status == 500
        assert (b"secret detail" in body) is debug
    assert "secret detail" in caplog.text  # always logged


def test_unix_socket(tmp_path):
    path = str(tmp_path / "test.sock")
    server = BaseServer(path)
    with started(server, Hello()):
        assert os.path.basename(server.host) == "test.sock"
        assert server.http.base == path
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(path)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            out = b""
            while chunk := s.recv(4096):
                out += chunk
        assert out.startswith(b"HTTP/1.1 200 OK\r\n")
        assert out.endswith(b"Hello World!")


def test_tls(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile = str(tmp_path / "server.pem")
    cert.private_key_and_cert_chain_pem.write_to_path(certfile)
    server = BaseServer(("127.0.0.1", 0), secure=True, certfile=certfile)
    with started(server, Hello()):
        assert server.secure is True
        assert server.http.base == f"https://127.0.0.1:{server.port}"
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        status, _, body = _get(server.port, context=context)
        assert (status, body) == (200, b"Hello World!")


def test_two_servers_on_their_own_channels():
    a = BaseServer(("127.0.0.1", 0), channel="one")
    b = BaseServer(("127.0.0.1", 0), channel="two")
    with started(a, b, Hello(channel="one"), Hello(channel="two")):
        assert _get(a.port)[2] == _get(b.port)[2] == b"Hello World!"


def test_unregister_shuts_down():
    server = BaseServer(("127.0.0.1", 0))
    with started(server, Hello()):
        port = server.port
        assert _get(port)[0] == 200
        server.unregister()
        deadline = time.monotonic() + 5
        while server.server.port is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_fake_sock():
    assert FakeSock().getpeername() == (None, None)


def test_server_with_dispatcher_builds():
    pytest.importorskip("circuits.web.dispatchers")
    from circuits.web.servers import Server

    server = Server(("127.0.0.1", 0))
    with started(server, Hello()):
        assert server.http.components


def test_limits_and_timeouts_are_server_options():
    server = BaseServer(
        ("127.0.0.1", 0),
        max_body_bytes=10,
        max_header_count=3,
        max_request_line_bytes=64,
        keepalive_timeout=7.5,
        header_timeout=3.0,
        body_timeout=4.0,
        backlog=16,  # still reaches the socket server
    )
    assert (server.http.keepalive_timeout, server.http.header_timeout) == (7.5, 3.0)
    assert server.http.body_timeout == 4.0
    assert HTTP.keepalive_timeout == 60.0  # the class default is untouched
    with started(server, Hello()):
        port = server.port

        def status_of(request: bytes) -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(request)
                return s.recv(4096).split(b"\r\n", 1)[0]

        small = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
        big = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n0123456789X"
        assert status_of(small) == b"HTTP/1.1 200 OK"
        assert status_of(big).startswith(b"HTTP/1.1 413")
        many = b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        assert status_of(many).startswith(b"HTTP/1.1 431")
        long_line = b"GET /" + b"a" * 80 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert status_of(long_line).startswith(b"HTTP/1.1 414")
