"""A real web server with a ``WebSocketsDispatcher`` in a thread, and a raw WebSocket client.

Shared by ``test_websockets.py`` and ``test_websockets_autobahn.py``. The raw
client speaks the opening handshake over a plain socket and then sends
whatever frames a test builds (``frame(...)``: masked, any opcode, RSV bits,
FIN); it reads the server's frames with its own small parser, independent of
``circuits._sansio.websocket``. Every socket operation has a 5 s timeout.
``raw_server`` is the other way round: a plain-socket server for one client,
whose answer to the client's Close a test chooses.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from web_harness import TIMEOUT_S, Root, started

from circuits import BaseComponent, Event, Manager, handler
from circuits._sansio.websocket import encode_frame
from circuits.net.events import write
from circuits.testing import Watcher
from circuits.web import Server
from circuits.web.websockets import WebSocketsDispatcher


class Echo(BaseComponent):
    """The spec's echo application on ``wsserver``, recording what it sees."""

    channel = "wsserver"

    def init(self, welcome: bool = True, prefix: str = "Received: ", **kwargs: Any) -> None:
        self.welcome = welcome
        self.prefix = prefix
        self.cond = threading.Condition()
        self.connects: list[tuple[Any, ...]] = []
        self.disconnects: list[Any] = []
        self.reads: list[Any] = []
        self.requests: list[Any] = []

    def _record(self, what: list[Any], item: Any) -> None:
        with self.cond:
            what.append(item)
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool]) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, TIMEOUT_S)

    @handler("connect")
    def _on_connect(self, event, sock, host, port):
        self.requests.append(event.request)
        self._record(self.connects, (sock, host, port))
        if self.welcome:
            self.fire(write(sock, f"Welcome {host}:{port:d}"))

    @handler("read")
    def _on_read(self, event, sock, data):
        self.requests.append(event.request)
        self._record(self.reads, data)
        reply = self.prefix + data if isinstance(data, str) else bytes(data)
        self.fire(write(sock, reply))

    @handler("disconnect")
    def _on_disconnect(self, event, sock):
        self.requests.append(event.request)
        self._record(self.disconnects, sock)


class sync(Event):
    """A round trip through the loop (see ``Site.settle``)."""


class Site:
    def __init__(self, manager: Manager, server: Server, echo: Echo, watcher: Watcher) -> None:
        self.manager = manager
        self.server = server
        self.echo = echo
        self.watcher = watcher

    @property
    def port(self) -> int:
        return int(self.server.port)

    def url(self, path: str = "/websocket", scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def register(self, component: BaseComponent, parent: Any = None) -> Any:
        """Register ``component`` into the running tree and wait until it is in."""
        component.register(parent if parent is not None else self.manager)
        self.watcher.wait_until(
            lambda events: any(e.name == "registered" and e.args[0] is component for e in events),
            TIMEOUT_S,
            f"{component!r} to be registered",
        )
        return component

    def settle(self) -> None:
        settle(self.manager, self.watcher)


def settle(manager: Manager, watcher: Watcher, rounds: int = 3) -> None:
    """Return once the loop went round ``rounds`` times (an idle step each):
    what a clock step made due has been handled."""
    for _ in range(rounds):
        e = sync()
        manager.fire(e)
        watcher.wait_until(lambda events, e=e: e in events, TIMEOUT_S, "a 'sync'")


@contextmanager
def ws_site(
    path: str | None = "/websocket", echo: Echo | None = None, **dispatcher_kwargs: Any
) -> Iterator[Site]:
    """A running ``Server`` + ``Root`` + ``Echo``; the dispatcher joins once it runs."""
    server = Server(("127.0.0.1", 0), display_banner=False)
    echo = echo or Echo()
    watcher = Watcher()
    with started(server, Root(), echo, watcher=watcher) as m:
        site = Site(m, server, echo, watcher)
        site.register(WebSocketsDispatcher(path, **dispatcher_kwargs), server)
        yield site


# -- a raw client -------------------------------------------------------------


def frame(
    opcode: int, payload: bytes | str = b"", *, fin: bool = True, rsv: int = 0, masked: bool = True
) -> bytes:
    """One client frame (masked with a random key unless ``masked=False``)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    key = os.urandom(4) if masked else None
    return encode_frame(opcode, payload, fin=fin, mask_key=key, rsv=rsv)


def close_frame(code: int | None = 1000, reason: bytes | str = b"") -> bytes:
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    payload = b"" if code is None else struct.pack("!H", code) + reason
    return frame(0x8, payload)


def handshake_request(path: str, key: str | None = None, **extra: str) -> bytes:
    fields = {
        "Host": "127.0.0.1",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key or base64.b64encode(os.urandom(16)).decode(),
        "Sec-WebSocket-Version": "13",
    }
    for name, value in extra.items():
        name = name.replace("_", "-")
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    head = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return (head + "\r\n").encode("latin-1")


class RawClient:
    """A WebSocket client over a plain socket: handshake, raw frames, frame reader."""

    def __init__(self, port: int, path: str = "/websocket", early: bytes = b"") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(handshake_request(path, key) + early)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, f"closed during the handshake: {head!r}"
            head += chunk
        head, _, self._buf = head.partition(b"\r\n\r\n")
        self.head = head.decode("latin-1")
        assert self.head.startswith("HTTP/1.1 101 "), self.head
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        ).decode()
        assert f"sec-websocket-accept: {accept.lower()}" in self.head.lower()

    def send(self, data: bytes, chop: int = 0) -> None:
        if not chop:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), chop):
            self.sock.sendall(data[i : i + chop])

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed with {len(self._buf)} of {n} bytes")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def recv_frame(self) -> tuple[bool, int, bytes]:
        """The server's next frame: ``(fin, opcode, payload)``; servers never mask."""
        b0, b1 = self._read(2)
        assert not b1 & 0x80, "the server masked a frame"
        assert not b0 & 0x70, "the server set RSV bits"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read(8))
        return bool(b0 & 0x80), b0 & 0x0F, self._read(n)

    def recv_message(self) -> tuple[int, bytes]:
        """The next data message or control frame, fragments joined: ``(opcode, payload)``."""
        fin, opcode, payload = self.recv_frame()
        while not fin:
            fin, _, more = self.recv_frame()
            payload += more
        return opcode, payload

    def expect_close(self) -> int | None:
        """Read up to the server's close frame; return its code (``None``: no code)
        and check the server then closes the TCP connection."""
        opcode, payload = self.recv_message()
        assert opcode == 0x8, (opcode, payload[:80])
        assert len(payload) != 1
        code = struct.unpack("!H", payload[:2])[0] if payload else None
        self.expect_eof()
        return code

    def expect_eof(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return
            assert not chunk, f"data after the close frame: {chunk[:80]!r}"
            return

    def close(self) -> None:
        self.sock.close()


# -- a raw server ---------------------------------------------------------------


class RawServer:
    """A WebSocket server over a plain socket, for one client, in a thread.

    It answers the opening handshake, sends a text frame ``"hello"``, then reads
    the client's frames. The client's Close is answered with a Close only if
    ``answer_close``; the server closes the TCP connection itself only if
    ``close_tcp`` (after its answer, as RFC 6455 §7.1.1 has servers do), else
    the client must. ``close_seen`` and ``eof`` are set as those happen;
    ``close_seen_at`` and ``eof_at`` are ``time.monotonic()`` then.
    """

    def __init__(self, answer_close: bool, close_tcp: bool = False) -> None:
        self.answer_close = answer_close
        self.close_tcp = close_tcp
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        self.close_seen = threading.Event()
        self.eof = threading.Event()
        self.close_seen_at = 0.0
        self.eof_at = 0.0
        self.failure: BaseException | None = None
        self._buf = b""
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def _serve(self) -> None:
        try:
            self.listener.settimeout(TIMEOUT_S)
            conn, _ = self.listener.accept()
            self.conn = conn
            conn.settimeout(None)  # a silent peer waits as long as the client lets it
            head = self._read_until(b"\r\n\r\n").decode("latin-1")
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
            }
            key = fields["sec-websocket-key"]
            accept = base64.b64encode(
                hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
            ).decode()
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
            )
            conn.sendall(encode_frame(1, b"hello"))
            while True:
                opcode, payload = self._read_frame()
                if opcode == 0x8:
                    break
            self.close_seen_at = time.monotonic()
            self.close_seen.set()
            if self.answer_close:
                conn.sendall(encode_frame(0x8, payload[:2]))
            if self.close_tcp:
                conn.close()
                return
            while self._recv():  # whatever comes now is ignored, until the end
                self._buf = b""
        except EOFError:
            pass
        except BaseException as exc:
            self.failure = exc
            return
        self.eof_at = time.monotonic()
        self.eof.set()

    def _recv(self) -> bytes:
        assert self.conn is not None
        try:
            chunk = self.conn.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except OSError:  # shut down by ``close()``
            chunk = b""
        self._buf += chunk
        return chunk

    def _read_until(self, end: bytes) -> bytes:
        while end not in self._buf:
            if not self._recv():
                raise EOFError(f"closed before {end!r}: {self._buf!r}")
        head, _, self._buf = self._buf.partition(end)
        return head

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._recv():
                raise EOFError(f"closed with {len(self._buf)} of {n} bytes")
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _read_frame(self) -> tuple[int, bytes]:
        """The client's next frame: ``(opcode, payload)``; clients always mask."""
        b0, b1 = self._read(2)
        assert b1 & 0x80, "the client did not mask a frame"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read(8))
        key = self._read(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(self._read(n)))
        return b0 & 0x0F, payload

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(TIMEOUT_S)
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


@contextmanager
def welcomed(port: int) -> Iterator[RawClient]:
    """A `RawClient` on ``port`` that has read the site's welcome; closed on leaving."""
    client = RawClient(port)
    try:
        client.recv_message()  # welcome
        yield client
    finally:
        client.close()


@contextmanager
def raw_server(answer_close: bool, close_tcp: bool = False) -> Iterator[RawServer]:
    server = RawServer(answer_close, close_tcp)
    try:
        yield server
    finally:
        server.close()
