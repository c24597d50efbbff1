"""The 3.2.5 node wire format and the Protocol, without sockets (the loop driven by hand)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

import circuits.node.utils as node_utils
from circuits import Component, Event, Manager, handler
from circuits.core.values import Value
from circuits.node._wire import PacketReader
from circuits.node.protocol import DELIMITER, Protocol
from circuits.node.utils import META_EXCLUDE, dump_event, dump_value, load_event, load_value

HELLO_PACKET = (
    '{"id": 0, "name": "hello", "args": [1], "kwargs": {"y": 3}, "success": false,'
    ' "failure": false, "channels": ["app"], "notify": false, "meta": {}}'
)


class hello(Event):
    pass


def flush(m):
    while len(m):
        m.flush()


class Wire(Component):
    """Collects what protocols write (client mode ``write(data)``, server ``write(sock, data)``)."""

    channel = "*"

    def init(self):
        self.writes = []

    @handler("write")
    def _on_write(self, *args):
        self.writes.append(args)


class App(Component):
    channel = "app"

    def hello(self, x, y=0):
        return f"Hi {x} {y}"

    def boom(self):
        raise ValueError("no way")

    def gen(self):
        yield "a"
        yield "b"


@pytest.fixture
def tree():
    m = Manager()
    wire = Wire().register(m)
    App().register(m)
    flush(m)
    return m, wire


# -- packets ------------------------------------------------------------------


def test_dump_event_is_byte_exact():
    e = hello(1, y=3)
    e.channels = ("app",)
    assert dump_event(e, 0) == HELLO_PACKET
    assert (dump_event(e, 0) + "~~~").encode() == HELLO_PACKET.encode() + b"~~~"


def test_dump_value_is_byte_exact():
    e = hello()
    e.foo = "bar"
    v = Value(e)
    v.value = "Hi 5 2"
    v.node_call_id = 9
    assert dump_value(v) == '{"id": 9, "errors": false, "value": "Hi 5 2", "meta": {"foo": "bar"}}'


def test_meta_carries_user_attributes_only():
    e = hello()
    e.test_meta = 1
    e._p = [1]
    e.node_call_id = 5  # bookkeeping: never sent
    meta = json.loads(dump_event(e, 1))["meta"]
    assert meta == {"_p": [1], "test_meta": 1}


def test_meta_follows_each_event_and_changes_of_meta_exclude():
    # The names are cached per event shape: the cache must never show stale names.
    plain, tagged = hello(), hello()
    tagged.test_meta = 1
    assert json.loads(dump_event(plain, 1))["meta"] == {}
    assert json.loads(dump_event(tagged, 1))["meta"] == {"test_meta": 1}
    tagged.later = "x"  # a new shape of the same class
    assert json.loads(dump_event(tagged, 1))["meta"] == {"later": "x", "test_meta": 1}
    META_EXCLUDE.add("later")  # a program may exclude names of its own (3.2.5)
    try:
        assert json.loads(dump_event(tagged, 1))["meta"] == {"test_meta": 1}
    finally:
        META_EXCLUDE.discard("later")
    assert json.loads(dump_event(tagged, 1))["meta"] == {"later": "x", "test_meta": 1}
    node_utils.META_EXCLUDE |= {"test_meta"}  # in place: the same set
    try:
        assert json.loads(dump_event(tagged, 1))["meta"] == {"later": "x"}
    finally:
        node_utils.META_EXCLUDE -= {"test_meta"}
    assert node_utils.META_EXCLUDE is META_EXCLUDE


def test_a_handled_event_has_empty_meta():
    """Everything our core attaches while dispatching is excluded (spec §7.2)."""
    m = Manager()
    App().register(m)
    flush(m)
    e, id = load_event(HELLO_PACKET)
    e.success = True
    e.success_channels = ("node_result",)
    e.complete = True
    value = m.fire(e, *e.channels)
    flush(m)
    assert value.value == "Hi 1 3"
    value.node_call_id = id
    assert dump_value(value) == '{"id": 0, "errors": false, "value": "Hi 1 3", "meta": {}}'
    assert json.loads(dump_event(e, 0))["meta"] == {}


def test_load_event_sets_flags_channels_and_allowed_meta():
    packet = json.loads(HELLO_PACKET)
    packet.update(success=1, notify=True, meta={"x": 1, "__class__": "no", "value": "no"})
    e, id = load_event(json.dumps(packet))
    assert (e.name, e.args, e.kwargs, id) == ("hello", [1], {"y": 3}, 0)
    assert e.success is True
    assert e.notify is True
    assert e.failure is False
    assert e.channels == ("app",)
    assert e.x == 1
    assert e.value is None
    assert type(e).__name__ == "hello"


def test_load_value():
    text = '{"id": 9, "errors": false, "value": [1, 2], "meta": {"foo": "bar", "__x": 1}}'
    assert load_value(text) == ([1, 2], 9, False, {"foo": "bar"})


def test_dump_event_refuses_what_json_cannot_carry():
    with pytest.raises(TypeError):
        dump_event(hello(object()), 1)


@pytest.mark.parametrize(
    "text",
    [b"", b"not json", b"[1, 2]", b'{"id": 1}', b'"x"', b"\xff\xfe", b'{"name": 5, "args": []}'],
)
def test_load_event_refuses_malformed_packets(text):
    with pytest.raises((ValueError, LookupError)):
        load_event(text)


# -- framing ------------------------------------------------------------------


def _packets(data_chunks):
    reader = PacketReader()
    out = []
    for chunk in data_chunks:
        reader.receive_data(chunk)
        while (p := reader.next_packet()) is not None:
            out.append(p.text)
    return out, reader


def test_reader_takes_a_trailing_packet_without_delimiter():
    out, reader = _packets([HELLO_PACKET.encode()])
    assert out == [HELLO_PACKET]
    assert reader.pending_bytes == 0
    out, _ = _packets([HELLO_PACKET.encode(), DELIMITER])
    assert out == [HELLO_PACKET]


def test_reader_keeps_an_incomplete_packet_for_the_next_read():
    data = HELLO_PACKET.encode() + DELIMITER
    for cut in range(1, len(data)):
        out, _ = _packets([data[:cut], data[cut:]])
        assert out == [HELLO_PACKET], cut


def test_reader_classifies_by_keys_not_by_substring():
    # 3.2.5 took any packet containing '"value":' for a result.
    e = hello(value=1)
    out, _ = _packets([dump_event(e, 3).encode() + DELIMITER])
    reader = PacketReader()
    reader.receive_data(out[0].encode())
    assert type(reader.next_packet()).__name__ == "EventPacket"


def test_reader_skips_garbage_between_packets():
    out, _ = _packets([b"junk~~~" + HELLO_PACKET.encode() + b"~~~~~~[1]~~~"])
    assert out == [HELLO_PACKET]


@given(st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_reader_any_split_gives_the_same_packets(cuts):
    second = dump_event(hello("~", z="é" * 10), 7)
    data = HELLO_PACKET.encode() + DELIMITER + second.encode() + DELIMITER
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    out, reader = _packets(chunks)
    assert out == [HELLO_PACKET, second]
    assert reader.pending_bytes == 0


@given(st.binary(max_size=200))
def test_reader_never_raises_on_garbage(data):
    reader = PacketReader()
    reader.receive_data(data)
    reader.receive_data(DELIMITER)
    while reader.next_packet() is not None:
        pass


# -- the Protocol ---------------------------------------------------------------


def _expected_result(id, value):
    v = Value()
    v.value = value
    v.errors = False
    v.node_call_id = id
    return dump_value(v).encode() + DELIMITER


def test_protocol_runs_a_call_and_answers_once(tree):
    m, wire = tree
    p = Protocol().register(m)
    Protocol().register(m)  # another protocol must not answer (3.2.5 did)
    flush(m)
    e = hello(5, y=2)
    e.channels = ("app",)
    p.add_buffer(dump_event(e, 1).encode())  # no delimiter: runs at once
    flush(m)
    assert wire.writes == [(_expected_result(1, "Hi 5 2"),)]


def test_protocol_packet_split_across_reads(tree):
    m, wire = tree
    p = Protocol().register(m)
    data = HELLO_PACKET.encode() + DELIMITER
    p.add_buffer(data[:20])
    flush(m)
    assert wire.writes == []
    p.add_buffer(data[20:])
    flush(m)
    assert wire.writes == [(_expected_result(0, "Hi 1 3"),)]


def test_protocol_server_mode_writes_to_the_socket(tree):
    m, wire = tree
    p = Protocol(sock="sock obj", server=True).register(m)
    p.add_buffer(HELLO_PACKET.encode() + DELIMITER)
    flush(m)
    assert wire.writes == [("sock obj", _expected_result(0, "Hi 1 3"))]


def test_protocol_answers_a_raising_handler_with_errors(tree):
    m, wire = tree
    p = Protocol().register(m)
    e = Event.create("boom")
    e.channels = ("app",)
    p.add_buffer(dump_event(e, 4).encode() + DELIMITER)
    flush(m)
    [(data,)] = wire.writes
    result = json.loads(data[: -len(DELIMITER)])
    assert result["id"] == 4
    assert result["errors"] is True
    assert "ValueError: no way" in result["value"]
    assert "Traceback" in result["value"]
    assert result["meta"] == {"node_error": {"type": "ValueError", "message": "no way"}}


def test_protocol_generator_results_are_lists(tree):
    m, wire = tree
    p = Protocol().register(m)
    e = Event.create("gen")
    e.channels = ("app",)
    p.add_buffer(dump_event(e, 2).encode())
    for _ in range(10):
        flush(m)
        m.tick(0)
    assert wire.writes == [(_expected_result(2, ["a", "b"]),)]


def test_receive_firewall_refuses_with_an_empty_result(tree):
    m, wire = tree
    seen = []

    def firewall(event, sock):
        seen.append((event.name, sock))
        return False

    p = Protocol(receive_event_firewall=firewall).register(m)
    p.add_buffer(HELLO_PACKET.encode())
    flush(m)
    assert seen == [("hello", None)]
    assert wire.writes == [(b'{"id": 0, "errors": false, "value": null, "meta": {}}~~~',)]


def test_send_firewall_sends_nothing(tree):
    m, wire = tree
    p = Protocol(send_event_firewall=lambda event, sock: event.name != "hello").register(m)
    gen = p.send(hello())
    value = next(gen)
    flush(m)
    assert isinstance(value, Value)
    assert value.value is None
    assert wire.writes == []


def test_send_by_hand_then_the_result_arrives(tree):
    m, wire = tree
    p = Protocol().register(m)
    e = hello(1, y=3)
    e.channels = ("app",)
    gen = p.send(e)
    assert next(gen) is None
    flush(m)
    assert wire.writes == [(HELLO_PACKET.encode() + DELIMITER,)]
    p.add_buffer(b'{"id": 0, "errors": false, "value": "Hi", "meta": {"test_meta": 2}}~~~')
    value = next(gen)
    assert value.value == "Hi"
    assert e.remote_finish is True
    assert e.test_meta == 2
    assert e.errors is False


def test_connection_lost_ends_pending_calls(tree):
    m, _ = tree
    p = Protocol().register(m)
    results = []
    call = p.request(hello(), True, results.append)
    p.connection_lost()
    assert results == [call]
    assert call.lost
    assert call.errors
