"""IRC protocol: the ``IRC`` component, ``Message``, commands, utilities and numerics.

The reply constructors of ``irc.replies`` are not re-exported here (the
command functions ``JOIN``, ``KICK``, ``MODE``, ``PART``, ``PONG`` and
``TOPIC`` take their names).
"""

from __future__ import annotations

from .commands import *  # noqa: F403
from .commands import __all__ as _commands
from .events import reply as reply, request as request, response as response
from .message import Message as Message
from .numerics import *  # noqa: F403
from .numerics import __all__ as _numerics
from .protocol import IRC as IRC
from .utils import (
    irc_color_to_ansi as irc_color_to_ansi,
    joinprefix as joinprefix,
    parsemsg as parsemsg,
    parseprefix as parseprefix,
    strip as strip,
)

sourceJoin = joinprefix
sourceSplit = parseprefix

__all__ = [
    "IRC",
    "irc_color_to_ansi",
    "joinprefix",
    "parsemsg",
    "parseprefix",
    "reply",
    "response",
    "sourceJoin",
    "sourceSplit",
    "strip",
    *_commands,  # the command functions, with Message and request
    *_numerics,
]
