"""A user's web application on ``circuits.web``, checked with ``mypy --strict``."""

from __future__ import annotations

import socket
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

from circuits import Component, Debugger, Event, Manager, handler
from circuits.net.events import write
from circuits.node import Node, remote
from circuits.web import (
    Controller,
    JSONController,
    Logger,
    Server,
    Sessions,
    Static,
    expose,
    exposeJSON,
    notfound,
    redirect,
)
from circuits.web.client import Client, request
from circuits.web.errors import httperror
from circuits.web.events import request as web_request, response, stream
from circuits.web.tools import expires, gzip, serve_file
from circuits.web.websockets import WebSocketsDispatcher
from circuits.web.wrappers import Request, Response
from circuits.web.wsgi import Application, Gateway

if TYPE_CHECKING:
    from typing_extensions import assert_type


class Root(Controller):
    def index(self) -> str:
        host: str = self.request.host
        del host
        self.response.headers["X-Sample"] = "1"
        return "Hello World!"

    def hello(self, name: str = "World") -> str:
        self.session["visits"] = self.session.get("visits", 0) + 1
        return f"Hello {name}!"

    def missing(self) -> httperror:
        return self.notfound("nothing here")

    def away(self) -> Any:
        return self.redirect("/")

    def download(self) -> Any:
        self.expires(60)
        return self.serve_file("/etc/hostname")

    @expose("foo+bar")
    def foo_bar(self, *args: str, **kwargs: str) -> str:
        return "+".join(args)

    def slow(self) -> Generator[str, None, None]:
        yield "one"
        yield "two"


class Api(JSONController):
    channel = "/api"

    def status(self) -> dict[str, Any]:
        return {"ok": True}

    @exposeJSON("items")
    def items(self) -> list[int]:
        return [1, 2, 3]


class Hooks(Component):
    channel = "web"

    @handler("request", priority=1.0)
    def _on_request(self, event: Event, req: Request, res: Response) -> None:
        if req.path == "/private":
            event.stop()
            self.fire(response(res))

    @handler("response_complete")
    def _on_response_complete(self, event: Event, *args: Any) -> None:
        pass

    def request_failure(self, event: Event, err: Any) -> None:
        pass


class Echo(Component):
    channel = "ws"

    def read(self, sock: socket.socket, data: str | bytes) -> None:
        self.fire(write(sock, data))


def on_error(req: Request, res: Response) -> httperror:
    error = notfound(req, res)
    moved = redirect(req, res, "/elsewhere")
    del moved
    expires(req, res, 30)
    served: Any = serve_file(req, res, "/etc/hostname")
    del served
    gzipped: Response = gzip(res)
    del gzipped
    events: list[Event] = [
        web_request(req, res),
        response(res),
        stream(res, b"chunk"),
        stream(res, None),
    ]
    del events
    return error


def build() -> Server:
    app = Server(("127.0.0.1", 0), channel="web")
    Root().register(app)
    Api().register(app)
    Static("/static", docroot="/tmp").register(app)
    Sessions().register(app)
    Logger().register(app)
    WebSocketsDispatcher("/ws", wschannel="ws").register(app)
    Echo().register(app)
    Hooks().register(app)
    app += Debugger()
    assert_type(app, Server)
    port: int | None = app.port
    del port
    return app


def wsgi_app() -> Application:
    application = Application() + Root()
    assert_type(application, Application)
    return application


def call_wsgi(application: Application, environ: dict[str, Any]) -> Iterable[bytes]:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    return application(environ, start_response)


def hosted(m: Manager) -> None:
    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return [b"ok"]

    Gateway({"/": wsgi}).register(m)


class Fetcher(Component):
    def init(self) -> None:
        self.client = Client().register(self)
        assert_type(self.client, Client)

    @handler("fetch")
    def _fetch(self, url: str) -> Generator[Any, Any, int]:
        yield self.call(request("GET", url), "client")
        res = self.client.response
        return 0 if res is None else res.status


def nodes(m: Manager) -> None:
    node = Node(port=0).register(m)
    assert_type(node, Node)
    node.add("peer", "127.0.0.1", 8000)
    names: list[str] = node.get_connection_names()
    del names
    value = m.fire(remote(Event.create("hello"), "peer"))
    del value
