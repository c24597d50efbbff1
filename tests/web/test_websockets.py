"""``circuits.web.websockets``: a real server on 127.0.0.1, real clients (web.md §19).

Clients: the ``websockets`` library (sync), our ``WebSocketClient`` and a raw
socket client (``ws_harness.RawClient``) for frames no library would send.
"""

from __future__ import annotations

import inspect
import queue
import socket
import threading
import time
from contextlib import ExitStack

import pytest
from tests.web.ws_harness import (
    TIMEOUT_S,
    Echo,
    RawClient,
    close_frame,
    frame,
    handshake_request,
    raw_server,
    settle,
    welcomed,
    ws_site,
)

import circuits.net.events
import circuits.protocols.http
import circuits.web.client
import circuits.web.dispatchers
import circuits.web.errors
import circuits.web.websockets
import circuits.web.websockets.client
import circuits.web.websockets.dispatcher
from circuits import BaseComponent, Manager, Timer, handler
from circuits.core.components import BaseComponent as CoreBaseComponent
from circuits.core.handlers import handler as core_handler
from circuits.net.events import close, write
from circuits.net.sockets import BUFSIZE, TCPClient
from circuits.protocols.websocket import CLOSE_TIMEOUT_S, WebSocketCodec
from circuits.testing import Watcher, running
from circuits.web.client import NotConnected
from circuits.web.headers import Headers
from circuits.web.websockets import WebSocketClient
from circuits.web.websockets.client import _parse_ws_url

ws_sync = pytest.importorskip("websockets.sync.client")

SIZES = [BUFSIZE, BUFSIZE + 1, BUFSIZE * 2, 2 * BUFSIZE + 1]


class Reader(BaseComponent):
    """What our client receives on ``ws``; ``disconnected`` of the transport."""

    channel = "ws"

    def init(self):
        self.messages = queue.Queue()
        self.gone = threading.Event()
        self.errors = queue.Queue()

    @handler("read")
    def _on_read(self, data):
        self.messages.put(data)

    @handler("disconnected", channel="wsclient")
    def _on_disconnected(self):
        self.gone.set()

    @handler("exception", channel="*")
    def _on_exception(self, etype, evalue, *args, **kwargs):
        self.errors.put(evalue)

    def next(self):
        return self.messages.get(timeout=TIMEOUT_S)


def raw_exchange(port, data):
    """Send ``data`` and read until the server closes: the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# -- module surface ------------------------------------------------------------


def test_exports_are_the_same_objects():
    ws = circuits.web.websockets
    assert circuits.web.dispatchers.WebSocketsDispatcher is ws.WebSocketsDispatcher
    assert ws.dispatcher.WebSocketsDispatcher is ws.WebSocketsDispatcher
    assert ws.client.WebSocketClient is ws.WebSocketClient
    c, d = ws.client, ws.dispatcher
    assert c.HTTP is circuits.protocols.http.HTTP
    assert c.NotConnected is circuits.web.client.NotConnected
    assert (c.Headers, c.TCPClient, c.WebSocketCodec) == (Headers, TCPClient, WebSocketCodec)
    assert (c.close, c.connect, c.write) == (
        close,
        circuits.net.events.connect,
        write,
    )
    assert (c.BaseComponent, c.handler) == (CoreBaseComponent, core_handler)
    assert (d.BaseComponent, d.handler, d.WebSocketCodec) == (
        CoreBaseComponent,
        core_handler,
        WebSocketCodec,
    )
    assert (d.connect, d.disconnect) == (
        circuits.net.events.connect,
        circuits.net.events.disconnect,
    )
    assert d.httperror is circuits.web.errors.httperror


def test_client_url_parsing():
    assert _parse_ws_url("ws://example.com/a b?x=1") == ("example.com", 80, "/ab?x=1", False)
    assert _parse_ws_url("wss://example.com:8443") == ("example.com", 8443, "/", True)
    with pytest.raises(ValueError, match="absolute"):
        _parse_ws_url("/relative")
    with pytest.raises(NotConnected, match="scheme"):
        _parse_ws_url("http://example.com/")


# -- echo with real clients ------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_echo_with_the_websockets_library(size):
    with ws_site() as site, ws_sync.connect(site.url(), open_timeout=TIMEOUT_S) as ws:
        host, port = ws.socket.getsockname()[:2]
        assert ws.recv(timeout=TIMEOUT_S) == f"Welcome {host}:{port}"
        ws.send("x" * size)
        assert ws.recv(timeout=TIMEOUT_S) == "Received: " + "x" * size
        ws.send(b"\x00\xff" * size)
        assert ws.recv(timeout=TIMEOUT_S) == b"\x00\xff" * size
    assert isinstance(site.echo.reads[0], str)
    assert isinstance(site.echo.reads[1], bytearray)


def test_echo_with_our_client_and_one_disconnect_on_close():
    with ws_site() as site:
        reader = site.register(Reader())
        client = site.register(WebSocketClient(site.url()))
        assert reader.next().startswith("Welcome 127.0.0.1:")
        for size in SIZES:
            site.manager.fire(write("y" * size), "ws")
            assert reader.next() == "Received: " + "y" * size
        site.manager.fire(write(b"\x01\x02\x03"), "ws")
        got = reader.next()
        assert got == b"\x01\x02\x03"
        assert isinstance(got, bytearray)
        assert client.connected
        site.manager.fire(close(), "ws")
        echo = site.echo
        assert echo.wait(lambda: echo.disconnects), "no disconnect on wsserver"
        assert reader.gone.wait(TIMEOUT_S), "the client was not disconnected"
        assert len(echo.connects) == 1
        assert len(echo.disconnects) == 1
        assert echo.disconnects[0] is echo.connects[0][0]
        assert not client.connected
        host, port = echo.connects[0][1:]
        assert isinstance(host, str)
        assert isinstance(port, int)
        # every websocket event carried the upgrade request
        assert {r.path for r in echo.requests} == {"/websocket"}


def test_ordinary_http_works_while_a_websocket_is_open():
    with ws_site() as site, ws_sync.connect(site.url(), open_timeout=TIMEOUT_S) as ws:
        ws.recv(timeout=TIMEOUT_S)
        answer = raw_exchange(site.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b"Hello World!")
        ws.send("still here")
        assert ws.recv(timeout=TIMEOUT_S) == "Received: still here"
        # the switched socket is no longer HTTP's
        assert site.server.http._clients == {}


def test_subprotocol_is_selected():
    with (
        ws_site() as site,
        ws_sync.connect(
            site.url(), subprotocols=["chat", "superchat"], open_timeout=TIMEOUT_S
        ) as ws,
    ):
        assert ws.subprotocol == "superchat"  # the first of the reverse-sorted offer


def test_our_client_fails_on_a_refused_upgrade():
    with ws_site() as site:
        reader = site.register(Reader())
        site.register(WebSocketClient(site.url("/nothing-here")))
        error = reader.errors.get(timeout=TIMEOUT_S)
        assert isinstance(error, NotConnected)
        assert "404" in str(error)


# -- the handover from HTTP ------------------------------------------------------


def test_bytes_sent_with_the_handshake_reach_the_codec_after_connect():
    with ws_site() as site:
        early = frame(1, "early") + frame(1, "bird")
        client = RawClient(site.port, early=early)
        try:
            assert client.recv_message()[1].startswith(b"Welcome ")
            assert client.recv_message() == (1, b"Received: early")
            assert client.recv_message() == (1, b"Received: bird")
        finally:
            client.close()


def test_http_is_not_parsed_after_the_switch():
    with ws_site() as site:
        with welcomed(site.port) as client:
            # Not a frame (RSV bits of "G"): the codec fails it, HTTP says nothing.
            client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.expect_close() == 1002


# -- strictness ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(frame(1, "hello", masked=False), 1002, id="unmasked"),
        pytest.param(frame(1, b"\xce\xba\xff"), 1007, id="invalid-utf8"),
        pytest.param(frame(9, b"p" * 126), 1002, id="control-frame-too-long"),
        pytest.param(frame(9, b"p", fin=False), 1002, id="fragmented-control-frame"),
        pytest.param(frame(2, bytes(1001)), 1009, id="message-too-big"),
        pytest.param(
            frame(2, bytes(600), fin=False) + frame(0, bytes(401)), 1009, id="fragments-too-big"
        ),
        pytest.param(close_frame(1000, b"\xff"), 1007, id="close-reason-invalid-utf8"),
        pytest.param(close_frame(1005), 1002, id="close-code-1005"),
    ],
)
def test_protocol_violations_close_with_a_code(data, code):
    with ws_site(max_message_bytes=1000) as site:
        with welcomed(site.port) as client:
            client.send(data)
            assert client.expect_close() == code
        assert site.echo.wait(lambda: site.echo.disconnects)
        assert site.echo.reads == []


def test_limit_is_inclusive_and_fragments_and_pings_work():
    with ws_site(max_message_bytes=1000) as site:
        with welcomed(site.port) as client:
            client.send(frame(2, bytes(1000)))
            assert client.recv_message() == (2, bytes(1000))
            client.send(frame(9, b"abc"))
            assert client.recv_message() == (0xA, b"abc")
            client.send(frame(1, "frag", fin=False) + frame(9, b"in") + frame(0, "ment"))
            assert client.recv_message() == (0xA, b"in")
            assert client.recv_message() == (1, b"Received: fragment")
            client.send(frame(0xA, b"unsolicited"))  # ignored
            client.send(close_frame(1001, "bye"))
            assert client.expect_close() == 1001  # the code is echoed
        assert site.echo.wait(lambda: site.echo.disconnects)
        assert len(site.echo.disconnects) == 1


def test_server_side_close_handshake():
    with ws_site() as site:
        with welcomed(site.port) as client:
            sock = site.echo.connects[0][0]
            site.manager.fire(close(sock), "wsserver")
            opcode, payload = client.recv_message()
            assert (opcode, payload) == (8, b"\x03\xe8")  # 1000
            client.send(close_frame(1000))
            client.expect_eof()
        assert site.echo.wait(lambda: site.echo.disconnects)


# -- the close handshake timeout (RFC 6455 §7.1.1) ---------------------------------------


def close_timers(watcher):
    """``(registered, unregistered)``: the codecs' close timers that came and went."""
    came = [
        e.args[0]
        for e in watcher.find("registered")
        if isinstance(e.args[0], Timer) and isinstance(e.args[1], WebSocketCodec)
    ]
    went = [e.args[0] for e in watcher.find("unregistered") if e.args[0] in came]
    return came, went


def assert_nothing_more_after_the_timeout(clock, manager, watcher):
    """Step the fake clock well past the close timeout: the timers must be gone.

    A timer leaves the tree on its own (``unregistered``) or with its codec.
    """
    watcher.wait_until(
        lambda events: (
            (timers := close_timers(watcher)[0]) != []
            and all(t.root is not manager for t in timers)
        ),
        TIMEOUT_S,
        "the close timers to leave the tree",
    )
    clock.advance(CLOSE_TIMEOUT_S * 2)
    settle(manager, watcher)
    assert watcher.find("_close_timeout") == []


def test_a_server_close_the_client_leaves_unanswered_ends_tcp_after_the_timeout(clock):
    with ws_site() as site:
        with welcomed(site.port) as client:
            sock = site.echo.connects[0][0]
            site.manager.fire(close(sock), "wsserver")
            assert client.recv_message() == (8, b"\x03\xe8")  # and then silence
            clock.advance(CLOSE_TIMEOUT_S - 0.01)
            site.settle()
            client.sock.setblocking(False)
            with pytest.raises(BlockingIOError):  # still open: no data, no EOF
                client.sock.recv(1)
            client.sock.settimeout(TIMEOUT_S)
            assert site.echo.disconnects == []
            clock.advance(0.02)  # past it (float sums are inexact)
            client.expect_eof()
        assert site.echo.wait(lambda: site.echo.disconnects)
        assert len(site.echo.disconnects) == 1


def test_a_server_close_answered_in_time_leaves_no_timer(clock):
    with ws_site() as site:
        with welcomed(site.port) as client:
            site.manager.fire(close(site.echo.connects[0][0]), "wsserver")
            assert client.recv_message() == (8, b"\x03\xe8")
            client.send(close_frame(1000))
            client.expect_eof()  # the server closes TCP at once (§7.1.1)
        assert site.echo.wait(lambda: site.echo.disconnects)
        assert_nothing_more_after_the_timeout(clock, site.manager, site.watcher)
        assert len(site.echo.disconnects) == 1


def test_a_client_close_is_answered_and_tcp_closed_without_a_timer(clock):
    with ws_site() as site:
        with welcomed(site.port) as client:
            client.send(close_frame(1001))
            assert client.expect_close() == 1001  # with the clock standing still
        assert site.echo.wait(lambda: site.echo.disconnects)
        site.settle()
        assert close_timers(site.watcher) == ([], [])


@pytest.mark.slow
def test_a_server_close_times_out_in_real_time():
    with ws_site(close_timeout=0.2) as site:
        with welcomed(site.port) as client:
            site.manager.fire(close(site.echo.connects[0][0]), "wsserver")
            assert client.recv_message() == (8, b"\x03\xe8")
            start = time.monotonic()
            client.expect_eof()
            waited = time.monotonic() - start
        assert 0.15 <= waited < TIMEOUT_S
        assert site.echo.wait(lambda: site.echo.disconnects)


@pytest.fixture
def ws_client():
    """``start(url, **kwargs)``: a running ``WebSocketClient``, its ``Reader``, tree and watcher."""
    with ExitStack() as stack:

        def start(url, **kwargs):
            m = Manager()
            watcher = Watcher().register(m)
            reader = Reader().register(m)
            client = WebSocketClient(url, **kwargs).register(m)
            stack.enter_context(running(m))
            return m, watcher, reader, client

        yield start


def test_our_client_closes_tcp_when_the_server_leaves_its_close_unanswered(clock, ws_client):
    with raw_server(answer_close=False) as peer:
        m, watcher, reader, client = ws_client(peer.url())
        assert reader.next() == "hello"
        m.fire(close(), "ws")
        assert peer.close_seen.wait(TIMEOUT_S), peer.failure
        clock.advance(CLOSE_TIMEOUT_S - 0.01)
        settle(m, watcher)
        assert not peer.eof.is_set()
        assert client.connected
        clock.advance(0.02)  # past it (float sums are inexact)
        assert peer.eof.wait(TIMEOUT_S), "the client did not close the TCP connection"
        assert reader.gone.wait(TIMEOUT_S)
        assert not client.connected
        assert peer.failure is None


def test_our_client_lets_the_server_close_tcp_after_the_handshake(clock, ws_client):
    # RFC 6455 §7.1.1: the server closes TCP first; the client waits for it.
    with raw_server(answer_close=True, close_tcp=True) as peer:
        m, watcher, reader, client = ws_client(peer.url())
        assert reader.next() == "hello"
        m.fire(close(), "ws")
        assert reader.gone.wait(TIMEOUT_S)  # the server's TCP close, no time passing
        assert not client.connected
        assert_nothing_more_after_the_timeout(clock, m, watcher)
        assert peer.failure is None


def test_our_client_closes_tcp_when_the_server_answers_but_keeps_it_open(clock, ws_client):
    with raw_server(answer_close=True) as peer:
        m, watcher, reader, client = ws_client(peer.url())
        assert reader.next() == "hello"
        m.fire(close(), "ws")
        # The second timer: from the server's answer, for the server's TCP close.
        watcher.wait_until(
            lambda events: len(close_timers(watcher)[0]) == 2, TIMEOUT_S, "a second timer"
        )
        clock.advance(CLOSE_TIMEOUT_S - 0.01)
        settle(m, watcher)
        assert not peer.eof.is_set()  # the server's turn to close, for now
        clock.advance(0.02)
        assert peer.eof.wait(TIMEOUT_S), "the client did not close the TCP connection"
        assert reader.gone.wait(TIMEOUT_S)
        assert not client.connected
        assert peer.failure is None


@pytest.mark.slow
def test_our_client_close_times_out_in_real_time(ws_client):
    with raw_server(answer_close=False) as peer:
        m, _watcher, reader, _client = ws_client(peer.url(), close_timeout=0.2)
        assert reader.next() == "hello"
        m.fire(close(), "ws")
        assert peer.eof.wait(TIMEOUT_S), "the client did not close the TCP connection"
        assert 0.15 <= peer.eof_at - peer.close_seen_at < TIMEOUT_S
        assert reader.gone.wait(TIMEOUT_S)


@pytest.mark.parametrize(
    ("cls", "positional"),
    [
        (WebSocketCodec, ["self", "sock", "data", "args"]),
        (circuits.web.websockets.WebSocketsDispatcher, ["self", "path", "wschannel", "args"]),
        (WebSocketClient, ["self", "url", "channel", "wschannel", "headers"]),
    ],
)
def test_close_timeout_is_keyword_only_beside_the_3_2_5_parameters(cls, positional):
    params = inspect.signature(cls.__init__).parameters
    assert [n for n, p in params.items() if p.kind is not p.KEYWORD_ONLY][: len(positional)] == (
        positional
    )
    assert params["close_timeout"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["close_timeout"].default == CLOSE_TIMEOUT_S
    d = circuits.web.websockets.WebSocketsDispatcher("/ws", "chat", close_timeout=1.5)
    assert (d._path, d._wschannel, d._close_timeout) == ("/ws", "chat", 1.5)


@pytest.mark.parametrize(
    "make",
    [
        lambda: circuits.web.websockets.WebSocketsDispatcher("/ws", close_timeout=-0.5),
        lambda: WebSocketClient("ws://127.0.0.1:1/", close_timeout=-0.5),
    ],
    ids=["dispatcher", "client"],
)
def test_a_negative_close_timeout_is_refused_at_construction(make):
    with pytest.raises(ValueError, match=r"close_timeout must be >= 0 seconds or None, not -0.5"):
        make()


# -- the upgrade request -----------------------------------------------------------------

GOOD_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(handshake_request("/websocket", Sec_WebSocket_Key=None), id="no-key"),
        pytest.param(handshake_request("/websocket", "!!not base64!!"), id="key-not-base64"),
        pytest.param(handshake_request("/websocket", "AAAAAAAAAAA="), id="key-not-16-bytes"),
        pytest.param(handshake_request("/websocket", Upgrade="h2c"), id="upgrade-not-websocket"),
        pytest.param(handshake_request("/websocket", Connection="keep-alive"), id="no-upgrade"),
        pytest.param(handshake_request("/websocket").replace(b"GET", b"PUT", 1), id="not-get"),
        pytest.param(
            handshake_request("/websocket").replace(b"HTTP/1.1", b"HTTP/1.0", 1), id="http-1.0"
        ),
        pytest.param(b"GET /websocket HTTP/1.1\r\nHost: x\r\n\r\n", id="plain-get"),
    ],
)
def test_bad_upgrade_requests_get_400(request_bytes):
    with ws_site() as site:
        # no Connection: close needed: an error response closes the connection
        answer = raw_exchange(site.port, request_bytes)
        status_line = answer.partition(b"\r\n")[0]
        assert status_line.endswith(b" 400 Bad Request"), answer
        assert site.echo.connects == []


def test_unsupported_version_names_13():
    with ws_site() as site:
        answer = raw_exchange(
            site.port, handshake_request("/websocket", GOOD_KEY, Sec_WebSocket_Version="8")
        )
        head = answer.partition(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 400 bad request\r\n")
        assert b"\r\nsec-websocket-version: 13" in head


@pytest.mark.parametrize("path", ["/websocketfoo", "/websocket/x", "/"])
def test_path_must_match_exactly(path):
    with ws_site() as site:
        request_bytes = handshake_request(path, GOOD_KEY).replace(
            b"Connection: Upgrade", b"Connection: Upgrade, close"
        )
        answer = raw_exchange(site.port, request_bytes)
        assert not answer.startswith(b"HTTP/1.1 101"), answer[:80]
        assert site.echo.connects == []


def test_custom_path_and_channel():
    echo = Echo(channel="chat", welcome=False)
    with (
        ws_site(path="/chat", wschannel="chat", echo=echo) as site,
        ws_sync.connect(site.url("/chat"), open_timeout=TIMEOUT_S) as ws,
    ):
        ws.send("hi")
        assert ws.recv(timeout=TIMEOUT_S) == "Received: hi"
