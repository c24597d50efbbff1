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


# --- HTTP responses, as a client reads them (tests/_sansio/test_http1_properties.py) ---

http_tokens = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10).filter(
    lambda n: n not in ("content-length", "transfer-encoding")
)
http_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=15).map(
    str.encode
)
# (status, headers, body, framing, chunk sizes): framing is "length" or "chunked".
http_responses = st.tuples(
    st.sampled_from([200, 201, 404, 500, 299]),
    st.lists(st.tuples(http_tokens.map(str.encode), http_values), max_size=4),
    st.binary(max_size=60),
    st.sampled_from(["length", "chunked"]),
    st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=5),
)


# --- HTTP/1.1 engine (tests/_sansio/test_http1_properties.py) -------------------

_TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Names the engine reads for framing or the connection; generated separately.
_SPECIAL_FIELDS = {
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "expect",
    "upgrade",
    "te",
    "trailer",
}
http1_names = (
    st.text(_TCHARS, min_size=1, max_size=12)
    .filter(lambda n: n.lower() not in _SPECIAL_FIELDS)
    .map(str.encode)
)
# field-value: field-vchar with SP/HTAB inside, obs-text included; no surrounding OWS.
http1_values = st.binary(max_size=20).map(
    lambda b: bytes(c for c in b if c in (9, 32) or 0x21 <= c <= 0x7E or c >= 0x80).strip(b" \t")
)
http1_fields = st.lists(st.tuples(http1_names, http1_values), max_size=6).map(tuple)
http1_methods = st.one_of(
    st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"]),
    st.text(_TCHARS, min_size=1, max_size=8)
    .map(str.encode)
    .filter(lambda m: m not in (b"CONNECT", b"HEAD")),
)
_PCHARS = "abcXYZ019-._~!$&'()*+,;=:@"
http1_targets = st.builds(
    lambda segments, query: b"/" + b"/".join(segments) + query,
    st.lists(
        st.one_of(
            st.text(_PCHARS, max_size=6).map(str.encode),
            st.binary(min_size=1, max_size=2).map(lambda b: b"".join(b"%%%02X" % c for c in b)),
        ),
        max_size=4,
    ),
    st.one_of(st.just(b""), st.text(_PCHARS + "/?", max_size=10).map(lambda q: b"?" + q.encode())),
)
http1_hosts = st.sampled_from([b"example.com", b"example.com:8080", b"127.0.0.1", b"[::1]:80"])
# Body pieces (several Data events); "length" / "chunked" framing, or none for requests.
http1_bodies = st.lists(st.binary(max_size=30), max_size=4)
http1_trailers = st.lists(st.tuples(http1_names, http1_values), max_size=2).map(tuple)

# (method, target, host, fields, framing, body pieces, trailers)
http1_requests = st.tuples(
    http1_methods,
    http1_targets,
    http1_hosts,
    http1_fields,
    st.sampled_from(["length", "chunked", "none"]),
    http1_bodies,
    http1_trailers,
)
# (request method, status, reason, fields, framing, body pieces, trailers)
http1_responses = st.tuples(
    st.sampled_from([b"GET", b"HEAD", b"POST"]),
    st.one_of(st.sampled_from([200, 201, 204, 304, 404, 500]), st.integers(200, 599)),
    st.text("abc XYZ-", max_size=12).map(lambda r: r.strip().encode()),
    http1_fields,
    st.sampled_from(["length", "chunked", "auto"]),
    http1_bodies,
    http1_trailers,
)


def _tagged(valid, stricter=(), both_reject=()):
    """Pieces tagged "ok" (both engines accept), "stricter" (we reject what h11
    accepts: see test_http1_properties) or "bad" (both reject)."""
    return st.one_of(
        *(st.tuples(st.just(v), st.just("ok")) for v in valid),
        *(st.tuples(st.just(v), st.just("stricter")) for v in stricter),
        *(st.tuples(st.just(v), st.just("bad")) for v in both_reject),
    )


# Parts of a request, mostly valid, some broken in ways where we agree with h11
# and some where we are deliberately stricter.
_h1_method = _tagged([b"GET", b"POST", b"PUT", b"X-Custom"], both_reject=[b"G(T", b"G@T"])
_h1_target = _tagged(
    [b"/", b"/a/b?c=d&e", b"/%41", b"http://example.com/x?y"],
    stricter=[b"*", b"a/b", b"/a{b}", b"/%zz", b"/a|b"],
    both_reject=[b"/\xe9", b"/a\x00"],
)
_h1_version = _tagged(
    [b"HTTP/1.1", b"HTTP/1.0"],
    stricter=[b"HTTP/2.0", b"HTTP/1.2"],
    both_reject=[b"http/1.1", b"HTTP/1", b"HTTP/1.1 "],
)
_h1_field = _tagged(
    [b"X-A: b", b"X-B:c d", b"X-C: \xe9", b"Accept: */*", b"X-Empty:"],
    stricter=[b"X-D: a\x01b", b"X-E: a\x7f", b" folded", b"Host: a b"],
    both_reject=[b"X-F : a", b"X-G: a\x00b", b"X-H: a\rb", b": a", b"X(I): a", b"NoColon"],
)
_h1_framing = st.sampled_from(
    [
        ("none", "ok"),
        ("cl", "ok"),
        ("te", "ok"),
        ("te-ext", "ok"),
        ("cl-cl", "stricter"),  # identical repeats: RFC 9110 allows, we refuse
        ("cl-list", "stricter"),
        ("te-cl", "stricter"),
        ("te-size-space", "stricter"),
        ("te-long-size", "stricter"),
        ("cl-plus", "bad"),
        ("cl-hex", "bad"),
        ("te-gzip-chunked", "bad"),
        ("te-chunk-0x", "bad"),
    ]
)
# (method, target, version, host lines, fields, framing, body)
http1_h11_requests = st.tuples(
    _h1_method,
    _h1_target,
    _h1_version,
    st.integers(min_value=0, max_value=2),
    st.lists(_h1_field, max_size=4),
    _h1_framing,
    st.binary(min_size=1, max_size=12),
)

# --- multipart/form-data (tests/_sansio/test_multipart_engine.py) -----------------------

_BCHARS = "0123456789AaBbZz'()+_,-./:=?"
# RFC 2046 boundaries: 1-70 bchars, a space allowed but not last.
multipart_boundaries = st.builds(
    lambda body, last: (body + last).encode(),
    st.text(_BCHARS + " ", max_size=10),
    st.sampled_from(_BCHARS),
)
# (name, filename or None, payload) per part; payloads likely to contain delimiter pieces.
multipart_bodies = st.lists(
    st.tuples(
        st.text("abcxyz_-", min_size=1, max_size=6),
        st.none() | st.text("abc.txt ", min_size=1, max_size=8),
        st.lists(st.sampled_from([b"\r", b"\n", b"-", b"--", b"\r\n--", b"x", b"A", b"\x00"])).map(
            b"".join
        ),
    ),
    max_size=4,
)
