"""``FileRegion``: part of a file queued on a stream socket, sent without copying.

A stream server accepts a `FileRegion` in ``write(sock, region)`` as it
accepts bytes: it is queued in order with the socket's other writes, and when
its turn comes the kernel copies the bytes from the file to the socket
(``os.sendfile``), a piece at a time as the socket drains. Nothing of the file
passes through Python. Where ``os.sendfile`` is missing (or refuses the pair
of descriptors), the region is read with ``os.pread`` and sent in chunks.

The region owns the file: it is closed once the region is sent, or when the
socket goes away first. Only plain sockets take regions (TLS needs the bytes
in user space); `accepts_regions` says whether a socket does.
"""

from __future__ import annotations

import os
import ssl
from typing import IO, Any

__all__ = ["FileRegion", "accepts_regions"]

_SENDFILE = hasattr(os, "sendfile")
# Bytes per os.sendfile call: large enough to fill a socket buffer, small
# enough that one busy connection cannot hold the loop for long.
SENDFILE_CHUNK_BYTES = 1 << 20
# Bytes per read where os.sendfile cannot be used.
FALLBACK_CHUNK_BYTES = 1 << 16


class FileRegion:
    """``count`` bytes of ``file`` from ``offset``, to be sent as they are.

    Args:
        file: an open binary file with a real descriptor (``fileno()``).
        offset: the first byte.
        count: how many bytes.
    """

    __slots__ = ("_sendfile", "count", "file", "offset")

    def __init__(self, file: IO[bytes], offset: int, count: int) -> None:
        if offset < 0 or count < 0:
            raise ValueError(f"FileRegion needs offset, count >= 0, not {offset}, {count}")
        self.file = file
        self.offset = offset
        self.count = count
        self._sendfile = _SENDFILE

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        name = getattr(self.file, "name", self.file)
        return f"<FileRegion {name!r} offset={self.offset} count={self.count}>"

    def send(self, sock: Any) -> int:
        """Send the next piece to ``sock``; return the bytes sent.

        Raises:
            BlockingIOError: the socket is full.
            OSError: the send failed (the peer went away, ...).
            EOFError: the file ended before ``count`` bytes (it shrank).
        """
        if self._sendfile:
            try:
                sent = os.sendfile(
                    sock.fileno(), self.file.fileno(), self.offset,
                    min(self.count, SENDFILE_CHUNK_BYTES),
                )  # fmt: skip
            except OSError as exc:
                if isinstance(exc, BlockingIOError | InterruptedError):
                    raise
                if exc.errno not in _NO_SENDFILE:
                    raise
                self._sendfile = False  # this pair of descriptors: read and send
                return self.send(sock)
        else:
            data = os.pread(self.file.fileno(), min(self.count, FALLBACK_CHUNK_BYTES), self.offset)
            sent = sock.send(data) if data else 0
        if sent == 0 and self.count:
            raise EOFError(f"{self!r}: the file ended early")
        self.offset += sent
        self.count -= sent
        return sent

    def close(self) -> None:
        """Close the file (idempotent)."""
        self.file.close()


def accepts_regions(sock: Any) -> bool:
    """Whether a `FileRegion` can be written to ``sock`` (a plain stream socket)."""
    return not isinstance(sock, ssl.SSLSocket) and hasattr(sock, "fileno")


_NO_SENDFILE = {
    getattr(__import__("errno"), name)
    for name in ("EINVAL", "ENOSYS", "EOPNOTSUPP", "ENOTSUP", "ENOTSOCK")
    if hasattr(__import__("errno"), name)
}
