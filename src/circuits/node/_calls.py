"""Glue between node calls and the core's Values (loop thread only).

The core resumes ``call()``/``wait()`` through a Value's done-step callbacks
(``Value._waiters``, run by the dispatcher when every handler of the event,
coroutines included, has finished). A node uses the same hook to answer a
remote call when the event it fired is done (with or without errors), and
resolves a private Value of its own to wake the coroutine waiting for a
remote result (``yield self.wait(value, timeout=...)``).
"""

from __future__ import annotations

import json
from typing import Any

from ..core.values import Value
from ._envelope import error_info
from .utils import _plain as plain, event_meta, result_packet

__all__ = ["answer_packet", "failure_of", "resolve"]


def resolve(manager: Any, value: Value) -> None:
    """Mark a private wait Value done, resuming whoever waits on it."""
    if not value._done:
        manager.root._resolve(value)


def failure_of(value: Value) -> tuple[Any, BaseException, Any] | None:
    """The first ``(type, exception, traceback)`` stored in a Value with errors."""
    stored = value.getValue(recursive=True)
    for item in stored if isinstance(stored, list) else [stored]:
        if isinstance(item, tuple) and len(item) == 3 and isinstance(item[1], BaseException):
            return item
    return None


def answer_packet(id: Any, event: Any, value: Value) -> tuple[str, dict[str, str] | None]:
    """The result packet answering call ``id`` with ``value``; and the failure, if any.

    A failed handler is answered with ``errors: true``, the formatted
    traceback as value and ``meta["node_error"] = {"type", "message"}``; a
    result JSON cannot carry is answered as a failure (``TypeError``).
    """
    if not value.errors:
        try:
            return result_packet(id, False, plain(value._value), event_meta(event)), None
        except (TypeError, ValueError) as exc:
            cause = TypeError(f"the result of {event!r} cannot be sent as JSON: {exc}")
            excinfo: Any = (TypeError, cause, None)
    else:
        excinfo = failure_of(value)
    if excinfo is None:
        unknown = RuntimeError(f"a handler of {event!r} failed")
        excinfo = (RuntimeError, unknown, None)
    info = error_info(*excinfo)
    meta = {}
    for k, v in event_meta(event).items():
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue  # the error reply must go out
        meta[k] = v
    meta["node_error"] = {"type": info["type"], "message": info["message"]}
    return result_packet(id, True, info["traceback"], meta), info
