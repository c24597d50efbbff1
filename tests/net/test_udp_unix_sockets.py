"""UDP and UNIX-socket components; ``is_ssl_handshake``; the module's exports."""

from __future__ import annotations

import socket
import sys

import pytest

from circuits import Component, Event
from circuits.net import events, sockets
from circuits.net.events import broadcast, close, connect, write
from circuits.net.sockets import UDPClient, UDPServer, UNIXClient, UNIXServer
from circuits.net.utils import is_ssl_handshake


class Echo(Component):
    channel = "server"

    def read(self, peer, data):
        return data


def test_udp_send_receive_and_echo(app):
    m, rec, start = app
    server = UDPServer(("127.0.0.1", 0)).register(m)
    Echo().register(m)
    client = UDPClient(("127.0.0.1", 0), channel="client").register(m)
    start()
    assert rec.wait_for("ready", "server").args == [server, ("127.0.0.1", server.port)]
    rec.wait_for("ready", "client")
    m.fire(write(("127.0.0.1", server.port), b"datagram"), "client")
    e = rec.wait_for("read", "server")
    assert e.args == [("127.0.0.1", client.port), b"datagram"]
    back = rec.wait_for("read", "client")
    assert back.args == [("127.0.0.1", server.port), b"datagram"]


def test_udp_broadcast_is_a_write_to_the_broadcast_address(app, monkeypatch):
    m, rec, start = app
    server = UDPServer(("127.0.0.1", 0)).register(m)
    sent = []
    monkeypatch.setattr(server, "write", lambda address, data: sent.append((address, data)))
    start()
    rec.wait_for("ready", "server")
    m.fire(broadcast(b"all", 9999), "server")
    rec.wait_for("broadcast", "server")
    m.fire(Event.create("marker"), "server")
    rec.wait_for("marker", "server")
    assert sent[0] == (("<broadcast>", 9999), b"all")


def test_udp_bad_address_is_an_error_event(app):
    m, rec, start = app
    UDPServer(("127.0.0.1", 0)).register(m)
    start()
    rec.wait_for("ready", "server")
    m.fire(write(("127.0.0.1", "not a port"), b"x"), "server")
    e = rec.wait_for("error", "server")
    assert isinstance(e.args[1], (TypeError, OSError))
    m.fire(close(), "server")
    rec.wait_for("disconnect", "server")


def test_udp_close_fires_closed_then_disconnect(app):
    m, rec, start = app
    server = UDPServer(("127.0.0.1", 0)).register(m)
    start()
    rec.wait_for("ready", "server")
    sock = server._sock
    m.fire(close(), "server")
    rec.wait_for("disconnect", "server")
    names = [n for n in rec.names("server") if n in ("closed", "disconnect")]
    assert names == ["closed", "disconnect"]
    assert rec.find("disconnect", "server")[0].args == [sock]
    assert server.port is None


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no UNIX sockets here")
def test_unix_echo(app, tmp_path):
    m, rec, start = app
    path = str(tmp_path / "sock")
    (tmp_path / "sock").write_text("stale")  # an existing file is replaced
    server = UNIXServer(path).register(m)
    Echo().register(m)
    UNIXClient().register(m)
    start()
    assert rec.wait_for("ready", "server").args == [server, (path, None)]
    rec.wait_for("ready", "client")
    m.fire(connect(path), "client")
    assert rec.wait_for("connected", "client").args == [socket.gethostname(), path]
    e = rec.wait_for("connect", "server")
    assert len(e.args) == 1  # an unbound peer has no name
    m.fire(write(b"local"), "client")
    assert rec.wait_for_data("client", 5) == b"local"


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no UNIX sockets here")
def test_unix_connect_failure_is_a_bare_errno(app, tmp_path):
    m, rec, start = app
    UNIXClient().register(m)
    start()
    rec.wait_for("ready", "client")
    m.fire(connect(str(tmp_path / "missing")), "client")
    assert rec.wait_for("error", "client").args == [2]


@pytest.mark.parametrize(
    ("buf", "expected"),
    [
        ("\x16\x03\x01abc", True),
        (b"\x16\x03\x01abc", True),  # fixed: 3.2.5 only matched str
        (b"\x16\x03\x04", True),
        (b"\x80\x2e", True),
        (b"GET", None),
        (b"", None),
        ("GET / HTTP/1.1", None),
        (b"\x16\x02\x01", None),
    ],
)
def test_is_ssl_handshake(buf, expected):
    assert is_ssl_handshake(buf) is expected


def test_exports_are_the_event_classes():
    for name in ("close", "closed", "connect", "connected", "disconnect", "disconnected"):
        assert getattr(sockets, name) is getattr(events, name)
    for name in ("error", "read", "ready", "unreachable", "write"):
        assert getattr(sockets, name) is getattr(events, name)
    assert sockets.UDPClient is sockets.UDPServer
    assert sockets.UDP6Client is sockets.UDP6Server
    assert not hasattr(sockets, "broadcast")
    assert not hasattr(sockets, "starttls")
    assert (sockets.BUFSIZE, sockets.BACKLOG) == (4096, 5000)
    assert sockets.Client.channel == "client"
    assert sockets.TCPServer.channel == sockets.UDPServer.channel == "server"
    assert "circuits.net.sockets" in sys.modules
