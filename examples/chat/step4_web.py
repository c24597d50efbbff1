"""Step 4 of the tutorial: a web page for the room.

    python examples/chat/step4_web.py [port]    # http://127.0.0.1:8000/ and nc 127.0.0.1 8001

The page (``static/``) shows who is in the room, from ``GET /api/here``; its
chat box needs the WebSocket that step 5 adds. TCP users chat on port + 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from step1_room import ChatRoom, who
from step2_tcp import TCPChat
from step3_rules import IdleKicker, Moderator

from circuits import Component, Manager, handler
from circuits.web import JSONController, Server, Static

STATIC = Path(__file__).resolve().parent / "static"


class Api(JSONController):
    """JSON under ``/api``: what a method returns (or yields) is sent as JSON."""

    channel = "/api"

    def here(self) -> Any:
        value = yield self.call(who(), "room")  # fire who(), resume once it is handled
        yield {"here": value.value}  # the result of a coroutine is what it yields


class Banner(Component):
    """Says where the web server listens, once it does."""

    @handler("ready", channel="web")
    def _ready(self, server: Any, bind: tuple[str, int]) -> None:
        host, port = bind
        print(f"Serving on http://{host}:{port}/", flush=True)


def web_chat(port: int) -> Manager:
    """The room and its rules; TCP users on ``port + 1``, the web server on ``port``."""
    app = Manager() + ChatRoom() + Moderator() + IdleKicker()
    app += TCPChat(("127.0.0.1", port + 1 if port else 0))
    app += Server(("127.0.0.1", port))
    app += Static(docroot=STATIC)  # index.html for "/", and the page's script
    app += Api()
    app += Banner()
    return app


if __name__ == "__main__":
    web_chat(int(sys.argv[1]) if len(sys.argv) > 1 else 8000).run()
