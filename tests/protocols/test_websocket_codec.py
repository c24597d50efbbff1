"""``WebSocketCodec``: event-driven server mode, the close handshake timeout (a
running loop on a fake clock), and client mode against ``websockets``."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from circuits import BaseComponent, Event, Manager, Timer, handler
from circuits._sansio.websocket import (
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketEngine,
    encode_frame,
)
from circuits.net.events import close, disconnect, disconnected, read, write
from circuits.net.sockets import UNIXClient
from circuits.protocols.websocket import CLOSE_TIMEOUT_S, WebSocketCodec
from circuits.testing import Watcher, running


class Parent(BaseComponent):
    channel = "server"


class Rec(BaseComponent):
    def init(self):
        self.got = []

    @handler("read", "write", "close", channel="*", priority=100)
    def _on(self, event, *args):
        self.got.append((event.channels[0], event.name, args))


def flush(m):
    while len(m):
        m.flush()


@pytest.fixture
def server_side():
    m = Manager()
    rec = Rec().register(m)
    parent = Parent().register(m)
    codec = WebSocketCodec("sock1", data=encode_frame(1, b"early", mask_key=b"abcd"))
    codec.register(parent)
    flush(m)
    return m, rec, codec


def peer_frames(rec):
    """Frames the codec sent to the peer, decoded as the client would."""
    client = WebSocketEngine(Role.CLIENT)
    for ch, name, args in rec.got:
        if ch == "server" and name == "write":
            assert args[0] == "sock1"
            client.receive_data(args[1])
    out = []
    while (ev := client.next_event()) is not None:
        out.append(ev)
    return out


def client_frame(ev):
    return WebSocketEngine(Role.CLIENT).send(ev)


def test_server_mode_messages_pings_and_passthrough(server_side):
    m, rec, codec = server_side
    assert codec.channel == "ws"
    assert ("ws", "read", ("sock1", "early")) in rec.got
    rec.got.clear()
    wire = client_frame(BytesMessage(b"bin")) + client_frame(Ping(b"pp"))
    m.fire(read("sock1", wire[:1]), "server")
    m.fire(read("sock1", wire[1:]), "server")
    m.fire(read("other", b"raw"), "server")
    m.fire(write("sock1", "héllo"), "ws")
    m.fire(write("other", "ignored"), "ws")
    flush(m)
    reads = [(ch, a) for ch, n, a in rec.got if n == "read"]
    assert ("ws", ("sock1", bytearray(b"bin"))) in reads
    assert isinstance(dict(reads)["ws"][1], bytearray)
    assert ("server", ("other", b"raw")) in reads  # not ours: passes through
    assert peer_frames(rec) == [Pong(b"pp"), TextMessage("héllo")]


def test_peer_close_is_answered_then_the_connection_closed(server_side):
    m, rec, codec = server_side
    m.fire(read("sock1", client_frame(CloseConnection(1001, "bye"))), "server")
    flush(m)
    assert ("ws", "close", ("sock1",)) in rec.got
    assert ("server", "close", ("sock1",)) in rec.got
    assert peer_frames(rec) == [CloseConnection(1001, "")]
    assert codec._close_sent
    assert codec._close_received


def test_local_close_waits_for_the_peer(server_side):
    m, rec, _codec = server_side
    m.fire(close("sock1"), "ws")
    flush(m)
    assert ("server", "close", ("sock1",)) not in rec.got
    m.fire(write("sock1", "too late"), "ws")
    m.fire(read("sock1", client_frame(CloseConnection(1000))), "server")
    flush(m)
    assert ("server", "close", ("sock1",)) in rec.got
    assert peer_frames(rec) == [CloseConnection(1000, "")]


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (encode_frame(1, b"unmasked"), 1002),
        (encode_frame(1, b"\xff", mask_key=b"abcd"), 1007),
        (encode_frame(2, bytes(200), mask_key=b"abcd"), 1009),
    ],
)
def test_bad_frames_close_with_a_code_and_others_carry_on(wire, code, caplog):
    caplog.set_level(logging.INFO, logger="circuits.protocols")
    m = Manager()
    rec = Rec().register(m)
    parent = Parent().register(m)
    WebSocketCodec("sock1", max_message_bytes=100).register(parent)
    WebSocketCodec("sock2").register(parent)
    flush(m)
    m.fire(read("sock1", wire), "server")
    m.fire(read("sock2", client_frame(TextMessage("fine"))), "server")
    flush(m)
    assert ("server", "close", ("sock1",)) in rec.got
    assert peer_frames(rec) == [CloseConnection(code, peer_frames(rec)[0].reason)]
    assert ("ws", "read", ("sock2", "fine")) in rec.got
    assert "protocol error" in caplog.text


def test_the_codec_takes_reads_from_register_on():
    # A read queued before the codec's ``registered`` event is handled must
    # already be the codec's: after a protocol switch nobody else wants it.
    m = Manager()
    rec = Rec().register(m)
    parent = Parent().register(m)
    flush(m)
    m.fire(read("sock1", client_frame(TextMessage("first"))), "server")
    WebSocketCodec("sock1").register(parent)
    flush(m)
    assert ("ws", "read", ("sock1", "first")) in rec.got
    assert not [a for ch, n, a in rec.got if ch == "server" and n == "read" and a[0] == "sock1"][1:]


def test_disconnect_unregisters_the_codec(server_side):
    m, _rec, codec = server_side
    m.fire(disconnect("other"), "server")
    flush(m)
    assert codec.parent is not codec
    m.fire(disconnect("sock1"), "server")
    flush(m)
    assert codec.parent is codec


# -- the close handshake timeout, in a running loop on a fake clock --------------------


class sync(Event):
    """A round trip through the loop (see ``Live.settle``)."""


class Live:
    """A running tree: a ``Watcher`` and a ``Parent`` on channel ``"server"``."""

    def __init__(self, m, watcher, clock):
        self.m = m
        self.watcher = watcher
        self.clock = clock
        self.parent = Parent().register(m)

    def add(self, component, parent=None):
        """Register ``component`` under ``parent`` (the ``Parent``) and wait until it is in."""
        component.register(parent or self.parent)
        self.watcher.wait_until(
            lambda events: any(e.name == "registered" and e.args[0] is component for e in events),
            what=f"{component!r} to be registered",
        )
        return component

    def settle(self, rounds=3):
        """Return once the loop went round ``rounds`` times (an idle step each)."""
        for _ in range(rounds):
            e = sync()
            self.m.fire(e)
            self.watcher.wait_until(lambda events, e=e: e in events, what="a 'sync'")

    def fired(self, name, channel):
        return [e.args for e in self.watcher.find(name, channel)]

    def wait_fired(self, name, channel, args):
        self.watcher.wait_until(
            lambda events: any(
                e.name == name and e.channels == (channel,) and e.args == list(args) for e in events
            ),
            what=f"{name}{args!r} on {channel!r}",
        )

    def timers_registered(self):
        return [e.args[0] for e in self.watcher.find("registered") if isinstance(e.args[0], Timer)]

    def wait_timer_gone(self, timer):
        self.watcher.wait_until(
            lambda events: any(e.name == "unregistered" and e.args[0] is timer for e in events),
            what="the close timer to leave the tree",
        )


@pytest.fixture
def live(clock):
    m = Manager()
    watcher = Watcher().register(m)
    tree = Live(m, watcher, clock)
    with running(m):
        yield tree


def test_an_unanswered_close_closes_the_connection_after_the_timeout(live):
    codec = live.add(WebSocketCodec("sock1"))
    live.m.fire(read("sock1", client_frame(TextMessage("hi"))), "server")
    live.wait_fired("read", "ws", ("sock1", "hi"))
    assert live.timers_registered() == []  # no timer while messages flow
    live.m.fire(close("sock1"), "ws")
    live.wait_fired("write", "server", ("sock1", b"\x88\x02\x03\xe8"))  # Close 1000
    [timer] = live.timers_registered()
    assert timer.parent is codec
    live.clock.advance(CLOSE_TIMEOUT_S - 0.01)
    live.settle()
    assert live.fired("close", "server") == []
    live.clock.advance(0.02)  # past it (float sums are inexact)
    live.wait_fired("close", "server", ("sock1",))
    live.wait_timer_gone(timer)
    live.m.fire(disconnect("sock1"), "server")  # what the server does on close
    live.settle()
    assert codec.parent is codec
    assert live.fired("close", "server") == [["sock1"]]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(client_frame(CloseConnection(1000)), id="close-frame"),
        pytest.param(encode_frame(1, b"unmasked"), id="protocol-error"),
    ],
)
def test_an_answer_in_time_cancels_the_timer(live, answer):
    codec = live.add(WebSocketCodec("sock1"))
    live.m.fire(close("sock1"), "ws")
    live.watcher.wait_until(lambda events: live.timers_registered() != [], what="a timer")
    [timer] = live.timers_registered()
    live.clock.advance(CLOSE_TIMEOUT_S / 2)
    live.m.fire(read("sock1", answer), "server")
    live.wait_fired("close", "server", ("sock1",))
    live.wait_timer_gone(timer)
    live.clock.advance(CLOSE_TIMEOUT_S * 2)
    live.settle()
    assert live.watcher.find("_close_timeout") == []
    assert live.fired("close", "server") == [["sock1"]]
    assert codec.parent is not codec  # still there until the server's disconnect


def test_the_end_of_the_connection_cancels_the_timer(live):
    codec = live.add(WebSocketCodec("sock1"))
    live.m.fire(close("sock1"), "ws")
    live.watcher.wait_until(lambda events: live.timers_registered() != [], what="a timer")
    [timer] = live.timers_registered()
    live.m.fire(disconnect("sock1"), "server")
    live.wait_timer_gone(timer)
    live.clock.advance(CLOSE_TIMEOUT_S * 2)
    live.settle()
    assert codec.parent is codec
    assert live.watcher.find("_close_timeout") == []
    assert live.fired("close", "server") == []


def test_client_mode_closes_after_its_own_timeout(live):
    client = live.add(Parent(channel="client"))
    live.add(WebSocketCodec(close_timeout=1), parent=client)
    live.m.fire(close(), "ws")
    live.watcher.wait_until(lambda events: live.fired("write", "client"), what="our Close")
    live.clock.advance(0.99)
    live.settle()
    assert live.fired("close", "client") == []
    live.clock.advance(0.02)  # past it (float sums are inexact)
    live.wait_fired("close", "client", ())


def test_client_mode_disconnected_cancels_the_timer(live):
    client = live.add(Parent(channel="client"))
    live.add(WebSocketCodec(), parent=client)
    live.m.fire(close(), "ws")
    live.watcher.wait_until(lambda events: live.timers_registered() != [], what="a timer")
    [timer] = live.timers_registered()
    live.m.fire(disconnected(), "client")
    live.wait_timer_gone(timer)
    live.clock.advance(CLOSE_TIMEOUT_S * 2)
    live.settle()
    assert live.fired("close", "client") == []


def test_close_timeout_none_waits_forever(live):
    live.add(WebSocketCodec("sock1", close_timeout=None))
    live.m.fire(close("sock1"), "ws")
    live.wait_fired("write", "server", ("sock1", b"\x88\x02\x03\xe8"))
    live.clock.advance(86400)
    live.settle()
    assert live.timers_registered() == []
    assert live.fired("close", "server") == []


def test_a_negative_close_timeout_is_refused():
    with pytest.raises(ValueError, match=r"close_timeout must be >= 0 seconds or None, not -1"):
        WebSocketCodec("sock1", close_timeout=-1)


# -- client mode against the real ``websockets`` server --------------------------------

ws_server = pytest.importorskip("websockets.sync.server")


class App(BaseComponent):
    channel = "ws"

    def init(self):
        self.messages = []
        self.got_two = threading.Event()
        self.closed = threading.Event()

    @handler("read")
    def _on_read(self, data):
        self.messages.append(data)
        if len(self.messages) == 2:
            self.got_two.set()

    @handler("disconnected", channel="client")
    def _on_disconnected(self):
        self.closed.set()


def test_client_mode_against_websockets_server():
    def echo(conn):
        for msg in conn:
            conn.send(msg)

    listener = socket.create_server(("127.0.0.1", 0))
    server = ws_server.serve(echo, sock=listener)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    sock = socket.create_connection(listener.getsockname(), timeout=5)
    try:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101")
        sock.setblocking(False)
        m = Manager()
        app = App().register(m)
        client = UNIXClient(sock, channel="client")
        client._connected = True
        client.register(m)
        WebSocketCodec().register(client)
        with running(m):
            m.fire(write("hello wörld"), "ws")
            m.fire(write(b"\x00\x01" * 40000), "ws")
            assert app.got_two.wait(5), app.messages
            assert app.messages == ["hello wörld", bytearray(b"\x00\x01" * 40000)]
            m.fire(close(), "ws")
            assert app.closed.wait(5), "no close handshake"
    finally:
        server.shutdown()
        t.join(5)
        sock.close()
