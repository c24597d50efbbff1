"""IRC protocol: the ``IRC`` component, ``Message``, commands, utilities and numerics.

The reply constructors of ``irc.replies`` are not re-exported here (the
command functions ``JOIN``, ``KICK``, ``MODE``, ``PART``, ``PONG`` and
``TOPIC`` take their names).
"""

from __future__ import annotations

from .commands import (
    AWAY as AWAY,
    INVITE as INVITE,
    JOIN as JOIN,
    KICK as KICK,
    MODE as MODE,
    NAMES as NAMES,
    NICK as NICK,
    NOTICE as NOTICE,
    PART as PART,
    PASS as PASS,
    PONG as PONG,
    PRIVMSG as PRIVMSG,
    QUIT as QUIT,
    TOPIC as TOPIC,
    USER as USER,
    WHO as WHO,
    WHOIS as WHOIS,
)
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
    "AWAY",
    "INVITE",
    "IRC",
    "JOIN",
    "KICK",
    "MODE",
    "NAMES",
    "NICK",
    "NOTICE",
    "PART",
    "PASS",
    "PONG",
    "PRIVMSG",
    "QUIT",
    "TOPIC",
    "USER",
    "WHO",
    "WHOIS",
    "Message",
    "irc_color_to_ansi",
    "joinprefix",
    "parsemsg",
    "parseprefix",
    "reply",
    "request",
    "response",
    "sourceJoin",
    "sourceSplit",
    "strip",
    *_numerics,
]
