"""``Pipe()``: two connected UNIXClients; buffering, reading, closing, ready."""

from __future__ import annotations

import threading

import pytest
from net_support import Recorder

from circuits import BaseComponent, Event, Manager, handler
from circuits.core.pollers import BasePoller, Poller, Select
from circuits.net.events import close, write
from circuits.net.sockets import BUFSIZE, Pipe, UNIXClient


@pytest.fixture
def app():
    """A running tree with both ends of a pipe on channels "a" and "b"."""
    m = Manager()
    rec = Recorder().register(m)
    a, b = Pipe()
    a.register(m)
    b.register(m)
    m.start()
    rec.wait_for("ready", "a")
    rec.wait_for("ready", "b")
    yield m, rec, a, b
    m.stop()
    m.join()


def test_defaults():
    a, b = Pipe()
    try:
        assert isinstance(a, UNIXClient)
        assert isinstance(b, UNIXClient)
        assert (a.channel, b.channel) == ("a", "b")
        assert a.connected
        assert b.connected
        assert a._poller is None
        assert not a._buffer
    finally:
        a._sock.close()
        b._sock.close()


def test_channels_given():
    a, b = Pipe("x", "y")
    try:
        assert (a.channel, b.channel) == ("x", "y")
    finally:
        a._sock.close()
        b._sock.close()


def test_one_channel_is_an_error():
    with pytest.raises(ValueError, match="two channels"):
        Pipe("x")


def test_ready_names_the_component_and_shares_one_poller(app):
    m, rec, a, b = app
    ready_a = rec.find("ready", "a")
    assert [e.args for e in ready_a] == [[a]]
    assert a._poller is b._poller
    assert isinstance(a._poller, Poller)
    nodes = {m, *m.components, *a.components, *b.components}
    assert sum(isinstance(c, BasePoller) for c in nodes) == 1


def test_write_reads_on_the_other_end(app):
    m, rec, _a, _b = app
    m.fire(write(b"hello"), "a")
    assert rec.wait_for_data("b", 5) == b"hello"
    e = rec.find("read", "b")[0]
    assert e.notify is True
    m.fire(write(b"back"), "b")
    assert rec.wait_for_data("a", 4) == b"back"


def test_large_write_is_buffered_and_arrives_whole(app):
    m, rec, _a, _b = app
    payload = bytes(range(256)) * 4096  # 1 MiB, far beyond the socket buffer
    m.fire(write(payload), "a")
    m.fire(write(b"END"), "a")
    data = rec.wait_for_data("b", len(payload) + 3)
    assert data == payload + b"END"
    assert max(len(e.args[0]) for e in rec.find("read", "b")) <= BUFSIZE


def test_close_flushes_first_then_disconnects_both_ends(app):
    m, rec, a, b = app
    payload = b"x" * (512 * 1024)
    m.fire(write(payload), "a")
    m.fire(close(), "a")
    rec.wait_for("disconnected", "a")
    rec.wait_for("disconnected", "b")
    assert rec.data("b") == payload
    assert not a.connected
    assert not b.connected


def test_close_twice_fires_disconnected_once(app):
    m, rec, _a, _b = app
    m.fire(close(), "b")
    rec.wait_for("disconnected", "b")
    rec.wait_for("disconnected", "a")
    done = threading.Event()

    class Marker(BaseComponent):
        @handler("marker")
        def _on_marker(self):
            done.set()

    Marker().register(m)
    m.fire(close(), "b")
    m.fire(Event.create("marker"))
    assert done.wait(5)
    assert len(rec.find("disconnected", "b")) == 1


def test_write_str_is_an_error(app):
    m, rec, _a, _b = app
    m.fire(write("text"), "a")
    e = rec.wait_for("exception", "*")
    assert e.args[0] is TypeError
    assert "encode" in str(e.args[1])


def test_unregister_closes(app):
    _m, rec, a, _b = app
    a.unregister()
    rec.wait_for("disconnected", "a")
    rec.wait_for("disconnected", "b")


def test_stop_closes():
    m = Manager()
    rec = Recorder().register(m)
    a, b = Pipe()
    a.register(m)
    b.register(m)
    m.start()
    rec.wait_for("ready", "b")
    m.stop()
    m.join()
    assert rec.find("close", "a")
    assert rec.find("disconnected", "a")


def test_write_before_ready_is_sent_once_a_poller_is_attached():
    m = Manager()
    rec = Recorder().register(m)
    a, b = Pipe()
    a.register(m)
    b.register(m)
    m.fire(write(b"early"), "a")  # queued before "registered" is dispatched
    m.start()
    try:
        assert rec.wait_for_data("b", 5) == b"early"
    finally:
        m.stop()
        m.join()


def test_explicit_poller_is_adopted():
    m = Manager()
    rec = Recorder().register(m)
    poller = Select().register(m)
    a, b = Pipe()
    a.register(m)
    b.register(m)
    m.start()
    try:
        rec.wait_for("ready", "a")
        rec.wait_for("ready", "b")
        assert a._poller is poller
        assert b._poller is poller
        m.fire(write(b"via select"), "a")
        assert rec.wait_for_data("b", 10) == b"via select"
    finally:
        m.stop()
        m.join()


def test_client_side_does_not_echo_returned_bytes():
    m = Manager()
    rec = Recorder().register(m)
    a, b = Pipe()
    a.register(m)
    b.register(m)

    class Echo(BaseComponent):
        channel = "b"

        @handler("read")
        def _on_read(self, data):
            return data  # a server would send this back; a client does not

    Echo().register(m)
    m.start()
    try:
        rec.wait_for("ready", "a")
        m.fire(write(b"ping"), "a")
        rec.wait_for("read_value_changed", b)
        m.fire(write(b"done"), "b")
        assert rec.wait_for_data("a", 4) == b"done"
    finally:
        m.stop()
        m.join()


def test_write_after_close_fires_error(app):
    m, rec, _, _ = app
    m.fire(close(), "a")
    rec.wait_for("disconnected", "a")
    m.fire(write(b"late"), "a")
    e = rec.wait_for("error", "a")
    assert isinstance(e.args[0], OSError)
    assert len(e.args) == 1
