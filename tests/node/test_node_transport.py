"""The Node over a transport: envelopes, delivery modes, results, errors (in-memory and TCP)."""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

import pytest
from node_support import BUS, Loops, boom, fire_and_wait, hello, note, remote_error_of

from circuits import Component, TimeoutError
from circuits.node import Node, TransportError, broadcast, remote, to_group
from circuits.node._envelope import decode, encode_call, encode_result
from circuits.node._registry import TRANSPORTS, register_transport, transport_class
from circuits.node._tcp import TcpTransport
from circuits.node._transport import Delivery, Target
from circuits.node.utils import dump_event


class App(Component):
    channel = "app"

    def init(self):
        self.notes = []

    def hello(self, x):
        return f"Hi {x}"

    def boom(self):
        raise ValueError("no way")

    def note(self, text):
        self.notes.append(text)


@pytest.fixture
def loops():
    register_transport("memory", "node_support:MemoryTransport")
    running = Loops()
    yield running
    running.stop_all()
    TRANSPORTS.pop("memory", None)


def start_node(loops, name, **kwargs):
    node = Node(url="memory://bus", name=name, **kwargs)
    app = App()
    m, rec = loops.start(node, app)
    rec.wait_for("connected_to", channel="node")
    return node, app, m, rec


# -- envelopes ------------------------------------------------------------------


def test_call_envelope_bytes():
    e = hello(1)
    e.channels = ("app",)
    payload = encode_call("node-a", 7, True, dump_event(e, 7))
    assert payload == (
        b'{"circuits": 1, "kind": "call", "from": "node-a", "id": 7, "reply": true, "event":'
        b' {"id": 7, "name": "hello", "args": [1], "kwargs": {}, "success": false,'
        b' "failure": false, "channels": ["app"], "notify": false, "meta": {}}}'
    )
    env = decode(payload)
    assert (env.sender, env.id, env.reply, env.packet["name"]) == ("node-a", 7, True, "hello")


def test_result_envelope_bytes():
    text = '{"id": 7, "errors": false, "value": "Hi", "meta": {}}'
    payload = encode_result("node-b", 7, text, None)
    assert payload == (
        b'{"circuits": 1, "kind": "result", "from": "node-b", "id": 7, "result":'
        b' {"id": 7, "errors": false, "value": "Hi", "meta": {}}, "error": null}'
    )
    assert decode(payload).packet["value"] == "Hi"


@pytest.mark.parametrize(
    "payload",
    [
        b"\x80\x04\x95",  # a pickle
        b"[]",
        b'{"kind": "call"}',
        b'{"circuits": 2, "kind": "call", "from": "a", "id": 1, "reply": true, "event": {}}',
        b'{"circuits": 1, "kind": "call", "from": "a", "id": "1", "reply": true, "event": {}}',
        b'{"circuits": 1, "kind": "shout", "from": "a", "id": 1}',
        b'{"circuits": 1, "kind": "result", "from": "a", "id": 1, "result": 5, "error": null}',
    ],
)
def test_decode_refuses_anything_else(payload):
    with pytest.raises(ValueError):
        decode(payload)


def test_registry_imports_lazily():
    assert transport_class("tcp") is TcpTransport
    assert TRANSPORTS["redis"] == "circuits.node._redis:RedisTransport"
    assert TRANSPORTS["nats"] == "circuits.node._nats:NatsTransport"
    with pytest.raises(TransportError, match="no node transport"):
        transport_class("carrier-pigeon")


# -- a Node on a shared engine -----------------------------------------------------


def test_remote_by_name_value_and_error(loops):
    start_node(loops, "b")
    _, _, m, rec = start_node(loops, "a")
    assert fire_and_wait(m, rec, remote(hello(1), "b", channel="app")).value == "Hi 1"
    failed = fire_and_wait(m, rec, remote(boom(), "b", channel="app"))
    error = remote_error_of(failed)
    assert (error.type_name, error.message, error.node) == ("ValueError", "no way", "b")
    assert "Traceback" in error.traceback


def test_remote_timeout_to_a_missing_node(loops):
    _, _, m, rec = start_node(loops, "a")
    value = fire_and_wait(m, rec, remote(hello(1), "ghost", timeout=0.1))
    with pytest.raises(TimeoutError, match="'ghost'"):
        value.outcome()


def test_broadcast_reaches_every_other_node(loops):
    others = [start_node(loops, name) for name in ("b", "c", "d")]
    _, me, m, _rec = start_node(loops, "a")
    m.fire(broadcast(note("all"), channel="app"))
    for _, app, _, orec in others:
        orec.wait_until(lambda app=app: app.notes == ["all"], what="the broadcast")
    assert me.notes == []  # not back to the sender


def test_to_group_goes_to_one_member(loops):
    workers = [start_node(loops, name, groups=("workers",)) for name in ("w1", "w2")]
    _, _, m, rec = start_node(loops, "a")
    values = [
        fire_and_wait(m, rec, to_group(note(str(i)), "workers", channel="app")) for i in range(4)
    ]
    assert all(not v.errors for v in values)
    got = sorted(n for _, app, _, _ in workers for n in app.notes)
    assert got == ["0", "1", "2", "3"]
    assert all(app.notes for _, app, _, _ in workers)  # shared out, each once


def test_malformed_messages_are_dropped(loops, caplog):
    node, _, _m, _rec = start_node(loops, "b")
    for junk in (b"junk", b'{"circuits": 1}', encode_call("x", 1, True, '{"name": 5}')):
        node.transport.deliver(Delivery(junk, Target.node("b")))
    _, _, am, arec = start_node(loops, "a")
    assert fire_and_wait(am, arec, remote(hello(2), "b", channel="app")).value == "Hi 2"
    assert "dropping" in caplog.text


def test_the_transport_stops_with_the_node(loops):
    node, _, _m, rec = start_node(loops, "gone")
    assert "gone" in BUS.nodes
    node.unregister()
    rec.wait_for("unregistered")
    rec.wait_until(lambda: "gone" not in BUS.nodes, what="the transport to stop")


# -- TcpTransport -----------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.cond = threading.Condition()
        self.items = []

    def __call__(self, delivery):
        with self.cond:
            self.items.append(delivery)
            self.cond.notify_all()

    def wait(self, n=1):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.items) >= n, 5), self.items
            return self.items[n - 1]


def test_tcp_transport_talks_to_a_3_2_5_style_node(loops):
    server = Node(port=0, server_ip="127.0.0.1")
    _, srec = loops.start(server, App())
    srec.wait_for("ready", channel="node")
    inbox = Inbox()
    t = TcpTransport(
        urlsplit("tcp://127.0.0.1"), "t", inbox, peers={"srv": ("127.0.0.1", server.server.port)}
    )
    t.start()
    try:
        e = hello(3)
        e.channels = ("app",)
        t.send(encode_call("t", 11, True, dump_event(e, 11)), Target.node("srv"))
        env = decode(inbox.wait().payload)
        assert (env.sender, env.id, env.packet["value"], env.error) == ("srv", 11, "Hi 3", None)
        b = boom()
        b.channels = ("app",)
        t.send(encode_call("t", 12, True, dump_event(b, 12)), Target.node("srv"))
        env = decode(inbox.wait(2).payload)
        assert env.id == 12
        assert env.packet["errors"] is True
        assert env.error["type"] == "ValueError"
        assert "no way" in env.error["traceback"]
        with pytest.raises(TransportError, match="no groups"):
            t.send(b"{}", Target.group("g"))
        with pytest.raises(TransportError, match="no tcp peer"):
            t.send(encode_call("t", 13, True, dump_event(e, 13)), Target.node("nobody"))
        assert t.connected
    finally:
        t.stop()


def test_tcp_transport_between_two_transports():
    server_inbox, client_inbox = Inbox(), Inbox()
    server = TcpTransport(urlsplit("tcp://127.0.0.1:0"), "srv", server_inbox)
    server.start()
    try:
        assert server.server is not None
        deadline_port = server.server.port
        client = TcpTransport(urlsplit("tcp://127.0.0.1"), "cli", client_inbox)
        client.start()
        client.add_peer("srv", "127.0.0.1", deadline_port)
        try:
            e = hello(1)
            e.channels = ("app",)
            client.send(encode_call("cli", 5, True, dump_event(e, 5)), Target.node("srv"))
            call = decode(server_inbox.wait().payload)
            assert call.sender == "cli"
            assert call.packet["name"] == "hello"
            text = json.dumps({"id": call.id, "errors": False, "value": "ok", "meta": {}})
            server.send(encode_result("srv", call.id, text, None), Target.node(call.sender))
            result = decode(client_inbox.wait().payload)
            assert (result.id, result.packet["value"]) == (5, "ok")
        finally:
            client.stop()
    finally:
        server.stop()
