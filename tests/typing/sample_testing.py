"""A user's tests with ``circuits.testing``, checked with ``mypy --strict``.

(The ``sample_`` prefix keeps pytest from collecting them: they are never run.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from circuits import Component, Event, Manager
from circuits.testing import FakeClock, Watcher, WebClient, WebResponse, running
from circuits.web import Controller

if TYPE_CHECKING:
    from typing_extensions import assert_type


class hello(Event):
    def __init__(self, who: str) -> None:
        super().__init__(who)


class App(Component):
    def hello(self, who: str) -> str:
        return f"Hello {who}"


class Root(Controller):
    def index(self) -> str:
        return "Hello World!"


def test_running() -> None:
    with running(App()) as app:
        assert_type(app, App)
        watcher = Watcher().register(app)
        assert_type(watcher, Watcher)
        value = app.fire(hello("x"))
        assert watcher.wait("hello_done", timeout=5)
        assert value.value == "Hello x"
        names: list[str] = watcher.names()
        found: list[Event] = watcher.find("hello")
        del names, found


def test_fixtures(manager: Manager, watcher: Watcher, clock: FakeClock) -> None:
    App().register(manager)
    manager.fire(hello("y"))
    assert watcher.wait("hello_done")
    clock.advance(1.0)


def test_web_client(web_client: Callable[..., WebClient]) -> None:
    client = web_client(Root())
    res = client.get("/")
    assert_type(res, WebResponse)
    status: int = res.status_code
    text: str = res.text
    body: bytes = res.content
    data: Any = res.json()
    del status, text, body, data


def test_web_client_with() -> None:
    with WebClient(Root()) as client:
        res = client.post("/", data={"a": "1"})
        assert res.status_code == 200
        with client.websocket("/ws") as ws:
            ws.send("hi")
            message: str | bytes = ws.receive()
            del message


def test_web_server(web_server: Callable[..., str]) -> None:
    url: str = web_server(Root())
    del url
