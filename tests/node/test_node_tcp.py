"""Nodes over loopback TCP: real sockets, managers in threads, one peer in another process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from node_support import boom, fire_and_wait, hello, note, remote_error_of

from circuits import Component, Event, TimeoutError
from circuits.net.events import close
from circuits.node import Node, RemoteError, TransportError, broadcast, remote, to_group
from circuits.node.utils import dump_event

pytestmark = pytest.mark.slow


class slow(Event):
    pass


class App(Component):
    channel = "app"

    def init(self):
        self.notes = []

    def hello(self, x, y=0):
        return f"Hi {x} {y}"

    def boom(self):
        raise ValueError("no way")

    def slow(self):
        return None  # never answers in time: see the timeout test

    def note(self, text):
        self.notes.append(text)


def start_server(loops, **kwargs):
    node = Node(port=0, server_ip="127.0.0.1", **kwargs)
    app = App()
    m, rec = loops.start(node, app)
    rec.wait_for("ready", channel="node")
    return node, app, m, rec


def start_client(loops, port, name="server", **kwargs):
    node = Node()
    m, rec = loops.start(node)
    kwargs.setdefault("reconnect_delay", 0.05)
    channel = node.add(name, "127.0.0.1", port, **kwargs)
    rec.wait_for("connected_to", channel="node")
    return node, m, rec, channel


def test_remote_call_returns_the_value_and_meta(loops):
    server, _, _, _ = start_server(loops)
    _client, m, rec, _ = start_client(loops, server.server.port)
    e = hello(5, y=2)
    e.test_meta = 1
    value = fire_and_wait(m, rec, remote(e, "server", channel="app"))
    assert value.value == "Hi 5 2"
    assert not value.errors
    assert e.test_meta == 1
    assert e.remote_finish is True


def test_remote_exception_is_a_remote_error(loops):
    server, _, _, _ = start_server(loops)
    _, m, rec, _ = start_client(loops, server.server.port)
    value = fire_and_wait(m, rec, remote(boom(), "server", channel="app"))
    assert value.errors
    err = remote_error_of(value)
    assert (err.type_name, err.message, err.node) == ("ValueError", "no way", "server")
    assert "Traceback" in err.traceback
    assert "no way" in err.traceback


def test_yield_call_in_a_handler(loops):
    server, _, _, _ = start_server(loops)
    _client, m, rec, _ = start_client(loops, server.server.port)

    class ask(Event):
        pass

    class Caller(Component):
        channel = "caller"

        def ask(self):
            value = yield self.call(remote(hello(7), "server", channel="app"))
            failed = yield self.call(remote(boom(), "server", channel="app"))
            yield (value.value, failed.errors, type(failed.value[1]).__name__)

    Caller().register(m)
    value = fire_and_wait(m, rec, ask())
    assert value.value == ("Hi 7 0", True, "RemoteError")


def test_remote_timeout(loops):
    # A peer that accepts but never answers: a raw listening socket.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        _client, m, rec, _ = start_client(loops, listener.getsockname()[1])
        started = time.monotonic()
        value = fire_and_wait(m, rec, remote(hello(1), "server", timeout=0.2))
        assert time.monotonic() - started < 3
        assert value.errors
        with pytest.raises(TimeoutError, match=r"within 0\.2 s"):
            value.outcome()


def test_node_call_timeout_default(loops):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        node = Node(call_timeout=0.1)
        m, rec = loops.start(node)
        node.add("quiet", "127.0.0.1", listener.getsockname()[1])
        rec.wait_for("connected_to", channel="node")
        value = fire_and_wait(m, rec, remote(hello(1), "quiet"))
        with pytest.raises(TimeoutError):
            value.outcome()


def test_unknown_peer_is_a_clear_error(loops):
    node = Node()
    m, rec = loops.start(node)
    value = fire_and_wait(m, rec, remote(hello(1), "nobody"))
    with pytest.raises(LookupError, match="'nobody'"):
        value.outcome()


def test_tcp_has_no_groups(loops):
    node = Node()
    m, rec = loops.start(node)
    value = fire_and_wait(m, rec, to_group(hello(1), "workers"))
    with pytest.raises(TransportError, match="no groups"):
        value.outcome()


def test_reconnect_after_the_server_restarts(loops):
    server, _, sm, srec = start_server(loops)
    port = server.server.port
    _client, m, rec, channel = start_client(loops, port)
    assert fire_and_wait(m, rec, remote(hello(1), "server", channel="app")).value == "Hi 1 0"

    sm.fire(close(), "node")  # the whole server: listener and peers
    srec.wait_for("closed", channel="node")
    server.unregister()
    # Let it leave first: the tree's poller may live in its subtree, and a
    # server registered meanwhile would attach to the poller that leaves.
    srec.wait_until(
        lambda: any(e.name == "unregistered" and e.args[0] is server for e in srec.events),
        what="the old node to leave",
    )
    rec.wait_for("disconnected_from", channel="node")
    # Calls made while the peer is away wait in its outbox.
    pending = m.fire(remote(hello(2), "server", channel="app"))

    again = Node(port=port, server_ip="127.0.0.1")
    again.register(sm)
    srec.wait_for("ready", channel="node", count=2)
    rec.wait_for("connected_to", channel="node", count=2)
    rec.wait_until(lambda: pending._done, what="the buffered call")
    assert pending.value == "Hi 2 0"
    assert fire_and_wait(m, rec, remote(hello(3), "server", channel="app")).value == "Hi 3 0"
    assert rec.find("unreachable", channel=channel) or rec.find("disconnected", channel=channel)


def test_3_2_5_bytes_over_a_raw_socket(loops):
    server, _app, _, _ = start_server(loops)
    packet = (
        b'{"id": 0, "name": "hello", "args": [1], "kwargs": {"y": 3}, "success": false,'
        b' "failure": false, "channels": ["app"], "notify": false, "meta": {}}~~~'
    )
    with socket.create_connection(("127.0.0.1", server.server.port), timeout=5) as s:
        s.sendall(packet[:30])
        s.sendall(packet[30:])
        expected = b'{"id": 0, "errors": false, "value": "Hi 1 3", "meta": {}}~~~'
        got = b""
        while len(got) < len(expected):
            chunk = s.recv(4096)
            assert chunk, "connection closed"
            got += chunk
        assert got == expected
        # a second call on the same connection, with user meta echoed back
        e = Event.create("hello", 2)
        e.channels = ("app",)
        e.tag = "x"
        s.sendall(dump_event(e, 7).encode() + b"~~~")
        expected = b'{"id": 7, "errors": false, "value": "Hi 2 0", "meta": {"tag": "x"}}~~~'
        got = b""
        while len(got) < len(expected):
            got += s.recv(4096)
        assert got == expected


def test_firewall_on_the_server(loops):
    def only_hello(event, sock):
        return event.name == "hello"

    server, _, _, _ = start_server(loops, receive_event_firewall=only_hello)
    _, m, rec, _ = start_client(loops, server.server.port)
    assert fire_and_wait(m, rec, remote(hello(1), "server", channel="app")).value == "Hi 1 0"
    refused = fire_and_wait(m, rec, remote(boom(), "server", channel="app"))
    assert refused.value is None
    assert not refused.errors


def test_auto_remote_event(loops):
    server, app, _, srec = start_server(loops)
    client = Node()
    m, rec = loops.start(client)
    client.add(
        "server",
        "127.0.0.1",
        server.server.port,
        reconnect_delay=0.05,
        auto_remote_event={"note": ["app"]},
    )
    rec.wait_for("connected_to", channel="node")
    m.fire(note("hi"), "app")
    srec.wait_until(lambda: app.notes == ["hi"], what="the forwarded note")


def test_broadcast_over_tcp_reaches_every_peer(loops):
    servers = [start_server(loops) for _ in range(3)]
    client = Node()
    m, rec = loops.start(client)
    for i, (node, _, _, _) in enumerate(servers):
        client.add(f"s{i}", "127.0.0.1", node.server.port, reconnect_delay=0.05)
    rec.wait_for("connected_to", channel="node", count=3)
    value = fire_and_wait(m, rec, broadcast(note("all"), channel="app"))
    assert value.value == 3
    for _, app, _, srec in servers:
        srec.wait_until(lambda app=app: app.notes == ["all"], what="the broadcast")


def test_only_the_owning_node_sends(loops):
    server, _, _, srec = start_server(loops)
    first, second = Node(), Node(channel="other")
    m, rec = loops.start(first, second)
    first.add("server", "127.0.0.1", server.server.port)
    second.add("elsewhere", "127.0.0.1", server.server.port)
    rec.wait_for("connected_to", count=2)
    value = fire_and_wait(m, rec, remote(hello(1), "server", channel="app"))
    assert value.value == "Hi 1 0"  # one result, not a list of two (3.2.5)
    assert len(srec.find("hello")) == 1


def test_url_tcp_is_the_3_2_5_server():
    node = Node(url="tcp://127.0.0.1:0")
    assert node.server is not None
    assert node.transport is None
    assert node.server.host == "127.0.0.1"
    node.server.server._sock.close()
    with pytest.raises(ValueError, match="needs a port"):
        Node(url="tcp://127.0.0.1")
    with pytest.raises(TransportError, match="no node transport for 'bogus'"):
        Node(url="bogus://x")


PEER = textwrap.dedent(
    """
    import sys
    from circuits import Component, Manager
    from circuits.node import Node

    class App(Component):
        channel = "app"
        def hello(self, x, y=0):
            return f"Hi {x} {y} from a process"
        def boom(self):
            raise KeyError("missing")
        def ready(self, server, bind):
            print(bind[1], flush=True)

    m = Manager()
    App(channel="node").register(m)
    App().register(m)
    Node(port=0, server_ip="127.0.0.1").register(m)
    m.start()
    sys.stdin.read()   # until the test closes our stdin
    m.stop()
    """
)


def test_peer_in_another_process(loops):
    proc = subprocess.Popen(
        [sys.executable, "-c", PEER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline())
        _, m, rec, _ = start_client(loops, port, name="proc")
        value = fire_and_wait(m, rec, remote(hello(4), "proc", channel="app"))
        assert value.value == "Hi 4 0 from a process"
        failed = fire_and_wait(m, rec, remote(boom(), "proc", channel="app"))
        with pytest.raises(RemoteError, match="KeyError: 'missing'"):
            failed.outcome()
    finally:
        proc.stdin.close()
        proc.wait(10)
        proc.stdout.close()


def test_json_only_on_the_wire(loops):
    """A pickle sent to a node is dropped (and logged); the node keeps serving."""
    import pickle

    server, _, _, _ = start_server(loops)
    with socket.create_connection(("127.0.0.1", server.server.port), timeout=5) as s:
        s.sendall(pickle.dumps({"name": "boom"}) + b"~~~")
        s.sendall(
            b'{"id": 1, "name": "hello", "args": [9], "kwargs": {}, "success": false,'
            b' "failure": false, "channels": ["app"], "notify": false, "meta": {}}~~~'
        )
        got = b""
        while not got.endswith(b"~~~"):
            got += s.recv(4096)
        assert json.loads(got[:-3])["value"] == "Hi 9 0"


def test_await_in_an_async_handler(loops):
    server, _, _, _ = start_server(loops)
    _, m, rec, _ = start_client(loops, server.server.port)

    class ask(Event):
        pass

    class Caller(Component):
        channel = "caller"

        async def ask(self):
            value = await self.fire(remote(hello(8), "server", channel="app"))
            try:
                await self.fire(remote(boom(), "server", channel="app"))
            except RemoteError as exc:
                return (value, exc.type_name)
            return None

    Caller().register(m)
    assert fire_and_wait(m, rec, ask()).value == ("Hi 8 0", "ValueError")
