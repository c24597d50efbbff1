"""Line protocol: split ``read`` data into ``line`` events.

Sits on the channel of a socket or file component; used by ``IRC``. The
splitting is ``circuits._sansio.line``; this module keeps the 3.2.5 API
(``splitLines``, ``LINESEP``, per-socket buffers through callables).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .._sansio.line import LINESEP as LINESEP, LineTooLong, split_lines
from ..core.components import BaseComponent as BaseComponent
from ..core.events import Event as Event
from ..core.handlers import handler as handler
from ..net.events import error

__all__ = ["LINESEP", "BaseComponent", "Event", "Line", "handler", "line", "splitLines"]

log = logging.getLogger("circuits.protocols")


class line(Event):
    """One line (bytes, terminator removed): ``line(data)`` or ``line(sock, data)``."""


def splitLines(s: bytes, buffer: bytes) -> tuple[list[bytes], bytes]:
    """Split ``buffer + s`` at every ``\\n`` / ``\\r\\n``.

    Args:
        s: the new data.
        buffer: the unterminated rest of the previous call.

    Returns:
        ``(lines, rest)``: complete lines (empty ones kept) and the new rest.
    """
    return split_lines(s, buffer)


class Line(BaseComponent):
    """Fire ``line`` for every complete line of the ``read`` data on its channel.

    Constructor arguments:
        encoding: stored only (lines are bytes).
        getBuffer: ``sock -> bytes``, the rest kept for ``sock`` (server mode).
        updateBuffer: ``(sock, bytes) -> None``, store the new rest (server mode).
        splitter: ``(data, buffer) -> (lines, rest)``, default ``splitLines``.
        max_line_bytes: if given, a longer line (or unterminated rest) is
            dropped and reported as an ``error`` event; default unlimited (3.2.5).
        **kwargs: also passed to ``BaseComponent`` (``channel=``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoding: str = kwargs.get("encoding", "utf-8")
        self.getBuffer: Callable[[Any], bytes] | None = kwargs.get("getBuffer")
        self.updateBuffer: Callable[[Any, bytes], None] | None = kwargs.get("updateBuffer")
        self.splitter: Callable[[bytes, bytes], tuple[list[bytes], bytes]] = kwargs.get(
            "splitter", splitLines
        )
        self.max_line_bytes: int | None = kwargs.get("max_line_bytes")
        self.buffer = b""
        # Peers (None in client mode) inside a dropped over-long line.
        self._discarding: set[Any] = set()

    @handler("read")
    def _on_read(self, *args: Any) -> None:
        if len(args) == 1:
            lines, self.buffer = self._split(None, args[0], self.buffer)
            for x in lines:
                self.fire(line(x))
            return
        sock, data = args
        if self.getBuffer is None or self.updateBuffer is None:
            raise TypeError("Line in server mode needs getBuffer and updateBuffer callables")
        lines, rest = self._split(sock, data, self.getBuffer(sock))
        self.updateBuffer(sock, rest)
        for x in lines:
            self.fire(line(sock, x))

    def _split(self, sock: Any, data: bytes, buffer: bytes) -> tuple[list[bytes], bytes]:
        limit = self.max_line_bytes
        if limit is not None and sock in self._discarding:
            # The rest of a line already reported as too long: skip to its end.
            end = data.find(b"\n")
            if end < 0:
                return [], b""
            self._discarding.discard(sock)
            data, buffer = data[end + 1 :], b""
        lines, rest = self.splitter(data, buffer)
        if limit is None:
            return lines, rest
        kept = [x for x in lines if len(x) <= limit]
        too_long = len(kept) != len(lines)
        if len(rest) > limit + 1:  # one byte of slack for the CR of a split CRLF
            rest, too_long = b"", True
            self._discarding.add(sock)
        if too_long:
            exc = LineTooLong(max(len(rest), *map(len, lines)), limit)
            log.info("%s: dropping an over-long line: %s", sock or "peer", exc)
            self.fire(error(exc) if sock is None else error(sock, exc))
        return kept, rest
