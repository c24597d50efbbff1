"""``File``: a file, pipe or terminal read and written through the poller.

A ``File`` owns one file object (opened from a path, or given). All I/O goes
through the raw descriptor (``os.read``/``os.write``), never through the
object's buffers, so it works the same for text and binary modes, pipes and
terminals, and ``read`` data is always ``bytes``.

Life cycle (net-io §5.2): attach to the tree's poller (``_attach``) →
``ready(self)`` → the internal ``_open()`` → ``opened(filename, mode)`` →
``read(data)`` per readable chunk → ``eof()`` → ``closed()``. Files opened
with ``'a'`` or ``'+'`` stay open after ``eof`` (only reading stops; a
``seek`` starts it again). ``write(data)`` queues; the queue is written one
chunk per writable notification. ``close()`` waits for the queue.

Regular files are always readable and writable; ``EPoll`` cannot watch them
and reports them as ready on every wait instead (see ``core.pollers``).

Errors never escape into the loop: a failing open, read or write is logged
and fired as ``error(exc)`` on the file's channel (read/write errors also
close the file).
"""

from __future__ import annotations

import builtins
import errno
import logging
import os
import sys
from collections import deque
from typing import Any

from ..core.components import Component
from ..core.events import Event
from ..core.handlers import handler
from ..core.pollers import BasePoller, Poller
from ..core.utils import findcmp
from ..net._attach import ClosingPollerUser
from ..tools import tryimport
from ._queue import WriteQueue
from .events import close, closed, eof, error, opened, read, ready

__all__ = [
    "BUFSIZE",
    "TIMEOUT",
    "BasePoller",
    "Component",
    "Event",
    "File",
    "Poller",
    "close",
    "closed",
    "eof",
    "error",
    "findcmp",
    "handler",
    "opened",
    "read",
    "ready",
    "tryimport",
]

log = logging.getLogger(__name__)

# One os.read() per readable notification reads at most this much (3.2.5's value).
BUFSIZE = 4096
# 3.2.5's module constant (seconds); kept for compatibility, nothing waits on it.
TIMEOUT = 0.2

# os.read/os.write errors that only mean "not now".
_RETRY = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)


class _open(Event):
    """Internal: open the file: ``_open(filename=None, mode=None, bufsize=None)``."""


class File(WriteQueue, ClosingPollerUser, Component):
    """A file read and written without blocking the loop.

    Constructor arguments (see ``init``):
        filename: a path, or an open file object (anything with ``fileno()``;
            its ``mode``, ``name`` and ``encoding`` are used when present).
        mode: the ``open()`` mode for a path.
        bufsize: bytes read per readable notification.
        encoding: used to encode ``str`` given to ``write`` (default
            ``sys.getdefaultencoding()``).
        channel: the component's channel (``"file"``).
    """

    _log = log  # for WriteQueue

    channel = "file"

    def init(
        self,
        filename: Any,
        mode: str = "r",
        bufsize: int = BUFSIZE,
        encoding: str | None = None,
        channel: Any = channel,
    ) -> None:
        self._filename: Any = filename
        self._mode = mode
        self._bufsize = bufsize
        self._encoding = encoding or sys.getdefaultencoding()
        self._fd: Any = None  # the file object, once opened
        self._fileno = -1
        self._buffer: deque[bytes] = deque()
        self._closeflag = False
        self._was_opened = False
        self._poller: BasePoller | None = None

    # -- properties ---------------------------------------------------------

    @property
    def closed(self) -> bool:
        """``True`` until the file is opened, and after it was closed."""
        return self._fd is None or bool(getattr(self._fd, "closed", False))

    @property
    def filename(self) -> Any:
        """The path (or, for a file object, its ``name``)."""
        return self._filename

    @property
    def mode(self) -> str:
        """The mode the file is (to be) opened with."""
        return self._mode

    # -- poller attachment, opening ---------------------------------------

    @handler("ready")
    def _on_ready(self, component: Any, *args: Any) -> None:
        if component is self:
            self.fire(_open(), self)

    @handler("_open")
    def _on_open(self, filename: Any = None, mode: str | None = None, bufsize: Any = None) -> None:
        if filename is not None:
            self._filename = filename
        if mode is not None:
            self._mode = mode
        if bufsize is not None:
            self._bufsize = bufsize
        if not self.closed:
            self._close()
        source = self._filename
        if hasattr(source, "fileno"):
            fobj = source
            self._mode = getattr(fobj, "mode", self._mode)
            self._filename = getattr(fobj, "name", self._filename)
            enc = getattr(fobj, "encoding", None)
            if isinstance(enc, str):
                self._encoding = enc
        else:
            # The file outlives this handler: no context manager (SIM115).
            try:
                if "b" in self._mode:
                    fobj = builtins.open(source, self._mode)  # noqa: SIM115
                else:
                    fobj = builtins.open(source, self._mode, encoding=self._encoding)  # noqa: SIM115
            except (OSError, ValueError, TypeError) as exc:
                log.warning("cannot open %r (mode %r): %s", source, self._mode, exc)
                self.fire(error(exc))
                return
        try:
            fileno = fobj.fileno()
            try:
                os.set_blocking(fileno, False)
            except OSError:
                pass  # e.g. a regular file on some platforms: it never blocks anyway
        except (OSError, ValueError) as exc:
            log.warning("cannot use %r: %s", source, exc)
            self.fire(error(exc))
            return
        self._fd = fobj
        self._fileno = fileno
        self._was_opened = True
        poller = self._poller
        if poller is not None:
            try:
                if self._readable:
                    poller.addReader(self, fobj)
                if self._buffer:
                    poller.addWriter(self, fobj)
            except (OSError, ValueError) as exc:
                log.warning("cannot watch %r: %s", self._filename, exc)
                self.fire(error(exc))
                self._close()
                return
        self.fire(opened(self._filename, self._mode))
        if self._closeflag and not self._buffer:  # close() came before the open
            self._close()

    @property
    def _readable(self) -> bool:
        return "r" in self._mode or "+" in self._mode

    @property
    def _keep_open(self) -> bool:
        return "a" in self._mode or "+" in self._mode

    # -- requests (also handlers: File is a Component) ----------------------

    @handler("write")
    def write(self, data: Any) -> None:
        """Queue ``data`` (``bytes``, or ``str`` encoded with the file's encoding)."""
        if self._fd is not None and self.closed and data:
            exc = ValueError(f"write() to closed file {self._filename!r}: {bytes(data[:40])!r}")
            log.warning("%s", exc)
            self.fire(error(exc))
            return
        self._queue_write(data)

    @handler("seek")
    def seek(self, offset: int, whence: int = 0) -> int | None:
        """Move the file position; reading resumes there (even after ``eof``).

        Returns:
            The new position, or ``None`` when the file is not open or not seekable
            (then ``error(exc)`` is fired).
        """
        if self.closed:
            return None
        try:
            pos = os.lseek(self._fileno, offset, whence)
        except OSError as exc:
            log.warning("cannot seek %r to %r: %s", self._filename, offset, exc)
            self.fire(error(exc))
            return None
        poller = self._poller
        if self._readable and poller is not None and not poller.isReading(self._fd):
            poller.addReader(self, self._fd)
        return pos

    @handler("close")
    def close(self) -> None:
        """Close once everything queued was written; fires ``closed()``.

        Before the file was opened, it is closed right after opening.
        """
        if self._was_opened:
            self._close_after_flush()
        else:
            self._closeflag = True

    def _close(self) -> None:
        """Close now, dropping unwritten data."""
        if self.closed:
            return
        fobj = self._fd
        self._unwatch_and_drop_queue(fobj)
        if self._fileno > 2:  # never close the process's own standard streams
            try:
                fobj.close()
            except OSError as exc:
                log.debug("closing %r: %s", self._filename, exc)
        else:
            self._fd = None
        self.fire(closed())

    # -- readiness, from the poller ------------------------------------------

    @handler("_read", priority=1)
    def _on_read_ready(self, fd: Any) -> None:
        if fd is not self._fd or self.closed:
            return
        try:
            data = os.read(self._fileno, self._bufsize)
        except OSError as exc:
            if exc.errno in _RETRY:
                return
            log.warning("reading %r failed: %s", self._filename, exc)
            self.fire(error(exc))
            self._close()
            return
        if data:
            self._fire_notified(read(data))
        else:
            self._at_eof()

    def _at_eof(self) -> None:
        self.fire(eof())
        if self._keep_open:
            if self._poller is not None:
                self._poller.removeReader(self._fd)
        else:
            self.close()

    @handler("_write", priority=1)
    def _on_write_ready(self, fd: Any) -> None:
        if fd is not self._fd or self.closed:
            return
        self._drain_one(fd, self._write_now)

    def _write_now(self, data: bytes) -> int:
        return os.write(self._fileno, data)  # EAGAIN: BlockingIOError, retried

    @property
    def _what(self) -> Any:
        return self._filename

    @handler("_error", priority=1)
    def _on_poll_error(self, fd: Any, exc: Any) -> None:
        if fd is self._fd:
            log.warning("polling %r failed: %s", self._filename, exc)
            self.fire(error(exc))

    @handler("_disconnect", priority=1)
    def _on_disconnect(self, fd: Any) -> None:
        # A pipe whose other end is gone (epoll: hang-up without pending data).
        if fd is not self._fd or self.closed:
            return
        if self._readable:
            self.fire(eof())
        self._close()
