"""``Bridge``/``ipc``: events run at the other end of a pipe, results come back.

Most tests put both ends in one process (two Bridges over ``Pipe()``), which
exercises the whole wire protocol quickly; the process-mode tests then check
``start(process=True, link=...)`` end to end.
"""

from __future__ import annotations

import os
import pickle
import traceback

import pytest

from circuits import BaseComponent, Bridge, Component, Event, Manager, handler, ipc
from circuits.core.bridge import DELIMITER
from circuits.net.events import close
from circuits.net.sockets import Pipe

from .support import WaitingRecorder as Recorder


class hello(Event):
    pass


class boom(Event):
    pass


class nothing(Event):
    pass


class slow(Event):
    pass


class hang(Event):
    pass


class unpicklable(Event):
    pass


class Remote(Component):
    """What runs at the far end."""

    def hello(self, data=b""):
        return data[::-1] if data else f"hello from {os.getpid()}"

    def boom(self):
        raise ValueError("kaboom")

    def nothing(self):
        pass

    def slow(self):
        yield None  # a coroutine: the reply waits until it has finished
        yield "slow done"

    def hang(self):
        while True:
            yield None

    def unpicklable(self):
        return lambda: None


def call_ipc(m, rec, event, *channels, timeout=5):
    """Fire ``ipc(event)`` and wait until it is done; returns its Value."""
    e = ipc(event, "app")
    e.success = True
    value = m.fire(e, *channels)
    rec.wait_for("ipc_success", count=len(rec.find("ipc_success")) + 1, timeout=timeout)
    return value


@pytest.fixture
def local(running):
    """Both ends in one running tree: ipc fired on "a" runs on Remote ("app")."""
    m = Manager()
    rec = Recorder().register(m)
    a, b = Pipe("a", "b")
    bridge_a = Bridge(a, channel="a").register(m)
    Bridge(b, channel="b").register(m)
    Remote(channel="app").register(m)
    running(m)
    rec.wait_for("ready", "a")
    rec.wait_for("ready", "b")
    return m, rec, bridge_a


def test_round_trip(local):
    m, rec, _ = local
    x = call_ipc(m, rec, hello(b"abc"), "a")
    assert x.result
    assert not x.errors
    assert x.value == b"cba"


def test_payloads_containing_the_delimiter_and_larger_than_a_read(local):
    m, rec, _ = local
    data = (DELIMITER + b"-" + bytes(range(256))) * 200  # ~52 KiB, many reads
    x = call_ipc(m, rec, hello(data), "a")
    assert x.value == data[::-1]


def test_concurrent_calls(local):
    m, rec, _ = local
    values = []
    for i in range(5):
        e = ipc(hello(b"%d" % i), "app")
        e.success = True
        values.append(m.fire(e, "a"))
    rec.wait_for("ipc_success", count=5)
    assert [v.value for v in values] == [b"0", b"1", b"2", b"3", b"4"]


def test_remote_error_comes_back_with_errors(local):
    m, rec, _ = local
    x = call_ipc(m, rec, boom(), "a")
    assert x.errors
    etype, evalue, frames = x.value
    assert etype is ValueError
    assert str(evalue) == "kaboom"
    assert isinstance(frames, traceback.StackSummary)
    assert frames[-1].name == "boom"


def test_no_result_still_completes(local):
    m, rec, _ = local
    x = call_ipc(m, rec, nothing(), "a")
    assert not x.result
    assert not x.errors
    assert x.value is None


def test_coroutine_result_is_sent_once_finished(local):
    m, rec, _ = local
    x = call_ipc(m, rec, slow(), "a")
    assert x.value == "slow done"


def test_unpicklable_result_is_reported_as_an_error(local):
    m, rec, _ = local
    x = call_ipc(m, rec, unpicklable(), "a")
    assert x.errors
    assert x.value[0] is TypeError
    assert "cannot be pickled" in str(x.value[1])


def test_unpicklable_event_fails_the_ipc(local):
    m, rec, _ = local
    e = ipc(hello(lambda: None), "app")
    x = m.fire(e, "a")
    rec.wait_for("exception")
    assert x.errors


def test_call_from_a_coroutine(local):
    m, rec, _ = local
    got = []

    class Caller(BaseComponent):
        @handler("go")
        def _on_go(self):
            value = yield self.call(ipc(hello(b"xy"), "app"), "a")
            got.append(value.value)

    Caller().register(m)
    e = Event.create("go")
    e.success = True
    m.fire(e)
    rec.wait_for("go_success")
    assert got == [b"yx"]


def test_pending_calls_fail_when_the_peer_disconnects(local):
    m, rec, bridge = local
    e = ipc(hang(), "app")
    e.success = True
    x = m.fire(e, "a")
    rec.wait_for("hang")  # the far end got it and never answers
    m.fire(close(), "b")
    rec.wait_for("ipc_success")
    assert x.errors
    assert x.value[0] is ConnectionResetError
    assert bridge._values == {}
    e = ipc(hello(), "app")  # and a new call fails at once
    x = m.fire(e, "a")
    rec.wait_for("exception")
    assert x.errors


def test_wire_format_is_pickle_and_delimiter():
    sent = []

    class Socket:
        channel = "s"
        connected = True

        def register(self, parent):
            return self

        def write(self, data):
            sent.append(data)

    bridge = Bridge(Socket(), channel="s")
    bridge._send(42, "obj")
    assert sent == [pickle.dumps((42, "obj")) + b"~~~"]


def test_messages_split_anywhere_are_reassembled():
    bridge = Bridge(None)
    msgs = [(1, b"a~~~b"), (2, "~~~"), (3, list(range(1000)))]
    stream = b"".join(pickle.dumps(msg) + DELIMITER for msg in msgs)
    for size in (1, 2, 3, 7, 100, len(stream)):
        got = []
        for i in range(0, len(stream), size):
            bridge._buffer += stream[i : i + size]
            got.extend(bridge._messages())
        assert got == msgs, size
        assert not bridge._buffer


# -- process mode ------------------------------------------------------------


@pytest.fixture
def parent(running):
    m = Manager()
    rec = Recorder().register(m)
    running(m)
    return m, rec


def test_process_round_trip(parent):
    m, rec = parent
    app = Remote(channel="app")
    proc, bridge = app.start(process=True, link=m)
    try:
        assert isinstance(bridge, Bridge)
        assert bridge in m.components
        rec.wait_for("ready", bridge.channel)
        assert app.pid == proc.pid != os.getpid()
        x = call_ipc(m, rec, hello())
        assert x.value == f"hello from {proc.pid}"
        y = call_ipc(m, rec, boom())
        assert y.errors
        assert y.value[0] is ValueError
    finally:
        app.stop()
        app.join()
    assert not proc.is_alive()
    rec.wait_for("disconnected", bridge.channel)  # the child end went away


def test_process_without_link():
    app = Remote()
    proc, bridge = app.start(process=True)
    try:
        assert bridge is None
        assert app.pid == proc.pid
    finally:
        app.stop()
        app.join()
    assert not proc.is_alive()
