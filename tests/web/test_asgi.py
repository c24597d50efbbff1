"""circuits.web.asgi: ASGI apps hosted by circuits.web, and circuits.web served by uvicorn."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import requests
from web_harness import TIMEOUT_S, serving

from circuits import Manager
from circuits.testing import Watcher
from circuits.web import Controller, Server, Sessions
from circuits.web.asgi import Application, ClientDisconnected, Gateway

starlette = pytest.importorskip("starlette", reason="ASGI tests need the 'test' extra")
fastapi = pytest.importorskip("fastapi", reason="ASGI tests need the 'test' extra")
uvicorn = pytest.importorskip("uvicorn", reason="ASGI tests need the 'test' extra")

from contextlib import asynccontextmanager  # noqa: E402

from fastapi import FastAPI  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request as StarRequest  # noqa: E402
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

# -- Starlette and FastAPI, hosted by the Gateway ----------------------------------------


def make_starlette(flags: dict[str, threading.Event]) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        flags["startup"].set()
        yield
        flags["shutdown"].set()

    async def hello(request: StarRequest) -> JSONResponse:
        return JSONResponse(
            {
                "path": request.url.path,
                "root": request.scope["root_path"],
                "q": request.query_params.get("q"),
            }
        )

    async def echo(request: StarRequest) -> PlainTextResponse:
        return PlainTextResponse(await request.body(), media_type="application/octet-stream")

    async def numbers(request: StarRequest) -> StreamingResponse:
        async def gen() -> Any:
            for i in range(5):
                yield f"{i}\n"

        return StreamingResponse(gen(), media_type="text/plain")

    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            if text == "bye":
                await websocket.close(code=1000)
                return
            await websocket.send_text(f"echo: {text}")

    routes = [
        Route("/hello", hello),
        Route("/echo", echo, methods=["POST"]),
        Route("/numbers", numbers),
        WebSocketRoute("/ws", ws_echo),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class Item(BaseModel):
    name: str
    qty: int


def make_fastapi() -> FastAPI:
    api = FastAPI()

    @api.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, Any]:
        return {"item_id": item_id}

    @api.post("/items")
    async def post_item(item: Item) -> dict[str, Any]:
        return {"name": item.name, "total": item.qty * 2}

    return api


@pytest.fixture(scope="module")
def hosted() -> Iterator[tuple[str, dict[str, threading.Event]]]:
    flags = {"startup": threading.Event(), "shutdown": threading.Event()}
    gateway = Gateway({"/star": make_starlette(flags), "/api": make_fastapi()})
    with serving(gateway) as site:
        assert flags["startup"].wait(TIMEOUT_S), "no lifespan startup"
        yield site.base, flags
    assert flags["shutdown"].wait(TIMEOUT_S), "no lifespan shutdown"


def test_starlette_json(hosted):
    base, _ = hosted
    r = httpx.get(f"{base}/star/hello?q=x", timeout=TIMEOUT_S)
    assert r.status_code == 200
    assert r.json() == {"path": "/star/hello", "root": "/star", "q": "x"}
    assert r.headers["content-type"] == "application/json"


def test_starlette_body_echo(hosted):
    base, _ = hosted
    data = bytes(range(256)) * 1000  # several receive() chunks
    r = httpx.post(f"{base}/star/echo", content=data, timeout=TIMEOUT_S)
    assert r.status_code == 200
    assert r.content == data


def test_starlette_streaming(hosted):
    base, _ = hosted
    with httpx.stream("GET", f"{base}/star/numbers", timeout=TIMEOUT_S) as r:
        assert r.headers.get("transfer-encoding") == "chunked"
        text = r.read().decode()
    assert text == "0\n1\n2\n3\n4\n"


def test_starlette_websocket_echo(hosted):
    base, _ = hosted
    url = base.replace("http://", "ws://") + "/star/ws"
    with ws_connect(url, open_timeout=TIMEOUT_S, close_timeout=TIMEOUT_S) as ws:
        ws.send("hi")
        assert ws.recv(TIMEOUT_S) == "echo: hi"
        ws.send("again")
        assert ws.recv(TIMEOUT_S) == "echo: again"
        ws.send("bye")
        with pytest.raises(Exception, match="1000"):
            ws.recv(TIMEOUT_S)


def test_fastapi_routes(hosted):
    base, _ = hosted
    assert requests.get(f"{base}/api/items/7", timeout=TIMEOUT_S).json() == {"item_id": 7}
    r = requests.post(f"{base}/api/items", json={"name": "x", "qty": 4}, timeout=TIMEOUT_S)
    assert r.json() == {"name": "x", "total": 8}
    bad = requests.post(f"{base}/api/items", json={"name": "x"}, timeout=TIMEOUT_S)
    assert bad.status_code == 422


def test_lifespan_flags(hosted):
    _, flags = hosted
    assert flags["startup"].is_set()
    assert not flags["shutdown"].is_set()


# -- conformance, with raw ASGI applications -------------------------------------------------


async def _start(send: Any, status: int = 200, headers: Any = ()) -> None:
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})


class Raw:
    """Raw ASGI apps by path; what they saw goes into ``seen``."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}
        self.events: dict[str, threading.Event] = {
            name: threading.Event() for name in ("disconnect", "send_failed")
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")  # = lifespan not supported
        handler = getattr(self, scope["path"].rsplit("/", 1)[-1])
        await handler(scope, receive, send)

    async def chunks(self, scope, receive, send):
        await _start(send, headers=[(b"content-type", b"text/plain")])
        for part in (b"a", b"", b"bb", b"ccc"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"!", "more_body": False})

    async def body(self, scope, receive, send):
        sizes, more = [], True
        while more:
            message = await receive()
            assert message["type"] == "http.request"
            sizes.append(len(message["body"]))
            more = message["more_body"]
        await _start(send)
        await send({"type": "http.response.body", "body": json.dumps(sizes).encode()})

    async def wait_disconnect(self, scope, receive, send):
        while (await receive())["type"] != "http.disconnect":
            pass
        self.events["disconnect"].set()

    async def raise_early(self, scope, receive, send):
        raise ValueError("boom before start")

    async def raise_after_start(self, scope, receive, send):
        await _start(send)
        raise ValueError("boom after start")

    async def raise_mid_body(self, scope, receive, send):
        await _start(send)
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("boom mid body")

    async def no_body(self, scope, receive, send):
        await _start(send)  # and returns: the response is incomplete

    async def never(self, scope, receive, send):
        await asyncio.Event().wait()

    async def bad_message(self, scope, receive, send):
        await send({"type": "http.response.body", "body": b"x"})

    async def forever(self, scope, receive, send):
        await _start(send)
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 65536, "more_body": True})
        except ClientDisconnected:
            self.events["send_failed"].set()

    async def big(self, scope, receive, send):
        await _start(send, headers=[(b"content-length", str(100 * 65536).encode())])
        for _ in range(100):
            await send({"type": "http.response.body", "body": b"y" * 65536, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def ws_refuse(self, scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.close", "code": 1000})

    async def ws_crash(self, scope, receive, send):
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "chat"})
        await send({"type": "websocket.send", "bytes": b"\x00\x01"})
        message = await receive()
        raise ValueError(f"crash after {message['text']!r}")

    async def head_ok(self, scope, receive, send):
        await _start(send, headers=[(b"content-length", b"5")])
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def raw() -> Iterator[tuple[Any, Raw, Gateway]]:
    app = Raw()
    gateway = Gateway({"/raw": app})
    with serving(gateway) as site:
        yield site, app, gateway


def test_more_body_chunks(raw):
    site, _, _ = raw
    status, headers, body = site.get("/raw/chunks")
    assert (status, body) == (200, b"abbccc!")
    assert headers["Transfer-Encoding"] == "chunked"


def test_request_body_in_pieces(raw):
    site, _, _ = raw
    r = httpx.post(f"{site.base}/raw/body", content=b"z" * 150_000, timeout=TIMEOUT_S)
    assert r.json() == [65536, 65536, 150_000 - 2 * 65536]
    assert httpx.post(f"{site.base}/raw/body", timeout=TIMEOUT_S).json() == [0]


def test_disconnect_detected(raw):
    site, app, _ = raw
    with socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT_S) as s:
        s.sendall(b"GET /raw/wait_disconnect HTTP/1.1\r\nHost: x\r\n\r\n")
    assert app.events["disconnect"].wait(TIMEOUT_S), "http.disconnect never came"


@pytest.mark.parametrize("path", ["raise_early", "raise_after_start", "no_body", "bad_message"])
def test_error_before_body_is_one_500(raw, path):
    site, _, _ = raw
    data = site.raw(f"GET /raw/{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert data.startswith(b"HTTP/1.1 500 ")
    assert data.count(b"HTTP/1.1") == 1
    if path.startswith("raise"):
        assert b"boom" in data  # the page names the exception


def test_error_mid_body_closes_connection(raw):
    site, _, _ = raw
    data = site.raw(b"GET /raw/raise_mid_body HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"partial" in data
    assert not data.endswith(b"0\r\n\r\n")  # truncated: no last chunk
    assert data.count(b"HTTP/1.1") == 1


@pytest.mark.slow
def test_never_responding_app_times_out(raw):
    site, _, gateway = raw
    gateway.response_timeout = 0.3
    status, _, _ = site.get("/raw/never")
    assert status == 500


def test_send_after_disconnect_raises(raw):
    site, app, _ = raw
    with socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT_S) as s:
        s.sendall(b"GET /raw/forever HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 200")
    assert app.events["send_failed"].wait(TIMEOUT_S), "send() kept going after the disconnect"


def test_back_pressure_keeps_every_byte(raw):
    site, _, _ = raw
    total = 0
    with httpx.stream("GET", f"{site.base}/raw/big", timeout=TIMEOUT_S) as r:
        for chunk in r.iter_raw(4096):
            total += len(chunk)
    assert total == 100 * 65536


def test_head_keeps_content_length(raw):
    site, _, _ = raw
    status, headers, body = site.get("/raw/head_ok", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, "5", b"")


def test_websocket_closed_before_accept_is_403(raw):
    site, _, _ = raw
    url = f"ws://127.0.0.1:{site.port}/raw/ws_refuse"
    with pytest.raises(InvalidStatus) as info:
        ws_connect(url, open_timeout=TIMEOUT_S)
    assert info.value.response.status_code == 403


def test_websocket_app_error_closes_with_1011(raw):
    site, _, _ = raw
    url = f"ws://127.0.0.1:{site.port}/raw/ws_crash"
    with ws_connect(url, subprotocols=["chat"], open_timeout=TIMEOUT_S) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        assert ws.recv(TIMEOUT_S) == b"\x00\x01"
        ws.send("hello")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(TIMEOUT_S)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1011


def test_failed_startup_answers_500():
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        raise AssertionError("a request reached an app whose startup failed")

    with serving(Gateway({"/": app})) as site:
        assert site.get("/x")[0] == 500


def test_gateway_uses_the_loop_of_run_async():
    seen: list[int] = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return  # returning at once: no lifespan
        seen.append(threading.get_ident())
        await _start(send)
        await send({"type": "http.response.body", "body": b"on the app's loop"})

    m = Manager()
    server = Server(("127.0.0.1", 0), display_banner=False).register(m)
    Gateway({"/": app}).register(m)
    watcher = Watcher().register(m)
    idents: list[int] = []

    def run() -> None:
        idents.append(threading.get_ident())
        asyncio.run(m.run_async())

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert watcher.wait("ready", channel="web", timeout=TIMEOUT_S)
        r = httpx.get(f"http://127.0.0.1:{server.port}/", timeout=TIMEOUT_S)
        assert r.text == "on the app's loop"
        assert seen == idents
    finally:
        m.stop()
        thread.join(10)
    assert not thread.is_alive()


# -- Application under uvicorn -----------------------------------------------------------------


class Root(Controller):
    def index(self):
        return "Hello from circuits"

    def form(self, name="nobody"):
        return f"posted {name}"

    def go(self):
        return self.redirect("/")

    def count(self):
        self.session["count"] = self.session.get("count", 0) + 1
        return str(self.session["count"])

    def chunks(self):
        def gen():
            yield "one,"
            yield "two"

        return gen()


@contextmanager
def under_uvicorn(app: Any) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # clients may connect at once: uvicorn accepts when it runs
    config = uvicorn.Config(app, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def uv() -> Iterator[str]:
    app = Application() + Sessions() + Root()
    with under_uvicorn(app) as base:
        yield base


def test_uvicorn_get(uv):
    r = requests.get(uv, timeout=TIMEOUT_S)
    assert (r.status_code, r.text) == (200, "Hello from circuits")
    assert r.headers["server"] == "uvicorn"  # uvicorn, not circuits, framed it
    assert r.headers["date"].count("GMT") == 1  # one Date (uvicorn's), not two


def test_uvicorn_post_form(uv):
    r = requests.post(f"{uv}/form", data={"name": "alice"}, timeout=TIMEOUT_S)
    assert r.text == "posted alice"


def test_uvicorn_404(uv):
    assert requests.get(f"{uv}/nope", timeout=TIMEOUT_S).status_code == 404


def test_uvicorn_redirect(uv):
    r = requests.get(f"{uv}/go", allow_redirects=False, timeout=TIMEOUT_S)
    assert r.status_code in (301, 302, 303)
    assert r.headers["location"].endswith("/")
    assert requests.get(f"{uv}/go", timeout=TIMEOUT_S).text == "Hello from circuits"


def test_uvicorn_session_cookie(uv):
    with requests.Session() as client:
        assert client.get(f"{uv}/count", timeout=TIMEOUT_S).text == "1"
        assert "circuits" in client.cookies  # the session cookie
        assert client.get(f"{uv}/count", timeout=TIMEOUT_S).text == "2"
    assert requests.get(f"{uv}/count", timeout=TIMEOUT_S).text == "1"  # a new client


def test_uvicorn_streamed_body(uv):
    r = httpx.get(f"{uv}/chunks", timeout=TIMEOUT_S)
    assert r.text == "one,two"
