"""The write queue shared by ``File`` and ``Serial``: queue, then drain when writable."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .events import error

if TYPE_CHECKING:
    from ..core.events import Event
    from ..core.values import Value

__all__ = ["WriteQueue"]


class WriteQueue:
    """Mixin: ``_queue_write`` on request, ``_drain_one`` on writability.

    The host component provides ``_buffer`` (a deque of bytes), ``_fd``,
    ``_poller``, ``_closeflag``, ``_close()``, ``_encoding``, ``fire`` and a
    logger; ``_what`` names the file or port in messages.
    """

    _buffer: deque[bytes]
    _fd: Any
    _poller: Any
    _closeflag: bool
    _encoding: str
    _log: logging.Logger

    if TYPE_CHECKING:  # provided by the component

        def fire(self, event: Event, *channels: Any, priority: float = 0) -> Value: ...
        def _close(self) -> None: ...

    @property
    def _what(self) -> Any:
        raise NotImplementedError

    def _queue_write(self, data: Any) -> bool:
        """Queue ``data`` (bytes, or str in the component's encoding); watch for writability.

        Returns:
            Whether something was queued (a wrong type fires ``error`` instead).
        """
        if isinstance(data, str):
            data = data.encode(self._encoding)
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            exc = TypeError(f"write() takes bytes or str, not {type(data).__name__}: {data!r}")
            self._log.warning("%r: %s", self._what, exc)
            self.fire(error(exc))
            return False
        if not data:
            return False
        self._buffer.append(bytes(data))
        poller = self._poller
        if poller is not None and self._fd is not None and not poller.isWriting(self._fd):
            poller.addWriter(self, self._fd)
        return True

    def _drain_one(self, fd: Any, write: Callable[[bytes], int | None]) -> None:
        """Write the next queued chunk with ``write``; close or stop watching when empty.

        ``write`` returns the number of bytes written (``None``: all), raises
        ``BlockingIOError`` to retry later, or raises anything else to fail.
        """
        buffer = self._buffer
        if buffer:
            data = buffer.popleft()
            try:
                n = write(data)
            except BlockingIOError:
                buffer.appendleft(data)
                return
            except Exception as exc:
                self._log.warning("writing to %r failed: %s", self._what, exc)
                self.fire(error(exc))
                self._close()
                return
            n = len(data) if n is None else n
            if n < len(data):
                buffer.appendleft(data[n:])
        if not buffer:
            if self._closeflag:
                self._close()
            elif self._poller is not None:
                self._poller.removeWriter(fd)
