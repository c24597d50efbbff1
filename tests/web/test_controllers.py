from __future__ import annotations

import json

import pytest

from circuits.core import Component, Event, Manager, handler
from circuits.web.controllers import (
    BaseController,
    Controller,
    ExposeJSONMetaClass,
    ExposeMetaClass,
    JSONController,
    expose,
    exposeJSON,
)
from circuits.web.dispatchers import Dispatcher
from circuits.web.errors import forbidden, notfound, redirect
from circuits.web.events import request
from circuits.web.headers import Headers
from circuits.web.wrappers import Request, Response


class FakeSock:
    def getpeername(self):
        return ("10.0.0.1", 5555)


def make(path="/", qs="", method="GET"):
    req = Request(FakeSock(), method, path=path, qs=qs, headers=Headers([("Host", "example.com")]))
    return req, Response(req)


def serve(*controllers, path="/", qs="", method="GET"):
    m = Manager()
    Dispatcher(channel="web").register(m)
    for c in controllers:
        c.register(m)
    while len(m):
        m.flush()
    req, res = make(path, qs, method)
    value = m.fire(request(req, res), "web")
    while len(m):
        m.flush()
    return value, req, res


class Root(Controller):
    def index(self):
        return "home"

    def hello(self, name="World"):
        return f"Hello {name}"

    def state(self, *args, **kwargs):
        req = self.request
        return (req.args, req.kwargs, self.response is not None, self.cookie is req.cookie)

    def where(self):
        return str(self.uri)

    def denied(self):
        return self.forbidden()

    def missing(self):
        return self.notfound("<b>gone</b>")

    def moved(self):
        return self.redirect("/elsewhere", 301)

    @expose("+test")
    def plus(self):
        return "plus"

    @expose("foo+bar", "foo_bar")
    def foobar(self):
        return "foobar"

    def with_event(self, event, x=None):
        return (event.name, x)

    def _private(self):
        return "never"

    @handler("raw")
    def raw(self, *args):
        return "raw"


def test_expose_wraps_with_metadata():
    h = Root.hello
    assert h.handler is True
    assert h.names == ("hello",)
    assert h.event is True
    assert h.args == ["name"]
    assert h.defaults == ("World",)
    assert h.varargs is None
    assert h.__name__ == "hello"
    assert Root.with_event.args == ["x"]
    assert Root.state.varargs == "args"
    assert Root.state.varkw == "kwargs"
    assert Root.plus.names == ("+test",)
    assert not hasattr(Root._private, "handler")


def test_expose_first_param_not_named_self():
    class Odd(Controller):
        def query(req, test):
            return f"query {test}"

    assert Odd.query.args == ["req", "test"]
    value, _, _ = serve(Odd(), path="/query", qs="test=1")
    assert value.value == "query 1"


def test_controller_channel_and_metaclass():
    assert Controller.channel == "/"
    assert isinstance(Controller, ExposeMetaClass)
    assert isinstance(JSONController, ExposeJSONMetaClass)
    assert issubclass(Controller, BaseController)


def test_request_state_set_during_call_and_removed_after():
    root = Root()
    value, req, _ = serve(root, path="/state/a/b", qs="x=1")
    assert value.value == (("a", "b"), {"x": "1"}, True, True)
    assert req.args == ("a", "b")
    for name in ("request", "response", "cookie", "session"):
        assert not hasattr(root, name)
    assert root.uri is None


def test_session_copied_when_request_has_one():
    class S(Controller):
        def index(self):
            return self.session

    m = Manager()
    s = S().register(m)
    req, res = make()
    req.session = {"user": "al"}
    v = m.fire(Event.create("index", req, res), "/")
    while len(m):
        m.flush()
    assert v.value == {"user": "al"}
    assert not hasattr(s, "session")


def test_uri_during_request():
    value, _, _ = serve(Root(), path="/where")
    assert value.value == "http://example.com/where"


def test_event_parameter_receives_the_event():
    value, _, _ = serve(Root(), path="/with_event/7")
    assert value.value == ("with_event", "7")


@pytest.mark.parametrize(
    ("path", "expected"), [("/+test", "plus"), ("/foo+bar", "foobar"), ("/foo_bar", "foobar")]
)
def test_expose_names(path, expected):
    value, _, _ = serve(Root(), path=path)
    assert value.value == expected


def test_exposed_name_not_the_method_name():
    value, _, _ = serve(Root(), path="/plus")
    assert value.value is None


def test_expose_index_under_another_name():
    class Test(Controller):
        channel = "/test"

        @expose("test.txt")
        def index(self):
            return "text"

    value, _, _ = serve(Test(), path="/test/test.txt")
    assert value.value == "text"


def test_forbidden_helper():
    value, _, res = serve(Root(), path="/denied")
    assert isinstance(value.value, forbidden)
    assert res.status == 403
    assert value.value.description != "None"


def test_notfound_helper():
    value, _, res = serve(Root(), path="/missing")
    assert isinstance(value.value, notfound)
    assert value.value.description == "<b>gone</b>"
    assert res.status == 404


def test_redirect_helper():
    value, _, res = serve(Root(), path="/moved")
    assert isinstance(value.value, redirect)
    assert res.status == 301
    assert res.headers["Location"] == "http://example.com/elsewhere"


def test_tools_helpers_delegate_to_circuits_web_tools(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"abc")
    root = Root()
    root.request, root.response = make()
    assert root.serve_file(str(path)) is root.response
    assert b"".join(root.response.body) == b"abc"
    root.request, root.response = make()
    assert root.serve_download(str(path), "x.txt") is root.response
    assert root.response.headers["Content-Disposition"] == 'attachment; filename="x.txt"'
    assert b"".join(root.response.body) == b"abc"
    root.expires(60)
    assert "Expires" not in root.response.headers  # Last-Modified says it is cacheable
    root.request, root.response = make()
    root.expires(60)
    assert "Expires" in root.response.headers


class API(JSONController):
    channel = "/api"

    def data(self, a="1"):
        return {"a": int(a)}

    def gone(self):
        return self.notfound()

    def passthrough(self):
        return self.response


def test_json_controller_dumps_result():
    api = API()
    value, _, res = serve(api, path="/api/data", qs="a=2")
    assert json.loads(value.value) == {"a": 2}
    assert res.headers["Content-Type"] == "application/json"
    assert not hasattr(api, "request")
    assert API.data.event is False


def test_json_controller_passes_errors_and_responses_through():
    value, _, _ = serve(API(), path="/api/gone")
    assert isinstance(value.value, notfound)
    value, _, res = serve(API(), path="/api/passthrough")
    assert value.value is res


def test_exposeJSON_decorator_on_plain_component():
    class C(BaseController):
        channel = "/c"

        @exposeJSON("info")
        def info(self):
            return [1, 2]

    value, _, _ = serve(C(), path="/c/info")
    assert value.value == "[1, 2]"


def test_plain_handler_is_found_without_segments():
    value, _, _ = serve(Root(), path="/raw")
    assert value.value == "raw"


def test_unrelated_component_is_not_a_controller():
    m = Manager()
    d = Dispatcher(channel="web").register(m)
    Component(channel="/").register(m)
    while len(m):
        m.flush()
    assert d.paths == {}
