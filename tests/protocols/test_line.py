"""The ``Line`` component: client and server modes, limits, exports."""

from __future__ import annotations

import logging

import pytest

from circuits import BaseComponent, Manager, handler
from circuits.net.events import read
from circuits.protocols import Line as Line0
from circuits.protocols.line import LINESEP, Line, splitLines


class Rec(BaseComponent):
    def init(self):
        self.got = []

    @handler("line", "error", "exception", channel="*")
    def _on(self, event, *args, **kwargs):
        self.got.append((event.name, args))


def run(*components, events=()):
    m = Manager()
    rec = Rec().register(m)
    for c in components:
        c.register(m)
    for ev in events:
        m.fire(ev)
    while len(m):
        m.flush()
    return rec.got


def test_exports_and_splitter():
    assert Line0 is Line
    assert LINESEP.pattern == rb"\r?\n"
    assert splitLines(b"1\n2\r\n3\n4", b"") == ([b"1", b"2", b"3"], b"4")


def test_client_mode_buffers_partial_lines():
    comp = Line()
    got = run(comp, events=[read(b"1\n2\r\n3\n4"), read(b"5\n\n")])
    assert got == [("line", (x,)) for x in (b"1", b"2", b"3", b"45", b"")]
    assert comp.buffer == b""
    assert comp.channel == "*"


def test_server_mode_uses_per_socket_buffers():
    buffers: dict[int, bytes] = {}
    comp = Line(
        getBuffer=lambda s: buffers.get(s, b""),
        updateBuffer=buffers.__setitem__,
        channel="srv",
    )
    got = run(comp, events=[read(1, b"1\n2"), read(2, b"a\n"), read(1, b"3\n")])
    assert [a for _, a in got] == [(1, b"1"), (2, b"a"), (1, b"23")]


def test_server_mode_without_buffer_callables_is_an_exception_event():
    got = run(Line(), events=[read(1, b"x\n")])
    assert got[0][0] == "exception"
    assert got[0][1][0] is TypeError


def test_over_long_line_is_an_error_and_the_stream_carries_on(caplog):
    with caplog.at_level(logging.INFO, logger="circuits.protocols"):
        got = run(Line(max_line_bytes=4), events=[read(b"ok\n" + b"x" * 10 + b"\nfine\n")])
    assert [n for n, _ in got] == ["error", "line", "line"]
    assert [a for n, a in got if n == "line"] == [(b"ok",), (b"fine",)]
    assert "over-long" in caplog.text


@pytest.mark.parametrize("data", [b"abc", b"abc\r", b"a\r\nb"])
def test_lines_are_bytes(data):
    got = run(Line(), events=[read(data), read(b"\n")])
    assert all(isinstance(a[0], bytes) for _, a in got)


def test_the_tail_of_an_over_long_unterminated_line_is_dropped_too():
    # the line is cut while still unterminated; what follows up to its newline
    # belongs to it and must not come out as a line of its own
    got = run(
        Line(max_line_bytes=4),
        events=[read(b"ok\n" + b"x" * 10), read(b"yyy"), read(b"zz\nfine\n")],
    )
    assert [a for n, a in got if n == "line"] == [(b"ok",), (b"fine",)]
    assert [n for n, _ in got].count("error") == 1


def test_discarding_is_per_peer_in_server_mode():
    buffers: dict[int, bytes] = {}
    comp = Line(
        getBuffer=lambda s: buffers.get(s, b""),
        updateBuffer=buffers.__setitem__,
        max_line_bytes=4,
    )
    got = run(comp, events=[read(1, b"x" * 10), read(2, b"a\n"), read(1, b"tail\nb\n")])
    assert [a for n, a in got if n == "line"] == [(2, b"a"), (1, b"b")]
