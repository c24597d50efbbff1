"""The web access log: one Combined Log Format line per response (web.md §18).

By default the lines go to the ``circuits.web.access`` logger (its own
logger, like ``uvicorn.access``), at ``INFO``, with the fields as a mapping in
``record.args`` so handlers and filters can use them. A ``file`` or a
``logger`` given to `Logger` takes the lines instead.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import IO, Any

from ..core import BaseComponent as BaseComponent, handler as handler

__all__ = ["Logger", "formattime"]

access_log = logging.getLogger("circuits.web.access")

# English month names whatever the locale (strftime's %b follows it).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def formattime() -> str:
    """The local time as ``[dd/Mon/YYYY:HH:MM:SS]`` (no timezone)."""
    now = time.localtime()
    month = _MONTHS[now.tm_mon - 1]
    return time.strftime(f"[%d/{month}/%Y:%H:%M:%S]", now)


def _escape(value: str) -> str:
    """Keep a client-supplied field on one line: ``"`` and ``\\`` escaped, non-printables as
    Python escapes (``\\n``, ``\\x00``)."""
    if value.isprintable() and '"' not in value and "\\" not in value:
        return value
    out = []
    for c in value:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c.isprintable():
            out.append(c)
        else:
            out.append(repr(c)[1:-1])
    return "".join(out)


class Logger(BaseComponent):
    """Log every response sent on the ``web`` channel as one access-log line.

    Args:
        file: a path (opened for append, ``~`` expanded) or an object with
            ``write``; the lines are written to it with a newline and flushed.
        logger: an object with ``info(msg)`` (a `logging.Logger`, say); when
            given it gets each line instead of ``file``.
        **kwargs: passed to `circuits.core.BaseComponent` (``channel``).

    With neither, lines go to the ``circuits.web.access`` logger.
    """

    channel = "web"

    format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

    def __init__(self, file: Any = None, logger: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owned: IO[str] | None = None
        self.file: Any = None
        if isinstance(file, str):
            self.file = self._owned = open(  # noqa: SIM115 - kept open until close()
                os.path.expanduser(file), "a", encoding="utf-8"
            )
        elif file is not None and hasattr(file, "write"):
            self.file = file
        elif file is not None:
            self.file = sys.stdout
        self.logger: Any = logger
        if self.file is None and self.logger is None:
            self.logger = access_log

    @handler("response_success")
    def _on_response_success(self, evt: Any, value: Any) -> None:
        self.log(evt.args[0])

    def fields(self, response: Any) -> dict[str, Any]:
        """The log fields of ``response`` (keys of `format`), already escaped."""
        request = response.request
        remote = request.remote
        headers = request.headers
        protocol = "HTTP/{}.{}".format(*request.protocol)
        length = response.headers.get("Content-Length")
        raw: dict[str, Any] = {
            "h": headers.get("X-Forwarded-For") or remote.name or remote.ip or "-",
            "l": "-",
            "u": request.login or "-",
            "t": formattime(),
            "r": f"{request.method} {request.path} {protocol}",
            "s": int(response.status),
            "b": "-" if length is None else length,
            "f": headers.get("Referer", ""),
            "a": headers.get("User-Agent", ""),
        }
        return {k: _escape(v) if isinstance(v, str) else v for k, v in raw.items()}

    def log(self, response: Any) -> None:
        """Write the access-log line of ``response``."""
        logger = self.logger
        if isinstance(logger, logging.Logger | logging.LoggerAdapter):
            if logger.isEnabledFor(logging.INFO):
                logger.info(self.format, self.fields(response))
            return
        line = self.format % self.fields(response)
        if logger is not None:
            logger.info(line)
        else:
            self.file.write(line + "\n")
            self.file.flush()

    def close(self) -> None:
        """Close the file this Logger opened from a path (not one it was given)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None
