"""StompClient against a tiny in-test STOMP 1.2 broker over real loopback sockets.

The broker (a thread per connection, its own few-line frame parser, not the
engine under test) answers CONNECT, delivers SEND to subscribers as MESSAGE,
records ACKs, sends RECEIPTs and ERRORs.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import ssl
import threading

import pytest

from circuits import Manager
from circuits.protocols.stomp import StompClient
from circuits.protocols.stomp.events import (
    abort,
    ack,
    begin,
    commit,
    connect,
    disconnect,
    nack,
    send,
    subscribe,
    unsubscribe,
)
from circuits.testing import Watcher, running

# ---------------------------------------------------------------------------
# The broker


def _escape(text):
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace(":", "\\c")


def _unescape(text):
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            out.append({"r": "\r", "n": "\n", "c": ":", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def encode(command, headers=(), body=b""):
    lines = [command]
    for name, value in headers:
        if command == "CONNECTED":
            lines.append(f"{name}:{value}")
        else:
            lines.append(f"{_escape(name)}:{_escape(value)}")
    if body:
        lines.append(f"content-length:{len(body)}")
    return ("\n".join(lines) + "\n\n").encode() + body + b"\x00"


class BadFrame(Exception):
    pass


class Peer:
    def __init__(self, broker, sock):
        self.broker = broker
        self.sock = sock
        self.buf = b""
        self.lock = threading.Lock()
        self.heartbeats = 0  # EOLs received between frames

    def send(self, data):
        with self.lock:
            with contextlib.suppress(OSError):
                self.sock.sendall(data)

    def frames(self):
        """Yield (command, headers dict, body) until the peer closes."""
        while True:
            while self.buf[:1] in (b"\n", b"\r"):
                self.buf = self.buf[2:] if self.buf[:2] == b"\r\n" else self.buf[1:]
                self.heartbeats += 1
                self.broker.changed()
            end = self.buf.find(b"\n\n")
            if self.buf and end >= 0:
                head = self.buf[:end].decode()
                lines = head.split("\n")
                command = lines[0]
                headers = {}
                for line in lines[1:]:
                    if ":" not in line:
                        raise BadFrame(f"bad header line {line!r}")
                    name, _, value = line.partition(":")
                    if command not in ("CONNECT", "STOMP"):
                        name, value = _unescape(name), _unescape(value)
                    headers.setdefault(name, value)
                start = end + 2
                if "content-length" in headers:
                    stop = start + int(headers["content-length"])
                    if len(self.buf) <= stop:
                        if not self._recv():
                            return
                        continue
                    if self.buf[stop] != 0:
                        raise BadFrame("no NUL after body")
                else:
                    stop = self.buf.find(b"\x00", start)
                    if stop < 0:
                        if not self._recv():
                            return
                        continue
                body = self.buf[start:stop]
                self.buf = self.buf[stop + 1 :]
                yield command, headers, body
                continue
            if not self._recv():
                return

    def _recv(self):
        try:
            data = self.sock.recv(65536)
        except OSError:
            return False
        self.buf += data
        return bool(data)


class Broker:
    """Serve STOMP 1.2 on 127.0.0.1 (optionally TLS) until ``stop()``.

    Args:
        login/passcode: required credentials (None: anyone may connect).
        heartbeat: the broker's ``heart-beat`` header ``(sx, sy)``; it never
            actually sends beats (so a client expecting them times out).
        ssl_context: wrap accepted sockets in TLS.
    """

    def __init__(self, login=None, passcode=None, heartbeat=(0, 0), ssl_context=None):
        self.login, self.passcode, self.heartbeat = login, passcode, heartbeat
        self.ssl_context = ssl_context
        self.frames = []  # (command, headers, body) received, in order
        self.peers = []
        self.subscriptions = []  # (peer, id, destination, ack)
        self.ids = itertools.count(1)
        self.cond = threading.Condition()
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def changed(self):
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=5):
        with self.cond:
            ok = self.cond.wait_for(predicate, timeout)
        assert ok, f"broker: condition not met; frames: {self.frames}"

    def commands(self):
        return [f[0] for f in self.frames]

    def stop(self):
        with contextlib.suppress(OSError):
            self.lsock.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread on Linux
        self.lsock.close()
        for peer in list(self.peers):
            with contextlib.suppress(OSError):
                peer.sock.shutdown(socket.SHUT_RDWR)
            peer.sock.close()
        for t in self.threads:
            t.join(5)

    def _accept(self):
        while True:
            try:
                sock, _ = self.lsock.accept()
            except OSError:
                return
            if self.ssl_context is not None:
                try:
                    sock = self.ssl_context.wrap_socket(sock, server_side=True)
                except (OSError, ssl.SSLError):
                    sock.close()
                    continue
            peer = Peer(self, sock)
            self.peers.append(peer)
            t = threading.Thread(target=self._serve, args=(peer,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, peer):
        try:
            for command, headers, body in peer.frames():
                with self.cond:
                    self.frames.append((command, headers, body))
                    self.cond.notify_all()
                if not self._handle(peer, command, headers, body):
                    break
        except BadFrame as exc:
            peer.send(encode("ERROR", [("message", str(exc))]))
        finally:
            with contextlib.suppress(OSError):
                peer.sock.shutdown(socket.SHUT_RDWR)
            peer.sock.close()
            self.subscriptions = [s for s in self.subscriptions if s[0] is not peer]
            self.changed()

    def _handle(self, peer, command, headers, body):
        if command in ("CONNECT", "STOMP"):
            if self.login is not None and (
                headers.get("login"),
                headers.get("passcode"),
            ) != (self.login, self.passcode):
                peer.send(encode("ERROR", [("message", "bad login")], b"who are you?"))
                return False
            sx, sy = self.heartbeat
            peer.send(
                encode(
                    "CONNECTED",
                    [("version", "1.2"), ("heart-beat", f"{sx},{sy}"), ("server", "test/1")],
                )
            )
            return True
        if command == "SUBSCRIBE":
            self.subscriptions.append(
                (peer, headers["id"], headers["destination"], headers.get("ack", "auto"))
            )
        elif command == "UNSUBSCRIBE":
            self.subscriptions = [
                s for s in self.subscriptions if not (s[0] is peer and s[1] == headers["id"])
            ]
        elif command == "SEND":
            for other, sub_id, destination, ack in list(self.subscriptions):
                if destination != headers["destination"]:
                    continue
                n = next(self.ids)
                out = [
                    ("subscription", sub_id),
                    ("message-id", f"m{n}"),
                    ("destination", destination),
                ]
                if ack != "auto":
                    out.append(("ack", f"a{n}"))
                other.send(encode("MESSAGE", out, body))
        elif command in ("ACK", "NACK", "BEGIN", "COMMIT", "ABORT", "DISCONNECT"):
            pass
        else:
            peer.send(encode("ERROR", [("message", f"unknown command {command}")]))
            return False
        if "receipt" in headers:
            peer.send(encode("RECEIPT", [("receipt-id", headers["receipt"])]))
        return command != "DISCONNECT"


# ---------------------------------------------------------------------------
# The client side


class Recorder(Watcher):
    """A ``circuits.testing.Watcher`` whose lookups default to the ``stomp`` channel."""

    def find(self, name, channel="stomp"):
        return super().find(name, channel)

    def wait_for(self, name, channel="stomp", count=1, timeout=5):
        what = f"{name!r} on {channel!r}"
        self.wait_until(lambda events: len(self.find(name, channel)) >= count, timeout, what)
        return self.find(name, channel)[count - 1]


@pytest.fixture
def broker():
    b = Broker(login="guest", passcode="secret")
    yield b
    b.stop()


@pytest.fixture
def tree():
    m = Manager()
    rec = Recorder().register(m)
    with running(m):
        yield m, rec


def start_client(tree, broker, **kwargs):
    m, rec = tree
    kwargs.setdefault("use_ssl", False)
    client = StompClient("127.0.0.1", broker.port, "guest", "secret", **kwargs).register(m)
    rec.wait_for("ready", "stomp.tcp")
    client.fire(connect())
    rec.wait_for("connected")
    return client


def test_connect_sends_credentials_and_heartbeat(tree, broker):
    client = start_client(tree, broker, heartbeats=(0, 0))
    assert client.connected
    command, headers, _ = broker.frames[0]
    assert command == "CONNECT"
    assert headers["accept-version"] == "1.2"
    assert headers["host"] == "127.0.0.1"
    assert (headers["login"], headers["passcode"]) == ("guest", "secret")
    assert headers["heart-beat"] == "0,0"


def test_bad_login_is_connection_failed_and_error(tree):
    b = Broker(login="guest", passcode="secret")
    try:
        m, rec = tree
        client = StompClient("127.0.0.1", b.port, "guest", "wrong", use_ssl=False).register(m)
        rec.wait_for("ready", "stomp.tcp")
        client.fire(connect())
        failed = rec.wait_for("connection_failed")
        err = rec.wait_for("on_stomp_error")
        assert failed.args[0] == f"tcp://127.0.0.1:{b.port}"
        assert err.kwargs["headers"]["message"] == "bad login"
        assert err.kwargs["message"] == b"who are you?"
        rec.wait_for("disconnected")
        assert not client.connected
    finally:
        b.stop()


def test_unreachable_is_connection_failed(tree):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    m, rec = tree
    client = StompClient("127.0.0.1", port, use_ssl=False).register(m)
    rec.wait_for("ready", "stomp.tcp")
    client.fire(connect())
    rec.wait_for("connection_failed")
    assert not client.connected


@pytest.mark.parametrize("mode", ["auto", "client", "client-individual"])
def test_subscribe_send_message_ack(tree, broker, mode):
    _, rec = tree
    client = start_client(tree, broker)
    client.fire(subscribe("/queue/a", ack=mode))
    broker.wait_for(lambda: "SUBSCRIBE" in broker.commands())
    assert client.subscribed == ["/queue/a"]
    client.fire(send(destination="/queue/a", body="héllo", headers={"x-k": "a:b"}))
    msg = rec.wait_for("message")
    assert msg.kwargs["message"] == "héllo".encode()
    assert msg.kwargs["headers"]["destination"] == "/queue/a"
    assert msg.kwargs["headers"]["subscription"] == "/queue/a"
    sub = next(h for c, h, _ in broker.frames if c == "SUBSCRIBE")
    assert (sub["id"], sub["ack"]) == ("/queue/a", mode)
    sent = next(h for c, h, _ in broker.frames if c == "SEND")
    assert sent["x-k"] == "a:b"  # escaped on the wire, unescaped by the broker
    if mode != "auto":
        client.fire(ack(msg.args[0]))
        broker.wait_for(lambda: "ACK" in broker.commands())
        acked = next(h for c, h, _ in broker.frames if c == "ACK")
        assert acked["id"] == msg.kwargs["headers"]["ack"]


def test_nack_and_transactions(tree, broker):
    _, rec = tree
    client = start_client(tree, broker)
    client.fire(subscribe("/queue/t", ack="client"))
    client.fire(begin("tx1"))
    client.fire(send(destination="/queue/t", body=b"\x00binary\x00"))
    msg = rec.wait_for("message")
    assert msg.kwargs["message"] == b"\x00binary\x00"
    client.fire(nack(msg.args[0], transaction="tx1"))
    client.fire(commit("tx1"))
    client.fire(begin("tx2"))
    client.fire(abort("tx2", receipt="r-abort"))
    rec.wait_for("receipt")
    assert broker.commands()[1:] == [
        "SUBSCRIBE",
        "BEGIN",
        "SEND",
        "NACK",
        "COMMIT",
        "BEGIN",
        "ABORT",
    ]
    nacked = broker.frames[4][1]
    assert nacked["transaction"] == "tx1"


def test_receipts(tree, broker):
    _, rec = tree
    client = start_client(tree, broker)
    client.fire(send(destination="/queue/r", body="x", receipt="r-1"))
    got = rec.wait_for("receipt")
    assert got.kwargs["receipt_id"] == "r-1"


def test_unsubscribe(tree, broker):
    client = start_client(tree, broker)
    client.fire(subscribe("/queue/u", ack="auto"))
    client.fire(unsubscribe("/queue/u"))
    client.fire(unsubscribe("/queue/never"))  # ignored
    broker.wait_for(lambda: "UNSUBSCRIBE" in broker.commands())
    assert client.subscribed == []
    assert [h["id"] for c, h, _ in broker.frames if c == "UNSUBSCRIBE"] == ["/queue/u"]


def test_disconnect_with_receipt_waits_for_it(tree, broker):
    _, rec = tree
    client = start_client(tree, broker)
    client.fire(disconnect(receipt="bye"))
    got = rec.wait_for("disconnected")
    assert got.args[0] is False  # reconnect
    assert got.kwargs["receipt"] == "bye"
    assert rec.find("receipt")[0].kwargs["receipt_id"] == "bye"
    assert broker.commands()[-1] == "DISCONNECT"
    assert not client.connected


def test_disconnect_without_receipt(tree, broker):
    _, rec = tree
    client = start_client(tree, broker)
    client.fire(disconnect())
    got = rec.wait_for("disconnected")
    assert got.args[0] is False
    broker.wait_for(lambda: "DISCONNECT" in broker.commands())


def test_send_when_not_connected_is_an_error_event(tree, broker):
    m, rec = tree
    client = StompClient("127.0.0.1", broker.port, use_ssl=False).register(m)
    client.fire(send(destination="/q", body="x"))
    err = rec.wait_for("on_stomp_error")
    assert err.args[0] is None
    assert "CONNECTED" in str(err.kwargs["error"])
    client.transport.client._sock.close()  # never connected: nothing else closes it


def test_bad_ack_mode_raises():
    client = StompClient("127.0.0.1", 1, use_ssl=False)
    try:
        with pytest.raises(ValueError, match="ack mode 'sometimes'"):
            client._on_subscribe("/q", ack="sometimes")
    finally:
        client.transport.client._sock.close()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"version": "1.1"}, ValueError),
        ({"accept_versions": ["1.0"]}, ValueError),
        ({"proxy_host": "proxy"}, NotImplementedError),
        ({"ssl_context": ssl.create_default_context()}, NotImplementedError),
    ],
)
def test_unsupported_options(kwargs, error):
    with pytest.raises(error):
        StompClient("127.0.0.1", 1, **kwargs)


def test_error_frame_from_broker(tree, broker):
    """A frame the broker cannot parse gets an ERROR and the connection closes."""
    _, rec = tree
    client = start_client(tree, broker)
    client.transport.fire(_write(b"SEND\ndestination:/q\ncontent-length:1\n\nab\x00"))
    err = rec.wait_for("on_stomp_error")
    assert err.kwargs["headers"]["message"] == "no NUL after body"
    got = rec.wait_for("disconnected")
    assert got.args[0] is True


def test_client_heartbeats_reach_the_broker(tree):
    b = Broker(heartbeat=(0, 50))
    try:
        start_client(tree, b, heartbeats=(50, 0))
        b.wait_for(lambda: b.peers and b.peers[0].heartbeats >= 2)
    finally:
        b.stop()


def test_silent_server_times_out(tree):
    b = Broker(heartbeat=(50, 0))  # promises beats, never sends them
    try:
        _, rec = tree
        start_client(tree, b, heartbeats=(0, 50))
        rec.wait_for("heartbeat_timeout")
        got = rec.wait_for("disconnected")
        assert got.args[0] is False
    finally:
        b.stop()


def test_import_needs_no_third_party_library():
    import circuits.protocols.stomp as stomp

    assert stomp.__all__ == ("StompClient",)
    assert StompClient.channel == "stomp"
    for name in ("client", "events", "transport"):
        assert hasattr(stomp, name)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    d = tmp_path_factory.mktemp("tls")
    ca_path = d / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return str(ca_path), context


def test_tls_connect_and_message(tree, tls_files):
    ca_path, context = tls_files
    b = Broker(ssl_context=context)
    try:
        m, rec = tree
        client = StompClient("localhost", b.port, ca_certs=ca_path).register(m)
        rec.wait_for("ready", "stomp.tcp")
        client.fire(connect())
        rec.wait_for("connected")
        client.fire(subscribe("/queue/s", ack="auto"))
        client.fire(send(destination="/queue/s", body="secret"))
        assert rec.wait_for("message").kwargs["message"] == b"secret"
        assert client.transport.uri == f"ssl://localhost:{b.port}"
    finally:
        b.stop()


def test_tls_unknown_ca_is_connection_failed(tree, tls_files):
    _, context = tls_files
    b = Broker(ssl_context=context)
    try:
        m, rec = tree
        client = StompClient("localhost", b.port).register(m)  # system CAs only
        rec.wait_for("ready", "stomp.tcp")
        client.fire(connect())
        failed = rec.wait_for("connection_failed")
        assert isinstance(failed.args[1], ssl.SSLError)
        assert not client.connected
    finally:
        b.stop()


def _write(data):
    from circuits.net.events import write

    return write(data)
