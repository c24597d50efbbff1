"""IRC client commands: each returns ``request(Message(...))``; ``None`` arguments drop out."""

from __future__ import annotations

from typing import Any

from .events import request as request
from .message import Message as Message

__all__ = [
    "AWAY",
    "INVITE",
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
    "request",
]


def AWAY(message: str | None = None) -> request:
    """The ``AWAY`` command: mark yourself away with ``message``, or back if omitted."""
    return request(Message("AWAY", message))


def NAMES(channel: str | None = None) -> request:
    """The ``NAMES`` command: list the nicks on ``channel``, or on every visible channel."""
    return request(Message("NAMES", channel))


def WHOIS(nickmasks: str, server: str | None = None) -> request:
    """The ``WHOIS`` command: ``WHOIS [server] nickmasks``, about users matching ``nickmasks``."""
    # Fixed: 3.2.5 used ``server`` as the command ("None nick"); spec §6.4.3.
    return request(Message("WHOIS", server, nickmasks))


def WHO(mask: str | None = None, o: str | None = None) -> request:
    """The ``WHO`` command: list the users matching ``mask``.

    Args:
        o: ``"o"`` to list only IRC operators.
    """
    return request(Message("WHO", mask, o))


def INVITE(nick: str, channel: str) -> request:
    """The ``INVITE`` command: invite ``nick`` to ``channel``."""
    return request(Message("INVITE", nick, channel))


def MODE(target: str, *args: Any) -> request:
    """The ``MODE`` command: ``MODE target *args``, set or query modes of a channel or nick.

    Args:
        *args: the mode string (e.g. ``"+o"``) and its parameters, each one argument.
    """
    return request(Message("MODE", target, *args))


def KICK(channel: str, nick: str, reason: str | None = None) -> request:
    """The ``KICK`` command: remove ``nick`` from ``channel``, with ``reason`` if given."""
    return request(Message("KICK", channel, nick, reason))


def TOPIC(channel: str, topic: str | None = None) -> request:
    """The ``TOPIC`` command: set ``channel``'s topic to ``topic``, or query it if omitted."""
    return request(Message("TOPIC", channel, topic))


def PART(channel: str, message: str | None = None) -> request:
    """The ``PART`` command: leave ``channel``, with a parting ``message`` if given."""
    return request(Message("PART", channel, message))


def JOIN(channel: str, key: str | None = None) -> request:
    """The ``JOIN`` command: join ``channel`` (comma-separated for several), ``key`` if given."""
    return request(Message("JOIN", channel, key))


def PONG(daemon1: str, daemon2: str | None = None) -> request:
    """The ``PONG`` command: answer a ``PING``, ``PONG daemon1 [daemon2]``.

    Args:
        daemon1: the server (or the token) the ``PING`` carried, echoed back.
        daemon2: a server to forward the ``PONG`` to, if any.
    """
    return request(Message("PONG", daemon1, daemon2))


def QUIT(message: str | None = None) -> request:
    """The ``QUIT`` command: end the session, with a quit ``message`` if given."""
    return request(Message("QUIT", message))


def PRIVMSG(receivers: str, message: str) -> request:
    """The ``PRIVMSG`` command: send ``message`` to ``receivers`` (nicks or channels)."""
    return request(Message("PRIVMSG", receivers, message))


def NOTICE(receivers: str, message: str) -> request:
    """The ``NOTICE`` command: send ``message`` to ``receivers``; never answered automatically."""
    return request(Message("NOTICE", receivers, message))


def USER(user: str, host: str, server: str, name: str) -> request:
    """The ``USER`` command: register username ``user`` with real name ``name``.

    Args:
        host: the RFC 1459 hostname field (servers usually ignore it from clients).
        server: the RFC 1459 servername field (servers usually ignore it from clients).
    """
    return request(Message("USER", user, host, server, name))


def NICK(nick: str, hopcount: int | None = None) -> request:
    """The ``NICK`` command: take, or change to, the nickname ``nick``.

    Args:
        hopcount: the server-to-server hop count; clients leave it out.
    """
    return request(Message("NICK", nick, hopcount))


def PASS(password: str) -> request:
    """The ``PASS`` command: the connection ``password``, sent before ``NICK`` and ``USER``."""
    return request(Message("PASS", password))
