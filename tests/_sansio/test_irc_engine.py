"""The IRC message engine: parsing table, malformed lines, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from tests.strategies import (
    cut_points,
    irc_commands,
    irc_middle,
    irc_prefixes,
    irc_tags,
    irc_trailing,
    splits,
)

from circuits._sansio.irc import IRCEngine, IRCMessage, IRCProtocolError, parse_line, serialize

PARSE_CASES = [
    ("PING :irc.x", IRCMessage("PING", ("irc.x",))),
    (":foo!bar@localhost NICK foobar", IRCMessage("NICK", ("foobar",), "foo!bar@localhost")),
    (":srv 001 nick :Welcome home", IRCMessage("001", ("nick", "Welcome home"), "srv")),
    ("privmsg #c :", IRCMessage("PRIVMSG", ("#c", ""))),
    ("MODE  #c   +o  n ", IRCMessage("MODE", ("#c", "+o", "n"))),
    ("PRIVMSG #c ::-)", IRCMessage("PRIVMSG", ("#c", ":-)"))),
    ("PRIVMSG #c a:b", IRCMessage("PRIVMSG", ("#c", "a:b"))),
    ("QUIT", IRCMessage("QUIT")),
    (
        "@id=1;+x.y/z=a\\sb\\:c;flag :n!u@h PRIVMSG #c :hi",
        IRCMessage("PRIVMSG", ("#c", "hi"), "n!u@h", {"id": "1", "+x.y/z": "a b;c", "flag": ""}),
    ),
]


@pytest.mark.parametrize(("line", "msg"), PARSE_CASES)
def test_parse(line, msg):
    assert parse_line(line) == msg


MALFORMED = [
    ":prefix-only",
    ": NICK x",
    "@tags-only",
    "@bad key=1 PING",
    ":srv :trailing only",
    "12 x",
    "PRIV-MSG x",
    "NICK a\0b",
    "",
    "   ",
]


@pytest.mark.parametrize("line", MALFORMED)
def test_malformed_lines_raise_our_error(line):
    with pytest.raises(IRCProtocolError):
        parse_line(line)


@pytest.mark.parametrize(
    "msg",
    [
        IRCMessage("PRIVMSG", ("a b", "c")),
        IRCMessage("PRIVMSG", ("", "c")),
        IRCMessage("PRIVMSG", (":a", "c")),
        IRCMessage("PRIVMSG", ("a\r\nQUIT",)),
        IRCMessage("PRIV MSG"),
        IRCMessage("PING", (), "has space"),
        IRCMessage("PING", (), None, {"bad key": ""}),
    ],
)
def test_unrepresentable_messages_are_refused(msg):
    with pytest.raises(IRCProtocolError):
        serialize(msg)


def test_serialize():
    assert serialize(IRCMessage("PRIVMSG", ("#c", "hi there"), "n!u@h")) == (
        b":n!u@h PRIVMSG #c :hi there\r\n"
    )
    assert serialize(IRCMessage("PRIVMSG", ("#c", ""))) == b"PRIVMSG #c :\r\n"
    assert serialize(IRCMessage("TAGMSG", ("#c",), None, {"a": "x y"})) == b"@a=x\\sy TAGMSG #c\r\n"


def drain(engine):
    out = []
    while True:
        try:
            ev = engine.next_event()
        except IRCProtocolError:
            out.append("error")
            continue
        if ev is None:
            return out
        out.append(ev)


def feed(chunks, **kwargs):
    engine = IRCEngine(**kwargs)
    out = []
    for chunk in chunks:
        engine.receive_data(chunk)
        out += drain(engine)
    return out


def test_engine_skips_bad_lines_and_empty_lines_and_carries_on():
    data = b"PING :a\r\n\r\n:bad\r\n" + b"X" * 600 + b"\r\nPING :b\n"
    assert feed([data], max_line_bytes=510) == [
        IRCMessage("PING", ("a",)),
        "error",
        "error",
        IRCMessage("PING", ("b",)),
    ]


def test_engine_decodes_invalid_utf8_with_replacement():
    assert feed([b"PRIVMSG #c :\xff\r\n"]) == [IRCMessage("PRIVMSG", ("#c", "\ufffd"))]


messages = st.builds(
    lambda cmd, middles, trailing, prefix, tags: IRCMessage(
        cmd, tuple(middles) + ((trailing,) if trailing is not None else ()), prefix, tags
    ),
    irc_commands,
    st.lists(irc_middle, max_size=5),
    st.one_of(st.none(), irc_trailing),
    irc_prefixes,
    irc_tags,
)


@pytest.mark.slow
@given(st.lists(messages, max_size=5))
def test_round_trip(msgs):
    wire = b"".join(IRCEngine().send(m) for m in msgs)
    assert feed([wire]) == msgs


@given(st.binary(max_size=300), cut_points)
def test_any_bytes_yield_messages_or_our_error_and_splits_do_not_matter(data, cuts):
    out = feed([data], max_line_bytes=40)
    assert all(x == "error" or isinstance(x, IRCMessage) for x in out)
    assert feed(splits(data, cuts), max_line_bytes=40) == out
    assert feed([data[i : i + 1] for i in range(len(data))], max_line_bytes=40) == out


@given(st.text(max_size=80))
def test_any_text_parses_or_raises_our_error(line):
    try:
        msg = parse_line(line)
    except IRCProtocolError:
        return
    assert msg.command


@pytest.mark.slow
@given(st.lists(messages, max_size=3), st.integers(20, 100))
def test_limit_holds(msgs, limit):
    wire = b"".join(serialize(m) for m in msgs)
    out = feed([wire], max_line_bytes=limit)
    assert len(out) == len(msgs)
    for m, got in zip(msgs, out, strict=True):
        assert got == ("error" if len(serialize(m)) - 2 > limit else m)
