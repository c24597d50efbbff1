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
    return request(Message("AWAY", message))


def NAMES(channel: str | None = None) -> request:
    return request(Message("NAMES", channel))


def WHOIS(nickmasks: str, server: str | None = None) -> request:
    # Fixed: 3.2.5 used ``server`` as the command ("None nick"); spec §6.4.3.
    return request(Message("WHOIS", server, nickmasks))


def WHO(mask: str | None = None, o: str | None = None) -> request:
    return request(Message("WHO", mask, o))


def INVITE(nick: str, channel: str) -> request:
    return request(Message("INVITE", nick, channel))


def MODE(target: str, *args: Any) -> request:
    return request(Message("MODE", target, *args))


def KICK(channel: str, nick: str, reason: str | None = None) -> request:
    return request(Message("KICK", channel, nick, reason))


def TOPIC(channel: str, topic: str | None = None) -> request:
    return request(Message("TOPIC", channel, topic))


def PART(channel: str, message: str | None = None) -> request:
    return request(Message("PART", channel, message))


def JOIN(channel: str, key: str | None = None) -> request:
    return request(Message("JOIN", channel, key))


def PONG(daemon1: str, daemon2: str | None = None) -> request:
    return request(Message("PONG", daemon1, daemon2))


def QUIT(message: str | None = None) -> request:
    return request(Message("QUIT", message))


def PRIVMSG(receivers: str, message: str) -> request:
    return request(Message("PRIVMSG", receivers, message))


def NOTICE(receivers: str, message: str) -> request:
    return request(Message("NOTICE", receivers, message))


def USER(user: str, host: str, server: str, name: str) -> request:
    return request(Message("USER", user, host, server, name))


def NICK(nick: str, hopcount: int | None = None) -> request:
    return request(Message("NICK", nick, hopcount))


def PASS(password: str) -> request:
    return request(Message("PASS", password))
