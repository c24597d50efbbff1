"""Hypothesis strategies shared by the test-suite."""

from __future__ import annotations

from hypothesis import strategies as st

# Few distinct values, so that ties (the interesting case for ordering) are common.
priorities = st.one_of(
    st.sampled_from([-2, -1, 0, 0, 0, 1, 2]),
    st.floats(min_value=-3, max_value=3, allow_nan=False, width=16),
)

# Where a handler lives: added to the root Manager itself, or on its own component.
owners = st.sampled_from(["root", "component"])

# A set of handlers on one channel: (owner, priority) in registration order.
handler_specs = st.lists(st.tuples(owners, priorities), min_size=1, max_size=12)

# Fire priorities of one batch.
fire_priorities = st.lists(st.integers(min_value=-3, max_value=3), min_size=1, max_size=20)

# Rounds of test-driven firing: each round fires some events then flushes once; each
# event's handler fires follow-up events with the given priorities.
rounds = st.lists(
    st.lists(
        st.tuples(
            st.integers(min_value=-2, max_value=2),
            st.lists(st.integers(min_value=-2, max_value=2), max_size=3),
        ),
        max_size=6,
    ),
    min_size=1,
    max_size=5,
)

# A cascade: (fire priority, flush inside the handler?, the events its handler fires).
cascades = st.recursive(
    st.tuples(st.integers(min_value=-2, max_value=2), st.booleans(), st.just(())),
    lambda children: st.tuples(
        st.integers(min_value=-2, max_value=2),
        st.booleans(),
        st.lists(children, max_size=4).map(tuple),
    ),
    max_leaves=30,
)


# -- protocol engines ---------------------------------------------------------


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    """Cut ``data`` at the given offsets (taken modulo its length, sorted)."""
    if not data:
        return [data]
    points = sorted({c % len(data) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


cut_points = st.lists(st.integers(min_value=0, max_value=2**16), max_size=12)

# Lines without terminators; a few bytes so CR, LF and CRLF are common.
line_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
line_streams = st.lists(
    st.one_of(st.sampled_from([b"\n", b"\r\n", b"\r", b"a", b"\r\r\n"]), st.binary(max_size=8)),
    max_size=30,
).map(b"".join)

# WebSocket: messages an application sends.
ws_text = st.text(max_size=300)
# Small payloads, plus sizes at the 7/16/64-bit length boundaries (built, not drawn).
ws_bytes = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([125, 126, 127, 65535, 65536, 70000]).map(
        lambda n: bytes(i % 251 for i in range(n))
    ),
)
ws_control_payload = st.binary(max_size=125)

# IRC: parts of messages that serialise.
irc_commands = st.one_of(
    st.sampled_from(["PRIVMSG", "NOTICE", "JOIN", "PING", "MODE"]),
    st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}"),
)
_irc_char = st.characters(blacklist_characters="\r\n\0 ", blacklist_categories=("Cs",))
irc_middle = st.text(_irc_char, min_size=1, max_size=12).filter(lambda s: not s.startswith(":"))
irc_trailing = st.text(
    st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=30
)
irc_prefixes = st.one_of(st.none(), irc_middle)
irc_tags = st.dictionaries(
    st.from_regex(r"\A\+?[a-z]{1,5}(\.[a-z]{1,3}/)?[a-z0-9-]{1,6}\Z"),
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=10),
    max_size=3,
)

# --- STOMP (tests/_sansio/test_stomp_engine.py) ---------------------------------

# Header text: any characters (escaping must carry CR, LF, ":" and "\" through),
# excluding surrogates, which UTF-8 cannot encode.
stomp_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
stomp_headers = st.lists(
    st.tuples(stomp_text.filter(bool).filter(lambda n: n != "content-length"), stomp_text),
    max_size=5,
).map(tuple)
# Frames whose headers are escaped (every command but CONNECT/CONNECTED).
stomp_frames = st.builds(
    lambda command, headers, body: (command, headers, body),
    st.sampled_from(
        ["SEND", "SUBSCRIBE", "MESSAGE", "RECEIPT", "ERROR", "ACK", "NACK", "BEGIN", "DISCONNECT"]
    ),
    stomp_headers,
    st.binary(max_size=40),
)


def split_points():
    """Ascending cut positions for splitting a byte string into chunks."""
    return st.lists(st.integers(min_value=0, max_value=10_000), max_size=8).map(sorted)


# --- HTTP responses (tests/_sansio/test_http_client_engine.py) ------------------

http_tokens = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10).filter(
    lambda n: n not in ("content-length", "transfer-encoding")
)
http_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=15).map(
    str.encode
)
# (status, headers, body, framing): framing is "length", "chunked" or "close".
http_responses = st.tuples(
    st.sampled_from([200, 201, 404, 500, 299]),
    st.lists(st.tuples(http_tokens.map(str.encode), http_values), max_size=4),
    st.binary(max_size=60),
    st.sampled_from(["length", "chunked"]),
    st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=5),
)
