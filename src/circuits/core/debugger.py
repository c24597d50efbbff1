"""``Debugger``: print every event as it is dispatched, and every error."""

from __future__ import annotations

import os
import signal as _signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from .components import BaseComponent
from .handlers import handler, reprhandler

__all__ = ["BaseComponent", "Debugger", "handler", "reprhandler"]


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...
    def flush(self) -> Any: ...


class _Logger(Protocol):
    def debug(self, msg: str, /) -> Any: ...
    def error(self, msg: str, /) -> Any: ...


class Debugger(BaseComponent):
    """Log events (``repr``) and errors to a file, stderr or a logger.

    Args:
        errors: report ``exception`` events.
        events: log dispatched events.
        file: a path (appended to) or an object with ``write``; default stderr.
        logger: an object with ``debug``/``error``; used instead of ``file``.
        prefix: a string, or a callable returning one, put before each event line.
        trim: cut event lines to this many characters (then ``" ...>"``).
        **kwargs: ``IgnoreEvents``/``IgnoreChannels`` extend the (class-wide) lists.
    """

    IgnoreEvents: list[Any] = ["generate_events"]
    IgnoreChannels: list[Any] = []

    def __init__(
        self,
        errors: bool = True,
        events: bool = True,
        file: str | _Writable | None = None,
        logger: _Logger | None = None,
        prefix: str | Callable[[], str] | None = None,
        trim: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._errors = errors
        self._events = events
        if isinstance(file, str):
            self.file: Any = open(os.path.abspath(os.path.expanduser(file)), "a")  # noqa: SIM115
        elif hasattr(file, "write"):
            self.file = file
        else:
            self.file = sys.stderr
        self.logger = logger
        self.prefix = prefix
        if trim is None and kwargs.get("chop"):
            trim = 75
        self.trim = trim
        self.IgnoreEvents.extend(kwargs.get("IgnoreEvents", []))
        self.IgnoreChannels.extend(kwargs.get("IgnoreChannels", []))

    @handler(priority=101.0)
    def _on_event(self, event: Any, *args: Any, **kwargs: Any) -> None:
        if not self._events:
            return
        try:
            if event.name in self.IgnoreEvents:
                return
            channels = event.channels
            if channels and all(c in self.IgnoreChannels for c in channels):
                return
            s = repr(event)
            prefix = self.prefix
            if prefix is not None:
                s = f"{prefix() if callable(prefix) else prefix}: {s}"
            if self.trim is not None:
                s = f"{s[: self.trim]} ...>"
            if self.logger is not None:
                self.logger.debug(s)
            else:
                self.file.write(s)
                self.file.write("\n")
                self.file.flush()
        except Exception as e:
            sys.stderr.write(f"ERROR (Debugger): {e}\n")
            sys.stderr.write("".join(traceback.format_exc()))

    @handler("exception", channel="*", priority=100.0)
    def _on_exception(
        self,
        error_type: Any,
        value: Any,
        traceback: Any,
        handler: Any = None,
        fevent: Any = None,
    ) -> None:
        if not self._errors:
            return
        from .helpers import format_error

        s = format_error(error_type, value, traceback, handler, fevent)
        try:
            if self.logger is not None:
                self.logger.error(s)
            else:
                self.file.write(s)
                self.file.flush()
        except OSError:
            pass

    @handler("signal", channel="*")
    def _on_signal(self, signo: int, stack: Any) -> None:
        if signo in (_signal.SIGINT, _signal.SIGTERM):
            raise SystemExit(0)
