"""circuits.web.dispatchers.XMLRPC against xmlrpc.client.ServerProxy.

The calls go through ``ServerProxy`` and a real server (``web_server``); the
raw request/response checks run in process (``web_client``).
"""

from __future__ import annotations

import xmlrpc.client

import pytest
from web_harness import Root

from circuits import Component, handler
from circuits.web import XMLRPC
from circuits.web.dispatchers import xmlrpc as xmlrpc_module
from circuits.web.dispatchers.jsonrpc import rpc as json_rpc


class Calc(Component):
    def eval(self, s):
        return eval(s)  # the 3.2.5 test-suite's method

    def add(self, a, b=0):
        return a + b

    def echo(self, *args):
        return list(args)

    def nothing(self):
        return None

    def boom(self):
        raise ValueError("no luck")

    def unmarshallable(self):
        return object()


class Other(Component):
    channel = "elsewhere"

    @handler("ping")
    def _ping(self):
        return "pong"


@pytest.fixture
def client(web_client):
    return web_client(XMLRPC("/rpc"), Root(), Calc())


@pytest.fixture
def proxy(web_server):
    url = web_server(XMLRPC("/rpc"), Root(), Calc())
    with xmlrpc.client.ServerProxy(url + "/rpc", allow_none=True) as proxy:
        yield proxy


def test_names():
    assert xmlrpc_module.XMLRPC is XMLRPC
    assert issubclass(xmlrpc_module.rpc, xmlrpc_module.Event)
    assert xmlrpc_module.rpc is not json_rpc


def test_calls(proxy):
    assert proxy.eval("1 + 2") == 3
    assert proxy.add(2, 3) == 5
    assert proxy.add(2) == 2
    assert proxy.echo("a", [1, 2], {"k": True}) == ["a", [1, 2], {"k": True}]
    assert proxy.nothing() is None


def test_other_paths_reach_the_controllers(client):
    assert client.get("/").body == b"Hello World!"
    assert client.post("/", data=b"").text == "Hello World!"


def test_the_response_is_text_xml(client):
    body = xmlrpc.client.dumps((2, 2), "add")
    response = client.post("/rpc", data=body.encode())
    assert response.headers["Content-Type"] == "text/xml"
    assert xmlrpc.client.loads(response.content) == ((4,), None)


def fault(call) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        call()
    return info.value


def test_a_method_that_raises_is_fault_1_without_traceback(proxy):
    f = fault(proxy.boom)
    assert (f.faultCode, f.faultString) == (1, "ValueError: no luck")


def test_a_result_that_cannot_be_marshalled_is_fault_1(proxy):
    f = fault(proxy.unmarshallable)
    assert f.faultCode == 1
    assert f.faultString.startswith("TypeError: ")
    assert "Traceback" not in f.faultString


def test_unknown_and_reserved_methods_are_not_found(proxy):
    for name in ("nosuchmethod", "close", "write", "request", "stop", "_private", "eval_complete"):
        f = fault(getattr(proxy, name))
        assert f.faultCode == -32601, name
        assert repr(name) in f.faultString


def test_wrong_arguments_are_invalid_params(proxy):
    f = fault(lambda: proxy.add(1, 2, 3))
    assert f.faultCode == -32602


def test_garbage_is_a_parse_error(client):
    for body in (b"<not xml", b"\xff\xfe", b"<methodCall><params/></methodCall>"):
        response = client.post("/rpc", data=body)
        with pytest.raises(xmlrpc.client.Fault) as info:
            xmlrpc.client.loads(response.content)
        assert info.value.faultCode in (-32700, -32600)
        assert b"Traceback" not in response.content


def test_rpc_channel_restricts_the_handlers(web_server):
    # Calc on its own channel; a component on "*" (the default) hears every channel
    url = web_server(XMLRPC("/rpc", rpc_channel="elsewhere"), Calc(channel="calc"), Other())
    with xmlrpc.client.ServerProxy(url + "/rpc") as proxy:
        assert proxy.ping() == "pong"
        assert fault(lambda: proxy.eval("1")).faultCode == -32601


def test_without_a_path_every_request_is_claimed(web_server):
    url = web_server(XMLRPC(), Root(), Calc())
    with xmlrpc.client.ServerProxy(url + "/anything") as proxy:
        assert proxy.eval("6 * 7") == 42
