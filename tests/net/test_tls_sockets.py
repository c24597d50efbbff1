"""TLS clients and servers: non-blocking handshakes, failures, starttls."""

from __future__ import annotations

import itertools
import socket
import ssl

import pytest

from circuits import Component
from circuits.net.events import close, connect, starttls, write
from circuits.net.sockets import TCPClient, TCPServer, do_handshake, wrap_socket


class EchoServer(Component):
    channel = "server"

    def read(self, sock, data):
        return data


def tls_server(m, tls_files):
    server = TCPServer(("127.0.0.1", 0), secure=True, certfile=tls_files["cert"]).register(m)
    EchoServer().register(m)
    return server


def client_context(tls_files):
    return ssl.create_default_context(cafile=tls_files["ca"])


def test_secure_without_certfile_is_an_error():
    with pytest.raises(RuntimeError, match="certfile must be specified"):
        TCPServer(("127.0.0.1", 0), secure=True)


def test_unloadable_certificate_fails_at_construction(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValueError, match=r"cannot load certfile=.*bad\.pem"):
        TCPServer(("127.0.0.1", 0), secure=True, certfile=str(bad))
    with pytest.raises(ValueError, match=r"missing\.pem"):
        TCPServer(("127.0.0.1", 0), secure=True, certfile=str(tmp_path / "missing.pem"))


def test_circuits_client_and_server_in_one_loop(app, tls_files):
    # 3.2.5 deadlocked here: its handshake blocked the loop.
    m, rec, start = app
    server = tls_server(m, tls_files)
    TCPClient().register(m)
    start()
    rec.wait_for("ready", "client")
    m.fire(connect("127.0.0.1", server.port, secure=True, ca_certs=tls_files["ca"]), "client")
    assert rec.wait_for("connected", "client").args == ["127.0.0.1", server.port]
    sock = rec.wait_for("connect", "server").args[0]
    assert isinstance(sock, ssl.SSLSocket)
    m.fire(write(b"secret" * 5000), "client")
    assert rec.wait_for_data("client", 30000) == b"secret" * 5000
    m.fire(close(), "client")
    rec.wait_for("disconnected", "client")
    rec.wait_for("disconnect", "server")


def test_stdlib_client_against_tls_server(app, tls_files):
    m, rec, start = app
    server = tls_server(m, tls_files)
    start()
    rec.wait_for("ready", "server")
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    with client_context(tls_files).wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(b"hello")
        assert s.recv(5) == b"hello"


def test_failed_handshake_does_not_hurt_other_clients(app, tls_files):
    m, rec, start = app
    server = tls_server(m, tls_files)
    start()
    rec.wait_for("ready", "server")
    # A client that connects and sends nothing must not block the loop...
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    # ...and one that speaks plain text fails its handshake.
    plain = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    plain.sendall(b"GET / HTTP/1.0\r\n\r\n")
    e = rec.wait_for("error", "server")
    assert isinstance(e.args[1], ssl.SSLError)
    good = [
        client_context(tls_files).wrap_socket(
            socket.create_connection(("127.0.0.1", server.port), timeout=5),
            server_hostname="127.0.0.1",
        )
        for _ in range(5)
    ]
    try:
        for i, s in enumerate(good):
            s.sendall(b"n%d" % i)
        for i, s in enumerate(good):
            assert s.recv(10) == b"n%d" % i
        assert not rec.find("disconnect", "server")  # the failed one never was a client
        assert len(server._clients) == 5
    finally:
        for s in [idle, plain, *good]:
            s.close()


def test_client_rejects_unknown_certificate(app, tls_files):
    m, rec, start = app
    server = tls_server(m, tls_files)
    TCPClient().register(m)
    start()
    rec.wait_for("ready", "client")
    m.fire(connect("127.0.0.1", server.port, secure=True), "client")  # system CAs only
    e = rec.wait_for("error", "client")
    assert len(e.args) == 2  # 3.2.5's shape: error(sock, exc)
    assert isinstance(e.args[1], ssl.SSLCertVerificationError)
    rec.wait_for("disconnected", "client")
    assert not rec.find("connected", "client")


def test_starttls_upgrades_a_plain_connection(app, tls_files):
    m, rec, start = app
    server = TCPServer(("127.0.0.1", 0), certfile=tls_files["cert"]).register(m)
    EchoServer().register(m)
    start()
    rec.wait_for("ready", "server")
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        sock = rec.wait_for("connect", "server").args[0]
        raw.sendall(b"plain")
        assert raw.recv(5) == b"plain"
        m.fire(starttls(sock), "server")
        s = client_context(tls_files).wrap_socket(raw, server_hostname="127.0.0.1")
        s.sendall(b"tls!")
        assert s.recv(4) == b"tls!"
        assert len(rec.find("connect", "server")) == 1
        assert isinstance(rec.find("read", "server")[-1].args[0], ssl.SSLSocket)
        s.close()
    finally:
        raw.close()


def test_do_handshake_generator_never_blocks(tls_files):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    ctx_s = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx_s.load_cert_chain(tls_files["cert"])
    server = ctx_s.wrap_socket(a, server_side=True, do_handshake_on_connect=False)
    client = wrap_socket(
        b,
        ca_certs=tls_files["ca"],
        server_hostname="localhost",
        do_handshake_on_connect=False,
    )
    done = []
    gens = [
        do_handshake(server, on_done=lambda s, *a: done.append(("s", a)), extra_args=(1,)),
        do_handshake(client, on_done=lambda s: done.append(("c", ()))),
    ]
    for _ in range(100):
        for g in list(gens):
            try:
                next(g)
            except StopIteration:
                gens.remove(g)
        if not gens:
            break
    assert sorted(done) == [("c", ()), ("s", (1,))]
    server.close()
    client.close()


def test_do_handshake_reports_errors():
    a, b = socket.socketpair()
    try:
        ctx = ssl.create_default_context()
        c = ctx.wrap_socket(a, server_hostname="x", do_handshake_on_connect=False)
        c.setblocking(False)
        b.sendall(b"garbage that is no TLS record at all\r\n\r\n")
        errors = []
        steps = do_handshake(c, on_error=lambda s, e: errors.append(e))
        assert len(list(itertools.islice(steps, 100))) < 100
        assert isinstance(errors[0], ssl.SSLError)
        c.close()
    finally:
        a.close()
        b.close()


def test_a_fatal_tls_error_is_one_error_then_disconnected(app, tls_files):
    # Under TLS 1.3 the client is connected before the server checks its
    # (missing) certificate; the server's alert then fails the client's
    # writes and reads alike. A TLS connection cannot go on after that.
    m, rec, start = app
    server = TCPServer(
        ("127.0.0.1", 0),
        secure=True,
        certfile=tls_files["cert"],
        ca_certs=tls_files["ca"],
        cert_reqs=ssl.CERT_REQUIRED,
    ).register(m)
    EchoServer().register(m)
    TCPClient().register(m)
    start()
    rec.wait_for("ready", "client")
    m.fire(connect("127.0.0.1", server.port, secure=True, ca_certs=tls_files["ca"]), "client")
    rec.wait_for("connected", "client")
    m.fire(write(b"hello"), "client")
    rec.wait_for("disconnected", "client")
    errors = rec.find("error", "client")
    assert len(errors) == 1, errors
    assert "alert certificate required" in str(errors[0].args[-1])  # why, not just "EOF"
