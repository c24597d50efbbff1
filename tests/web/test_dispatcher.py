from __future__ import annotations

import io

import pytest

from circuits import TimeoutError
from circuits.core import Component, Event, Manager, handler
from circuits.web.controllers import Controller, JSONController
from circuits.web.dispatchers import Dispatcher
from circuits.web.dispatchers.dispatcher import find_handlers, process, resolve_path
from circuits.web.events import request
from circuits.web.exceptions import Forbidden, NotFound, Redirect
from circuits.web.headers import Headers
from circuits.web.parsers.multipart import MultipartPart
from circuits.web.wrappers import Request, Response


class FakeSock:
    def getpeername(self):
        return ("10.0.0.1", 5555)


def make(path="/", qs="", method="GET", body=b"", content_type=None):
    headers = Headers([("Host", "example.com")])
    if content_type is not None:
        headers["Content-Type"] = content_type
    req = Request(FakeSock(), method, path=path, qs=qs, headers=headers)
    req.body = io.BytesIO(body)
    return req, Response(req)


class Root(Controller):
    def index(self):
        return ("index",)

    def hello(self, name="World"):
        return ("hello", name)

    def two(self, a, b):
        return ("two", a, b)

    def args(self, *args, **kw):
        return ("args", args, kw)

    def method(self):
        return ("method", self.request.method)


class Sub(Controller):
    channel = "/sub"

    def index(self, *a):
        return ("sub.index", a)

    def GET(self, *a):
        return ("sub.GET", a)


class Sub2(Controller):
    channel = "/sub2"

    def index(self):
        return ("sub2.index",)

    def foo(self):
        return ("sub2.foo",)


class Leaf(Controller):
    channel = "/world/country/region"

    def index(self):
        return ("leaf.index",)

    def city(self):
        return ("leaf.city",)


class Tree(Controller):
    def __init__(self):
        super().__init__()
        self += Leaf()


def flush(m):
    while len(m):
        m.flush()


@pytest.fixture
def app():
    m = Manager()
    d = Dispatcher(channel="web").register(m)
    for c in (Root(), Sub(), Sub2()):
        c.register(m)
    flush(m)

    def get(path, qs="", method="GET", **kw):
        req, res = make(path, qs, method, **kw)
        value = m.fire(request(req, res), "web")
        flush(m)
        return value, req

    get.manager = m
    get.dispatcher = d
    return get


def test_paths_recorded(app):
    assert set(app.dispatcher.paths) == {"/", "/sub", "/sub2"}


@pytest.mark.parametrize(
    ("path", "qs", "expected"),
    [
        ("/", "", ("index",)),
        ("/hello", "name=Bob", ("hello", "Bob")),
        ("/hello", "", ("hello", "World")),
        ("/hello/Al", "", ("hello", "Al")),
        ("/args/a/b", "x=1&x=2&y=", ("args", ("a", "b"), {"x": "1", "y": ""})),
        ("/two/1/2", "", ("two", "1", "2")),
        ("/sub/x/y", "", ("sub.GET", ("x", "y"))),
        ("/sub", "", ("sub.GET", ())),
        ("/sub2/", "", ("sub2.index",)),
        ("/sub2", "", ("sub2.index",)),
        ("/sub2/foo", "", ("sub2.foo",)),
        ("/args/a%20b", "", ("args", ("a%20b",), {})),
    ],
)
def test_resolution(app, path, qs, expected):
    value, _ = app(path, qs)
    assert value.value == expected
    assert not value.errors


@pytest.mark.parametrize("path", ["/two/1", "/two/1/2/3", "/sub2/bar", "/nothing/here"])
def test_not_found_returns_none(app, path):
    value, req = app(path)
    assert value.value is None
    assert not value.errors
    assert find_handlers(req, app.dispatcher.paths) == ([], None, None, None)


def test_any_method_reaches_plain_handler(app):
    value, _ = app("/method", method="PUT")
    assert value.value == ("method", "PUT")


def test_method_handler_only_for_its_method(app):
    value, _ = app("/sub/x", method="POST")
    assert value.value == ("sub.index", ("x",))


def test_index_flag(app):
    _, req = app("/")
    assert req.index is True
    _, req = app("/hello")
    assert req.index is False


def test_event_fired_on_controller_channel():
    seen = []

    class Watch(Component):
        channel = "/"

        @handler("hello", priority=10)
        def _hello(self, *args, **kwargs):
            seen.append((args[2:], kwargs))

    m = Manager()
    Dispatcher(channel="web").register(m)
    Root().register(m)
    Watch().register(m)
    flush(m)
    req, res = make("/hello/x")
    m.fire(request(req, res), "web")
    flush(m)
    assert seen == [(("x",), {})]


def test_handler_error_is_the_request_error(app):
    class Bad(Controller):
        channel = "/bad"

        def index(self):
            raise ValueError("boom")

    Bad().register(app.manager)
    flush(app.manager)
    value, _ = app("/bad")
    assert value.errors
    with pytest.raises(ValueError, match="boom"):
        value.outcome()


def test_unexpected_kwargs_give_type_error(app):
    value, _ = app("/two/1/2", qs="c=3")
    assert value.errors
    with pytest.raises(TypeError):
        value.outcome()


def test_urlencoded_form(app):
    value, _ = app(
        "/args",
        qs="q=1",
        method="POST",
        body=b"a=1&b[]=2&b[]=3&arg=%E2%86%92",
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    assert value.value == ("args", (), {"q": "1", "a": "1", "b": ["2", "3"], "arg": "→"})


def test_other_bodies_left_alone(app):
    value, req = app("/args", method="POST", body=b'{"a": 1}', content_type="application/json")
    assert value.value == ("args", (), {})
    assert req.body.read() == b'{"a": 1}'


def test_multipart_form():
    boundary = "===============123=="
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="field"\r\n\r\n'
        "value\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "caf\u00e9\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    req, _ = make(
        "/", method="POST", body=body, content_type=f'multipart/form-data; boundary="{boundary}"'
    )
    params = {}
    process(req, params)
    assert params["field"] == "value"
    assert isinstance(params["file"], MultipartPart)
    assert params["file"].filename == "a.txt"
    assert params["file"].value == "caf\u00e9"


def test_multipart_bad_boundary():
    req, _ = make("/", method="POST", body=b"", content_type="multipart/form-data; boundary= ")
    with pytest.raises(ValueError, match="Invalid boundary"):
        process(req, {})


def test_resolve_path_longest_first():
    paths = {"/": 1, "/a": 2, "/a/b": 3}
    assert list(resolve_path(paths, ["a", "b", "c"])) == [
        ("/a/b", ["c"]),
        ("/a", ["b", "c"]),
        ("/", ["a", "b", "c"]),
    ]


def test_nested_controller_registered_before_joining_tree():
    m = Manager()
    d = Dispatcher(channel="web").register(m)
    Tree().register(m)
    flush(m)
    assert d.paths["/world/country/region"].__class__ is Leaf
    for path, expected in [
        ("/world/country/region", ("leaf.index",)),
        ("/world/country/region/city", ("leaf.city",)),
    ]:
        req, res = make(path)
        value = m.fire(request(req, res), "web")
        flush(m)
        assert value.value == expected


def test_controllers_registered_in_the_same_flush():
    m = Manager()
    Root().register(m)
    d = Dispatcher(channel="web").register(m)
    flush(m)
    assert "/" in d.paths


def test_first_controller_wins_and_unregister_removes():
    m = Manager()
    d = Dispatcher(channel="web").register(m)
    first, second = Sub2(), Sub2()
    first.register(m)
    second.register(m)
    flush(m)
    assert d.paths["/sub2"] is first
    first.unregister()
    flush(m)
    assert "/sub2" not in d.paths


def test_path_rewritten_by_earlier_handler():
    class Rewrite(Component):
        channel = "site1"

        @handler("request", priority=1.0)
        def _rewrite(self, req, res):
            req.path = "/site1" + req.path

    class Site(Controller):
        channel = "/site1"

        def index(self):
            return "site1"

    m = Manager()
    Rewrite().register(m)
    Dispatcher(channel="site1").register(m)
    Site().register(m)
    flush(m)
    req, res = make("/")
    value = m.fire(request(req, res), "site1")
    flush(m)
    assert value.value == "site1"


def test_internal_handler_not_reachable(app):
    value, _ = app("/prepare_unregister_complete")
    assert value.value is None


def test_peer_cert_kept_on_request_event(app):
    m = app.manager
    req, res = make("/hello")
    e = request(req, res, "CERT")
    value = m.fire(e, "web")
    flush(m)
    assert e.peer_cert == "CERT"
    assert value.value == ("hello", "World")


def test_value_changed_fills_response_body():
    responses = []

    class Watch(Component):
        channel = "web"

        @handler("response")
        def _response(self, res):
            responses.append(res)

    m = Manager()
    d = Dispatcher(channel="web").register(m)
    Root().register(m)
    Watch().register(m)
    flush(m)
    req, res = make("/hello/there")
    e = request(req, res)
    e.notify = True
    # The value-changed notification goes to the component that fired the
    # event (in a server, the HTTP component, with the Dispatcher under it).
    value = d.fire(e, "web")
    flush(m)
    assert responses == [res]
    assert value.value == ("hello", "there")


class Coroutines(Controller):
    channel = "/co"

    def ok(self):
        yield None  # give way once, as a real coroutine would (a call, a sleep)
        yield "fine"

    def boom(self):
        yield None
        raise ValueError("boom")

    def missing(self):
        yield None
        raise NotFound()

    def moved(self):
        yield None
        raise Redirect("/co/ok")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/co/ok", 200), ("/co/boom", 500), ("/co/missing", 404), ("/co/moved", 303)],
)
def test_a_coroutine_controller_is_answered_however_it_ends(web_client, path, status):
    # A coroutine that raised used to leave its request unanswered forever.
    client = web_client(Coroutines(), ExceptionSink(), timeout=5)
    res = client.get(path)
    assert res.status == status
    if status == 200:
        assert res.text == "fine"
    if status == 500:
        assert "boom" not in res.text  # no traceback for the client unless debug


class ExceptionSink(Component):
    """Handles the ``exception`` events of the failing controllers (else reported on stderr)."""

    channel = "*"

    @handler("exception", channel="*")
    def _on_exception(self, *args, **kwargs):
        pass


class add(Event):
    pass


class Adder(Component):
    channel = "math"

    def add(self, a, b):
        return a + b


class JSONCoroutines(JSONController):
    channel = "/json"

    def total(self, a="1", b="2"):
        value = yield self.call(add(int(a), int(b)), "math")  # the loop sends the Value back
        yield {"total": value.value}

    def patient(self):
        try:
            yield self.wait("never", timeout=0.01)  # the timeout is thrown into the method
        except TimeoutError:
            yield {"timed_out": True}

    def refused(self):
        yield None
        raise Forbidden()  # as from a plain method: its error page, not JSON


def test_a_json_controller_may_be_a_coroutine(web_client):
    client = web_client(JSONCoroutines(), Adder())
    res = client.get("/json/total?a=40&b=2")
    assert (res.status, res.json()) == (200, {"total": 42})
    assert res.headers["Content-Type"] == "application/json"
    assert client.get("/json/patient").json() == {"timed_out": True}
    assert client.get("/json/refused").status == 403
