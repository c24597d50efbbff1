"""Line framing: split a byte stream at ``\\n`` or ``\\r\\n``, with a length limit.

Used by ``circuits.protocols.line`` (and through it by IRC). Lines are bytes;
the terminator is removed and empty lines are kept, as in circuits 3.2.5.

Strategy: the engine keeps the unterminated tail in one ``bytearray``. Each
``receive_data`` splits off the complete lines at once (one ``split`` call, so
long reads stay linear), queues them, and checks the tail against the limit:
a peer that never sends a newline cannot make us buffer without bound.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

__all__ = [
    "LINESEP",
    "MAX_LINE_BYTES",
    "LineDecoder",
    "LineReceived",
    "LineTooLong",
    "split_lines",
]

# ``\r?\n``: a bare LF ends a line too (many peers send it); a lone CR does not.
LINESEP = re.compile(rb"\r?\n")

# Default limit for one line, terminator excluded. 64 KiB is far above what
# text protocols allow (IRC: 512 bytes + 8191 bytes of tags; SMTP: 1000) and far
# below what would hurt a server holding one buffer per peer.
MAX_LINE_BYTES = 64 * 1024


class LineTooLong(ValueError):
    """A line (or an unterminated tail) exceeded the limit.

    Attributes:
        limit: the limit in bytes.
        size: how many bytes the offending line had (at least) when detected.
    """

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"line of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class LineReceived:
    """One complete line, terminator removed."""

    data: bytes


def split_lines(data: bytes, buffer: bytes = b"") -> tuple[list[bytes], bytes]:
    """Split ``buffer + data`` at every ``\\n`` / ``\\r\\n``.

    Args:
        data: the new bytes.
        buffer: the unterminated rest of the previous call.

    Returns:
        ``(lines, rest)``: the complete lines (empty lines kept) and the new rest.
    """
    pieces = LINESEP.split(buffer + data)
    rest = pieces.pop()
    return pieces, rest


class LineDecoder:
    """Sans-I/O line splitter.

    A line over the limit is reported once, by ``next_event`` raising
    ``LineTooLong`` at its place in the stream; its bytes are discarded up to
    and including its terminator, and the decoder carries on with the next line.

    Args:
        max_line_bytes: the longest line accepted (terminator excluded); ``None``
            for no limit.
    """

    def __init__(self, max_line_bytes: int | None = MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self._tail = b""
        self._queue: deque[bytes | LineTooLong] = deque()
        self._discarding = False  # inside an over-long line, until its terminator

    @property
    def trailing_data(self) -> bytes:
        """The bytes received after the last complete line."""
        return self._tail

    def receive_data(self, data: bytes) -> None:
        """Feed bytes received from the peer (``b""`` is a no-op)."""
        # A CR at the end of the tail may pair with an LF at the start of data.
        lines, self._tail = split_lines(bytes(data), self._tail)
        limit = self.max_line_bytes
        for line in lines:
            if self._discarding:
                self._discarding = False  # the rest of the over-long line
            elif limit is not None and len(line) > limit:
                self._queue.append(LineTooLong(len(line), limit))
            else:
                self._queue.append(line)
        if limit is None or self._discarding:
            if self._discarding:
                self._tail = b""
            return
        # The tail may still end in the CR of a CRLF: allow one byte for it.
        size = len(self._tail)
        if size > limit + 1 or (size == limit + 1 and not self._tail.endswith(b"\r")):
            self._queue.append(LineTooLong(size, limit))
            self._tail = b""
            self._discarding = True

    def next_event(self) -> LineReceived | None:
        """The next complete line, or ``None`` if more data is needed.

        Raises:
            LineTooLong: the next line exceeded the limit (it is skipped).
        """
        if not self._queue:
            return None
        item = self._queue.popleft()
        if isinstance(item, LineTooLong):
            raise item
        return LineReceived(item)

    def send(self, event: LineReceived) -> bytes:
        """Serialise a line with a CRLF terminator.

        Raises:
            ValueError: the line contains CR or LF.
            LineTooLong: the line exceeds the limit.
        """
        data = event.data
        if b"\n" in data or b"\r" in data:
            raise ValueError(f"a line must not contain CR or LF, not {data!r}")
        if self.max_line_bytes is not None and len(data) > self.max_line_bytes:
            raise LineTooLong(len(data), self.max_line_bytes)
        return data + b"\r\n"
