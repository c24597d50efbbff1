"""circuits.testing's helpers, used directly (and the fixtures, inside this project)."""

from __future__ import annotations

import pytest

from circuits import Component, Event, Manager, handler
from circuits.core import _clock
from circuits.net.events import close, connect, write
from circuits.testing import (
    FakeClock,
    MemoryClient,
    MemoryServer,
    Watcher,
    WebClient,
    WebSocketClosed,
    WebSocketHandshakeError,
    running,
)
from circuits.web import Controller
from circuits.web.websockets import WebSocketsDispatcher


class hello(Event):
    pass


class Root(Controller):
    def index(self):
        return "Hello World!"

    def query(self, *args, **kwargs):
        return ",".join(f"{k}={v}" for k, v in sorted(kwargs.items()))

    def agent(self):
        return self.request.headers.get("X-Test", "-")


class Cookies(Controller):
    channel = "/cookies"

    def show(self):  # the raw header: reading request.cookie would echo it as Set-Cookie
        return ",".join(sorted(self.request.headers.get("Cookie", "").split("; ")))

    def set(self, name, value):
        self.response.cookie[name] = value
        return "set"

    def drop(self, name):
        self.response.cookie[name] = ""
        self.response.cookie[name]["max-age"] = 0
        return "dropped"

    def expire(self, name):
        self.response.cookie[name] = ""
        self.response.cookie[name]["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        return "expired"


class EchoServer(Component):
    """Echoes every read back, upper-cased; ``bye`` closes the connection."""

    channel = "server"

    def read(self, sock, data):
        if data.strip() == b"bye":
            self.fire(close(sock))
        else:
            self.fire(write(sock, data.upper()))


class WsApp(Component):
    channel = "wsserver"

    def read(self, sock, data):
        if data == "close":
            self.fire(close(sock))
        else:
            self.fire(write(sock, data))


# -- Watcher ---------------------------------------------------------------------


def test_a_watcher_sees_events_fired_before_the_wait():
    m = Manager()
    watcher = Watcher().register(m)
    with running(m):
        m.fire(hello("x"), "here")
        assert watcher.wait("hello", channel="here")
        assert watcher.wait("hello")  # again: already seen
        assert [e.args for e in watcher.find("hello")] == [["x"]]
        with pytest.raises(AssertionError, match=r"'hello' on channel 'there'"):
            watcher.wait("hello", channel="there", timeout=0.01)


def test_a_failed_wait_lists_the_events_seen():
    m = Manager()
    watcher = Watcher().register(m)
    with running(m):
        m.fire(hello(1))
        assert watcher.wait("hello")
        with pytest.raises(AssertionError) as info:
            watcher.wait("other", timeout=0.01)
    message = str(info.value)
    assert "timed out after 0.01 s waiting for event 'other'" in message
    assert "hello(1) on ('*')" in message
    assert "generate_events" not in message


def test_clear_forgets_and_wait_until_takes_a_predicate():
    m = Manager()
    watcher = Watcher().register(m)
    with running(m):
        assert watcher.wait("started")
        watcher.clear()
        assert watcher.names() == []
        for i in range(3):
            m.fire(hello(i))
        assert watcher.wait_until(lambda events: len(events) >= 3, what="three events")
        with pytest.raises(AssertionError, match="four hellos"):
            watcher.wait_until(lambda events: len(events) > 3, 0.01, what="four hellos")


def test_a_stopped_event_is_not_recorded():
    class Stopper(Component):
        @handler("hello")
        def _stop(self, event, *args):
            event.stop()

    m = Manager()
    watcher = Watcher().register(m)
    Stopper().register(m)
    with running(m):
        m.fire(hello())
        m.fire(Event.create("after"))
        assert watcher.wait("after")
        assert watcher.find("hello") == []


def test_running_stops_and_joins():
    m = Manager()
    with running(m) as app:
        assert app is m
        assert m.running
    assert not m.running


# -- the fixtures, as this project's own tests see them ----------------------------


def test_the_clock_fixture_is_the_cores_clock(clock):
    assert isinstance(clock, FakeClock)
    assert _clock.get_clock() is clock
    before = _clock.now()
    clock.advance(2.5)
    assert _clock.now() == before + 2.5


def test_the_manager_fixture_runs_and_the_watcher_saw_started(manager, watcher):
    assert manager.running
    assert watcher.wait("started")


def test_web_client_fixture_makes_running_clients(web_client):
    assert web_client(Root()).get("/").text == "Hello World!"


# -- memory transports ------------------------------------------------------------------


def test_a_memory_client_talks_to_a_memory_server_in_another_tree():
    server_tree, client_tree = Manager(), Manager()
    server = MemoryServer().register(server_tree)
    EchoServer().register(server_tree)
    server_watch = Watcher().register(server_tree)
    MemoryClient(server).register(client_tree)
    client_watch = Watcher().register(client_tree)
    with running(server_tree), running(client_tree):
        assert server_watch.wait("ready", channel="server")
        client_tree.fire(connect("anywhere", 1234), "client")
        assert client_watch.wait("connected", channel="client")
        assert client_watch.find("connected")[0].args == ["anywhere", 1234]
        assert server_watch.wait("connect")
        client_tree.fire(write(b"hello"), "client")
        assert client_watch.wait("read", channel="client")
        assert client_watch.find("read")[0].args == [b"HELLO"]
        client_tree.fire(write(b"bye"), "client")
        assert client_watch.wait("disconnected", channel="client")
        assert server_watch.wait("disconnect", channel="server")
        assert server.peer_count == 0


def test_a_memory_connection_from_the_test_thread():
    m = Manager()
    server = MemoryServer().register(m)
    EchoServer().register(m)
    watcher = Watcher().register(m)
    with running(m), server.open() as conn:
        sock = conn.sock
        assert watcher.wait("connect")
        assert watcher.find("connect")[0].args == [sock, *sock.getpeername()]
        conn.send(b"abc")
        assert conn.recv_until(lambda got: got == b"ABC") == b"ABC"
        with pytest.raises(TimeoutError):
            conn.recv(timeout=0.01)
        conn.send(b"bye")
        assert conn.recv() == b""
        assert conn.closed
        assert watcher.wait("disconnect")
        with pytest.raises(ConnectionResetError):
            conn.send(b"more")


def test_a_closed_memory_server_refuses_and_hangs_up():
    m = Manager()
    server = MemoryServer().register(m)
    watcher = Watcher().register(m)
    with running(m):
        conn = server.open()
        m.fire(close(), "server")
        assert watcher.wait("closed")
        assert conn.recv() == b""
        with pytest.raises(ConnectionRefusedError):
            server.open()


# -- WebClient ----------------------------------------------------------------------


def test_web_client_requests():
    with WebClient(Root()) as client:
        assert client.get("/query", params={"b": "2", "a": "1"}).text == "a=1,b=2"
        assert client.get("/query?a=1", params={"c": "3"}).text == "a=1,c=3"
        assert client.get("/agent", headers={"X-Test": "yes"}).text == "yes"
        head = client.head("/")
        assert (head.status, head.body) == (200, b"")
        res = client.post("/query", data={"x": "1"})
        assert (res.status_code, res.content) == (200, b"x=1")
        assert "WebResponse 200" in repr(res)
        assert client.delete("/nowhere").status == 404


def test_web_client_keeps_cookies():
    with WebClient(Cookies()) as client:
        assert client.get("/cookies/show").text == ""
        client.get("/cookies/set/a/1")
        client.get("/cookies/set/b/2")
        assert client.cookies == {"a": "1", "b": "2"}
        assert client.get("/cookies/show").text == "a=1,b=2"
        client.get("/cookies/drop/a")  # Max-Age=0
        assert client.cookies == {"b": "2"}
        client.get("/cookies/expire/b")  # Expires in the past
        assert client.cookies == {}
        client.cookies["hand"] = "made"
        assert client.get("/cookies/show").text == "hand=made"
        # per request: over the jar's cookies, or replacing them all with a Cookie field
        assert client.get("/cookies/show", cookies={"hand": "x", "c": "3"}).text == "c=3,hand=x"
        assert client.get("/cookies/show", headers={"Cookie": "z=9"}).text == "z=9"


def test_a_web_client_must_be_started():
    client = WebClient(Root())
    with pytest.raises(RuntimeError, match="not running"):
        client.get("/")


def test_web_client_websocket_messages_and_close():
    with WebClient(WebSocketsDispatcher("/ws"), WsApp()) as client:
        with client.websocket("/ws") as ws:
            assert ws.response.status == 101
            ws.send("text")
            assert ws.receive() == "text"
            ws.send(b"\x00\xff")
            assert ws.receive() == b"\x00\xff"
            with pytest.raises(TimeoutError):
                ws.receive(timeout=0.01)
            ws.send("close")
            with pytest.raises(WebSocketClosed):
                ws.receive()
            with pytest.raises(WebSocketClosed):
                ws.send("after")


def test_a_refused_websocket_raises_with_the_response():
    with WebClient(Root()) as client, pytest.raises(WebSocketHandshakeError) as info:
        client.websocket("/nowhere")
    assert info.value.response is not None
    assert info.value.response.status == 404
