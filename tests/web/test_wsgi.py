"""WSGI both ways (web.md §21, PEP 3333): the Gateway hosting apps, and Application.

Hosted apps run behind a real ``Server`` on 127.0.0.1 port 0 and are talked
to with ``http.client``; where PEP 3333 conformance is the point they are
wrapped in ``wsgiref.validate.validator`` (mounted below ``/``, because the
validator rejects the SCRIPT_NAME ``'/'`` that 3.2.5 gives an app mounted at
``/``). ``Application`` is driven through the Gateway, through
``wsgiref.simple_server`` and with a hand-built environ, validated too.
"""

from __future__ import annotations

import http.client
import itertools
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO, StringIO
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from web_harness import started

from circuits.web import Controller, Server
from circuits.web.headers import Headers
from circuits.web.wrappers import Request
from circuits.web.wsgi import Application, Gateway, create_environ, empty

pytestmark = pytest.mark.timeout(20)

TEXT = [("Content-Type", "text/plain")]


# -- harness ------------------------------------------------------------------


class Web:
    """A running server with a Gateway; ``get`` makes one request on a fresh connection."""

    def __init__(self, server: Server, gateway: Gateway) -> None:
        self.server = server
        self.gateway = gateway
        self.conns: list[http.client.HTTPConnection] = []

    @property
    def port(self) -> int:
        return int(self.server.port)

    def conn(self) -> http.client.HTTPConnection:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        self.conns.append(c)
        return c

    def get(
        self, path: str, method: str = "GET", body: Any = None, headers: Any = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        c = self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r, r.read()


@contextmanager
def serving(apps: dict[str, Any], *components: Any, debug: bool = False) -> Iterator[Web]:
    server = Server(("127.0.0.1", 0), debug=debug)
    gateway = Gateway(apps)
    with started(server, *components, gateway):
        web = Web(server, gateway)
        try:
            yield web
        finally:
            for c in web.conns:
                c.close()


class Tracked:
    """A WSGI result iterable that records its close()."""

    def __init__(self, items: Any, fail_at: int | None = None) -> None:
        self.items = items
        self.fail_at = fail_at
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[Any]:
        for i, item in enumerate(self.items):
            if i == self.fail_at:
                raise ValueError("boom in the middle")
            yield item

    def close(self) -> None:
        self.closed.set()


def _assert_cut_off(web: Web, result: Tracked) -> None:
    """``GET /`` starts a 200 stream that ends without its final chunk; ``result`` is closed."""
    c = web.conn()
    c.request("GET", "/")
    r = c.getresponse()
    assert r.status == 200
    with pytest.raises(http.client.IncompleteRead):
        r.read()  # the connection closes without the final chunk
    assert result.closed.wait(5)


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", TEXT)
    return [b"Hello World!"]


def foobar(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", TEXT)
    return [b"Foobar!"]


# -- create_environ -------------------------------------------------------------


class FakeServer:
    host = "127.0.0.1"
    port = 8000
    display_banner = False


class FakeSock:
    def getpeername(self):
        return ("10.0.0.1", 5555)


def make_request(
    path: str = "/", qs: str = "", method: str = "GET", body: bytes = b"", headers: Any = ()
) -> Request:
    hdrs = Headers([("Host", "example.com:8000"), *headers])
    req = Request(FakeSock(), method, "http", path, (1, 1), qs, headers=hdrs, server=FakeServer())
    req.body = BytesIO(body)
    return req


def test_create_environ_root_mount_quirk():
    req = make_request("/foo", qs="a=1", headers=[("X-Thing", "v")])
    errors = StringIO()
    env = create_environ(errors, "/", req)
    assert env["SCRIPT_NAME"] == "/"
    assert env["PATH_INFO"] == "foo"
    assert (req.script_name, req.path) == ("/", "foo")
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SERVER_NAME"] == "example.com"
    assert env["SERVER_PORT"] == "8000"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["QUERY_STRING"] == "a=1"
    assert env["REMOTE_ADDR"] == "10.0.0.1"
    assert env["REMOTE_PORT"] == "5555"
    assert env["HTTP_X_THING"] == "v"
    assert env["HTTP_HOST"] == "example.com:8000"
    assert env["wsgi.version"] == (1, 0)
    assert env["wsgi.errors"] is errors
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is env["wsgi.multiprocess"] is env["wsgi.run_once"] is False
    assert all(type(v) is str for k, v in env.items() if "." not in k)


def test_create_environ_body_headers_only_under_cgi_names():
    req = make_request(
        "/app/x",
        method="POST",
        body=b"abc",
        headers=[("Content-Type", "text/plain"), ("Content-Length", "3"), ("X_Forged", "1")],
    )
    env = create_environ(StringIO(), "/app", req)
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in env
    assert "HTTP_CONTENT_LENGTH" not in env
    assert "HTTP_X_FORGED" not in env  # "_" in a name would collide with "-"


def test_create_environ_paths_are_wsgi_strings():
    req = make_request("/app/a%20b/caf%C3%A9", qs="q=%C3%A9&r=\u00e9")
    env = create_environ(StringIO(), "/app", req)
    assert env["SCRIPT_NAME"] == "/app"
    assert env["PATH_INFO"] == "/a b/caf\u00c3\u00a9"  # the UTF-8 bytes, as Latin-1
    assert env["QUERY_STRING"] == "q=%C3%A9&r=\u00c3\u00a9"
    assert env["REQUEST_URI"] == "/app/a%20b/caf%C3%A9?q=%C3%A9&r=\u00c3\u00a9"


def test_wsgi_input_is_bounded_by_content_length():
    req = make_request(
        "/", method="POST", body=b"line1\nline2\nEXTRA", headers=[("Content-Length", "12")]
    )
    stream = create_environ(StringIO(), "/", req)["wsgi.input"]
    assert stream.readline() == b"line1\n"
    assert stream.read(100) == b"line2\n"
    assert stream.read() == b""
    assert stream.readline() == b""
    req = make_request("/", method="POST", body=b"a\nb\nc", headers=[("Content-Length", "4")])
    stream = create_environ(StringIO(), "/", req)["wsgi.input"]
    assert list(stream) == [b"a\n", b"b\n"]
    req = make_request("/", method="POST", body=b"a\nb\nc", headers=[("Content-Length", "5")])
    assert create_environ(StringIO(), "/", req)["wsgi.input"].readlines() == [b"a\n", b"b\n", b"c"]


def test_empty_is_a_true_empty_str():
    assert isinstance(empty, str)
    assert empty == ""
    assert bool(empty)


# -- the Gateway: spec expectations ----------------------------------------------


def test_longest_mount_wins():
    with serving({"/": hello, "/foobar": foobar}) as web:
        assert web.get("/")[1] == b"Hello World!"
        assert web.get("/foobar/")[1] == b"Foobar!"
        assert web.get("/foobar")[1] == b"Foobar!"
        assert web.get("/foobarbaz")[1] == b"Hello World!"  # by segments, not characters
        assert web.get("/x/foobar")[1] == b"Hello World!"


@pytest.mark.parametrize(
    ("apps", "answers"),
    [
        # unmounted paths reach the Dispatcher
        ({"/app": hello}, {"/app/x": b"Hello World!", "/": b"from the controller"}),
        # a root mount stops the request event
        ({"/": hello}, {"/": b"Hello World!"}),
    ],
    ids=["unmounted-paths-reach-the-dispatcher", "root-mount-stops-the-request-event"],
)
def test_gateway_beside_a_controller(apps, answers):
    class Root(Controller):
        def index(self):
            return "from the controller"

    with serving(apps, Root()) as web:
        for path, body in answers.items():
            assert web.get(path)[1] == body


def test_environ_seen_by_the_app():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", TEXT)
        return [b"ok"]

    with serving({"/": app, "/sub": app}) as web:
        web.get("/foo?x=1")
        assert (seen["SCRIPT_NAME"], seen["PATH_INFO"]) == ("/", "foo")
        assert seen["QUERY_STRING"] == "x=1"
        assert seen["SERVER_PORT"] == str(web.port)
        assert seen["REMOTE_ADDR"] == "127.0.0.1"
        web.get("/sub/a/b")
        assert (seen["SCRIPT_NAME"], seen["PATH_INFO"]) == ("/sub", "/a/b")


def _str_result(environ, start_response):
    start_response("200 OK", TEXT)
    return "Hello World!"


def _list_of_str_items(environ, start_response):
    start_response("200 OK", TEXT)
    return ["Hello ", b"World!"]


def _generator(environ, start_response):
    start_response("200 OK", TEXT)
    yield "Hello "
    yield b""
    yield b"World!"


def _write_then_empty_list(environ, start_response):
    write = start_response("200 OK", TEXT)
    write("Hello World!")
    return [""]


@pytest.mark.parametrize(
    ("app", "content_length", "transfer_encoding"),
    [
        (_str_result, "12", None),
        (_list_of_str_items, "12", None),  # str items are accepted (as 3.2.5)
        (_generator, None, "chunked"),  # streamed, empty items skipped
        (_write_then_empty_list, None, "chunked"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_result_framing(app, content_length, transfer_encoding):
    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert body == b"Hello World!"
        assert r.getheader("Content-Length") == content_length
        assert r.getheader("Transfer-Encoding") == transfer_encoding


def test_write_comes_before_the_result():
    def app(environ, start_response):
        write = start_response("200 OK", TEXT)
        write(b"one ")
        return [b"two"]

    with serving({"/": app}) as web:
        assert web.get("/")[1] == b"one two"


def test_empty_result_is_200_with_no_body():
    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return [""]

    def gen(environ, start_response):
        start_response("200 OK", TEXT)
        yield from ()

    with serving({"/": app, "/gen": gen}) as web:
        for path in ("/", "/gen"):
            r, body = web.get(path)
            assert r.status == 200
            assert body == b""
            assert r.getheader("Content-Length") == "0"
            assert r.getheader("Transfer-Encoding") is None


def test_exception_is_500_naming_it_without_traceback(caplog):
    def app(environ, start_response):
        raise Exception("Hello World!")

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"Exception" in body
        assert b"Hello World!" in body
        assert b"Traceback" not in body
        assert b"File " not in body
    assert "Hello World!" in caplog.text  # the traceback goes to the log


def test_exception_page_escapes_the_message():
    def app(environ, start_response):
        raise ValueError("<script>alert(1)</script>")

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"<script>" not in body
        assert b"&lt;script&gt;" in body


def test_exception_with_debug_shows_the_traceback():
    def app(environ, start_response):
        raise Exception("Hello World!")

    with serving({"/": app}, debug=True) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"ERROR:" in body
        assert b"Hello World!" in body


def test_exception_after_start_response_drops_the_app_headers():
    def app(environ, start_response):
        start_response("200 OK", [*TEXT, ("X-App", "1")])
        raise RuntimeError("late")

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert r.getheader("X-App") is None
        assert b"RuntimeError: late" in body


def test_post_body_and_bounded_input():
    def app(environ, start_response):
        stream = environ["wsgi.input"]
        data = stream.read(int(environ["CONTENT_LENGTH"] or 0))
        again = stream.read()
        start_response("200 OK", TEXT)
        return [data, b"|", again, b"|", environ["CONTENT_LENGTH"].encode()]

    with serving({"/": app}) as web:
        assert web.get("/", "POST", body=b"payload")[1] == b"payload||7"
        chunked = iter([b"pay", b"load"])  # http.client sends an iterable chunked
        assert web.get("/", "POST", body=chunked)[1] == b"payload||7"


def test_status_reason_and_headers_come_from_the_app():
    def app(environ, start_response):
        start_response("201 Made It", [*TEXT, ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        return [b"x"]

    with serving({"/": app}) as web:
        r, _ = web.get("/")
        assert (r.status, r.reason) == (201, "Made It")
        assert r.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
        assert r.getheader("Content-Type") == "text/plain"


# -- start_response and write rules (PEP 3333) ------------------------------------


def test_start_response_twice_without_exc_info_is_an_error():
    def app(environ, start_response):
        start_response("200 OK", TEXT)
        start_response("200 OK", TEXT)
        return [b"x"]

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"AssertionError" in body


def test_exc_info_before_the_body_replaces_status_and_headers():
    def app(environ, start_response):
        start_response("200 OK", [*TEXT, ("X-First", "1")])
        try:
            raise KeyError("k")
        except KeyError:
            start_response("503 Busy", TEXT, sys.exc_info())
        return [b"busy"]

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert (r.status, r.reason, body) == (503, "Busy", b"busy")
        assert r.getheader("X-First") is None


def test_exc_info_after_the_body_began_reraises():
    outcome = []
    result = Tracked([])

    def app(environ, start_response):
        def body():
            start_response("200 OK", TEXT)
            yield b"first"
            try:
                raise KeyError("k")
            except KeyError:
                try:
                    start_response("500 Oops", TEXT, sys.exc_info())
                except KeyError:
                    outcome.append("re-raised")
                    raise

        result.items = body()
        return result

    with serving({"/": app}) as web:
        _assert_cut_off(web, result)
    assert outcome == ["re-raised"]


def test_write_before_start_response_is_an_error():
    def app(environ, start_response):
        environ["circuits.test.write"] = start_response  # not called
        return [b"x"]

    def writer(environ, start_response):
        write = start_response("200 OK", TEXT)
        write(42)
        return []

    with serving({"/": app, "/w": writer}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"start_response" in body
        r, body = web.get("/w")
        assert r.status == 500
        assert b"TypeError" in body


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("200 OK", [*TEXT, ("Connection", "close")]),
        ("200 OK", [*TEXT, ("Transfer-Encoding", "chunked")]),
        ("200 OK", [*TEXT, ("X-Bad", "a\r\nInjected: 1")]),
        ("200 OK", [*TEXT, ("Content-Length", "lots")]),
        ("OK", TEXT),
        (200, TEXT),
    ],
)
def test_bad_start_response_arguments_are_a_500(status, headers):
    def app(environ, start_response):
        start_response(status, headers)
        return [b"should not be sent"]

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"should not be sent" not in body
        assert r.getheader("Injected") is None


def test_non_bytes_item_is_a_500():
    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return [42]

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"TypeError" in body


# -- close() is always called -------------------------------------------------------


def test_close_after_a_list_like_result():
    result = Tracked([b"a", b"b"])

    class ListResult(list):
        def close(self):
            result.close()

    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return ListResult([b"a", b"b"])

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert body == b"ab"
        assert r.getheader("Content-Length") == "2"
        assert result.closed.wait(5)


def test_close_after_a_stream():
    result = Tracked([b"a", b"b", b"c"])

    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return result

    with serving({"/": app}) as web:
        assert web.get("/")[1] == b"abc"
        assert result.closed.wait(5)


def test_close_on_an_error_before_the_body():
    result = Tracked([b"a"], fail_at=0)

    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return result

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert r.status == 500
        assert b"boom in the middle" in body
        assert result.closed.wait(5)


def test_close_on_an_error_in_the_middle_of_the_stream():
    result = Tracked([b"a", b"b", b"c"], fail_at=2)

    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return result

    with serving({"/": app}) as web:
        _assert_cut_off(web, result)


def test_close_when_the_client_goes_away():
    result = Tracked(itertools.repeat(b"x" * 65536))  # endless

    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return result

    with serving({"/": app}) as web:
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 200 OK")
        assert result.closed.wait(5)


def test_close_on_head_without_a_body():
    result = Tracked([b"abc"])

    def app(environ, start_response):
        start_response("200 OK", TEXT)
        return result

    with serving({"/": app}) as web:
        r, body = web.get("/", "HEAD")
        assert (r.status, body) == (200, b"")
        assert result.closed.wait(5)


def test_content_length_declared_by_the_app_is_enforced():
    def longer(environ, start_response):
        start_response("200 OK", [*TEXT, ("Content-Length", "3")])
        return iter([b"ab", b"cdef"])

    with serving({"/": longer}) as web:
        r, body = web.get("/")
        assert body == b"abc"
        assert r.getheader("Transfer-Encoding") is None


# -- wsgi.file_wrapper -------------------------------------------------------------


def test_file_wrapper_streams_the_file_with_its_length(tmp_path):
    data = bytes(range(256)) * 1000  # 256 000 bytes: several blocks
    (tmp_path / "f.bin").write_bytes(data)
    files = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        f = open(tmp_path / "f.bin", "rb")  # noqa: SIM115 - closed by the server
        files.append(f)
        return environ["wsgi.file_wrapper"](f, 4096)

    with serving({"/": app}) as web:
        r, body = web.get("/")
        assert body == data
        assert r.getheader("Content-Length") == str(len(data))
        assert files[0].closed


# -- PEP 3333 conformance with wsgiref.validate --------------------------------------


def test_validated_apps_under_the_gateway():
    def plain(environ, start_response):
        start_response("200 OK", TEXT)
        return [b"plain"]

    def streamed(environ, start_response):
        start_response("200 OK", TEXT)
        yield b"str"
        yield b"eamed"

    def writer(environ, start_response):
        write = start_response("200 OK", TEXT)
        write(b"writ")
        return [b"ten"]

    def echo(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", TEXT)
        return [environ["SCRIPT_NAME"].encode(), b" ", environ["PATH_INFO"].encode(), b" ", body]

    def files(environ, start_response):
        start_response("200 OK", TEXT)
        return environ["wsgi.file_wrapper"](BytesIO(b"from a file"))

    apps = {
        "/plain": validator(plain),
        "/streamed": validator(streamed),
        "/writer": validator(writer),
        "/echo": validator(echo),
        "/file": validator(files),
    }
    with serving(apps) as web:
        assert web.get("/plain")[1] == b"plain"
        assert web.get("/streamed/")[1] == b"streamed"
        assert web.get("/writer")[1] == b"written"
        assert web.get("/echo/a%20b", "POST", body=b"xyz")[1] == b"/echo /a b xyz"
        assert web.get("/file")[1] == b"from a file"
        r, body = web.get("/plain", "HEAD")
        assert (r.status, body) == (200, b"")


# -- Application ---------------------------------------------------------------------


class Root(Controller):
    def __init__(self) -> None:
        super().__init__()
        self.seen: dict = {}

    def index(self):
        return "Hello World!"

    def test_args(self, *args, **kwargs):
        req = self.request
        self.seen.update(
            args=args,
            kwargs=kwargs,
            path=req.path,
            uri_path=req.uri._path,
            base_path=req.base._path,
            method=req.method,
            scheme=req.scheme,
            protocol=req.protocol,
            qs=req.qs,
            script_name=req.script_name,
            content_type=req.headers["Content-Type"],
        )
        return "args"

    def test_redirect(self):
        return self.redirect("/")

    def test_forbidden(self):
        return self.forbidden()

    def test_notfound(self):
        return self.notfound()

    def test_generator(self):
        def chunks():
            yield "Hello "
            yield "World!"

        return chunks()

    def test_yield(self):
        yield "Hello "
        yield "World!"

    def test_error(self):
        raise ValueError("broken")

    def test_head(self):
        return "twelve bytes"


def test_application_through_the_gateway():
    root = Root()
    application = Application() + root
    with serving({"/": application}) as web:
        r, body = web.get(
            "/test_args/1/2/3",
            "POST",
            body=b"1=one&2=two&3=three",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (r.status, body) == (200, b"args")
        assert root.seen == {
            "args": ("1", "2", "3"),
            "kwargs": {"1": "one", "2": "two", "3": "three"},
            "path": "test_args/1/2/3",
            "uri_path": b"/test_args/1/2/3",
            "base_path": b"/",
            "method": "POST",
            "scheme": "http",
            "protocol": (1, 1),
            "qs": "",
            "script_name": "/",
            "content_type": "application/x-www-form-urlencoded",
        }
        assert web.get("/")[1] == b"Hello World!"
        r, _ = web.get("/test_redirect")
        assert r.status == 303
        assert r.getheader("Location") == f"http://127.0.0.1:{web.port}/"
        assert web.get("/test_forbidden")[0].status == 403
        assert web.get("/test_notfound")[0].status == 404
        assert web.get("/no/such/thing")[0].status == 404
        for path in ("/test_generator", "/test_yield"):
            r, body = web.get(path)
            assert body == b"Hello World!"
            assert r.getheader("Content-Length") == "12"
            assert r.getheader("Transfer-Encoding") is None
        r, body = web.get("/test_error")
        assert r.status == 500


def environ_for(path: str, method: str = "GET", body: bytes = b"", **extra: Any) -> dict[str, Any]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "wsgi.input": BytesIO(body),
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        **extra,
    }
    setup_testing_defaults(environ)
    return environ


def call(app: Any, environ: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        out["status"] = status
        out["headers"] = headers
        return out.setdefault("written", []).append

    result = app(environ, start_response)
    try:
        out["body"] = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return out


def test_application_with_a_hand_built_environ_is_valid():
    application = validator(Application() + Root())
    out = call(application, environ_for("/"))
    assert out["status"] == "200 OK"
    assert out["body"] == b"Hello World!"
    names = [name.lower() for name, _ in out["headers"]]
    assert "connection" not in names
    assert "transfer-encoding" not in names
    assert dict(out["headers"])["Content-Length"] == "12"
    out = call(application, environ_for("/no/such/thing"))
    assert out["status"].startswith("404 ")
    out = call(application, environ_for("/test_generator"))  # str chunks become bytes
    assert out["body"] == b"Hello World!"
    out = call(application, environ_for("/test_head", "HEAD"))
    assert (out["body"], dict(out["headers"])["Content-Length"]) == (b"", "12")
    form = b"1=one&2=two&3=three"
    out = call(
        application,
        environ_for(
            "/test_args/1/2/3", "POST", form, CONTENT_TYPE="application/x-www-form-urlencoded"
        ),
    )
    assert out["body"] == b"args"


def test_application_builds_urls_from_server_name_without_host():
    application = Application() + Root()
    environ = environ_for("/test_redirect", SERVER_NAME="example.org", SERVER_PORT="8080")
    environ.pop("HTTP_HOST", None)
    out = call(application, environ)
    assert out["status"].startswith("303 ")
    assert dict(out["headers"])["Location"] == "http://example.org:8080/"


def test_application_answers_500_when_nobody_responds():
    class Silent(Controller):
        def index(self):
            return True  # "I will answer myself" - and never does

    application = Application() + Silent()
    application.response_timeout = 0
    out = call(application, environ_for("/"))
    assert out["status"].startswith("500 ")


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def test_application_under_wsgiref_simple_server():
    root = Root()
    application = validator(Application() + root)
    server: WSGIServer = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        port = server.server_address[1]
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/")
        r = c.getresponse()
        assert (r.status, r.read()) == (200, b"Hello World!")
        c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request(
            "POST",
            "/test_args/1/2/3",
            body=b"1=one&2=two&3=three",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        r = c.getresponse()
        assert (r.status, r.read()) == (200, b"args")
        c.close()
        assert root.seen["args"] == ("1", "2", "3")
        assert root.seen["kwargs"] == {"1": "one", "2": "two", "3": "three"}
        assert root.seen["path"] == "/test_args/1/2/3"  # wsgiref: SCRIPT_NAME '', PATH_INFO /...
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
