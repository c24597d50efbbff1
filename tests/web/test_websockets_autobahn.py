"""Autobahn|Testsuite case groups 1-7, by hand, against the echo server.

Representative cases of the fuzzing client's groups (numbers as in the
suite): 1 framing, 2 pings/pongs, 3 reserved bits, 4 reserved opcodes,
5 fragmentation, 6 UTF-8 handling, 7 close handling. Each case is a list of
steps run over a raw socket after the opening handshake:

* ``send(data)`` / ``chop(data, n)`` - write frames (``chop``: ``n`` bytes per write);
* ``recv(opcode, payload)`` - the server's next message or control frame;
* ``closed(code)`` - the server sends a close frame with ``code`` (``None``:
  no code) and closes the TCP connection.

A case without ``closed`` ends with a normal close handshake (1000 echoed).
Where the suite accepts either a message or its absence ("non-strict"), the
case sends the violation only after the message was echoed, so the outcome
is deterministic.
"""

from __future__ import annotations

import struct

import pytest
from tests.web.ws_harness import Echo, RawClient, close_frame, frame, ws_site

TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0


def send(data):
    return ("send", data)


def chop(data, n=1):
    return ("chop", data, n)


def recv(opcode, payload=b""):
    return ("recv", opcode, payload.encode() if isinstance(payload, str) else payload)


def closed(code):
    return ("closed", code)


def T(payload=b"", **kw):  # frame constructors, named like opcodes
    return frame(TEXT, payload, **kw)


def B(payload=b"", **kw):
    return frame(BINARY, payload, **kw)


def C(payload=b"", **kw):
    return frame(CONT, payload, **kw)


def P(payload=b"", **kw):
    return frame(PING, payload, **kw)


def PO(payload=b"", **kw):
    return frame(PONG, payload, **kw)


HELLO = "Hello, world!"
UTF8_TEXT = "Hello-µ@ßöäüàá-UTF-8!!"
KOSME = "κόσμε"
# Autobahn 6.3.1: valid UTF-8 up to an encoded surrogate (U+D800), then "edited".
BAD_UTF8 = bytes.fromhex("cebae1bdb9cf83cebcceb5eda080656469746564")

CASES: dict[str, list] = {}

# -- 1 framing ------------------------------------------------------------------
for i, n in enumerate([0, 125, 126, 127, 128, 65535, 65536], 1):
    CASES[f"1.1.{i} text {n}"] = [send(T("*" * n)), recv(TEXT, "*" * n)]
    CASES[f"1.2.{i} binary {n}"] = [send(B(b"\xfe" * n)), recv(BINARY, b"\xfe" * n)]
CASES["1.1.8 text 65536 in 997-byte writes"] = [chop(T("*" * 65536), 997), recv(TEXT, "*" * 65536)]
CASES["1.2.8 binary 65536 in 997-byte writes"] = [
    chop(B(b"\xfe" * 65536), 997),
    recv(BINARY, b"\xfe" * 65536),
]

# -- 2 pings and pongs ------------------------------------------------------------
CASES["2.1 ping without payload"] = [send(P()), recv(PONG)]
CASES["2.2 ping with text payload"] = [send(P(HELLO)), recv(PONG, HELLO)]
CASES["2.3 ping with binary payload"] = [
    send(P(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")),
    recv(PONG, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"),
]
CASES["2.4 ping with 125 bytes"] = [send(P(b"\xfe" * 125)), recv(PONG, b"\xfe" * 125)]
CASES["2.5 ping with 126 bytes fails"] = [send(P(b"\xfe" * 126)), closed(1002)]
CASES["2.6 ping with 125 bytes, byte-wise"] = [chop(P(b"\xfe" * 125)), recv(PONG, b"\xfe" * 125)]
CASES["2.7 unsolicited pong"] = [send(PO())]
CASES["2.8 unsolicited pong with payload"] = [send(PO("unsolicited pong payload"))]
CASES["2.9 unsolicited pong, then ping"] = [
    send(PO("unsolicited pong payload") + P("ping payload")),
    recv(PONG, "ping payload"),
]
CASES["2.10 ten pings"] = [
    send(b"".join(P(f"payload-{i}") for i in range(10))),
    *(recv(PONG, f"payload-{i}") for i in range(10)),
]
CASES["2.11 ten pings, byte-wise"] = [
    chop(b"".join(P(f"payload-{i}") for i in range(10))),
    *(recv(PONG, f"payload-{i}") for i in range(10)),
]

# -- 3 reserved bits ------------------------------------------------------------------
CASES["3.1 RSV=1 on text"] = [send(T(HELLO, rsv=1)), closed(1002)]
CASES["3.2 RSV=2 after a good message"] = [
    send(T(HELLO)),
    recv(TEXT, HELLO),
    send(T(HELLO, rsv=2)),
    closed(1002),
]
CASES["3.3 RSV=3, then ping (no pong)"] = [
    send(T(HELLO)),
    recv(TEXT, HELLO),
    send(T(HELLO, rsv=3) + P()),
    closed(1002),
]
CASES["3.4 RSV=4, byte-wise"] = [
    send(T(HELLO)),
    recv(TEXT, HELLO),
    chop(T(HELLO, rsv=4) + P()),
    closed(1002),
]
CASES["3.5 RSV=5 on binary"] = [send(B(b"\x00\xff", rsv=5)), closed(1002)]
CASES["3.6 RSV=6 on ping"] = [send(P(HELLO, rsv=6)), closed(1002)]
CASES["3.7 RSV=7 on close"] = [send(frame(CLOSE, struct.pack("!H", 1000), rsv=7)), closed(1002)]

# -- 4 reserved opcodes -----------------------------------------------------------------
for section, kind, opcodes, deliver in (
    ("4.1", "data", [3, 4, 5, 6, 7], send),
    ("4.2", "control", [11, 12, 13, 14, 15], chop),
):
    for i, op in enumerate(opcodes, 1):
        CASES[f"{section}.{i} {kind} opcode {op}"] = [
            send(T(HELLO)),
            recv(TEXT, HELLO),
            deliver(frame(op, b"reserved payload" if i % 2 == 0 else b"") + P()),
            closed(1002),
        ]

# -- 5 fragmentation ----------------------------------------------------------------------
CASES["5.1 fragmented ping"] = [send(P("fragment1", fin=False) + C("fragment2")), closed(1002)]
CASES["5.2 fragmented pong"] = [send(PO("fragment1", fin=False) + C("fragment2")), closed(1002)]
CASES["5.3 text in two fragments"] = [
    send(T("fragment1", fin=False) + C("fragment2")),
    recv(TEXT, "fragment1fragment2"),
]
CASES["5.4 text in two fragments, byte-wise"] = [
    chop(T("fragment1", fin=False) + C("fragment2")),
    recv(TEXT, "fragment1fragment2"),
]
CASES["5.5 binary in two fragments"] = [
    send(B(b"\x01", fin=False) + C(b"\x02")),
    recv(BINARY, b"\x01\x02"),
]
CASES["5.6 ping between fragments"] = [
    send(T("fragment1", fin=False) + P("ping") + C("fragment2")),
    recv(PONG, "ping"),
    recv(TEXT, "fragment1fragment2"),
]
CASES["5.7 ping between fragments, byte-wise"] = [
    chop(T("fragment1", fin=False) + P("ping") + C("fragment2")),
    recv(PONG, "ping"),
    recv(TEXT, "fragment1fragment2"),
]
CASES["5.8 pong between fragments"] = [
    send(T("fragment1", fin=False) + PO("pong") + C("fragment2")),
    recv(TEXT, "fragment1fragment2"),
]
CASES["5.9 continuation without a start"] = [
    send(C("fragment1", fin=False) + T("fragment2") + C("fragment3")),
    closed(1002),
]
CASES["5.10 continuation without a start, byte-wise"] = [
    chop(C("fragment1", fin=False) + T("fragment2") + C("fragment3")),
    closed(1002),
]
CASES["5.13 final continuation without a start"] = [send(C("fragment1")), closed(1002)]
CASES["5.15 continuation after a finished message"] = [
    send(T("fragment1", fin=False) + C("fragment2")),
    recv(TEXT, "fragment1fragment2"),
    send(C("fragment3", fin=False) + T("fragment4")),
    closed(1002),
]
CASES["5.18 new text before the last one finished"] = [
    send(T("fragment1", fin=False) + T("fragment2")),
    closed(1002),
]
# 5.19 and 5.20: the same frames, whole and byte by byte.
_FIVE_FRAGMENTS_TWO_PINGS = (
    T("fragment1", fin=False)
    + C("fragment2", fin=False)
    + P("pongme 1!")
    + C("fragment3", fin=False)
    + C("fragment4", fin=False)
    + P("pongme 2!")
    + C("fragment5")
)
_PONGS_THEN_THE_MESSAGE = [
    recv(PONG, "pongme 1!"),
    recv(PONG, "pongme 2!"),
    recv(TEXT, "fragment1fragment2fragment3fragment4fragment5"),
]
CASES["5.19 pings among five fragments"] = [
    send(_FIVE_FRAGMENTS_TWO_PINGS),
    *_PONGS_THEN_THE_MESSAGE,
]
CASES["5.20 pings among five fragments, byte-wise"] = [
    chop(_FIVE_FRAGMENTS_TWO_PINGS),
    *_PONGS_THEN_THE_MESSAGE,
]

# -- 6 UTF-8 handling ------------------------------------------------------------------------


def fragments(data: bytes, size: int) -> bytes:
    """``data`` as a text message in fragments of ``size`` bytes (code points may split)."""
    parts = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    out = [T(parts[0], fin=len(parts) == 1)]
    out += [C(p, fin=j == len(parts) - 1) for j, p in enumerate(parts[1:], 1)]
    return b"".join(out)


CASES["6.1.1 empty text"] = [send(T()), recv(TEXT, "")]
CASES["6.1.2 empty fragments"] = [send(T(fin=False) + C(fin=False) + C()), recv(TEXT, "")]
CASES["6.1.3 empty fragments around a middle"] = [
    send(T(fin=False) + C("middle", fin=False) + C()),
    recv(TEXT, "middle"),
]
CASES["6.2.1 valid UTF-8 in one frame"] = [send(T(UTF8_TEXT)), recv(TEXT, UTF8_TEXT)]
CASES["6.2.2 valid UTF-8 split inside a code point"] = [
    send(fragments(UTF8_TEXT.encode(), 7)),
    recv(TEXT, UTF8_TEXT),
]
CASES["6.2.3 valid UTF-8, one byte per fragment"] = [
    send(fragments(UTF8_TEXT.encode(), 1)),
    recv(TEXT, UTF8_TEXT),
]
CASES["6.2.4 kosme, one byte per fragment, byte-wise"] = [
    chop(fragments(KOSME.encode(), 1)),
    recv(TEXT, KOSME),
]
CASES["6.3.1 invalid UTF-8 in one frame"] = [send(T(BAD_UTF8)), closed(1007)]
CASES["6.3.2 invalid UTF-8, one byte per fragment"] = [
    send(fragments(BAD_UTF8, 1)),
    closed(1007),
]
# Fail fast: the bad fragment is rejected before the message ends.
CASES["6.4.1 fail fast on an invalid fragment"] = [
    send(T(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", fin=False)),
    send(C(b"\xf4\x90\x80\x80", fin=False)),
    closed(1007),
]
CASES["6.4.3 fail fast inside a frame's bytes"] = [
    send(T(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80", fin=False)),
    closed(1007),
]
VALID = ["\x00", "\x7f", "\u0080", "\u07ff", "\u0800", "\ufffd", "\uffff", "\U00010000"]
VALID += ["\U0010ffff", "\ufeff", "\ue000"]
for i, s in enumerate(VALID, 1):
    CASES[f"6.x.{i} valid U+{ord(s):04X}"] = [send(T(s)), recv(TEXT, s)]
INVALID = {
    "lone continuation 0x80": b"\x80",
    "lone continuation 0xbf": b"\xbf",
    "overlong '/'": b"\xc0\xaf",
    "overlong 3-byte": b"\xe0\x80\xaf",
    "overlong 4-byte": b"\xf0\x80\x80\xaf",
    "surrogate U+D800": b"\xed\xa0\x80",
    "surrogate U+DFFF": b"\xed\xbf\xbf",
    "over U+10FFFF": b"\xf4\x90\x80\x80",
    "5-byte sequence": b"\xf8\x88\x80\x80\x80",
    "0xfe": b"\xfe",
    "0xff": b"\xff",
    "truncated 2-byte at the end": b"abc\xce",
    "truncated 3-byte at the end": b"abc\xe2\x82",
    "start byte then ASCII": b"\xc2A",
}
for name, data in INVALID.items():
    CASES[f"6.y {name}"] = [send(T(data)), closed(1007)]
    CASES[f"6.z {name}, fragmented"] = [send(fragments(b"ok" + data, 1)), closed(1007)]

# -- 7 close handling ---------------------------------------------------------------------------
CASES["7.1.1 message then close"] = [send(T(HELLO)), recv(TEXT, HELLO)]
CASES["7.1.2 two closes"] = [send(close_frame(1000) + close_frame(1000)), closed(1000)]
CASES["7.1.3 ping after close"] = [send(close_frame(1000) + P("ping")), closed(1000)]
CASES["7.1.4 text after close"] = [send(close_frame(1000) + T(HELLO)), closed(1000)]
CASES["7.1.5 close between fragments"] = [
    send(T("fragment1", fin=False) + close_frame(1000) + C("fragment2")),
    closed(1000),
]
CASES["7.1.6 large message then close"] = [send(T("*" * 65536) + close_frame(1000)), closed(1000)]
CASES["7.3.1 close without payload"] = [send(close_frame(None)), closed(None)]
CASES["7.3.2 close with a 1-byte payload"] = [send(frame(CLOSE, b"\x03")), closed(1002)]
CASES["7.3.3 close 1000"] = [send(close_frame(1000)), closed(1000)]
CASES["7.3.4 close 1000 with a reason"] = [send(close_frame(1000, "Hello World!")), closed(1000)]
CASES["7.3.5 close 1000 with a 123-byte reason"] = [
    send(close_frame(1000, "*" * 123)),
    closed(1000),
]
CASES["7.3.6 close with a 124-byte reason (126 bytes)"] = [
    send(close_frame(1000, "*" * 124)),
    closed(1002),
]
CASES["7.5.1 close reason not UTF-8"] = [send(close_frame(1000, BAD_UTF8)), closed(1007)]
for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]:
    CASES[f"7.7 valid close code {code}"] = [send(close_frame(code)), closed(code)]
for code in [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535]:
    CASES[f"7.9 invalid close code {code}"] = [send(close_frame(code)), closed(1002)]


@pytest.fixture(scope="module")
def site():
    with ws_site(echo=Echo(welcome=False, prefix="")) as running:
        yield running


@pytest.mark.parametrize("steps", list(CASES.values()), ids=list(CASES))
def test_case(site, steps):
    client = RawClient(site.port)
    try:
        for step in steps:
            kind = step[0]
            if kind == "send":
                client.send(step[1])
            elif kind == "chop":
                client.send(step[1], chop=step[2])
            elif kind == "recv":
                opcode, payload = client.recv_message()
                assert (opcode, payload[:200]) == (step[1], step[2][:200])
                assert payload == step[2]
            else:
                assert client.expect_close() == step[1]
                return
        client.send(close_frame(1000))
        assert client.expect_close() == 1000
    finally:
        client.close()


def test_every_connection_was_ended(site):
    """Each case's connection produced one connect and one disconnect on wsserver."""
    echo = site.echo
    assert echo.wait(lambda: len(echo.disconnects) == len(echo.connects))
    assert len(echo.connects) >= len(CASES)
    assert len({id(s) for s in echo.disconnects}) == len(echo.disconnects)
