"""Step 5 of the tutorial: browser users join the same room, over a WebSocket.

    python examples/chat/step5_websocket.py [port]    # http://127.0.0.1:8000/, nc 127.0.0.1 8001

The page's script connects to ``/ws``; each WebSocket is a user, each message
a ``say``, like the lines of a TCP user.
"""

from __future__ import annotations

import sys
from typing import Any

from step1_room import enter, leave, say
from step2_tcp import FrontEnd
from step4_web import web_chat

from circuits.web.websockets import WebSocketsDispatcher

MAX_MESSAGE_BYTES = 4096  # a chat line, not a file: longer messages close the connection


class WebChat(FrontEnd):
    """Users on WebSockets: one message per chat line, and back."""

    channel = "wsserver"  # WebSocketsDispatcher's channel for its connections

    def connect(self, sock: Any, host: str, port: int) -> None:
        self.users.add(sock)
        self.fire(enter(sock), "room")

    def read(self, sock: Any, data: str | bytearray) -> None:
        if isinstance(data, str):  # text; binary messages are not chat
            self.fire(say(sock, data), "room")

    def disconnect(self, sock: Any) -> None:
        if sock in self.users:
            self.users.remove(sock)
            self.fire(leave(sock), "room")


if __name__ == "__main__":
    app = web_chat(int(sys.argv[1]) if len(sys.argv) > 1 else 8000)
    app += WebSocketsDispatcher("/ws", max_message_bytes=MAX_MESSAGE_BYTES)
    app += WebChat()
    app.run()
