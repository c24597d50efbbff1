"""Fallback components the dispatcher uses when nobody else does the job.

They are created lazily by the root and never registered in the tree:
``FallBackGenerator`` idles the loop when no poller does,
``FallBackExceptionHandler`` reports errors nobody handles, and
``FallBackSignalHandler`` stops the application on SIGINT/SIGTERM.

Error reports go to the ``circuits.core`` logger and to the *current*
``sys.stderr`` (unless logging already prints them there), so that an error
is never lost.
"""

from __future__ import annotations

import logging
import signal as _signal
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

from .components import BaseComponent
from .handlers import handler, reprhandler

__all__ = [
    "BaseComponent",
    "FallBackErrorHandler",
    "FallBackExceptionHandler",
    "FallBackGenerator",
    "FallBackSignalHandler",
    "handler",
    "reprhandler",
]

log = logging.getLogger("circuits.core")

# The longest single wait of an idle loop with nothing scheduled; the loop
# waits again after it (a bound keeps the wait interruptible on every OS).
IDLE_SLICE_S = 10000


def format_error(
    etype: Any, evalue: Any, tb_lines: list[str] | None, h: Any = None, fevent: Any = None
) -> str:
    """The text of an error report (the Debugger's format)."""
    s = []
    name = reprhandler(h) if h is not None else ""
    s.append(f"ERROR {name} ({fevent!r}) ({etype!r}): {evalue!r}\n")
    s.append("Traceback (most recent call last):\n")
    s.extend(tb_lines or [])
    s.extend(traceback.format_exception_only(etype, evalue))
    s.append("\n")
    return "".join(s)


def _printed_on_stderr(logger: logging.Logger, level: int) -> bool:
    """Whether logging itself prints a record at ``level`` on standard error.

    That is the case once the application configured a stream handler on
    stderr (``logging.basicConfig()`` does); writing the report again would
    show it twice.
    """
    if not logger.isEnabledFor(level):
        return False
    streams = (sys.stderr, sys.__stderr__)
    current: logging.Logger | None = logger
    while current is not None:
        for h in current.handlers:
            if type(h) is logging.StreamHandler and h.stream in streams and level >= h.level:
                return True
        if not current.propagate:
            break
        current = current.parent
    return False


def emit_error(text: str) -> None:
    """Report ``text``: a record on the ``circuits.core`` logger, and on stderr.

    The text goes to the *current* ``sys.stderr`` unless a logging handler
    already prints the record there: an error is never lost, nor shown twice.
    """
    log.error("%s", text.rstrip("\n"))
    if _printed_on_stderr(log, logging.ERROR):
        return
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def report_error(
    etype: type[BaseException],
    evalue: BaseException,
    tb: TracebackType | list[str] | None,
    h: Any = None,
    fevent: Any = None,
) -> None:
    """Report a handler error that no ``exception`` handler takes."""
    lines = traceback.format_tb(tb) if isinstance(tb, TracebackType) else tb
    emit_error(format_error(etype, evalue, lines, h, fevent))


def report_unhandled(exc: BaseException) -> None:
    """Report an error that escaped the main loop."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    emit_error(f"Unhandled ERROR: {exc}\n{text}")


class _Wakeup:
    """A ``threading.Event`` look-alike that a signal handler may ``set()``.

    ``threading.Event`` guards its flag with a non-reentrant lock. The
    SIGINT/SIGTERM handler runs in the loop thread, and wakes the idle wait
    through ``resume()``; landing while that very thread held the Event's lock
    (inside ``wait()``/``clear()``) it deadlocked. Here the flag *is* a lock
    (unlocked = set): ``set()`` only releases it and never blocks.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def is_set(self) -> bool:
        return not self._lock.locked()

    def set(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:
            pass  # already set

    def clear(self) -> None:
        self._lock.acquire(False)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until set (without clearing it); ``False`` on timeout."""
        timeout = -1 if timeout is None else min(max(timeout, 0), threading.TIMEOUT_MAX)
        if self._lock.acquire(True, timeout):
            self.set()
            return True
        return False


class FallBackGenerator(BaseComponent):
    """Idles the loop for ``time_left`` when no poller does it."""

    _idles = True  # see Manager._generate

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._continue = _Wakeup()

    @handler("generate_events", priority=-100)
    def _on_generate_events(self, event: Any) -> None:
        # Clear before reading time_left: a fire() from another thread either
        # lowered time_left already or will set the flag after this line.
        self._continue.clear()
        if event.time_left == 0:
            event.stop()
            return
        if event.time_left > 0:
            # An event fired meanwhile has already set the flag (resume()).
            self._continue.wait(event.time_left)
            event.reduce_time_left(0)
        else:
            while event.time_left < 0:
                if self._continue.wait(IDLE_SLICE_S):
                    break
        event.stop()

    generate_events = _on_generate_events

    def resume(self) -> None:
        """Wake the idle wait (called through ``reduce_time_left(0)``)."""
        self._continue.set()


class FallBackExceptionHandler(BaseComponent):
    """Reports ``exception`` events that have no handler."""

    @handler("exception", channel="*")
    def _on_exception(
        self,
        error_type: Any,
        value: Any,
        traceback: Any,
        handler: Any = None,
        fevent: Any = None,
    ) -> None:
        emit_error(format_error(error_type, value, traceback, handler, fevent))

    exception = _on_exception


FallBackErrorHandler = FallBackExceptionHandler


class FallBackSignalHandler(BaseComponent):
    """Stops the application on SIGINT/SIGTERM when nobody handles ``signal``."""

    @handler("signal", channel="*")
    def _on_signal(self, signo: int, stack: Any) -> None:
        if signo in (_signal.SIGINT, _signal.SIGTERM):
            raise SystemExit(0)

    signal = _on_signal
