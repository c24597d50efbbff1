"""IRC: Message, commands, utils, replies, and the IRC component (events and a real socket)."""

from __future__ import annotations

import socket
import threading

import pytest

import circuits.protocols.irc as irc
from circuits import BaseComponent, Component, Manager, handler
from circuits.net.events import read
from circuits.net.sockets import UNIXClient
from circuits.protocols.irc import (
    IRC,
    JOIN,
    KICK,
    MODE,
    NAMES,
    NICK,
    PART,
    PONG,
    PRIVMSG,
    QUIT,
    TOPIC,
    USER,
    WHO,
    WHOIS,
    Message,
    irc_color_to_ansi,
    joinprefix,
    parsemsg,
    parseprefix,
    replies as R,
    strip,
)
from circuits.protocols.irc.message import Error
from circuits.testing import running

# -- Message, commands, utils ------------------------------------------------------


@pytest.mark.parametrize(
    ("ev", "wire"),
    [
        (NICK("test"), b"NICK test\r\n"),
        (
            USER("foo", "localhost", "localhost", "Test Client"),
            b"USER foo localhost localhost :Test Client\r\n",
        ),
        (PONG("a", "b"), b"PONG a b\r\n"),
        (QUIT(), b"QUIT \r\n"),
        (QUIT("Test Message"), b"QUIT :Test Message\r\n"),
        (JOIN("#test", "secret"), b"JOIN #test secret\r\n"),
        (PART("#a", "bye now"), b"PART #a :bye now\r\n"),
        (PRIVMSG("test", "Hello World"), b"PRIVMSG test :Hello World\r\n"),
        (KICK("#test", "test", "Good Bye!"), b"KICK #test test :Good Bye!\r\n"),
        (TOPIC("#test", "Hello World!"), b"TOPIC #test :Hello World!\r\n"),
        (MODE("#test", "+o", "test"), b"MODE #test +o test\r\n"),
        (NAMES(), b"NAMES \r\n"),
        (WHO("n", "o"), b"WHO n o\r\n"),
        (WHOIS("nick"), b"WHOIS nick\r\n"),
        (WHOIS("nick", "srv"), b"WHOIS srv nick\r\n"),
    ],
)
def test_commands(ev, wire):
    assert ev.name == "request"
    assert bytes(ev.args[0]) == wire


def test_message_rules():
    assert str(Message("X")) == "X \r\n"
    assert str(Message("PRIVMSG", "#c", "")) == "PRIVMSG #c \r\n"
    assert str(Message("JOIN", "#a", prefix=None)) == ":None JOIN #a\r\n"
    assert repr(Message("A", "b c")) == repr("A :b c")
    assert Message("A", b"b", 3).args == ["b", "3"]
    assert Message("A", "b") == Message("A", "b")
    assert Message("A", "b") != Message("A", "c")
    with pytest.raises(Error, match="very last arg"):
        Message("A", "b c", "d")
    with pytest.raises(Error, match="newline"):
        Message("A", "b\nc")
    m = Message.from_string(b":n!u@h PRIVMSG #x :hi there")
    assert str(m) == ":('n', 'u', 'h') PRIVMSG #x :hi there\r\n"
    with pytest.raises(Error, match="512"):
        Message.from_string(b"A " + b"x" * 511)


def test_utils():
    assert parsemsg(b":foo!bar@localhost NICK foobar") == (
        ("foo", "bar", "localhost"),
        "NICK",
        ["foobar"],
    )
    assert parsemsg(b"") == ((None, None, None), None, [])
    assert parsemsg(b":srv 001 nick :Welcome") == (("srv", None, None), "001", ["nick", "Welcome"])
    with pytest.raises(ValueError):
        parsemsg(b":prefix-only")
    assert parseprefix("!a@b") == ("!a@b", None, None)
    assert parseprefix("") == (None, None, None)
    assert joinprefix(None, "u", None) == "!u@"
    assert irc.sourceJoin is joinprefix
    assert irc.sourceSplit is parseprefix
    assert strip(":\x01\x02test\x02\x01", color=True) == "test"
    assert strip(":\x0304,05red\x03\x0f", color=True) == "red"
    assert irc_color_to_ansi("\x0302blue") == "\x1b[34mblue\x1b[m"
    assert irc_color_to_ansi("\x0304red\x03 ") == "\x1b[31mred\x1b[39;49m "
    assert irc_color_to_ansi("\x0301,02x", reset=False) == "\x1b[30;44mx"
    assert irc_color_to_ansi("\x0316x\x0399y") == "\x1b[52mx\x1b[39m" + "y\x1b[m"


def test_numerics_and_exports():
    assert irc.RPL_WELCOME == 1
    assert irc.ERR_USERSDONTMATCH == 502
    assert irc.JOIN is JOIN  # the command, not the reply
    assert not hasattr(irc, "RPL_MOTD") or irc.RPL_MOTD == 372


@pytest.mark.parametrize(
    ("msg", "text"),
    [
        (R.ERROR("h", "r"), "ERROR :Closing link: h (r)"),
        (R.PING("s"), "PING :s"),
        (R.PONG("s", "t"), "PONG s :t"),
        (R.RPL_WELCOME("net"), "001 :Welcome to the net IRC Network"),
        (R.RPL_ISUPPORT(("A=1", "B")), "005 A=1 B :are supported by this server"),
        (R.RPL_NAMEREPLY("#c", ["a", "b"]), "353 = #c :a b"),
        (R.RPL_WHOREPLY("#c", "u", "h", "s", "n", "H", 0, "Real"), "352 #c u h s n H :0 Real"),
        (R.RPL_INVITING("#c", "n"), "341 :#c n"),
        (R.ERR_UNKNOWNMODE("x", "#c"), "472 x :is unknown mode char to me for channel #c"),
        (R.ERR_NOMOTD(), "422 :MOTD file is missing"),
    ],
)
def test_replies(msg, text):
    assert str(msg) == text + "\r\n"


# -- the component, driven by events -------------------------------------------------


class Rec(BaseComponent):
    def init(self, names=None):
        self.got = []

    @handler(channel="*", priority=100)
    def _on(self, event, *args, **kwargs):
        if event.name in {
            "notice",
            "ping",
            "numeric",
            "privmsg",
            "nick",
            "write",
            "error",
            "exception",
            "request",
        }:
            self.got.append((event.name, args))


def run(comp, *events):
    m = Manager()
    rec = Rec().register(m)
    comp.register(m)
    for ev in events:
        m.fire(ev)
    while len(m):
        m.flush()
    return rec.got


def test_client_events():
    got = run(
        IRC(),
        read(b":srv NOTICE * :*** Looking\r\n:srv 433 * nick :Nickname in use\r\n"),
        read(b":n!u@h PRIVMSG #c :hi th"),
        read(b"ere\r\n\r\n"),
    )
    assert got == [
        ("notice", (("srv", None, None), "*", "*** Looking")),
        ("numeric", (("srv", None, None), 433, "*", "nick", "Nickname in use")),
        ("privmsg", (("n", "u", "h"), "#c", "hi there")),
    ]


def test_ping_is_answered():
    got = run(IRC(), read(b"PING :abc\r\n"))
    assert got[0] == ("ping", ((None, None, None), "abc"))
    assert got[-1] == ("write", (b"PONG abc\r\n",))


def test_server_form():
    buffers: dict = {}
    comp = IRC(getBuffer=lambda s: buffers.get(s, b""), updateBuffer=buffers.__setitem__)
    got = run(comp, read("sock", b"NICK foo\r\nPING x\r\n"))
    assert got[0] == ("nick", ("sock", (None, None, None), "foo"))
    assert got[1] == ("ping", ("sock", (None, None, None), "x"))
    assert len(got) == 2  # server pings are the application's business


def test_malformed_line_is_an_error_event_and_the_stream_goes_on():
    got = run(IRC(), read(b":bare-prefix\r\nPING :ok\r\n"))
    assert got[0][0] == "error"
    assert isinstance(got[0][1][0], ValueError)
    assert got[1] == ("ping", ((None, None, None), "ok"))


# -- against an in-test server on a real socket pair -------------------------------------


class Bot(Component):
    channel = "irc"

    def init(self):
        self.joined = threading.Event()
        self.said: list = []

    def ready(self, *args):
        self.fire(NICK("bot"))
        self.fire(USER("bot", "h", "s", "A Bot"))

    def numeric(self, prefix, num, *args):
        if num == 1:
            self.fire(JOIN("#test"))

    def join(self, prefix, channel):
        self.joined.set()

    def privmsg(self, prefix, target, text):
        self.said.append((prefix[0], target, text))
        self.fire(PRIVMSG(prefix[0], f"echo {text}"))


def test_bot_against_a_server_over_a_socket_pair():
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.settimeout(5)
    client = UNIXClient(ours, channel="irc")
    client._connected = True
    m = Manager()
    bot = Bot().register(m)
    client.register(m)
    IRC(channel="irc").register(m)
    try:
        with running(m):
            rfile = theirs.makefile("rb")
            assert rfile.readline() == b"NICK bot\r\n"
            assert rfile.readline() == b"USER bot h s :A Bot\r\n"
            theirs.sendall(b":srv 001 bot :Welcome\r\n:srv NOT")
            assert rfile.readline() == b"JOIN #test\r\n"
            theirs.sendall(b"ICE bot :hi\r\n:bot!b@h JOIN #test\r\n")
            assert bot.joined.wait(5)
            theirs.sendall(b"PING :srv\r\n:al!a@h PRIVMSG bot :how are you\r\n")
            assert rfile.readline() == b"PONG srv\r\n"
            assert rfile.readline() == b"PRIVMSG al :echo how are you\r\n"
            assert bot.said == [("al", "bot", "how are you")]
    finally:
        theirs.close()
