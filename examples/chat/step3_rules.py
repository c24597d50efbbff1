"""Step 3 of the tutorial: house rules, with handler priorities and a timer.

    python examples/chat/step3_rules.py [port]    # then: nc 127.0.0.1 8000

A ``Moderator`` drops lines with words it does not like before the room sees
them; an ``IdleKicker`` disconnects users who have been silent for a while.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any

from step1_room import ChatRoom, kick, reply
from step2_tcp import TCPChat

from circuits import Component, Event, Manager, Timer, handler

BANNED = ("darn", "heck")


class Moderator(Component):
    """Drops the ``say`` events that contain a banned word."""

    channel = "room"

    def init(self, banned: Iterable[str] = BANNED) -> None:
        self.banned = {word.casefold() for word in banned}

    @handler("say", priority=10)  # runs before the room's handler (priority 0)
    def _moderate(self, event: Event, user: Any, text: str) -> None:
        if self.banned.isdisjoint(re.findall(r"\w+", text.casefold())):
            return
        event.stop()  # no handler after this one sees the event
        self.fire(reply(user, "the moderator dropped your line"))


class check_idle(Event):
    """``check_idle()``: the IdleKicker's timer went off."""


class IdleKicker(Component):
    """Kicks users who said nothing during ``rounds`` checks, one every ``interval`` seconds."""

    channel = "room"

    def init(self, interval: float = 60, rounds: int = 5) -> None:
        self.rounds = rounds
        self.idle: dict[Any, int] = {}  # user -> checks since their last line
        Timer(interval, check_idle(), self.channel, persist=True).register(self)

    def enter(self, user: Any) -> None:
        self.idle[user] = 0

    @handler("say", priority=20)  # before the Moderator: a dropped line counts too
    def _active(self, user: Any, text: str) -> None:
        if user in self.idle:
            self.idle[user] = 0

    def leave(self, user: Any) -> None:
        self.idle.pop(user, None)

    def check_idle(self) -> None:
        for user, checks in list(self.idle.items()):
            if checks + 1 < self.rounds:
                self.idle[user] = checks + 1
            else:
                del self.idle[user]
                self.fire(reply(user, "you were idle for too long"))
                self.fire(kick(user))


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    app = Manager() + ChatRoom() + Moderator() + IdleKicker() + TCPChat(("127.0.0.1", port))
    app.run()
