"""The IRC protocol component: lines in, events named after IRC commands out."""

from __future__ import annotations

import logging
import re
from typing import Any

from ...core.components import Component as Component
from ...net.events import error, write as write
from ..line import Line as Line
from .commands import PONG as PONG
from .events import response as response
from .utils import parsemsg as parsemsg

__all__ = ["IRC", "NUMERIC", "PONG", "Component", "Line", "parsemsg", "response", "write"]

log = logging.getLogger("circuits.protocols")

NUMERIC = re.compile(r"[0-9]+")


class IRC(Component):
    """Turn ``line`` events into IRC events; send ``request`` events as ``write``.

    An incoming ``:n!u@h PRIVMSG #c :hi`` becomes ``privmsg(('n','u','h'), '#c', 'hi')``
    (servers: ``privmsg(sock, prefix, ...)``); numerics become
    ``numeric(prefix, 433, ...)``. Client-side pings are answered.

    Constructor arguments:
        encoding: for decoding lines and encoding requests (default ``'utf-8'``).
        **kwargs: passed to ``Component`` and to the ``Line`` child
            (``channel=``, ``getBuffer``/``updateBuffer`` for servers).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoding: str = kwargs.get("encoding", "utf-8")
        Line(**kwargs).register(self)

    def line(self, *args: Any) -> None:
        sock, data = (None, args[0]) if len(args) == 1 else args
        try:
            prefix, command, params = parsemsg(data, self.encoding)
        except ValueError as exc:
            log.info("%s: malformed IRC line %r: %s", sock or "server", data, exc)
            self.fire(error(exc) if sock is None else error(sock, exc))
            return
        if command is None:
            return  # an empty line (RFC 2812 §2.3.1: silently ignored)
        command = command.lower()
        args_: list[Any] = list(params)
        if NUMERIC.fullmatch(command):
            args_.insert(0, int(command))
            command = "numeric"
        who = () if sock is None else (sock,)
        self.fire(response.create(command, *who, prefix, *args_))

    def request(self, event: Any, message: Any) -> None:
        event.stop()
        message.encoding = self.encoding
        self.fire(write(bytes(message)))

    def ping(self, event: Any, *args: Any) -> None:
        if len(args) == 2:  # client form (prefix, server); servers answer themselves
            self.fire(PONG(args[1]))
            event.stop()
