"""Server reply constructors: each returns a ``Message`` (not an event)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .message import Message as Message

__all__ = [
    "ERROR",
    "ERR_CANNOTSENDTOCHAN",
    "ERR_CHANOPRIVSNEEDED",
    "ERR_ERRONEUSNICKNAME",
    "ERR_NEEDMOREPARAMS",
    "ERR_NICKNAMEINUSE",
    "ERR_NOMOTD",
    "ERR_NONICKNAMEGIVEN",
    "ERR_NOOPERHOST",
    "ERR_NOPRIVILEGES",
    "ERR_NOSUCHCHANNEL",
    "ERR_NOSUCHNICK",
    "ERR_NOTREGISTERED",
    "ERR_PASSWDMISMATCH",
    "ERR_TOOMANYCHANNELS",
    "ERR_UNKNOWNCOMMAND",
    "ERR_UNKNOWNMODE",
    "ERR_USERNOTINCHANNEL",
    "ERR_USERSDONTMATCH",
    "JOIN",
    "KICK",
    "MODE",
    "PART",
    "PING",
    "PONG",
    "RPL_AWAY",
    "RPL_CHANNELMODEIS",
    "RPL_CREATED",
    "RPL_ENDOFINVITELIST",
    "RPL_ENDOFMOTD",
    "RPL_ENDOFNAMES",
    "RPL_ENDOFWHO",
    "RPL_ENDOFWHOIS",
    "RPL_INVITELIST",
    "RPL_INVITING",
    "RPL_ISUPPORT",
    "RPL_LIST",
    "RPL_LISTEND",
    "RPL_LISTSTART",
    "RPL_LUSERCHANNELS",
    "RPL_LUSERCLIENT",
    "RPL_LUSERME",
    "RPL_LUSEROP",
    "RPL_LUSERUNKOWN",
    "RPL_MOTD",
    "RPL_MOTDSTART",
    "RPL_MYINFO",
    "RPL_NAMEREPLY",
    "RPL_NOTOPIC",
    "RPL_NOWAWAY",
    "RPL_SUMMONING",
    "RPL_TOPIC",
    "RPL_TOPICWHO",
    "RPL_UMODEIS",
    "RPL_UNAWAY",
    "RPL_VERSION",
    "RPL_WELCOME",
    "RPL_WHOISCHANNELS",
    "RPL_WHOISIDLE",
    "RPL_WHOISOPERATOR",
    "RPL_WHOISSERVER",
    "RPL_WHOISUSER",
    "RPL_WHOREPLY",
    "RPL_YOUREOPER",
    "RPL_YOURHOST",
    "TOPIC",
]


def _M(*args: Any, **kwargs: Any) -> Message:
    # Numeric replies: the server inserts the target nick when sending.
    return Message(*args, add_nick=True, **kwargs)


def ERROR(host: str, reason: str | None = None) -> Message:
    """The ``ERROR`` message ``:Closing link: host (reason)``; ``()`` if there is no ``reason``."""
    return Message("ERROR", f"Closing link: {host} ({reason or ''})")


def JOIN(name: str, prefix: Any = None) -> Message:
    """A ``JOIN`` of channel ``name``, from ``prefix`` (the joining user).

    Args:
        prefix: the sender, e.g. ``nick!user@host``; ``None`` is sent as ``:None`` (3.2.5).
    """
    return Message("JOIN", name, prefix=prefix)


def KICK(channel: str, nick: str, reason: str | None = None, prefix: Any = None) -> Message:
    """A ``KICK`` of ``nick`` from ``channel``, with ``reason`` if given.

    Args:
        prefix: the sender, e.g. ``nick!user@host``; ``None`` is sent as ``:None`` (3.2.5).
    """
    return Message("KICK", channel, nick, reason, prefix=prefix)


def MODE(
    target: str, modes: str, params: Iterable[str] | None = None, prefix: Any = None
) -> Message:
    """A ``MODE`` change: ``target modes``, then ``params`` joined by spaces as one argument.

    Args:
        prefix: the sender, e.g. ``nick!user@host``; ``None`` is sent as ``:None`` (3.2.5).
    """
    if params is None:
        return Message("MODE", target, modes, prefix=prefix)
    return Message("MODE", target, modes, " ".join(params), prefix=prefix)


def PART(channel: str, nick: str, reason: str | None = None, prefix: Any = None) -> Message:
    """A ``PART``: ``channel nick``, with ``reason`` if given.

    Args:
        prefix: the sender, e.g. ``nick!user@host``; ``None`` is sent as ``:None`` (3.2.5).
    """
    return Message("PART", channel, nick, reason, prefix=prefix)


def PING(server: str) -> Message:
    """A ``PING``: ``PING :server``."""
    return Message("PING", f":{server}")


def PONG(server: str, text: str) -> Message:
    """A ``PONG``: ``PONG server :text``."""
    return Message("PONG", server, f":{text}")


def TOPIC(channel: str, topic: str, prefix: Any = None) -> Message:
    """A ``TOPIC`` change: ``channel``'s topic is now ``topic``.

    Args:
        prefix: the sender, e.g. ``nick!user@host``; ``None`` is sent as ``:None`` (3.2.5).
    """
    return Message("TOPIC", channel, topic, prefix=prefix)


def RPL_WELCOME(network: str) -> Message:
    """``001 RPL_WELCOME``: first after registration, ``:Welcome to the {network} IRC Network``."""
    return _M("001", f"Welcome to the {network} IRC Network")


def RPL_YOURHOST(host: str, version: str) -> Message:
    """``002 RPL_YOURHOST``: ``:Your host is {host} running {version}``."""
    return _M("002", f"Your host is {host} running {version}")


def RPL_CREATED(date: Any) -> Message:
    """``003 RPL_CREATED``: ``:This server was created {date}``."""
    return _M("003", f"This server was created {date}")


def RPL_MYINFO(server: str, version: str, umodes: str, chmodes: str) -> Message:
    """``004 RPL_MYINFO``: ``server version umodes chmodes``, the available user/channel modes."""
    return _M("004", server, version, umodes, chmodes)


def RPL_ISUPPORT(features: Iterable[str]) -> Message:
    """``005 RPL_ISUPPORT``: ``{features} :are supported by this server``."""
    return _M("005", *features, "are supported by this server")


def RPL_UMODEIS(modes: str) -> Message:
    """``221 RPL_UMODEIS``: the client's own user ``modes``."""
    return _M("221", modes)


def RPL_LUSERCLIENT(nusers: int, nservices: int, nservers: int) -> Message:
    """``251 RPL_LUSERCLIENT``: ``:There are N users and N services on N servers``."""
    text = f"There are {nusers} users and {nservices} services on {nservers} servers"
    return _M("251", text)


def RPL_LUSEROP(noperators: int) -> Message:
    """``252 RPL_LUSEROP``: ``{noperators} :operator(s) online``."""
    return _M("252", str(noperators), "operator(s) online")


def RPL_LUSERUNKOWN(nunknown: int) -> Message:
    """``253 RPL_LUSERUNKNOWN`` (sic): ``{nunknown} :unknown connection(s)``."""
    return _M("253", str(nunknown), "unknown connection(s)")


def RPL_LUSERCHANNELS(nchannels: int) -> Message:
    """``254 RPL_LUSERCHANNELS``: ``{nchannels} :channels formed``."""
    return _M("254", str(nchannels), "channels formed")


def RPL_LUSERME(nclients: int, nservers: int) -> Message:
    """``255 RPL_LUSERME``: ``:I have {nclients} clients and {nservers} servers``."""
    return _M("255", f"I have {nclients} clients and {nservers} servers")


def RPL_AWAY(nick: str, message: str) -> Message:
    """``301 RPL_AWAY``: ``nick :message``, the away message of ``nick``."""
    return _M("301", nick, f":{message}")


def RPL_UNAWAY() -> Message:
    """``305 RPL_UNAWAY``: ``:You are no longer marked as being away``."""
    return _M("305", "You are no longer marked as being away")


def RPL_NOWAWAY() -> Message:
    """``306 RPL_NOWAWAY``: ``:You have been marked as being away``."""
    return _M("306", "You have been marked as being away")


def RPL_WHOISUSER(nick: str, user: str, host: str, realname: str) -> Message:
    """``311 RPL_WHOISUSER``: ``nick user host * :realname``, the first ``WHOIS`` reply."""
    return _M("311", nick, user, host, "*", f":{realname}")


def RPL_WHOISSERVER(nick: str, server: str, server_info: str) -> Message:
    """``312 RPL_WHOISSERVER``: ``nick server server_info``, the server ``nick`` is on."""
    return _M("312", nick, server, server_info)


def RPL_WHOISOPERATOR(nick: str) -> Message:
    """``313 RPL_WHOISOPERATOR``: ``nick :is an IRC operator``."""
    return _M("313", nick, "is an IRC operator")


def RPL_ENDOFWHO(mask: str) -> Message:
    """``315 RPL_ENDOFWHO``: ``mask :End of WHO list``."""
    return _M("315", mask, "End of WHO list")


def RPL_WHOISIDLE(nick: str, idle: Any, signon: Any) -> Message:
    """``317 RPL_WHOISIDLE``: ``nick idle signon :seconds idle, signon time``.

    Args:
        idle: seconds since ``nick`` was last active.
        signon: when ``nick`` connected, in seconds since the epoch.
    """
    return _M("317", nick, str(idle), str(signon), "seconds idle, signon time")


def RPL_ENDOFWHOIS(nick: str) -> Message:
    """``318 RPL_ENDOFWHOIS``: ``nick :End of WHOIS list``."""
    return _M("318", nick, "End of WHOIS list")


def RPL_WHOISCHANNELS(nick: str, channels: Iterable[str]) -> Message:
    """``319 RPL_WHOISCHANNELS``: ``nick :channels``, the ``channels`` joined by spaces."""
    return _M("319", nick, ":" + " ".join(channels))


def RPL_LISTSTART(header: str | None = None) -> Message:
    """``321 RPL_LISTSTART``: ``header``, by default ``Channels :Users Name``."""
    return _M("321", header or "Channels :Users Name")


def RPL_LIST(channel: str, nvisible: Any, topic: str) -> Message:
    """``322 RPL_LIST``: ``channel nvisible topic``, one channel of a ``LIST``."""
    return _M("322", channel, str(nvisible), topic)


def RPL_LISTEND() -> Message:
    """``323 RPL_LISTEND``: ``:End of LIST``."""
    return _M("323", "End of LIST")


def RPL_CHANNELMODEIS(channel: str, mode: str, params: str | None = None) -> Message:
    """``324 RPL_CHANNELMODEIS``: ``channel mode [params]``, the modes of ``channel``."""
    return _M("324", channel, mode, params)


def RPL_NOTOPIC(channel: str) -> Message:
    """``331 RPL_NOTOPIC``: ``channel :No topic is set``."""
    return _M("331", channel, "No topic is set")


def RPL_TOPIC(channel: str, topic: str) -> Message:
    """``332 RPL_TOPIC``: ``channel topic``, the topic of ``channel``."""
    return _M("332", channel, topic)


def RPL_TOPICWHO(channel: str, setter: str, timestamp: Any) -> Message:
    """``333 RPL_TOPICWHO``: ``channel setter timestamp``, who set the topic and when."""
    return _M("333", channel, setter, str(timestamp))


def RPL_INVITING(channel: str, nick: str) -> Message:
    """``341 RPL_INVITING``: ``channel nick`` as one argument, ``nick`` was invited."""
    return _M("341", f"{channel} {nick}")


def RPL_SUMMONING(user: str) -> Message:
    """``342 RPL_SUMMONING``: ``user :Summoning user to IRC`` as one argument."""
    return _M("342", f"{user} :Summoning user to IRC")


def RPL_INVITELIST(channel: str, invitemask: str) -> Message:
    """``346 RPL_INVITELIST``: ``channel invitemask`` as one argument, one invite-list entry."""
    return _M("346", f"{channel} {invitemask}")


def RPL_ENDOFINVITELIST(channel: str) -> Message:
    """``347 RPL_ENDOFINVITELIST``: ``channel :End of channel invite list`` as one argument."""
    return _M("347", f"{channel} :End of channel invite list")


def RPL_VERSION(name: str, version: str, hostname: str, url: str) -> Message:
    """``351 RPL_VERSION``: ``name version hostname url``, the server software and host."""
    return _M("351", name, version, hostname, url)


def RPL_WHOREPLY(
    channel: str, user: str, host: str, server: str, nick: str, status: str, hops: Any, name: str
) -> Message:
    """``352 RPL_WHOREPLY``: ``channel user host server nick status :hops name``.

    Args:
        status: ``H`` (here) or ``G`` (gone), then ``*`` for an operator, ``@``/``+`` for op/voice.
        hops: the hop count to ``nick``'s server.
        name: the real name.
    """
    return _M("352", channel, user, host, server, nick, status, f":{hops} {name}")


def RPL_NAMEREPLY(channel: str, names: Iterable[str]) -> Message:
    """``353 RPL_NAMEREPLY``: ``= channel :names``, the nicks on a public ``channel``."""
    return _M("353", "=", channel, ":" + " ".join(names))


def RPL_ENDOFNAMES(channel: str) -> Message:
    """``366 RPL_ENDOFNAMES``: ``channel :End of NAMES list``."""
    return _M("366", channel, "End of NAMES list")


def RPL_MOTD(text: str) -> Message:
    """``372 RPL_MOTD``: ``- text``, one line of the message of the day."""
    return _M("372", f"- {text}")


def RPL_MOTDSTART(server: str) -> Message:
    """``375 RPL_MOTDSTART``: ``:- {server} Message of the day -``."""
    return _M("375", f"- {server} Message of the day -")


def RPL_ENDOFMOTD() -> Message:
    """``376 RPL_ENDOFMOTD``: ``:End of MOTD command``."""
    return _M("376", "End of MOTD command")


def RPL_YOUREOPER() -> Message:
    """``381 RPL_YOUREOPER``: ``:You are now an IRC operator``."""
    return _M("381", "You are now an IRC operator")


def ERR_NOSUCHNICK(nick: str) -> Message:
    """``401 ERR_NOSUCHNICK``: ``nick :No such nick``."""
    return _M("401", nick, "No such nick")


def ERR_NOSUCHCHANNEL(channel: str) -> Message:
    """``403 ERR_NOSUCHCHANNEL``: ``channel :No such channel``."""
    return _M("403", channel, "No such channel")


def ERR_CANNOTSENDTOCHAN(channel: str) -> Message:
    """``404 ERR_CANNOTSENDTOCHAN``: ``channel :Cannot send to channel``."""
    return _M("404", channel, "Cannot send to channel")


def ERR_TOOMANYCHANNELS(channel: str) -> Message:
    """``405 ERR_TOOMANYCHANNELS``: ``channel :You have joined too many channels``."""
    return _M("405", channel, "You have joined too many channels")


def ERR_UNKNOWNCOMMAND(command: str) -> Message:
    """``421 ERR_UNKNOWNCOMMAND``: ``command :Unknown command``."""
    return _M("421", command, "Unknown command")


def ERR_NOMOTD() -> Message:
    """``422 ERR_NOMOTD``: ``:MOTD file is missing``."""
    return _M("422", "MOTD file is missing")


def ERR_NONICKNAMEGIVEN() -> Message:
    """``431 ERR_NONICKNAMEGIVEN``: ``:No nickname given``."""
    return _M("431", "No nickname given")


def ERR_ERRONEUSNICKNAME(nick: str) -> Message:
    """``432 ERR_ERRONEUSNICKNAME``: ``nick :Erroneous nickname``."""
    return _M("432", nick, "Erroneous nickname")


def ERR_NICKNAMEINUSE(nick: str) -> Message:
    """``433 ERR_NICKNAMEINUSE``: ``nick :Nickname is already in use``."""
    return _M("433", nick, "Nickname is already in use")


def ERR_USERNOTINCHANNEL(nick: str, channel: str) -> Message:
    """``441 ERR_USERNOTINCHANNEL``: ``nick channel :They aren't on that channel``."""
    return _M("441", nick, channel, "They aren't on that channel")


def ERR_NOTREGISTERED() -> Message:
    """``451 ERR_NOTREGISTERED``: ``:You have not registered``."""
    return _M("451", "You have not registered")


def ERR_NEEDMOREPARAMS(command: str) -> Message:
    """``461 ERR_NEEDMOREPARAMS``: ``command :Need more parameters``."""
    return _M("461", command, "Need more parameters")


def ERR_PASSWDMISMATCH() -> Message:
    """``464 ERR_PASSWDMISMATCH``: ``:Password incorrect``."""
    return _M("464", "Password incorrect")


def ERR_UNKNOWNMODE(mode: str, channel: str | None = None) -> Message:
    """``472 ERR_UNKNOWNMODE``: ``mode :is unknown mode char to me [for channel {channel}]``."""
    text = "is unknown mode char to me"
    if channel is not None:
        text += f" for channel {channel}"
    return _M("472", mode, text)


def ERR_NOPRIVILEGES() -> Message:
    """``481 ERR_NOPRIVILEGES``: ``:Permission Denied- You're not an IRC operator``."""
    return _M("481", "Permission Denied- You're not an IRC operator")


def ERR_CHANOPRIVSNEEDED(channel: str) -> Message:
    """``482 ERR_CHANOPRIVSNEEDED``: ``channel :You're not channel operator``."""
    return _M("482", channel, "You're not channel operator")


def ERR_NOOPERHOST() -> Message:
    """``491 ERR_NOOPERHOST``: ``:No O-lines for your host``."""
    return _M("491", "No O-lines for your host")


def ERR_USERSDONTMATCH() -> Message:
    """``502 ERR_USERSDONTMATCH``: ``:Cannot change mode for other users``."""
    return _M("502", "Cannot change mode for other users")
