"""``circuits.protocols.http.HTTP``: read bytes in, ``response`` events out."""

from __future__ import annotations

import http.server
import threading

import pytest

from circuits import BaseComponent, Manager, handler
from circuits.net.events import close, connect, read, write
from circuits.protocols.http import HTTP, ResponseObject, encode_request, request, response
from circuits.testing import Watcher, running


class Got(BaseComponent):
    channel = "web"

    def init(self):
        self.responses = []
        self.closed = 0
        self.done = threading.Event()

    @handler("response")
    def _on_response(self, res):
        self.responses.append((res, res.read()))
        self.done.set()

    @handler("close")
    def _on_close(self):
        self.closed += 1


def feed(*chunks, disconnect=False):
    m = Manager()
    HTTP().register(m)
    got = Got().register(m)
    for chunk in chunks:
        m.fire(read(chunk), "web")
        while len(m):
            m.flush()
    if disconnect:
        from circuits.net.events import disconnected

        m.fire(disconnected(), "web")
        while len(m):
            m.flush()
    return got


def test_names():
    assert HTTP.channel == "web"
    assert request.__name__ == "request"
    assert response.__name__ == "response"


def test_body_split_over_reads():
    got = feed(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhe", b"llo"
    )
    [(res, body)] = got.responses
    assert body == b"hello"
    assert (res.status, res.reason, res.version) == (200, "OK", (1, 1))
    assert res.headers["content-type"] == "text/plain"
    assert repr(res) == "<Response 200 OK text/plain (5)>"


def test_chunked_and_empty_and_pipelined():
    got = feed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    )
    assert [(r.status, b) for r, b in got.responses] == [(200, b"ab"), (204, b""), (200, b"")]


def test_content_length_zero_is_delivered_at_once():
    got = feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert len(got.responses) == 1


def test_upgrade_delivers_the_rest_as_body():
    got = feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi")
    [(res, body)] = got.responses
    assert res.status == 101
    assert body == b"\x81\x02hi"


def test_close_delimited_body_on_disconnect():
    got = feed(b"HTTP/1.0 200 OK\r\n\r\nall ", b"of it", disconnect=True)
    [(res, body)] = got.responses
    assert body == b"all of it"
    assert res.version == (1, 0)


def test_unknown_status_has_an_empty_reason():
    got = feed(b"HTTP/1.1 299 Whatever\r\nContent-Length: 0\r\n\r\n")
    assert got.responses[0][0].reason == ""
    assert repr(got.responses[0][0]) == "<Response 299  None (0)>"


def test_malformed_response_closes_the_connection(caplog):
    got = feed(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
    assert got.responses == []
    assert got.closed == 1
    assert "Content-Length b'x'" in caplog.text


def test_response_object():
    res = ResponseObject({}, 404, (1, 1))
    res.body.write(b"nope")
    res.body.seek(0)
    assert res.reason == "Not Found"
    assert res.read() == b"nope"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"hello " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_against_a_loopback_server(http_server):
    from circuits.net.sockets import TCPClient

    m = Manager()
    TCPClient(channel="web").register(m)
    HTTP().register(m)
    got = Got().register(m)
    watcher = Watcher().register(m)
    with running(m):
        m.fire(connect("127.0.0.1", http_server), "web")
        assert watcher.wait("connected", channel="web")
        m.fire(write(b"GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n"), "web")
        assert got.done.wait(5), "no 'response'"
        [(res, body)] = got.responses
        assert (res.status, body) == (200, b"hello /x")
        assert res.headers["Content-Type"] == "text/plain"
        m.fire(close(), "web")


# -- requests through the engine (what circuits.web.client does) --------------------------------


def component():
    m = Manager()
    http = HTTP().register(m)
    got = Got().register(m)
    return m, http, got


def deliver(m, *chunks):
    for chunk in chunks:
        m.fire(read(chunk), "web")
        while len(m):
            m.flush()


HOST = [("Host", "example.com")]


def test_send_request_serialises_and_frames_the_body():
    _, http, _ = component()
    assert http.reusable
    data = http.send_request("POST", "/p?q=1", [*HOST, ("X-A", "1")], b"abc")
    assert data == (
        b"POST /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert not http.reusable
    with pytest.raises(RuntimeError, match="cannot take a request now"):
        http.send_request("GET", "/", HOST)


def test_head_response_is_complete_without_a_body():
    m, http, got = component()
    http.send_request("HEAD", "/", HOST)
    deliver(m, b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
    [(res, body)] = got.responses
    assert (res.status, body, res.headers["Content-Length"]) == (200, b"", "99")
    assert http.reusable  # the next request can go on the same connection
    http.send_request("GET", "/", HOST)
    deliver(m, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert [b for _, b in got.responses] == [b"", b"ok"]


def test_interim_responses_are_skipped():
    m, http, got = component()
    http.send_request("POST", "/", [*HOST, ("Expect", "100-continue")], b"x")
    deliver(
        m,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n",
        b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\ny",
    )
    assert [(r.status, b) for r, b in got.responses] == [(201, b"y")]


@pytest.mark.parametrize(
    ("method", "target", "headers", "message"),
    [
        ("GET\r\n", "/", HOST, "not a token"),
        ("GET", "/a b", HOST, "invalid request target"),
        ("GET", "/a\r\nX: 1", HOST, "invalid request target"),
        ("GET", "/", [*HOST, ("X-A", "a\r\nX-B: b")], "control character"),
        ("GET", "/", [*HOST, ("X-A\r\n", "1")], "not a token"),
        ("GET", "/", [*HOST, ("X-A", "\u20ac")], "not Latin-1"),
        ("GET", "/", [], "Host"),
    ],
)
def test_invalid_requests_raise_and_change_nothing(method, target, headers, message):
    _, http, _ = component()
    with pytest.raises(ValueError, match=message):
        http.send_request(method, target, headers)
    with pytest.raises(ValueError, match=message):
        encode_request(method, target, headers)
    assert http.reusable
    assert http.send_request("GET", "/", HOST).startswith(b"GET / HTTP/1.1\r\n")


def test_body_must_be_bytes():
    with pytest.raises(TypeError, match="must be bytes"):
        encode_request("POST", "/", HOST, "text")


def test_unsolicited_response_after_a_sent_request_closes(caplog):
    m, http, got = component()
    http.send_request("GET", "/", HOST)
    deliver(
        m,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",  # nobody asked for this one
    )
    assert len(got.responses) == 1
    assert got.closed == 1
    assert "unasked" in caplog.text


def test_after_a_switch_the_bytes_are_not_parsed():
    m, http, got = component()
    http.send_request("GET", "/", [*HOST, ("Connection", "Upgrade"), ("Upgrade", "websocket")])
    deliver(m, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00", b"junk")
    [(res, body)] = got.responses
    assert (res.status, body) == (101, b"\x81\x00")
    assert http.switched
    assert got.closed == 0


def test_a_new_connection_starts_a_new_engine():
    from circuits.net.events import connected, disconnected

    m, http, got = component()
    http.send_request("GET", "/", HOST)
    m.fire(disconnected(), "web")
    m.fire(connected("example.com", 80), "web")
    while len(m):
        m.flush()
    assert http.reusable
    assert got.responses == []
