"""circuits.web.dispatchers.JSONRPC: the 3.2.5 dialect and JSON-RPC 2.0.

In process with the ``web_client`` fixture; the 3.2.5 suite's own call goes
through httpx and a real server (``web_server``).
"""

from __future__ import annotations

import json

import httpx
import pytest
from web_harness import Root

from circuits import Component
from circuits.web import JSONRPC
from circuits.web.dispatchers import jsonrpc as jsonrpc_module


class Calc(Component):
    def eval(self, s):
        return eval(s)  # the 3.2.5 test-suite's method

    def add(self, a, b=0):
        return a + b

    def greet(self, name="World"):
        return f"Hello {name}"

    def boom(self):
        raise ValueError("no luck")

    def unserialisable(self):
        return object()

    def record(self, item):
        self.seen.append(item)

    def init(self):
        self.seen = []


@pytest.fixture
def calc():
    return Calc()


@pytest.fixture
def client(web_client, calc):
    """In process (``circuits.testing.WebClient``): the dispatcher needs no socket."""
    return web_client(JSONRPC("/rpc"), Root(), calc)


@pytest.fixture
def http_client(web_server, calc):
    """httpx over a real server, for the 3.2.5 suite's call."""
    with httpx.Client(base_url=web_server(JSONRPC("/rpc"), Root(), calc), timeout=5) as client:
        yield client


def post(client, payload, **kwargs):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if isinstance(client, httpx.Client):
        response = client.post("/rpc", content=body, **kwargs)
    else:
        response = client.post("/rpc", data=body, **kwargs)
    assert b"Traceback" not in response.content
    return response


def test_names():
    assert jsonrpc_module.JSONRPC is JSONRPC
    assert issubclass(jsonrpc_module.rpc, jsonrpc_module.Event)


# -- the 3.2.5 dialect -------------------------------------------------------------------------


def test_the_3_2_5_test_suite_call(http_client):
    # as the 3.2.5 suite: JSON labelled text/xml, no "jsonrpc" member, over HTTP
    payload = {"method": "eval", "params": ["1 + 2"], "id": 7}
    response = post(http_client, payload, headers={"Content-Type": "text/xml"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"id": 7, "version": "1.1", "result": 3, "error": None}
    assert list(response.json()) == ["id", "version", "result", "error"]  # key order


def test_3_2_5_keyword_params(client):
    reply = post(client, {"method": "greet", "params": {"name": "Bob"}, "id": 1}).json()
    assert reply["result"] == "Hello Bob"
    assert post(client, {"method": "greet", "id": 2}).json()["result"] == "Hello World"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"method": "boom", "params": [], "id": 3}, "ValueError: no luck"),
        ({"method": "unserialisable", "id": 3}, "TypeError: Object of type object"),
        ({"method": "nosuch", "id": 3}, "MethodNotFound: method not found: 'nosuch'"),
        ({"method": "close", "id": 3}, "MethodNotFound: method not found: 'close'"),
        ({"method": "add", "params": [1, 2, 3], "id": 3}, "InvalidParams: "),
        ({"method": "add", "params": "1", "id": 3}, "InvalidRequest: "),
    ],
)
def test_3_2_5_errors(client, payload, message):
    reply = post(client, payload).json()
    assert list(reply) == ["id", "version", "error"]
    assert reply["id"] == -1
    assert reply["version"] == "1.1"
    assert reply["error"]["name"] == "JSONRPCError"
    assert reply["error"]["code"] == 100
    assert reply["error"]["message"].startswith(message)


def test_other_paths_reach_the_controllers(client):
    assert client.get("/").text == "Hello World!"


# -- JSON-RPC 2.0 ------------------------------------------------------------------------------


def call(method, params=None, rid=1):
    payload = {"jsonrpc": "2.0", "method": method, "id": rid}
    if params is not None:
        payload["params"] = params
    return payload


def test_2_0_results(client):
    assert post(client, call("add", [1, 2])).json() == {"jsonrpc": "2.0", "result": 3, "id": 1}
    assert post(client, call("add", {"a": 1, "b": 5}, "x")).json()["result"] == 6
    assert post(client, call("greet", rid=None)).json() == {
        "jsonrpc": "2.0",
        "result": "Hello World",
        "id": None,
    }


@pytest.mark.parametrize(
    ("payload", "code", "rid"),
    [
        (b"{not json", -32700, None),
        (b"\xff\xfe", -32700, None),
        (b"[" * 100000, -32700, None),  # nested past the recursion limit
        (b"[]", -32600, None),
        (b"42", -32600, None),
        ({"jsonrpc": "1.0", "method": "add", "id": 1}, -32600, None),
        ({"jsonrpc": "2.0", "method": 5, "id": 4}, -32600, 4),
        ({"jsonrpc": "2.0", "method": "add", "params": 5, "id": 4}, -32600, 4),
        ({"jsonrpc": "2.0", "method": "add", "id": {"no": "objects"}}, -32600, None),
        (call("nosuch"), -32601, 1),
        (call("write", ["x"]), -32601, 1),
        (call("request_success"), -32601, 1),
        (call("add", [1, 2, 3]), -32602, 1),
        (call("add", {"c": 1}), -32602, 1),
        (call("boom"), -32603, 1),
        (call("unserialisable"), -32603, 1),
    ],
)
def test_2_0_errors(client, payload, code, rid):
    response = post(client, payload)
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == {"jsonrpc", "error", "id"}
    assert reply["jsonrpc"] == "2.0"
    assert reply["id"] == rid
    assert reply["error"]["code"] == code
    assert isinstance(reply["error"]["message"], str)


def test_2_0_internal_error_says_what_without_a_traceback(client):
    error = post(client, call("boom")).json()["error"]
    assert error == {"code": -32603, "message": "Internal error", "data": "ValueError: no luck"}


def test_2_0_notification_gets_no_reply(client, calc):
    response = post(client, {"jsonrpc": "2.0", "method": "record", "params": ["n1"]})
    assert response.status_code == 204
    assert response.content == b""
    assert calc.seen == ["n1"]


def test_2_0_batch(client, calc):
    batch = [
        call("add", [1, 1], 1),
        {"jsonrpc": "2.0", "method": "record", "params": ["b"]},  # a notification
        call("nosuch", rid=2),
        {"foo": "bar"},
        call("greet", ["Al"], 3),
    ]
    replies = post(client, batch).json()
    assert replies == [
        {"jsonrpc": "2.0", "result": 2, "id": 1},
        {
            "jsonrpc": "2.0",
            "error": {
                "code": -32601,
                "message": "Method not found",
                "data": "method not found: 'nosuch'",
            },
            "id": 2,
        },
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
        {"jsonrpc": "2.0", "result": "Hello Al", "id": 3},
    ]
    assert calc.seen == ["b"]


def test_2_0_batch_of_notifications_only(client, calc):
    batch = [{"jsonrpc": "2.0", "method": "record", "params": [i]} for i in range(3)]
    response = post(client, batch)
    assert response.status_code == 204
    assert calc.seen == [0, 1, 2]
