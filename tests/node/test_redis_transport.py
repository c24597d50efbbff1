"""RedisTransport against a real redis-server on an ephemeral port, through the Transport API."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from tests.node.brokers import TIMEOUT_S, free_port, redis_server, wait_until

from circuits.node._redis import GROUP_PREFIX, RedisTransport
from circuits.node._transport import Backoff, BufferFull, Delivery, Target, TransportError

pytestmark = pytest.mark.slow

FAST = Backoff(initial=0.05, maximum=0.2, jitter=0.0)


@pytest.fixture
def server(tmp_path):
    with redis_server(tmp_path) as srv:
        yield srv


class Node:
    """A transport plus what it received; stopped by the `nodes` fixture."""

    def __init__(self, url: str, name: str, *, auto_ack: bool = True, **options) -> None:
        self.received: list[Delivery] = []
        self.states: list[tuple[str, BaseException | None]] = []
        self.auto_ack = auto_ack
        self.lock = threading.Lock()
        self.up = threading.Event()
        self.down = threading.Event()
        options.setdefault("backoff", Backoff(initial=0.05, maximum=0.2, jitter=0.0))
        self.transport = RedisTransport(
            urlsplit(url), name, self._deliver, on_state=self._on_state, **options
        )

    def _deliver(self, delivery: Delivery) -> None:
        with self.lock:
            self.received.append(delivery)
        if self.auto_ack:
            delivery.ack()

    def _on_state(self, state: str, error: BaseException | None) -> None:
        self.states.append((state, error))
        if state == "connected":
            self.down.clear()
            self.up.set()
        else:
            self.up.clear()
            self.down.set()

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [d.payload for d in self.received]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@pytest.fixture
def nodes():
    made: list[Node] = []

    def make(url: str, name: str, *, start: bool = True, **options) -> Node:
        node = Node(url, name, **options)
        made.append(node)
        if start:
            node.transport.start()
            assert node.up.wait(TIMEOUT_S), f"{name} did not connect"
        return node

    yield make
    for node in made:
        node.transport.stop()


def test_broadcast_fans_out_to_every_subscriber(server, nodes):
    a, b, c = (nodes(server.url, n) for n in "abc")
    a.transport.send(b"hello", Target.broadcast("news"))
    for node in (a, b, c):
        wait_until(lambda node=node: node.count() == 1, f"broadcast at {node.transport.name}")
        (delivery,) = node.received
        assert delivery.payload == b"hello"
        assert delivery.target == Target.broadcast("news")


def test_broadcast_reaches_only_matching_channels(server, nodes):
    literal = nodes(server.url, "literal", channels=["news"])
    pattern = nodes(server.url, "pattern", channels=["sport.*"])
    sender = nodes(server.url, "sender", channels=[])
    sender.transport.send(b"1", Target.broadcast("weather"))
    sender.transport.send(b"2", Target.broadcast("sport.chess"))
    sender.transport.send(b"3", Target.broadcast("news"))
    # Per-connection order: "3" arriving at `literal` means "1" was already published.
    wait_until(lambda: literal.payloads() == [b"3"], "news at literal")
    wait_until(lambda: pattern.payloads() == [b"2"], "sport.chess at pattern")
    assert sender.payloads() == []
    assert pattern.received[0].target == Target.broadcast("sport.chess")


def test_node_messages_reach_only_the_named_node(server, nodes):
    a = nodes(server.url, "a", channels=[])
    b = nodes(server.url, "b", channels=[])
    a.transport.send(b"for b", Target.node("b"))
    b.transport.send(b"for a", Target.node("a"))
    wait_until(lambda: a.count() == 1 and b.count() == 1, "both node messages")
    assert (a.received[0].payload, a.received[0].target) == (b"for a", Target.node("a"))
    assert (b.received[0].payload, b.received[0].target) == (b"for b", Target.node("b"))


def test_payload_bytes_pass_through_unchanged(server, nodes):
    payloads = [bytes(range(256)), b"", b"\x00\r\n\xff" * 1000, "é∑".encode(), b"*" * 70_000]
    a = nodes(server.url, "a", groups=["g"])
    for target in (Target.broadcast("x"), Target.node("a"), Target.group("g")):
        for payload in payloads:
            a.transport.send(payload, target)
    wait_until(lambda: a.count() == 3 * len(payloads), "every payload")
    by_mode = {
        mode: [d.payload for d in a.received if d.target.mode == mode]
        for mode in ("broadcast", "node", "group")
    }
    assert by_mode == dict.fromkeys(("broadcast", "node", "group"), payloads)
    assert all(type(d.payload) is bytes for d in a.received)


def test_group_delivers_each_message_to_exactly_one_member(server, nodes):
    workers = [nodes(server.url, f"w{i}", groups=["jobs"], channels=[]) for i in range(3)]
    sender = nodes(server.url, "sender", channels=[])
    n = 300
    for i in range(n):
        sender.transport.send(b"job %d" % i, Target.group("jobs"))
    wait_until(lambda: sum(w.count() for w in workers) >= n, f"{n} group deliveries")
    wait_until(lambda: server.pending("jobs") == 0, "every delivery acked")
    got = Counter(p for w in workers for p in w.payloads())
    assert got == Counter(b"job %d" % i for i in range(n))
    assert sender.count() == 0
    assert all(d.target == Target.group("jobs") for w in workers for d in w.received)


def test_group_messages_wait_for_the_first_member(server, nodes):
    sender = nodes(server.url, "sender", channels=[])
    sender.transport.send(b"early", Target.group("later"))
    client = server.client()
    try:
        wait_until(lambda: client.xlen(GROUP_PREFIX + "later") == 1, "the XADD")
    finally:
        client.close()
    member = nodes(server.url, "member", groups=["later"], channels=[])
    wait_until(lambda: member.payloads() == [b"early"], "the early message")


def test_crashed_members_pending_messages_go_to_another_member(server, nodes):
    crashing = nodes(server.url, "crashing", groups=["jobs"], auto_ack=False, claim_idle=0.3)
    n = 20
    for i in range(n):
        crashing.transport.send(b"job %d" % i, Target.group("jobs"))
    wait_until(lambda: crashing.count() == n, "deliveries to the member that crashes")
    crashing.transport.stop()  # never acked: all n stay pending under its name
    assert server.pending("jobs") == n

    survivor = nodes(server.url, "survivor", groups=["jobs"], claim_idle=0.3)
    wait_until(lambda: survivor.count() >= n, "claimed deliveries")
    wait_until(lambda: server.pending("jobs") == 0, "claimed entries acked")
    assert sorted(survivor.payloads()) == sorted(b"job %d" % i for i in range(n))


def test_restarted_member_rereads_its_own_pending_messages(server, nodes):
    # claim_idle is long: only the restart, not XAUTOCLAIM, can bring them back.
    member = nodes(server.url, "m", groups=["jobs"], auto_ack=False, claim_idle=60)
    member.transport.send(b"one", Target.group("jobs"))
    member.transport.send(b"two", Target.group("jobs"))
    wait_until(lambda: member.count() == 2, "first deliveries")
    member.transport.stop()
    member.auto_ack = True
    member.up.clear()
    member.transport.start()
    assert member.up.wait(TIMEOUT_S)
    wait_until(lambda: member.count() == 4, "pending redelivered after restart")
    assert member.payloads() == [b"one", b"two", b"one", b"two"]
    wait_until(lambda: server.pending("jobs") == 0, "redeliveries acked")


def test_reconnects_after_server_restart_and_flushes_buffer(server, nodes):
    a = nodes(server.url, "a", groups=["g"])
    b = nodes(server.url, "b", groups=["g2"], channels=[])
    server.stop()
    assert a.down.wait(TIMEOUT_S), "a never noticed the server was gone"
    assert b.down.wait(TIMEOUT_S), "b never noticed the server was gone"
    assert not a.transport.connected
    assert a.states[-1][0] == "disconnected"
    assert a.states[-1][1] is not None

    for i in range(5):
        a.transport.send(b"self %d" % i, Target.node("a"))
    a.transport.send(b"bcast", Target.broadcast("x"))
    a.transport.send(b"job", Target.group("g2"))

    server.start()
    assert a.up.wait(TIMEOUT_S), "a did not reconnect"
    assert b.up.wait(TIMEOUT_S), "b did not reconnect"
    # a subscribes before it flushes: its own node and broadcast messages come back.
    wait_until(lambda: a.count() == 6, "buffered node + broadcast messages")
    assert a.payloads() == [b"self %d" % i for i in range(5)] + [b"bcast"]
    # A group message is durable: b gets it whichever reconnected first.
    wait_until(lambda: b.payloads() == [b"job"], "buffered group message")
    assert [s for s, _ in a.states] == ["connected", "disconnected", "connected"]


def test_stop_is_prompt_for_a_busy_group_member(server, nodes):
    # Regression: on Python < 3.12 a cancelled redis-py command can swallow
    # the cancellation; stop() must still end every loop at once.
    node = nodes(server.url, "busy", groups=["g"], start=False)
    for _ in range(10):
        node.up.clear()
        node.transport.start()
        assert node.up.wait(TIMEOUT_S)
        node.transport.send(b"x", Target.group("g"))
        started = time.monotonic()
        node.transport.stop()
        assert time.monotonic() - started < 2.0, "stop() waited for a stuck loop"


def test_buffer_full_while_unreachable(nodes):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    node = nodes(dead, "lonely", start=False, buffer_limit=3)
    node.transport.start()
    assert node.down.wait(TIMEOUT_S), "no 'disconnected' for an unreachable server"
    assert isinstance(node.states[0][1], Exception)
    for i in range(3):
        node.transport.send(b"%d" % i, Target.node("x"))
    with pytest.raises(BufferFull, match="buffer_limit=3"):
        node.transport.send(b"3", Target.broadcast("x"))


def test_start_never_raises_and_stop_is_idempotent(nodes):
    node = nodes(f"redis://127.0.0.1:{free_port()}/0", "n", start=False)
    node.transport.start()
    node.transport.start()
    node.transport.stop()
    node.transport.stop()
    with pytest.raises(TransportError, match="stopped"):
        node.transport.send(b"x", Target.node("n"))


def test_bad_scheme_is_refused():
    with pytest.raises(TransportError, match="redis://"):
        RedisTransport(urlsplit("http://localhost"), "n", lambda d: None)


def test_missing_redis_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=r"circuits\[redis\]"):
        RedisTransport(urlsplit("redis://localhost"), "n", lambda d: None)
