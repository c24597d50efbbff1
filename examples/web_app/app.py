"""A small circuits.web application: pages, JSON, static files, a form, a session, a WebSocket.

    python examples/web_app/app.py [port]    # then open http://127.0.0.1:8000/

``/`` counts your visits in a session; ``/greet`` answers the form (POST);
``/api/hello?name=...`` is JSON; ``/static/`` serves ``static/``; ``/ws`` echoes
WebSocket messages. Pages are ``string.Template`` files in ``templates/``.

While it runs, ``python -m circuits inspect`` prints its component tree and
handler table and ``circuits.sniff`` its events as they happen (the
``Inspector`` below: a UNIX socket only your user can open).
"""

from __future__ import annotations

import html
import sys
from pathlib import Path
from string import Template

from circuits import Component
from circuits.net.events import write
from circuits.tools import Inspector
from circuits.web import Controller, JSONController, Server, Static
from circuits.web.sessions import Sessions
from circuits.web.websockets import WebSocketsDispatcher

HERE = Path(__file__).resolve().parent


def render(template: str, **values: object) -> str:
    """Fill ``templates/<template>`` (values are inserted as given: escape them first)."""
    text = (HERE / "templates" / template).read_text(encoding="utf-8")
    return Template(text).substitute(values)


class Root(Controller):
    """The HTML pages, on channel ``/``."""

    def index(self):
        self.session["count"] = self.session.get("count", 0) + 1
        return render("index.html", count=self.session["count"])

    def greet(self, name=""):
        if self.request.method != "POST":
            return self.redirect("/")
        return render("greet.html", name=html.escape(name.strip() or "stranger"))


class Api(JSONController):
    """JSON under ``/api``: whatever a method returns is sent as JSON."""

    channel = "/api"

    def hello(self, name="World"):
        return {"greeting": f"Hello, {name}!", "visits": self.session.get("count", 0)}


class Echo(Component):
    """Answers each WebSocket message on ``/ws`` (channel ``wsserver``)."""

    channel = "wsserver"

    def read(self, sock, data):
        self.fire(write(sock, f"echo: {data}"))


class App(Component):
    """The whole application, served on 127.0.0.1:<port>."""

    channel = "web"

    def init(self, port: int = 8000) -> None:
        Server(("127.0.0.1", port)).register(self)
        Sessions().register(self)
        Static("/static", docroot=HERE / "static").register(self)
        WebSocketsDispatcher("/ws").register(self)
        Echo().register(self)
        Root().register(self)
        Api().register(self)
        Inspector().register(self)  # for `python -m circuits inspect` and `circuits.sniff`

    def ready(self, server, bind):
        host, port = bind
        print(f"Serving on http://{host}:{port}/ (Ctrl-C stops it)", flush=True)


if __name__ == "__main__":
    App(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000).run()
