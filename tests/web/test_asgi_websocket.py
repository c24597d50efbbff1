"""circuits.web.asgi.Application: websocket scopes, under uvicorn and driven by hand."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from web_harness import TIMEOUT_S

from circuits import Component, handler
from circuits.net.events import close, write
from circuits.web._asgi.wsserve import READ_WINDOW
from circuits.web.asgi import Application
from circuits.web.headers import header_elements
from circuits.web.websockets import WebSocketsDispatcher

pytest.importorskip("uvicorn", reason="ASGI tests need the 'test' extra")

from test_asgi import under_uvicorn
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

MAX_MESSAGE_BYTES = 1024


class Echo(Component):
    """As examples/web_app/app.py's, recording what it sees: ``(name, port, data, path)``."""

    channel = "wsserver"

    def init(self) -> None:
        self.seen: dict[int, list[tuple[str, Any, str | None]]] = {}  # by client port
        self.changed = threading.Condition()

    def _record(self, event: Any, name: str, sock: Any, data: Any = None) -> None:
        request = getattr(event, "request", None)
        with self.changed:
            port = sock.getpeername()[1]
            self.seen.setdefault(port, []).append((name, data, request and request.path))
            self.changed.notify_all()

    @handler("connect")
    def _connect(self, event, sock, host, port):
        assert (host, port) == sock.getpeername()
        self._record(event, "connect", sock)

    @handler("read")
    def _read(self, event, sock, data):
        self._record(event, "read", sock, data)
        if data == "close":
            self.fire(close(sock))
        elif isinstance(data, str):
            self.fire(write(sock, f"echo: {data}"))
        else:
            self.fire(write(sock, bytes(data)))

    @handler("disconnect")
    def _disconnect(self, event, sock):
        self._record(event, "disconnect", sock)

    def events_of(self, port: int, until: str = "disconnect") -> list[tuple[str, Any, Any]]:
        """What connection ``port`` saw, once it saw ``until``."""

        def arrived() -> bool:
            return any(name == until for name, _, _ in self.seen.get(port, ()))

        with self.changed:
            assert self.changed.wait_for(arrived, TIMEOUT_S), f"{port}: {self.seen.get(port)}"
            return list(self.seen[port])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Echo]]:
    echo = Echo()
    app = Application() + WebSocketsDispatcher("/ws", max_message_bytes=MAX_MESSAGE_BYTES) + echo
    with under_uvicorn(app) as base:
        yield base.replace("http://", "ws://"), echo


def _port(ws: Any) -> int:
    return int(ws.local_address[1])


def test_echo_text_and_bytes(served):
    base, echo = served
    with ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as ws:
        port = _port(ws)
        ws.send("héllo")
        assert ws.recv(TIMEOUT_S) == "echo: héllo"
        ws.send(b"\x00\xff")
        assert ws.recv(TIMEOUT_S) == b"\x00\xff"
    seen = echo.events_of(port)
    assert seen == [
        ("connect", None, "/ws"),
        ("read", "héllo", "/ws"),
        ("read", bytearray(b"\x00\xff"), "/ws"),
        ("disconnect", None, "/ws"),
    ]
    assert type(seen[2][1]) is bytearray  # as the codec gives them under Server


def test_server_close(served):
    base, echo = served
    with ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as ws:
        port = _port(ws)
        ws.send("close")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(TIMEOUT_S)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1000
    assert [name for name, _, _ in echo.events_of(port)] == ["connect", "read", "disconnect"]


def test_client_close_disconnects_once(served):
    base, echo = served
    with ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as ws:
        port = _port(ws)
    assert [name for name, _, _ in echo.events_of(port)] == ["connect", "disconnect"]
    # A later connection's whole life went by: no second disconnect came for ``port``.
    with ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as other:
        other_port = _port(other)
    echo.events_of(other_port)
    assert [name for name, _, _ in echo.seen[port]] == ["connect", "disconnect"]


def test_unknown_path_refused(served):
    base, _ = served
    with pytest.raises(InvalidStatus) as info:
        ws_connect(f"{base}/nope", open_timeout=TIMEOUT_S)
    assert info.value.response.status_code == 403


def test_large_message_closes_1009(served):
    base, echo = served
    with ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as ws:
        port = _port(ws)
        ws.send("é" * (MAX_MESSAGE_BYTES // 2 + 1))  # fewer characters than the limit, more bytes
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(TIMEOUT_S)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1009
    assert [name for name, _, _ in echo.events_of(port)] == ["connect", "disconnect"]


def test_two_clients_are_isolated(served):
    base, echo = served
    with (
        ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as a,
        ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as b,
    ):
        port_a, port_b = _port(a), _port(b)
        for i in range(5):
            a.send(f"a{i}")
            b.send(f"b{i}")
        assert [a.recv(TIMEOUT_S) for _ in range(5)] == [f"echo: a{i}" for i in range(5)]
        assert [b.recv(TIMEOUT_S) for _ in range(5)] == [f"echo: b{i}" for i in range(5)]
        a.send("close")
        with pytest.raises(ConnectionClosed):
            a.recv(TIMEOUT_S)
        b.send("still here")
        assert b.recv(TIMEOUT_S) == "echo: still here"
    reads_a = [d for n, d, _ in echo.events_of(port_a) if n == "read"]
    reads_b = [d for n, d, _ in echo.events_of(port_b) if n == "read"]
    assert reads_a == [f"a{i}" for i in range(5)] + ["close"]
    assert reads_b == [f"b{i}" for i in range(5)] + ["still here"]


def test_subprotocol_chosen_by_dispatcher(served):
    base, _ = served
    expected = str(header_elements("Sec-WebSocket-Protocol", "alpha, beta")[0])
    with ws_connect(
        f"{base}/ws",
        subprotocols=["alpha", "beta"],  # type: ignore[list-item]
        open_timeout=TIMEOUT_S,
    ) as ws:
        assert ws.subprotocol == expected


# -- conformance: Application.__call__ with hand-made receive/send -----------------------------


class Peer:
    """A fake ASGI server side of one websocket call."""

    def __init__(self, path: str = "/ws") -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.gate: asyncio.Event | None = None  # websocket.send waits for it
        self.blocked = asyncio.Event()
        self.receives = 0
        self.scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"example.org")],
            "client": ("10.0.0.1", 4321),
            "server": ("10.0.0.2", 80),
            "subprotocols": [],
        }
        self.inbox.put_nowait({"type": "websocket.connect"})

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        if self.gate is not None and message["type"] == "websocket.send":
            self.blocked.set()
            await self.gate.wait()
        self.sent.append(message)
        self.changed.set()

    async def wait_sent(self, n: int) -> None:
        while len(self.sent) < n:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), TIMEOUT_S)

    def text(self, text: str) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": text})


def _run(app: Application, body: Any) -> None:
    """Run ``body(app)`` on a fresh loop between lifespan startup and shutdown."""

    async def main() -> None:
        life: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        answers: list[str] = []

        async def send(message: dict[str, Any]) -> None:
            answers.append(message["type"])

        life.put_nowait({"type": "lifespan.startup"})
        lifespan = asyncio.create_task(app({"type": "lifespan"}, life.get, send))
        try:
            await asyncio.wait_for(body(app), TIMEOUT_S)
        finally:
            life.put_nowait({"type": "lifespan.shutdown"})
            await asyncio.wait_for(lifespan, TIMEOUT_S)
        assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]

    asyncio.run(main())


def _tree() -> tuple[Application, Echo]:
    echo = Echo()
    return Application() + WebSocketsDispatcher("/ws") + echo, echo


def test_event_sequence_by_hand():
    app, echo = _tree()

    async def body(app: Application) -> None:
        peer = Peer()
        call = asyncio.create_task(app(peer.scope, peer.receive, peer.send))
        peer.text("hi")
        peer.inbox.put_nowait({"type": "websocket.receive", "bytes": b"\x01\x02"})
        await peer.wait_sent(3)
        peer.text("close")
        await peer.wait_sent(4)
        peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await call
        assert peer.sent == [
            {"type": "websocket.accept"},
            {"type": "websocket.send", "text": "echo: hi"},
            {"type": "websocket.send", "bytes": b"\x01\x02"},
            {"type": "websocket.close", "code": 1000},
        ]

    _run(app, body)
    assert echo.events_of(4321) == [
        ("connect", None, "/ws"),
        ("read", "hi", "/ws"),
        ("read", bytearray(b"\x01\x02"), "/ws"),
        ("read", "close", "/ws"),
        ("disconnect", None, "/ws"),
    ]
    assert len(echo.seen[4321]) == 5  # one disconnect


def test_no_dispatcher_closes_before_accept_by_hand():
    app, echo = _tree()

    async def body(app: Application) -> None:
        peer = Peer("/other")
        await app(peer.scope, peer.receive, peer.send)
        assert peer.sent == [{"type": "websocket.close", "code": 1000}]

    _run(app, body)
    assert echo.seen == {}


def test_slow_client_closed_with_1008_by_hand():
    app, _ = _tree()
    app.ws_max_unsent_bytes = 20  # "echo: xxxx" is 10 characters
    written: list[asyncio.Event] = []

    class Writes(Component):
        channel = "wsserver"

        def init(self) -> None:
            self.count = 0

        @handler("write", priority=-1)  # after Application's
        def _count(self, sock, data):
            self.count += 1
            if self.count == 4:
                written[0].set()

    Writes().register(app)

    async def body(app: Application) -> None:
        written.append(asyncio.Event())
        peer = Peer()
        peer.gate = asyncio.Event()  # the client takes nothing
        call = asyncio.create_task(app(peer.scope, peer.receive, peer.send))
        peer.text("xxxx")
        await asyncio.wait_for(peer.blocked.wait(), TIMEOUT_S)  # its echo is in send()
        for _ in range(3):  # two echoes queued, the third is too many
            peer.text("xxxx")
        await asyncio.wait_for(written[0].wait(), TIMEOUT_S)
        peer.gate.set()
        await peer.wait_sent(3)
        peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1008})
        await call
        assert peer.sent == [
            {"type": "websocket.accept"},
            {"type": "websocket.send", "text": "echo: xxxx"},
            {"type": "websocket.close", "code": 1008},
        ]

    _run(app, body)


@pytest.mark.slow
def test_reads_in_flight_are_bounded_by_hand():
    app, _ = _tree()
    gate_box: list[asyncio.Event] = []

    class Slow(Component):
        channel = "wsserver"

        @handler("read", priority=1)
        async def _slow(self, sock, data):
            await gate_box[0].wait()

    Slow().register(app)

    async def body(app: Application) -> None:
        gate_box.append(asyncio.Event())
        peer = Peer()
        for i in range(READ_WINDOW * 3):
            peer.text(str(i))
        call = asyncio.create_task(app(peer.scope, peer.receive, peer.send))
        await asyncio.sleep(0.3)  # long enough to read them all, were reads not bounded
        assert peer.receives == 1 + READ_WINDOW  # websocket.connect, then the window
        gate_box[0].set()
        await peer.wait_sent(1 + READ_WINDOW * 3)  # the accept and every echo
        peer.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await call

    _run(app, body)


def test_concurrent_echo_threads_under_uvicorn(served):
    """Several clients at once, each in its own thread, see only their own echoes."""
    base, _ = served
    errors: list[BaseException] = []

    def client(name: str) -> None:
        try:
            with ws_connect(f"{base}/ws", open_timeout=TIMEOUT_S) as ws:
                for i in range(10):
                    ws.send(f"{name}{i}")
                    assert ws.recv(TIMEOUT_S) == f"echo: {name}{i}"
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in "pqrs"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S * 2)
    assert errors == []
