"""Step 2 of the tutorial: the chat room on TCP.

    python examples/chat/step2_tcp.py [port]    # then, in two terminals: nc 127.0.0.1 8000

Each connection is a user, each line it sends a ``say`` event; the room's
``message``, ``reply`` and ``kick`` events go back out as writes and closes.
"""

from __future__ import annotations

import sys
from typing import Any

from step1_room import ChatRoom, enter, leave, say

from circuits import Component, Manager, handler
from circuits.net.events import close, write
from circuits.net.sockets import TCPServer
from circuits.protocols.line import Line

MAX_LINE_BYTES = 1024  # a chat line, not a file: longer lines are dropped


class FrontEnd(Component):
    """Delivers the room's events to the users connected on this component's channel.

    Subclasses keep ``self.users`` and say how a line is encoded.
    """

    def init(self) -> None:
        self.users: set[Any] = set()

    def encode(self, text: str) -> Any:
        return text

    @handler("message", channel="room")
    def _message(self, text: str) -> None:
        for user in self.users:
            self.fire(write(user, self.encode(text)))

    @handler("reply", channel="room")
    def _reply(self, user: Any, text: str) -> None:
        if user in self.users:
            self.fire(write(user, self.encode(text)))

    @handler("kick", channel="room")
    def _kick(self, user: Any) -> None:
        if user in self.users:
            self.fire(close(user))  # sends what is queued first; then disconnect(user)


class TCPChat(FrontEnd):
    """Users on TCP, one line per message (nc, telnet)."""

    channel = "tcp"

    def init(self, bind: tuple[str, int]) -> None:
        super().init()
        self.buffers: dict[Any, bytes] = {}  # socket -> its unfinished line
        TCPServer(bind, channel=self.channel).register(self)
        Line(
            getBuffer=self.buffers.__getitem__,
            updateBuffer=self.buffers.__setitem__,
            max_line_bytes=MAX_LINE_BYTES,
            channel=self.channel,
        ).register(self)

    def encode(self, text: str) -> bytes:
        return f"{text}\r\n".encode()

    def ready(self, server: Any, bind: tuple[str, int]) -> None:
        host, port = bind
        print(f"Chat on {host}:{port} (try: nc {host} {port})", flush=True)

    def connect(self, sock: Any, host: str, port: int) -> None:
        self.users.add(sock)
        self.buffers[sock] = b""
        self.fire(enter(sock), "room")

    def line(self, sock: Any, text: bytes) -> None:
        self.fire(say(sock, text.decode("utf-8", "replace")), "room")

    def disconnect(self, sock: Any) -> None:
        if sock in self.users:  # not the listening socket, which closes at exit
            self.users.remove(sock)
            del self.buffers[sock]
            self.fire(leave(sock), "room")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    app = Manager() + ChatRoom() + TCPChat(("127.0.0.1", port))
    app.run()
