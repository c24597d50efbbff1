"""The RFC 6455 framing engine: RFC examples, violations, properties, interop."""

from __future__ import annotations

import base64
import hashlib
import re
import struct

import pytest
from hypothesis import given, strategies as st
from tests.strategies import (
    cut_points,
    splits,
    ws_bytes,
    ws_control_payload,
    ws_text,
)

from circuits._sansio.websocket import (
    BytesMessage,
    CloseConnection,
    Opcode,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketEngine,
    WebSocketProtocolError,
    encode_frame,
)

KEY = b"\x37\xfa\x21\x3d"  # the masking key of RFC 6455 §5.7


def drain(engine):
    """Events until more data is needed; a protocol error ends the list as its code."""
    out = []
    while True:
        try:
            ev = engine.next_event()
        except WebSocketProtocolError as exc:
            out.append(exc.code)
            return out
        if ev is None:
            return out
        out.append(ev)


def feed(role, chunks, **kwargs):
    engine = WebSocketEngine(role, **kwargs)
    out = []
    for chunk in chunks:
        engine.receive_data(chunk)
        out += drain(engine)
    return out


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


# RFC 6455 §5.7 examples, as received by the side they are meant for.
RFC_EXAMPLES = [
    (Role.CLIENT, h("81 05 48656c6c6f"), [TextMessage("Hello")]),
    (Role.SERVER, h("81 85 37fa213d 7f9f4d5158"), [TextMessage("Hello")]),
    (Role.CLIENT, h("01 03 48656c") + h("80 02 6c6f"), [TextMessage("Hello")]),
    (Role.CLIENT, h("89 05 48656c6c6f"), [Ping(b"Hello")]),
    (Role.SERVER, h("8a 85 37fa213d 7f9f4d5158"), [Pong(b"Hello")]),
    (Role.CLIENT, h("82 7e 0100") + bytes(256), [BytesMessage(bytes(256))]),
    (Role.CLIENT, h("82 7f 0000000000010000") + bytes(65536), [BytesMessage(bytes(65536))]),
]


@pytest.mark.parametrize(("role", "wire", "events"), RFC_EXAMPLES)
def test_rfc_examples(role, wire, events):
    assert feed(role, [wire]) == events
    assert feed(role, [wire[i : i + 1] for i in range(len(wire))]) == events


def cf(opcode, payload=b"", fin=True, rsv=0):
    """A client frame (masked) as the server receives it."""
    return encode_frame(opcode, payload, fin=fin, mask_key=KEY, rsv=rsv)


VIOLATIONS = [
    ("unmasked client frame", Role.SERVER, encode_frame(1, b"hi"), 1002),
    ("masked server frame", Role.CLIENT, encode_frame(1, b"hi", mask_key=KEY), 1002),
    ("reserved bits", Role.SERVER, cf(1, b"hi", rsv=4), 1002),
    ("reserved data opcode", Role.SERVER, cf(3, b"hi"), 1002),
    ("reserved control opcode", Role.SERVER, cf(0xB), 1002),
    ("fragmented ping", Role.SERVER, cf(9, b"x", fin=False), 1002),
    ("long ping", Role.SERVER, cf(9, bytes(126)), 1002),
    ("continuation first", Role.SERVER, cf(0, b"x"), 1002),
    ("text inside text", Role.SERVER, cf(1, b"a", fin=False) + cf(1, b"b"), 1002),
    ("close 1 byte", Role.SERVER, cf(8, b"\x03"), 1002),
    ("close code 999", Role.SERVER, cf(8, struct.pack("!H", 999)), 1002),
    ("close code 1005", Role.SERVER, cf(8, struct.pack("!H", 1005)), 1002),
    ("close code 5000", Role.SERVER, cf(8, struct.pack("!H", 5000)), 1002),
    ("close reason not utf-8", Role.SERVER, cf(8, b"\x03\xe8\xff"), 1007),
    ("bad utf-8", Role.SERVER, cf(1, b"\xff"), 1007),
    ("truncated utf-8 at the end", Role.SERVER, cf(1, b"\xe2\x82"), 1007),
    ("bad utf-8 in a later fragment", Role.SERVER, cf(1, b"ok", fin=False) + cf(0, b"\xc0"), 1007),
    ("non-minimal 16-bit", Role.CLIENT, h("82 7e 0005") + bytes(5), 1002),
    ("non-minimal 64-bit", Role.CLIENT, h("82 7f 0000000000000005") + bytes(5), 1002),
    ("64-bit high bit", Role.CLIENT, h("82 7f 8000000000000000"), 1002),
]


@pytest.mark.parametrize(
    ("role", "wire", "code"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_violations_fail_with_a_close_code(role, wire, code):
    assert feed(role, [wire]) == [code]


def test_utf8_split_across_fragments_is_fine():
    euro = "€".encode()
    wire = cf(1, euro[:1], fin=False) + cf(0, euro[1:2], fin=False) + cf(0, euro[2:])
    assert feed(Role.SERVER, [wire]) == [TextMessage("€")]


def test_control_frames_between_fragments():
    wire = cf(2, b"ab", fin=False) + cf(9, b"pp") + cf(0, b"cd")
    assert feed(Role.SERVER, [wire]) == [Ping(b"pp"), BytesMessage(b"abcd")]


def test_too_big_is_1009_on_the_header_and_over_fragments():
    assert feed(Role.CLIENT, [h("82 7e 0100")], max_message_bytes=255) == [1009]
    wire = cf(2, bytes(6), fin=False) + cf(0, bytes(6))
    assert feed(Role.SERVER, [wire], max_message_bytes=10) == [1009]
    assert feed(Role.SERVER, [cf(2, bytes(10))], max_message_bytes=10) == [BytesMessage(bytes(10))]


def test_close_handshake_and_input_after_close_is_ignored():
    server = WebSocketEngine(Role.SERVER)
    server.receive_data(cf(8, struct.pack("!H", 1001) + b"bye") + cf(1, b"late"))
    assert drain(server) == [CloseConnection(1001, "bye")]
    assert server.close_received
    assert server.send(CloseConnection(1001)) == b"\x88\x02\x03\xe9"
    assert server.close_sent
    with pytest.raises(ValueError, match="after the close frame"):
        server.send(TextMessage("x"))
    server.receive_data(cf(1, b"more"))
    assert drain(server) == []


def test_empty_close_is_1005_and_is_answered_empty():
    client = WebSocketEngine(Role.CLIENT, mask_key=lambda: KEY)
    client.receive_data(b"\x88\x00")
    assert drain(client) == [CloseConnection(1005, "")]
    assert client.send(CloseConnection(1005)) == b"\x88\x80" + KEY


def test_after_an_error_the_engine_stops():
    server = WebSocketEngine(Role.SERVER)
    server.receive_data(encode_frame(1, b"x"))
    assert drain(server) == [1002]
    assert server.failed is not None
    server.receive_data(cf(1, b"ok"))
    assert drain(server) == []


def test_send_checks():
    client = WebSocketEngine(Role.CLIENT, mask_key=lambda: KEY)
    assert client.send(TextMessage("Hello")) == h("81 85 37fa213d 7f9f4d5158")
    with pytest.raises(ValueError, match="125"):
        client.send(Ping(bytes(126)))
    with pytest.raises(ValueError, match="invalid close code"):
        client.send(CloseConnection(999))
    with pytest.raises(TypeError, match="websocket event"):
        client.send("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Role\.CLIENT"):
        WebSocketEngine("client")  # type: ignore[arg-type]


# -- properties ------------------------------------------------------------------

messages = st.lists(
    st.one_of(
        ws_text.map(TextMessage),
        ws_bytes.map(BytesMessage),
        ws_control_payload.map(Ping),
        ws_control_payload.map(Pong),
    ),
    max_size=6,
)
roles = st.sampled_from([Role.CLIENT, Role.SERVER])


def other(role):
    return Role.SERVER if role is Role.CLIENT else Role.CLIENT


@given(roles, messages, st.one_of(st.none(), st.integers(1000, 1003).map(CloseConnection)))
def test_round_trip(role, events, close):
    sender = WebSocketEngine(role)
    sent = [*events, close] if close else events
    wire = b"".join(sender.send(e) for e in sent)
    assert feed(other(role), [wire]) == sent


@given(roles, messages, cut_points)
def test_any_split_gives_the_same_events(role, events, cuts):
    wire = b"".join(WebSocketEngine(role).send(e) for e in events)
    whole = feed(other(role), [wire])
    assert feed(other(role), splits(wire, cuts)) == whole
    small = wire[:2000]
    assert feed(other(role), [small[i : i + 1] for i in range(len(small))]) == feed(
        other(role), [small]
    )


@given(roles, st.binary(max_size=300), cut_points)
def test_any_bytes_yield_events_or_a_protocol_error(role, data, cuts):
    out = feed(role, [data], max_message_bytes=200)
    for ev in out[:-1]:
        assert isinstance(ev, TextMessage | BytesMessage | Ping | Pong | CloseConnection)
    if out and isinstance(out[-1], int):
        assert out[-1] in {1002, 1007, 1009}
    assert feed(role, splits(data, cuts), max_message_bytes=200) == out


@given(st.lists(st.binary(max_size=60), min_size=1, max_size=6), st.integers(1, 200))
def test_message_limit_holds(fragments, limit):
    wire = b"".join(
        cf(Opcode.BINARY if i == 0 else 0, f, fin=i == len(fragments) - 1)
        for i, f in enumerate(fragments)
    )
    out = feed(Role.SERVER, [wire], max_message_bytes=limit)
    total = sum(map(len, fragments))
    assert out == ([BytesMessage(b"".join(fragments))] if total <= limit else [1009])


@given(st.lists(st.text(max_size=5), min_size=1, max_size=5))
def test_text_fragments_split_anywhere_in_a_code_point(parts):
    data = "".join(parts).encode()
    cuts = sorted({min(len(p.encode()), len(data)) for p in parts})
    pieces = splits(data, cuts) if data else [b""]
    wire = b"".join(
        cf(Opcode.TEXT if i == 0 else 0, p, fin=i == len(pieces) - 1) for i, p in enumerate(pieces)
    )
    assert feed(Role.SERVER, [wire]) == [TextMessage(data.decode())]


# -- against the ``websockets`` library (its sans-I/O protocol objects) ------------

websockets = pytest.importorskip("websockets")
from websockets.client import ClientProtocol  # noqa: E402
from websockets.frames import Opcode as WsOpcode  # noqa: E402
from websockets.server import ServerProtocol  # noqa: E402
from websockets.uri import parse_uri  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def their_client():
    """A handshaken ``websockets`` client; we play the server."""
    client = ClientProtocol(parse_uri("ws://localhost/"), max_size=2**21)
    client.send_request(client.connect())
    (request,) = client.data_to_send()
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", request).group(1)
    client.receive_data(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept(key) + b"\r\n\r\n"
    )
    client.events_received()
    return client


def their_server():
    """A handshaken ``websockets`` server; we play the client."""
    server = ServerProtocol(max_size=2**21)
    server.receive_data(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    (request,) = server.events_received()
    server.send_response(server.accept(request))
    server.data_to_send()
    return server


def their_frames(proto):
    return [(f.opcode, bytes(f.data)) for f in proto.events_received()]


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_interop_messages_both_ways(role):
    theirs = their_server() if role is Role.CLIENT else their_client()
    ours = WebSocketEngine(role)
    big = bytes(range(256)) * 300
    wire = b"".join(
        ours.send(e) for e in [TextMessage("héllo"), BytesMessage(big), Ping(b"p"), Pong(b"q")]
    )
    theirs.receive_data(wire)
    got = their_frames(theirs)
    assert got[:2] == [(WsOpcode.TEXT, "héllo".encode()), (WsOpcode.BINARY, big)]
    assert (WsOpcode.PING, b"p") in got
    theirs.data_to_send()  # their automatic pong

    theirs.send_text("ünïcode".encode(), fin=False)
    theirs.send_ping(b"mid")
    theirs.send_continuation(b" end", fin=True)
    theirs.send_binary(big)
    ours.receive_data(b"".join(theirs.data_to_send()))
    assert drain(ours) == [Ping(b"mid"), TextMessage("ünïcode end"), BytesMessage(big)]


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_interop_close_handshake(role):
    theirs = their_server() if role is Role.CLIENT else their_client()
    ours = WebSocketEngine(role)
    theirs.send_close(1001, "going")
    ours.receive_data(b"".join(theirs.data_to_send()))
    assert drain(ours) == [CloseConnection(1001, "going")]
    theirs.receive_data(ours.send(CloseConnection(1001, "going")))
    assert (theirs.close_rcvd.code, theirs.close_rcvd.reason) == (1001, "going")


def test_interop_they_fail_us_on_bad_utf8_with_1007():
    ours = WebSocketEngine(Role.SERVER)
    theirs = their_client()
    theirs.send_frame(websockets.frames.Frame(WsOpcode.BINARY, b"ok"))
    ours.receive_data(b"".join(theirs.data_to_send()))
    assert drain(ours) == [BytesMessage(b"ok")]
    # Their client masks properly; a text frame with bad UTF-8 must be refused.
    ours.receive_data(cf(1, b"\xed\xa0\x80"))  # an encoded surrogate: invalid UTF-8
    assert drain(ours) == [1007]
    theirs.receive_data(ours.send(CloseConnection(1007, "invalid UTF-8")))
    assert theirs.close_rcvd.code == 1007
