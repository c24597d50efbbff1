"""``circuits.net.events``: names, argument shapes, re-exports in ``sockets``."""

from __future__ import annotations

import pytest

import circuits.net.events as events
import circuits.net.sockets as sockets
from circuits import Event

ALL = [
    "connect",
    "disconnect",
    "connected",
    "disconnected",
    "read",
    "write",
    "error",
    "unreachable",
    "broadcast",
    "close",
    "closed",
    "ready",
    "starttls",
]


@pytest.mark.parametrize("name", ALL)
def test_event_classes(name):
    cls = getattr(events, name)
    assert issubclass(cls, Event)
    assert cls.name == name
    for flag in ("success", "failure", "complete"):
        assert getattr(cls, flag) is False


@pytest.mark.parametrize(
    ("event", "args", "kwargs"),
    [
        (events.connect("h", 1, secure=True), ["h", 1], {"secure": True}),
        (events.disconnect("s"), ["s"], {}),
        (events.connected("h", 1), ["h", 1], {}),
        (events.disconnected(), [], {}),
        (events.read(b"x"), [b"x"], {}),
        (events.read("s", b"x"), ["s", b"x"], {}),
        (events.write(b"x"), [b"x"], {}),
        (events.error("e"), ["e"], {}),
        (events.unreachable("h", 1), ["h", 1, None], {}),
        (events.unreachable("h", 1, "r"), ["h", 1, "r"], {}),
        (events.broadcast(b"x", 9), [b"x", 9], {}),
        (events.close(), [], {}),
        (events.closed(), [], {}),
        (events.ready("c"), ["c"], {}),
        (events.ready("c", ("h", 1)), ["c", ("h", 1)], {}),
        (events.starttls("s"), ["s"], {}),
    ],
)
def test_argument_layout(event, args, kwargs):
    assert event.args == args
    assert event.kwargs == kwargs


def test_sockets_reexports_the_same_classes():
    for name in (
        "close",
        "closed",
        "connect",
        "connected",
        "disconnect",
        "disconnected",
        "error",
        "read",
        "ready",
        "unreachable",
        "write",
    ):
        assert getattr(sockets, name) is getattr(events, name)
    assert not hasattr(sockets, "broadcast")
    assert not hasattr(sockets, "starttls")
    assert events.Event is Event


def test_sockets_reexports_core_names():
    from circuits.core.components import BaseComponent
    from circuits.core.handlers import handler
    from circuits.core.pollers import BasePoller, Poller
    from circuits.core.utils import findcmp

    assert sockets.BaseComponent is BaseComponent
    assert sockets.BasePoller is BasePoller
    assert sockets.Poller is Poller
    assert sockets.findcmp is findcmp
    assert sockets.handler is handler
    assert sockets.BUFSIZE == 4096
    assert sockets.BACKLOG == 5000
