"""``Serial``: a serial port read and written through the poller (pyserial).

Mirrors ``File`` (net-io §5.6): poller attachment → ``ready(self)`` → the
internal ``_open()`` opens ``serial.Serial(port, baudrate, timeout=0)`` (a
non-blocking port) → ``opened(port, baudrate)`` → ``read(data)`` per
readable chunk (a port has no end: never ``eof``). ``write(data)`` queues;
``close()`` closes once the queue is written (3.2.5 never completed such a
close; fixed, §9.12) and fires ``closed()``. Errors are logged and fired as
``error(exc)``, and close the port.

pyserial is an optional dependency (``pip install circuits[serial]``): this
module imports without it (``serial`` is then ``None``) and only
constructing a ``Serial`` fails.
"""

from __future__ import annotations

import logging
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
from .events import close, closed, error, opened, read, ready

__all__ = [
    "BUFSIZE",
    "TIMEOUT",
    "BasePoller",
    "Component",
    "Event",
    "Poller",
    "Serial",
    "close",
    "closed",
    "error",
    "findcmp",
    "handler",
    "opened",
    "read",
    "ready",
    "serial",
    "tryimport",
]

log = logging.getLogger(__name__)

# pyserial, or None when the extra is not installed (looked up at call time,
# so tests can substitute a fake module).
serial: Any = tryimport("serial")

# One read per readable notification reads at most this much (3.2.5's value).
BUFSIZE = 4096
# Accepted for compatibility; the port is always opened non-blocking.
TIMEOUT = 0.2

INSTALL_HINT = "pip install circuits[serial]"


class MissingExtraError(ImportError, RuntimeError):
    """An optional dependency is not installed.

    An ``ImportError`` that is also the ``RuntimeError`` 3.2.5 raised here.
    """


class _open(Event):
    """Internal: open the port: ``_open(port=None, baudrate=None, bufsize=None)``."""


class Serial(WriteQueue, ClosingPollerUser, Component):
    """A serial port.

    Constructor arguments (see ``init``):
        port: the device (``"/dev/ttyUSB0"``, ``"COM3"``, or a pyserial URL).
        baudrate: bits per second.
        bufsize: bytes read per readable notification.
        timeout: accepted for compatibility, unused.
        encoding: used to encode ``str`` given to ``write``.
        readline: read up to a newline (``readline(bufsize)``) instead of
            whatever is available.
        channel: the component's channel (``"serial"``).

    Raises:
        MissingExtraError: pyserial is not installed (an ``ImportError`` and
            a ``RuntimeError``; the message says how to install it).
    """

    _log = log  # for WriteQueue

    channel = "serial"

    def init(
        self,
        port: Any,
        baudrate: int = 115200,
        bufsize: int = BUFSIZE,
        timeout: float = TIMEOUT,
        encoding: str = "UTF-8",
        readline: bool = False,
        channel: Any = channel,
    ) -> None:
        if serial is None:
            raise MissingExtraError(
                f"No serial support available: Serial needs pyserial; {INSTALL_HINT}",
                name="serial",
            )
        self._port = port
        self._baudrate = baudrate
        self._bufsize = bufsize
        self._timeout = timeout
        self._encoding = encoding
        self._readline = readline
        self._serial: Any = None
        self._fd: Any = None  # what the poller watches (the port's descriptor)
        self._buffer: deque[bytes] = deque()
        self._closeflag = False
        self._poller: BasePoller | None = None

    @property
    def closed(self) -> bool:
        """Whether the port is closed (also before it was opened)."""
        return self._serial is None

    # -- poller attachment, opening -------------------------------------------

    @handler("ready")
    def _on_ready(self, component: Any, *args: Any) -> None:
        if component is self:
            self.fire(_open(), self)

    @handler("_open")
    def _on_open(self, port: Any = None, baudrate: Any = None, bufsize: Any = None) -> None:
        if port is not None:
            self._port = port
        if baudrate is not None:
            self._baudrate = baudrate
        if bufsize is not None:
            self._bufsize = bufsize
        if self._serial is not None:
            self._close()
        try:
            port_obj = serial.Serial(port=self._port, baudrate=self._baudrate, timeout=0)
            fd = port_obj.fileno()
        except Exception as exc:  # pyserial raises SerialException, OSError, ValueError
            log.warning("cannot open serial port %r: %s", self._port, exc)
            self.fire(error(exc))
            return
        self._serial = port_obj
        self._fd = fd
        poller = self._poller
        if poller is not None:
            poller.addReader(self, fd)
            if self._buffer:
                poller.addWriter(self, fd)
        self.fire(opened(self._port, self._baudrate))

    # -- requests ------------------------------------------------------------

    @handler("write")
    def write(self, data: Any) -> None:
        """Queue ``data`` (``bytes``, or ``str`` encoded with the port's encoding)."""
        self._queue_write(data)

    @handler("close")
    def close(self) -> None:
        """Close once everything queued was written; fires ``closed()``."""
        self._close_after_flush()

    def _close(self) -> None:
        port_obj = self._serial
        if port_obj is None:
            return
        self._unwatch_and_drop_queue(self._fd)  # set with _serial in _on_open
        self._serial = None
        self._fd = None
        try:
            port_obj.close()
        except Exception as exc:
            log.debug("closing %r: %s", self._port, exc)
        self.fire(closed())

    # -- readiness -----------------------------------------------------------

    @handler("_read", priority=1)
    def _on_read_ready(self, fd: Any) -> None:
        if self._fd is None or fd != self._fd:
            return
        try:
            if self._readline:
                data = self._serial.readline(self._bufsize)
            else:
                data = self._serial.read(self._bufsize)
        except Exception as exc:
            log.warning("reading %r failed: %s", self._port, exc)
            self.fire(error(exc))
            self._close()
            return
        if data:
            self._fire_notified(read(bytes(data)))

    @handler("_write", priority=1)
    def _on_write_ready(self, fd: Any) -> None:
        if self._fd is None or fd != self._fd:
            return
        self._drain_one(fd, self._write_now)

    def _write_now(self, data: bytes) -> int | None:
        try:
            n: int | None = self._serial.write(data)
        except Exception as exc:
            if serial is not None and isinstance(
                exc, getattr(serial, "SerialTimeoutException", ())
            ):
                return 0  # a write timeout wrote nothing (3.2.5)
            raise
        return n

    @property
    def _what(self) -> Any:
        return self._port

    @handler("_disconnect", priority=1)
    def _on_disconnect(self, fd: Any) -> None:
        if self._fd is not None and fd == self._fd:
            self._close()
