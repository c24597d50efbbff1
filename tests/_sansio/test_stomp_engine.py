"""The STOMP 1.2 engine: frame codec and client state machine, bytes in, events out."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, strategies as st
from tests.strategies import split_points, stomp_frames

from circuits._sansio.stomp import (
    Abort,
    Ack,
    Begin,
    ClientConnection,
    Commit,
    Connect,
    Connected,
    Disconnect,
    Error,
    Frame,
    FrameParser,
    Heartbeat,
    LocalProtocolError,
    Message,
    Nack,
    Receipt,
    RemoteProtocolError,
    Send,
    State,
    Subscribe,
    Unsubscribe,
    negotiate_heartbeat,
    serialize_frame,
)


def parse_all(data, chunks=None, **limits):
    parser = FrameParser(**limits)
    out = []
    for chunk in chunks if chunks is not None else [data]:
        parser.receive_data(chunk)
        while (ev := parser.next_event()) is not None:
            out.append(ev)
    return out


def split(data, cuts):
    cuts = [c % (len(data) + 1) for c in cuts]
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# ---------------------------------------------------------------------------
# Codec: table-driven

PARSE_CASES = [
    (b"SEND\ndestination:/q\n\nhi\x00", [Frame("SEND", (("destination", "/q"),), b"hi")]),
    (b"SEND\r\ndestination:/q\r\n\r\nhi\x00", [Frame("SEND", (("destination", "/q"),), b"hi")]),
    (
        b"MESSAGE\ncontent-length:3\n\na\x00b\x00",
        [Frame("MESSAGE", (("content-length", "3"),), b"a\x00b")],
    ),
    (b"\n\r\n", [Heartbeat(), Heartbeat()]),
    (
        b"RECEIPT\nreceipt-id:1\n\n\x00\n\n",
        [Frame("RECEIPT", (("receipt-id", "1"),)), *[Heartbeat()] * 2],
    ),
    (b"MESSAGE\na\\cb:c\\\\d\\ne\\r\n\n\x00", [Frame("MESSAGE", (("a:b", "c\\d\ne\r"),))]),
    # raw colons after the first are part of the value
    (b"MESSAGE\nmessage-id:ID:x:1\n\n\x00", [Frame("MESSAGE", (("message-id", "ID:x:1"),))]),
    # CONNECTED is not escaped: a backslash stays
    (b"CONNECTED\nserver:a\\b\n\n\x00", [Frame("CONNECTED", (("server", "a\\b"),))]),
    # repeated headers are kept; the first wins for get()
    (b"MESSAGE\nk:1\nk:2\n\n\x00", [Frame("MESSAGE", (("k", "1"), ("k", "2")))]),
    (b"ERROR\nmessage:\n\n\x00", [Frame("ERROR", (("message", ""),))]),
]


@pytest.mark.parametrize(("data", "expected"), PARSE_CASES)
def test_parse(data, expected):
    assert parse_all(data) == expected
    assert parse_all(data, [bytes([b]) for b in data]) == expected


MALFORMED = [
    (b"HELLO\n\n\x00", "unknown STOMP command"),
    (b"SEND\nnocolon\n\n\x00", "not name:value"),
    (b"SEND\n:v\n\n\x00", "not name:value"),
    (b"SEND\nk:\\t\n\n\x00", "undefined escape"),
    (b"SEND\nk:\\\n\n\x00", "undefined escape"),
    (b"SEND\ncontent-length:x\n\n\x00", "bad content-length"),
    (b"SEND\ncontent-length:1\n\nab\x00", "no NUL"),
    (b"SEND\nk:\xff\n\n\x00", "not UTF-8"),
    (b"\rX", "CR not followed by LF"),
    (b"SEND\nk:a\rb\n\n\x00", "bare CR"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed(data, message):
    parser = FrameParser()
    parser.receive_data(data)
    with pytest.raises(RemoteProtocolError, match=message):
        while parser.next_event() is not None:
            pass
    with pytest.raises(RemoteProtocolError):  # the parser stays broken
        parser.next_event()


def test_incomplete_waits():
    parser = FrameParser()
    for part in [b"SEND\nk:v\n", b"\nbody", b"\r"]:
        parser.receive_data(part)
        assert parser.next_event() is None
    parser.receive_data(b"\x00")
    assert parser.next_event() == Frame("SEND", (("k", "v"),), b"body\r")


def test_limits():
    with pytest.raises(RemoteProtocolError, match="no end of headers"):
        parse_all(b"SEND\n" + b"k:v\n" * 100, max_header_bytes=64)
    with pytest.raises(RemoteProtocolError, match="exceeds 64"):
        parse_all(b"SEND\n" + b"k:v\n" * 100 + b"\n\x00", max_header_bytes=64)
    with pytest.raises(RemoteProtocolError, match="exceeds 100"):  # before the body arrives
        parse_all(b"SEND\ncontent-length:1000\n\n", max_frame_bytes=100)
    with pytest.raises(RemoteProtocolError, match="exceeds 100"):
        parse_all(b"SEND\n\n" + b"x" * 200, max_frame_bytes=100)
    assert parse_all(b"SEND\n\n" + b"x" * 90 + b"\x00", max_frame_bytes=100)


SERIALIZE_CASES = [
    (
        Frame("SEND", (("destination", "/q"),), b"hi"),
        b"SEND\ndestination:/q\ncontent-length:2\n\nhi\x00",
    ),
    (Frame("ACK", (("id", "a:b\n"),)), b"ACK\nid:a\\cb\\n\n\n\x00"),
    (Frame("CONNECT", (("passcode", "a:b\\"),)), b"CONNECT\npasscode:a:b\\\n\n\x00"),
    (
        Frame("SEND", (("content-length", "1"),), b"x"),
        b"SEND\ncontent-length:1\n\nx\x00",
    ),
]


@pytest.mark.parametrize(("frame", "data"), SERIALIZE_CASES)
def test_serialize(frame, data):
    assert serialize_frame(frame) == data


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (Frame("HELLO"), "unknown STOMP command"),
        (Frame("SEND", (("", "v"),)), "empty header name"),
        (Frame("CONNECT", (("k", "a\nb"),)), "not escaped"),
        (Frame("SEND", (("content-length", "5"),), b"x"), "does not match"),
    ],
)
def test_serialize_refuses(frame, message):
    with pytest.raises(LocalProtocolError, match=message):
        serialize_frame(frame)


# ---------------------------------------------------------------------------
# Codec: properties


@given(st.binary(max_size=200))
def test_any_bytes_give_events_or_protocol_error(data):
    try:
        events = parse_all(data)
    except RemoteProtocolError:
        return
    assert all(isinstance(e, Frame | Heartbeat) for e in events)


@given(stomp_frames)
def test_round_trip(spec):
    command, headers, body = spec
    frame = Frame(command, headers, body)
    [parsed] = parse_all(serialize_frame(frame))
    expected = headers + ((("content-length", str(len(body))),) if body else ())
    assert parsed == Frame(command, expected, body)
    assert parsed.get(headers[0][0]) == dict(reversed(headers))[headers[0][0]] if headers else True


@given(st.lists(st.one_of(stomp_frames, st.just(None)), max_size=5), split_points())
def test_split_invariance(specs, cuts):
    data = b"".join(b"\r\n" if s is None else serialize_frame(Frame(*s)) for s in specs)
    whole = parse_all(data)
    assert parse_all(data, [bytes([b]) for b in data]) == whole
    assert parse_all(data, split(data, cuts)) == whole


@given(st.binary(max_size=120), split_points())
def test_split_invariance_of_garbage(data, cuts):
    def outcome(chunks):
        try:
            return parse_all(data, chunks)
        except RemoteProtocolError:
            return "error"

    assert outcome(split(data, cuts)) == outcome([data])


@given(st.binary(min_size=1, max_size=300))
def test_limits_hold(data):
    try:
        events = parse_all(data, max_header_bytes=50, max_frame_bytes=100)
    except RemoteProtocolError:
        return
    for e in events:
        if isinstance(e, Frame):
            assert len(e.body) < 100


# ---------------------------------------------------------------------------
# Client state machine


def connected_client(heartbeat=(0, 0), server_hb="0,0"):
    conn = ClientConnection()
    conn.send(Connect("vhost", "u", "p", heartbeat))
    conn.receive_data(f"CONNECTED\nversion:1.2\nheart-beat:{server_hb}\n\n\x00".encode())
    event = conn.next_event()
    assert isinstance(event, Connected)
    return conn


def test_connect_frame():
    conn = ClientConnection()
    data = conn.send(Connect("vh", "me", "pw:x", (1000, 2000), command="STOMP"))
    assert data == (
        b"STOMP\naccept-version:1.2\nhost:vh\nlogin:me\npasscode:pw:x\nheart-beat:1000,2000\n\n\x00"
    )
    assert conn.state is State.CONNECTING


@pytest.mark.parametrize(
    ("ours", "theirs", "agreed"),
    [
        ((0, 0), (100, 100), (0, 0)),
        ((100, 200), (300, 50), (100, 300)),
        ((10, 0), (0, 20), (20, 0)),
    ],
)
def test_heartbeat_negotiation(ours, theirs, agreed):
    assert negotiate_heartbeat(ours, theirs) == agreed
    conn = connected_client(ours, "{},{}".format(*theirs))
    assert conn.heartbeat == agreed
    assert conn.send(Heartbeat()) == b"\n"


def test_requests():
    conn = connected_client()
    assert conn.send(Subscribe("/q", "s1", "client-individual", receipt="r")) == (
        b"SUBSCRIBE\ndestination:/q\nid:s1\nack:client-individual\nreceipt:r\n\n\x00"
    )
    assert conn.subscriptions == {"s1": ("/q", "client-individual")}
    assert conn.send(Begin("t")) == b"BEGIN\ntransaction:t\n\n\x00"
    assert conn.send(Send("/q", b"x", "text/plain", "t")) == (
        b"SEND\ndestination:/q\ncontent-type:text/plain\ntransaction:t\ncontent-length:1\n\nx\x00"
    )
    assert conn.send(Ack("a1", "t")) == b"ACK\nid:a1\ntransaction:t\n\n\x00"
    assert conn.send(Nack("a2")) == b"NACK\nid:a2\n\n\x00"
    assert conn.send(Commit("t")) == b"COMMIT\ntransaction:t\n\n\x00"
    assert conn.send(Begin("u")) == b"BEGIN\ntransaction:u\n\n\x00"
    assert conn.send(Abort("u", "r2")) == b"ABORT\ntransaction:u\nreceipt:r2\n\n\x00"
    assert conn.send(Unsubscribe("s1")) == b"UNSUBSCRIBE\nid:s1\n\n\x00"
    assert conn.subscriptions == {}
    assert conn.transactions == set()


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (Subscribe("/q", "s", "sometimes"), "ack mode"),
        (Unsubscribe("nope"), "no subscription"),
        (Commit("nope"), "not open"),
        (Send("/q", transaction="nope"), "not open"),
        (Connect("h"), "CONNECT in state CONNECTED"),
    ],
)
def test_local_errors(request_, message):
    conn = connected_client()
    with pytest.raises(LocalProtocolError, match=message):
        conn.send(request_)
    assert conn.state is State.CONNECTED


def test_nothing_before_connected():
    conn = ClientConnection()
    with pytest.raises(LocalProtocolError, match="expected CONNECTED"):
        conn.send(Send("/q"))
    conn.send(Connect("h"))
    with pytest.raises(LocalProtocolError, match="in state CONNECTING"):
        conn.send(Heartbeat())


def test_duplicate_subscription_and_transaction():
    conn = connected_client()
    conn.send(Subscribe("/q", "s"))
    with pytest.raises(LocalProtocolError, match="already in use"):
        conn.send(Subscribe("/r", "s"))
    conn.send(Begin("t"))
    with pytest.raises(LocalProtocolError, match="already open"):
        conn.send(Begin("t"))


def test_message_receipt_error():
    conn = connected_client()
    conn.receive_data(
        b"MESSAGE\ndestination:/q\nsubscription:s\nmessage-id:m1\nack:a1\n\nhello\x00"
        b"\nRECEIPT\nreceipt-id:r\n\n\x00"
        b"ERROR\nmessage:boom\nreceipt-id:r2\ncontent-length:4\n\noops\x00"
    )
    msg = conn.next_event()
    assert isinstance(msg, Message)
    assert (msg.destination, msg.subscription, msg.message_id, msg.ack, msg.body) == (
        "/q",
        "s",
        "m1",
        "a1",
        b"hello",
    )
    assert conn.next_event() == Heartbeat()
    rec = conn.next_event()
    assert isinstance(rec, Receipt)
    assert rec.receipt_id == "r"
    err = conn.next_event()
    assert isinstance(err, Error)
    assert (err.message, err.body, err.receipt_id) == ("boom", b"oops", "r2")
    assert conn.state is State.CLOSED


def test_disconnect_with_receipt():
    conn = connected_client()
    assert conn.send(Disconnect("bye")) == b"DISCONNECT\nreceipt:bye\n\n\x00"
    assert conn.state is State.DISCONNECTING
    conn.receive_data(b"RECEIPT\nreceipt-id:other\n\n\x00RECEIPT\nreceipt-id:bye\n\n\x00")
    assert conn.next_event().receipt_id == "other"
    assert conn.state is State.DISCONNECTING
    assert conn.next_event().receipt_id == "bye"
    assert conn.state is State.CLOSED


def test_disconnect_without_receipt():
    conn = connected_client()
    assert conn.send(Disconnect()) == b"DISCONNECT\n\n\x00"
    assert conn.state is State.CLOSED


def test_error_instead_of_connected():
    conn = ClientConnection()
    conn.send(Connect("h"))
    conn.receive_data(b"ERROR\nmessage:bad login\n\n\x00")
    assert isinstance(conn.next_event(), Error)
    assert conn.version is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MESSAGE\n\n\x00", "expected CONNECTED"),
        (b"CONNECTED\nversion:1.1\n\n\x00", "we speak 1.2"),
        (b"CONNECTED\n\n\x00", "we speak 1.2"),  # no version header = 1.0
        (b"CONNECTED\nversion:1.2\nheart-beat:x\n\n\x00", "bad heart-beat"),
        (b"SEND\n\n\x00", "does not send"),
    ],
)
def test_bad_server_handshake(data, message):
    conn = ClientConnection()
    conn.send(Connect("h"))
    conn.receive_data(data)
    with pytest.raises(RemoteProtocolError, match=message):
        conn.next_event()
    assert conn.state is State.ERROR
    with pytest.raises(RemoteProtocolError):
        conn.next_event()


def test_second_connected_and_receipt_without_id():
    conn = connected_client()
    conn.receive_data(b"CONNECTED\nversion:1.2\n\n\x00")
    with pytest.raises(RemoteProtocolError, match="second CONNECTED"):
        conn.next_event()
    conn = connected_client()
    conn.receive_data(b"RECEIPT\n\n\x00")
    with pytest.raises(RemoteProtocolError, match="receipt-id"):
        conn.next_event()


@given(st.binary(max_size=200))
def test_client_any_bytes(data):
    conn = ClientConnection()
    conn.send(Connect("h"))
    conn.receive_data(data)
    try:
        while conn.next_event() is not None:
            pass
    except RemoteProtocolError:
        assert conn.state is State.ERROR
