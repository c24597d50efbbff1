"""Step 1 of the tutorial: a chat room made of events.

    python examples/chat/step1_room.py

``ChatRoom`` keeps who is in the room. Front ends (a script here, TCP and
WebSocket users in later steps) fire ``enter``, ``say`` and ``leave`` on the
``"room"`` channel; the room answers with ``message`` (for everyone),
``reply`` (for one user) and ``kick`` events, which the front ends deliver.
"""

from __future__ import annotations

import re
from typing import Any

from circuits import Component, Event, Manager

NAME = re.compile(r"[A-Za-z0-9_-]{1,20}")  # short, no spaces: a name starts a chat line
HELP = "commands: /nick NAME, /who, /quit"


# What front ends tell the room. ``user`` is the front end's handle for one
# connected user: any hashable object (a socket, in the next steps).
class enter(Event):
    """``enter(user)``: ``user`` entered the room."""


class say(Event):
    """``say(user, text)``: ``user`` typed ``text``: a chat line or a command."""


class leave(Event):
    """``leave(user)``: ``user`` left the room."""


class who(Event):
    """``who()``: its value is the list of the names in the room."""


# What the room tells the front ends.
class message(Event):
    """``message(text)``: a line for everyone in the room."""


class reply(Event):
    """``reply(user, text)``: a line for ``user`` only."""


class kick(Event):
    """``kick(user)``: disconnect ``user``."""


class ChatRoom(Component):
    """The room: who is in it, under which name."""

    channel = "room"

    def init(self) -> None:
        self.names: dict[Any, str] = {}  # user -> name
        self.guests = 0

    def enter(self, user: Any) -> None:
        self.guests += 1
        name = f"guest{self.guests}"
        self.names[user] = name
        self.fire(reply(user, f"welcome, {name}! {HELP}"))
        self.fire(message(f"* {name} entered"))

    def say(self, user: Any, text: str) -> None:
        name = self.names.get(user)
        if name is None or not text.strip():
            return
        if not text.startswith("/"):
            self.fire(message(f"{name}: {text}"))
            return
        command, _, argument = text.partition(" ")
        if command == "/nick":
            self._rename(user, argument.strip())
        elif command == "/who":
            self.fire(reply(user, "here: " + ", ".join(self.who())))
        elif command == "/quit":
            self.fire(reply(user, "bye!"))
            self.fire(kick(user))
        else:
            self.fire(reply(user, f"unknown command {command}; {HELP}"))

    def leave(self, user: Any) -> None:
        name = self.names.pop(user, None)
        if name is not None:
            self.fire(message(f"* {name} left"))

    def who(self) -> list[str]:
        return sorted(self.names.values())  # a handler's return value is the event's value

    def _rename(self, user: Any, name: str) -> None:
        if not NAME.fullmatch(name):
            self.fire(reply(user, f"{name!r} is not a name: up to 20 letters, digits, _ or -"))
        elif name in self.names.values():
            self.fire(reply(user, f"{name} is taken"))
        else:
            self.fire(message(f"* {self.names[user]} is now {name}"))
            self.names[user] = name


class Console(Component):
    """A front end that prints what the room says."""

    channel = "room"

    def message(self, text: str) -> None:
        print(text)

    def reply(self, user: Any, text: str) -> None:
        print(f"  (to {user}) {text}")

    def kick(self, user: Any) -> None:
        print(f"  ({user} hangs up)")
        self.fire(leave(user))


class Script(Component):
    """Plays two users, then stops the application."""

    def started(self, manager: Any) -> None:
        self.fire(enter("tty1"), "room")
        self.fire(enter("tty2"), "room")
        self.fire(say("tty1", "/nick alice"), "room")
        self.fire(say("tty2", "/nick alice"), "room")
        self.fire(say("tty1", "hello, world"), "room")
        self.fire(say("tty1", "/who"), "room")
        self.fire(say("tty2", "/quit"), "room")
        self.stop()  # run() returns once every event above, and those they fire, is handled


if __name__ == "__main__":
    app = Manager() + ChatRoom() + Console() + Script()
    app.run()
