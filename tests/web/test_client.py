"""``circuits.web.client``: the HTTP client against real servers (web.md §20).

Two servers: a circuits.web server and the standard library's
``http.server`` (so the client is not only tested against our own parser).
Each runs in its own thread on 127.0.0.1 port 0; the client runs in its own
thread too (``circuits.testing.running(client)``), as in the spec's usage
pattern. Every wait is on a ``circuits.testing.Watcher`` with a deadline;
nothing sleeps.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from web_harness import TIMEOUT_S, make_tls_files, started

from circuits import BaseComponent, handler, testing
from circuits.protocols.http import ResponseObject
from circuits.web.client import Client, NotConnected, parse_url, request
from circuits.web.servers import BaseServer

# -- servers ----------------------------------------------------------------------------------


class Root(BaseComponent):
    """Answers on the web channel; records (method, path, body, client port) per request."""

    channel = "web"

    def init(self) -> None:
        self.seen: list[tuple[str, str, bytes, int]] = []
        self.lock = threading.Lock()

    @handler("request")
    def _on_request(self, req, res):
        body = req.body.read()
        with self.lock:
            self.seen.append((req.method, req.path, body, req.remote.port))
        if req.path == "/echo":
            return body
        if req.path == "/stream":
            res.body = (f"chunk{i};" for i in range(3))
            res.stream = True
            return res
        if req.path == "/close":
            res.headers["Connection"] = "close"
            return "bye"
        if req.path == "/headers":
            return "\n".join(f"{k}: {v}" for k, v in sorted(req.headers.items()))
        return "Hello World!"


class WebServer:
    def __init__(self, server: BaseServer, root: Root) -> None:
        self.server = server
        self.root = root

    @property
    def url(self) -> str:
        scheme = "https" if self.server.secure else "http"
        return f"{scheme}://127.0.0.1:{self.server.port}"

    @property
    def seen(self) -> list[tuple[str, str, bytes, int]]:
        with self.root.lock:
            return list(self.root.seen)


@contextmanager
def web_server(**kwargs) -> Iterator[WebServer]:
    server = BaseServer(("127.0.0.1", 0), display_banner=False, **kwargs)
    root = Root()
    with started(server, root):
        yield WebServer(server, root)


class StdlibHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _record(self, body: bytes) -> None:
        with self.server.lock:
            self.server.seen.append((self.command, self.path, body, self.client_address[1]))

    def do_GET(self):
        self._record(b"")
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"hello", b" ", b"chunked world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")
            return
        body = b"stdlib " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/hangup":  # close without saying so (as an idle timeout does)
            self.close_connection = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._record(body)
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stdlib_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StdlibHandler)
    server.daemon_threads = True
    server.block_on_close = False
    server.seen = []
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(TIMEOUT_S)


def stdlib_url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def stdlib_seen(server):
    with server.lock:
        return list(server.seen)


# -- the client, running in its own thread ----------------------------------------------------


class Watcher(testing.Watcher):
    """A ``circuits.testing.Watcher`` on the client's tree, with this file's helpers."""

    def until(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait until ``predicate()`` is true (checked whenever an event was handled)."""
        self.wait_until(lambda events: predicate(), TIMEOUT_S, what)

    @property
    def exceptions(self) -> list[BaseException]:
        return [e.args[1] for e in self.find("exception")]

    def count(self, name: str) -> int:
        return len(self.find(name))


@pytest.fixture
def start_client() -> Iterator[Callable[..., tuple[Client, Watcher]]]:
    """``start_client(**options)``: a started ``Client`` and its watcher; stopped in teardown."""
    with ExitStack() as stack:

        def start(**options) -> tuple[Client, Watcher]:
            client = Client(**options)
            watcher = Watcher().register(client)  # before the loop starts
            stack.enter_context(testing.running(client))
            return client, watcher

        yield start


@pytest.fixture
def client(start_client) -> tuple[Client, Watcher]:
    return start_client()


def fetch(client: Client, watcher: Watcher, *args) -> ResponseObject:
    """Fire ``request(*args)`` and wait until its value holds the response."""
    value = client.fire(request(*args))
    watcher.until(lambda: value.result or value.errors, f"the response to {args[:2]!r}")
    assert not value.errors, f"the request failed: {value.value!r}"
    res = value.value
    assert isinstance(res, ResponseObject)
    return res


def refused(client: Client, watcher: Watcher, *args) -> BaseException:
    """Fire ``request(*args)``; return the exception its handler raised."""
    before = len(watcher.exceptions)
    value = client.fire(request(*args))
    watcher.until(lambda: len(watcher.exceptions) > before, f"the failure of {args[:2]!r}")
    assert value.errors
    return watcher.exceptions[before]


# -- parse_url and the request event ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com", ("example.com", 80, "/", False)),
        ("https://example.com", ("example.com", 443, "/", True)),
        ("http://example.com:8080/a/b?x=1&y=2#frag", ("example.com", 8080, "/a/b?x=1&y=2", False)),
        ("HTTPS://Example.COM:8443/p", ("example.com", 8443, "/p", True)),
    ],
)
def test_parse_url(url, expected):
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/relative/path", "URL must be absolute"),
        ("example.com/path", "URL must be absolute"),
        ("ftp://example.com/", "Invalid URL scheme"),
        ("ws://example.com/", "Invalid URL scheme"),
        ("http://example.com/a\r\nX-Injected: 1", "CR, LF or NUL"),
        ("http://example.com/a\x00", "CR, LF or NUL"),
    ],
)
def test_parse_url_refuses(url, message):
    with pytest.raises(ValueError, match=message):
        parse_url(url)


def test_request_event_has_four_positional_args():
    assert request("GET", "http://x/").args == ["GET", "http://x/", None, None]
    assert request("POST", "http://x/", b"b", {"A": "1"}).args == [
        "POST",
        "http://x/",
        b"b",
        {"A": "1"},
    ]
    assert issubclass(NotConnected, Exception)


def test_a_new_client_has_no_response():
    client = Client()
    assert client.response is None
    assert client.connected is False
    assert client._transport.channel == client.channel == "client"
    client._transport._sock.close()  # never started: nothing else closes it


# -- against a circuits.web server ----------------------------------------------------------------


def test_the_spec_usage_pattern(client):
    client, watcher = client
    with web_server() as srv:
        client.fire(request("GET", srv.url + "/"))
        watcher.until(lambda: client.response is not None, "client.response")
        res = client.response
        assert (res.status, res.reason, res.version) == (200, "OK", (1, 1))
        assert res.read() == b"Hello World!"
        assert res.headers["Content-Type"].startswith("text/html")
        assert client.connected


def test_keep_alive_reuses_the_connection(client):
    client, watcher = client
    with web_server() as srv:
        first = fetch(client, watcher, "GET", srv.url + "/one")
        second = fetch(client, watcher, "GET", srv.url + "/two")
        assert first.read() == second.read() == b"Hello World!"
        assert client.response is second
        seen = srv.seen
        assert [path for _, path, _, _ in seen] == ["/one", "/two"]
        assert len({port for *_, port in seen}) == 1, "two connections for two requests"
        assert watcher.count("connected") == 1


def test_post_body_and_headers(client):
    client, watcher = client
    with web_server() as srv:
        res = fetch(client, watcher, "POST", srv.url + "/echo", b"x=1&y=2", {"X-Test": "yes"})
        assert res.read() == b"x=1&y=2"
        assert srv.seen[0][:3] == ("POST", "/echo", b"x=1&y=2")
        res = fetch(client, watcher, "GET", srv.url + "/headers", None, {"X-Test": "yes"})
        lines = res.read().decode().splitlines()
        assert f"Host: 127.0.0.1:{srv.server.port}" in lines
        assert "X-Test: yes" in lines


def test_chunked_response(client):
    client, watcher = client
    with web_server() as srv:
        res = fetch(client, watcher, "GET", srv.url + "/stream")
        assert res.headers["Transfer-Encoding"] == "chunked"
        assert res.read() == b"chunk0;chunk1;chunk2;"
        res = fetch(client, watcher, "GET", srv.url + "/")  # the connection is still in step
        assert res.read() == b"Hello World!"
        assert len({port for *_, port in srv.seen}) == 1


def test_head_response_has_no_body_and_keeps_the_connection(client):
    client, watcher = client
    with web_server() as srv:
        res = fetch(client, watcher, "HEAD", srv.url + "/")
        assert res.status == 200
        assert int(res.headers["Content-Length"]) == len(b"Hello World!")
        assert res.read() == b""
        assert fetch(client, watcher, "GET", srv.url + "/").read() == b"Hello World!"
        assert len({port for *_, port in srv.seen}) == 1


def test_connection_close_is_honoured_and_the_next_request_reconnects(client):
    client, watcher = client
    with web_server() as srv:
        res = fetch(client, watcher, "GET", srv.url + "/close")
        assert res.headers["Connection"] == "close"
        assert res.read() == b"bye"
        watcher.until(lambda: watcher.count("disconnected") == 1, "disconnected")
        assert not client.connected
        assert fetch(client, watcher, "GET", srv.url + "/").read() == b"Hello World!"
        assert len({port for *_, port in srv.seen}) == 2
        assert watcher.count("connected") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("GET", "/relative"), "URL must be absolute"),
        (("GET\r\nX-Injected: 1", "{url}/"), "method .* contains CR, LF or NUL"),
        (("GET", "{url}/a\r\nX-Injected: 1"), "CR, LF or NUL"),
        (("GET", "{url}/a\nX-Injected: 1"), "CR, LF or NUL"),
        (("GET", "{url}/", None, {"X-A": "a\r\nX-Injected: 1"}), "CR, LF or NUL"),
        (("GET", "{url}/", None, {"X-A": "a\x00"}), "CR, LF or NUL"),
        (("GET", "{url}/", None, {"X-A\r\nX-Injected": "1"}), "CR, LF or NUL"),
        (("G T", "{url}/"), "not a token"),
        (("POST", "{url}/", "text, not bytes"), "must be bytes"),
    ],
)
def test_invalid_requests_are_refused_before_anything_is_sent(client, args, message):
    client, watcher = client
    with web_server() as srv:
        args = tuple(a.format(url=srv.url) if isinstance(a, str) else a for a in args)
        exc = refused(client, watcher, *args)
        assert isinstance(exc, (ValueError, TypeError))
        assert re.search(message, str(exc)), str(exc)
        assert watcher.count("connect") == 0, "the client connected for an invalid request"
        assert srv.seen == []
        # the client is still usable
        assert fetch(client, watcher, "GET", srv.url + "/").read() == b"Hello World!"
        assert [path for _, path, _, _ in srv.seen] == ["/"]


def test_requests_fired_together_run_one_after_the_other(client):
    client, watcher = client
    with web_server() as srv:
        values = [client.fire(request("GET", f"{srv.url}/{n}")) for n in range(3)]
        watcher.until(lambda: all(v.result or v.errors for v in values), "three responses")
        assert not any(v.errors for v in values)
        assert [path for _, path, _, _ in srv.seen] == ["/0", "/1", "/2"]
        assert len({port for *_, port in srv.seen}) == 1


def test_unreachable_server_fails_the_request(client):
    client, watcher = client
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exc = refused(client, watcher, "GET", f"http://127.0.0.1:{port}/")
    assert isinstance(exc, ConnectionError)
    assert f"127.0.0.1:{port}" in str(exc)


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory)


def test_https_against_a_tls_server(tls_files, start_client):
    client, watcher = start_client(ca_certs=tls_files["ca"])
    with web_server(secure=True, certfile=tls_files["cert"]) as srv:
        assert srv.url.startswith("https://")
        first = fetch(client, watcher, "GET", srv.url + "/")
        second = fetch(client, watcher, "POST", srv.url + "/echo", b"secret")
        assert (first.read(), second.read()) == (b"Hello World!", b"secret")
        assert client._transport.secure is True
        assert len({port for *_, port in srv.seen}) == 1


def test_https_refuses_an_unverified_certificate(tls_files, client):
    client, watcher = client  # no ca_certs: the system store does not know the test CA
    with web_server(secure=True, certfile=tls_files["cert"]) as srv:
        exc = refused(client, watcher, "GET", srv.url + "/")
        assert "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate" in str(exc).lower()
        assert srv.seen == []


# -- against the standard library's http.server -------------------------------------------------


def test_stdlib_server_keep_alive_and_post(client, stdlib_server):
    client, watcher = client
    url = stdlib_url(stdlib_server)
    res = fetch(client, watcher, "GET", url + "/a?b=1")
    assert (res.status, res.read()) == (200, b"stdlib /a?b=1")
    assert res.headers["Content-Type"] == "text/plain"
    res = fetch(client, watcher, "POST", url + "/p", b"payload")
    assert (res.status, res.reason, res.read()) == (201, "Created", b"payload")
    seen = stdlib_seen(stdlib_server)
    assert [(m, p, b) for m, p, b, _ in seen] == [
        ("GET", "/a?b=1", b""),
        ("POST", "/p", b"payload"),
    ]
    assert len({port for *_, port in seen}) == 1


def test_stdlib_server_chunked_response(client, stdlib_server):
    client, watcher = client
    res = fetch(client, watcher, "GET", stdlib_url(stdlib_server) + "/chunked")
    assert res.headers["Transfer-Encoding"] == "chunked"
    assert res.read() == b"hello chunked world"


def test_stdlib_server_silent_close_then_reconnect(client, stdlib_server):
    client, watcher = client
    url = stdlib_url(stdlib_server)
    assert fetch(client, watcher, "GET", url + "/hangup").read() == b"stdlib /hangup"
    watcher.until(lambda: watcher.count("disconnected") == 1, "the server's close")
    assert not client.connected
    assert fetch(client, watcher, "GET", url + "/again").read() == b"stdlib /again"
    assert len({port for *_, port in stdlib_seen(stdlib_server)}) == 2


def test_path_is_percent_encoded(client, stdlib_server):
    client, watcher = client
    res = fetch(client, watcher, "GET", stdlib_url(stdlib_server) + "/a b/é?q=x y")
    assert res.read() == b"stdlib /a%20b/%C3%A9?q=x%20y"
