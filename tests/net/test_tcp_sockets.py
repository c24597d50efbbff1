"""TCP clients and servers over loopback (``circuits.net.sockets``)."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from net_support import ipv6_loopback_or_skip

from circuits import BaseComponent, Component, Event, handler
from circuits.core.pollers import Poller
from circuits.net.events import close, connect, write
from circuits.net.sockets import (
    BACKLOG,
    BUFSIZE,
    TCP6Client,
    TCP6Server,
    TCPClient,
    TCPServer,
)


class EchoServer(Component):
    channel = "server"

    def read(self, sock, data):
        return data


def free_port():
    """A port nobody listens on (bound then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def echo(app):
    """A running echo server and a connected client on channel 'client'."""
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0)).register(m)
    EchoServer().register(m)
    client = TCPClient().register(m)
    start()
    rec.wait_for("ready", "server")
    rec.wait_for("ready", "client")
    m.fire(connect("127.0.0.1", server.port), "client")
    rec.wait_for("connected", "client")
    rec.wait_for("connect", "server")
    return m, rec, server, client


def test_server_address_is_known_after_construction():
    server = TCPServer(("127.0.0.1", 0))
    try:
        assert server.host == "127.0.0.1"
        assert server.port > 0
        assert server._backlog == BACKLOG
        assert server._bufsize == BUFSIZE
        assert server.connected is True
        assert server._sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert not server._buffers[object()]  # a missing socket reads as empty
    finally:
        server._sock.close()


@pytest.mark.parametrize("bind", [0, "127.0.0.1:0", ("127.0.0.1", 0)])
def test_bind_forms(bind):
    server = TCPServer(bind)
    try:
        assert server.port > 0
    finally:
        server._sock.close()


def test_extra_socket_options():
    server = TCPServer(
        ("127.0.0.1", 0), socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    )
    try:
        assert server._sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    finally:
        server._sock.close()


def test_echo_round_trip_and_event_sequence(echo):
    m, rec, server, client = echo
    ready = rec.find("ready", "server")[0]
    assert ready.args == [server, ("127.0.0.1", server.port)]
    assert rec.find("ready", "client")[0].args == [client]
    assert rec.find("connected", "client")[0].args == ["127.0.0.1", server.port]
    sock, host, port = rec.find("connect", "server")[0].args
    assert host == "127.0.0.1"
    assert port == client._sock.getsockname()[1]
    assert sock in server._clients
    assert client.connected

    m.fire(write(b"hello"), "client")
    assert rec.wait_for_data("client", 5) == b"hello"
    assert rec.find("read", "server")[0].args == [sock, b"hello"]
    assert rec.find("read", "client")[0].notify is True

    m.fire(close(), "client")
    rec.wait_for("disconnected", "client")
    assert rec.wait_for("disconnect", "server").args == [sock]
    assert not client.connected

    listening = server._sock
    m.fire(close(), "server")
    rec.wait_for("closed", "server")
    names = rec.names("server")
    assert names[names.index("close") :][-3:] == ["close", "disconnect", "closed"]
    assert rec.find("disconnect", "server")[-1].args == [listening]
    assert server._sock is None
    assert server.host is None
    assert server.port is None


def test_client_does_not_echo(echo):
    m, rec, _server, _client = echo

    class ClientEcho(BaseComponent):
        channel = "client"

        @handler("read")
        def _on_read(self, data):
            return data

    ClientEcho().register(m)
    m.fire(write(b"once"), "client")
    rec.wait_for_data("client", 4)
    rec.wait_for("read_value_changed")
    m.fire(Event.create("marker"), "client")
    rec.wait_for("marker", "client")
    assert len(rec.find("read", "server")) == 1


def test_many_clients_at_once(app):
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0)).register(m)
    EchoServer().register(m)
    clients = [TCPClient(channel=f"c{i}").register(m) for i in range(50)]
    start()
    rec.wait_for("ready", "server")
    for c in clients:
        rec.wait_for("ready", c.channel)
        m.fire(connect("127.0.0.1", server.port), c.channel)
    for c in clients:
        rec.wait_for("connected", c.channel)
        m.fire(write(f"hello {c.channel}".encode()), c.channel)
    for c in clients:
        expected = f"hello {c.channel}".encode()
        assert rec.wait_for_data(c.channel, len(expected)) == expected
    rec.wait_for("connect", "server", count=50)
    assert len(server._clients) == 50


def test_plain_socket_clients_get_their_own_data(app):
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0)).register(m)
    EchoServer().register(m)
    start()
    rec.wait_for("ready", "server")
    peers = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(20)]
    try:
        for i, p in enumerate(peers):
            p.sendall(b"%d;" % i)
        for i, p in enumerate(peers):
            want = b"%d;" % i
            got = b""
            while len(got) < len(want):
                got += p.recv(100)
            assert got == want
    finally:
        for p in peers:
            p.close()
    rec.wait_for("disconnect", "server", count=20)


def test_burst_is_read_in_bufsize_chunks_and_echoed_in_order(app):
    # The server drains a readable peer (several recv() per readiness) and
    # sends a batch's echoes with one sendmsg(); neither may change the
    # events: one read(sock, data) of at most bufsize per recv, bytes in order.
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0), bufsize=1000).register(m)
    EchoServer().register(m)
    start()
    rec.wait_for("ready", "server")
    payload = bytes(range(256)) * 4096  # 1 MiB
    peer = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sender = threading.Thread(target=peer.sendall, args=(payload,))
    sender.start()
    try:
        got = bytearray()
        while len(got) < len(payload):
            got += peer.recv(1 << 20)
        assert bytes(got) == payload
    finally:
        sender.join()
        peer.close()
    reads = rec.find("read", "server")
    assert all(len(e.args[1]) <= 1000 for e in reads)
    assert b"".join(e.args[1] for e in reads) == payload
    assert all(e.notify is True for e in reads)


def test_refused_connect_is_unreachable_at_once(app):
    m, rec, start = app
    TCPClient(connect_timeout=30).register(m)
    start()
    rec.wait_for("ready", "client")
    port = free_port()
    t0 = time.monotonic()
    m.fire(connect("127.0.0.1", port), "client")
    e = rec.wait_for("unreachable", "client")
    assert time.monotonic() - t0 < 2  # not connect_timeout (30 s)
    assert e.args == ["127.0.0.1", port, None]
    assert not rec.find("error", "client")
    assert not rec.find("connected", "client")


def test_unknown_host_is_unreachable_with_error(app):
    m, rec, start = app
    TCPClient().register(m)
    start()
    rec.wait_for("ready", "client")
    m.fire(connect("no-such-host.invalid", 80), "client")
    e = rec.wait_for("unreachable", "client")
    assert isinstance(e.args[2], socket.gaierror)
    assert rec.wait_for("error", "client").args == [e.args[2]]


def test_connect_timeout(app):
    m, rec, start = app
    TCPClient(connect_timeout=0.1).register(m)
    # A listener whose accept queue is full drops further SYNs (Linux), so
    # a connection attempt neither succeeds nor is refused.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(("127.0.0.1", port))
            fillers.append(f)
        start()
        rec.wait_for("ready", "client")
        m.fire(connect("127.0.0.1", port), "client")
        e = rec.wait_for("unreachable", "client")
        if rec.find("connected", "client"):
            pytest.skip("this kernel accepted the connection despite the full backlog")
        assert e.args == ["127.0.0.1", port, None]
    finally:
        listener.close()
        for f in fillers:
            f.close()


def test_reconnect_after_disconnect(echo):
    m, rec, server, _client = echo
    m.fire(close(), "client")
    rec.wait_for("disconnected", "client")
    m.fire(connect("127.0.0.1", server.port), "client")
    rec.wait_for("connected", "client", count=2)
    m.fire(write(b"again"), "client")
    assert rec.wait_for_data("client", 5) == b"again"


def test_close_flushes_pending_writes(echo):
    m, rec, _server, _client = echo
    sock = rec.find("connect", "server")[0].args[0]
    payload = b"z" * (2 * 1024 * 1024)
    m.fire(write(sock, payload), "server")
    m.fire(close(sock), "server")
    assert rec.wait_for_data("client", len(payload), timeout=10) == payload
    rec.wait_for("disconnect", "server")
    rec.wait_for("disconnected", "client")


def test_client_close_flushes_pending_writes(app):
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0)).register(m)  # no echo: only the client writes
    TCPClient().register(m)
    start()
    rec.wait_for("ready", "client")
    m.fire(connect("127.0.0.1", server.port), "client")
    sock = rec.wait_for("connect", "server").args[0]
    rec.wait_for("connected", "client")
    payload = b"q" * (2 * 1024 * 1024)
    m.fire(write(payload), "client")
    m.fire(close(), "client")
    assert rec.wait_for_data("server", len(payload), peer=sock, timeout=10) == payload
    rec.wait_for("disconnected", "client")


@pytest.mark.slow
def test_ten_megabytes_arrive_intact(app):
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0)).register(m)
    client = TCPClient(bufsize=65536).register(m)
    start()
    rec.wait_for("ready", "server")
    rec.wait_for("ready", "client")
    m.fire(connect("127.0.0.1", server.port), "client")
    sock = rec.wait_for("connect", "server").args[0]
    rec.wait_for("connected", "client")
    payload = bytes(range(256)) * (40 * 1024)  # 10 MiB
    m.fire(write(sock, payload), "server")
    data = rec.wait_for_data("client", len(payload), timeout=20)
    assert data == payload
    assert not server._buffers.get(sock)
    assert client.connected


def test_write_to_unknown_socket_is_dropped(echo):
    m, rec, server, _client = echo
    stranger = socket.socket()
    try:
        m.fire(write(stranger, b"x"), "server")
        m.fire(Event.create("marker"), "server")
        rec.wait_for("marker", "server")
        assert stranger not in server._buffers
        assert not rec.find("error", "server")
    finally:
        stranger.close()


def test_peer_reset_becomes_disconnect_not_a_crash(echo):
    _m, rec, server, client = echo
    sock = rec.find("connect", "server")[0].args[0]
    # Reset the connection from the client side (SO_LINGER 0 -> RST).
    client._sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
    )
    client._sock.close()
    rec.wait_for("disconnect", "server")
    assert sock not in server._clients
    # the server still serves others
    other = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        other.sendall(b"ping")
        assert other.recv(4) == b"ping"
    finally:
        other.close()


def test_stop_closes_everything(app):
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0)).register(m)
    TCPClient().register(m)
    start()
    rec.wait_for("ready", "client")
    m.fire(connect("127.0.0.1", server.port), "client")
    rec.wait_for("connect", "server")
    rec.wait_for("connected", "client")
    m.stop()
    m.join()
    assert rec.find("closed", "server")
    assert rec.find("disconnected", "client")
    assert server._sock is None


def test_ipv6_echo(app):
    ipv6_loopback_or_skip()
    m, rec, start = app
    server = TCP6Server(("::1", 0)).register(m)
    EchoServer().register(m)
    TCP6Client().register(m)
    start()
    assert rec.wait_for("ready", "server").args[1] == ("::1", server.port)
    rec.wait_for("ready", "client")
    m.fire(connect("::1", server.port), "client")
    rec.wait_for("connected", "client")
    m.fire(write(b"six"), "client")
    assert rec.wait_for_data("client", 3) == b"six"


def test_works_under_run_async():
    import asyncio

    from net_support import Recorder

    from circuits import Manager

    async def main():
        m = Manager()
        rec = Recorder().register(m)
        server = TCPServer(("127.0.0.1", 0)).register(m)
        EchoServer().register(m)
        task = asyncio.ensure_future(m.run_async())
        try:
            reader, writer = None, None
            for _ in range(100):
                if rec.find("ready", "server"):
                    break
                await asyncio.sleep(0.01)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"async")
            assert await asyncio.wait_for(reader.readexactly(5), 5) == b"async"
            writer.close()
            await writer.wait_closed()
        finally:
            m.stop()
            await asyncio.wait_for(task, 5)

    asyncio.run(main())


def test_closing_a_server_leaves_a_shared_listening_socket_working():
    """Forked workers share one listening socket: one closing must not stop the others."""
    shared = socket.socket()
    shared.bind(("127.0.0.1", 0))
    shared.listen(8)
    port = shared.getsockname()[1]
    # A second descriptor for the same socket, as a fork would have.
    theirs = socket.socket(fileno=os.dup(shared.fileno()))
    server = TCPServer(shared)
    server.close()  # no loop: closes at once
    theirs.settimeout(5)
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        conn, _ = theirs.accept()  # still accepting
        conn.close()
    theirs.close()


def test_a_server_that_leaves_the_tree_closes_its_sockets(app):
    """Left watched by the root's poller, a listener nobody accepts from would
    spin the loop; it is closed instead, with its clients."""
    m, rec, start = app
    Poller().register(m)  # at the root: it stays when the server goes
    server = TCPServer(("127.0.0.1", 0)).register(m)
    start()
    rec.wait_for("ready", "server")
    port = server.port
    peer = socket.create_connection(("127.0.0.1", port), timeout=5)
    rec.wait_for("connect", "server")
    server.unregister()
    rec.wait_for("disconnect", "server")  # the client socket was closed
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    peer.settimeout(5)
    assert peer.recv(1) == b""  # the server's side of it is closed
    peer.close()
