"""IRC message parsing and serialisation (RFC 1459 §2.3, RFC 2812 §2.3, IRCv3 tags).

Used to validate and build IRC lines without I/O; ``circuits.protocols.irc``
keeps the 3.2.5 helpers (``parsemsg``, ``Message``) for compatibility.

Wire grammar (RFC 2812 §2.3.1, with IRCv3 message tags in front)::

    message  = ["@" tags SPACE] [":" prefix SPACE] command [params] crlf
    params   = *14( SPACE middle ) [ SPACE ":" trailing ]
    middle   = nospcrlfcl *( ":" / nospcrlfcl )
    trailing = *( ":" / " " / nospcrlfcl )

Strategy: lines are framed by ``LineDecoder`` (LF or CRLF), decoded as UTF-8
with replacement (IRC has no declared charset; most networks send UTF-8), and
parsed one at a time. A malformed line raises ``IRCProtocolError`` from
``next_event`` and is skipped; the connection stays usable. Empty lines are
ignored, as RFC 2812 §2.3.1 allows ("Empty messages are silently ignored").
We accept runs of spaces between parameters, as deployed servers do.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from .line import LineDecoder, LineTooLong

__all__ = [
    "MAX_LINE_BYTES",
    "MAX_TAGS_BYTES",
    "IRCEngine",
    "IRCMessage",
    "IRCProtocolError",
    "parse_line",
    "serialize",
]

# RFC 2812 §2.3: "messages SHALL NOT exceed 512 characters in length, counting
# all characters including the trailing CR-LF"; IRCv3 message-tags allow 8191
# more bytes for the tags part (including "@" and the following space).
MAX_LINE_BYTES = 512
MAX_TAGS_BYTES = 8191

_COMMAND = re.compile(r"[A-Za-z]+|[0-9]{3}")
_TAG_KEY = re.compile(r"\+?([A-Za-z0-9.-]+/)?[A-Za-z0-9-]+")
# IRCv3 tag value escapes.
_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPE = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}


class IRCProtocolError(ValueError):
    """A malformed IRC line (received) or an unrepresentable message (sent)."""


@dataclass(frozen=True, slots=True)
class IRCMessage:
    """One IRC message.

    Attributes:
        command: the command (letters, upper-cased when parsed) or a 3-digit numeric.
        params: the parameters; only the last may contain spaces, start with
            ``":"`` or be empty.
        prefix: the source (``nick!user@host`` or a server name), or ``None``.
        tags: IRCv3 message tags, values unescaped (``""`` for a tag without value).
    """

    command: str
    params: tuple[str, ...] = ()
    prefix: str | None = None
    tags: dict[str, str] = field(default_factory=dict, hash=False, compare=True)


def _unescape(value: str) -> str:
    out: list[str] = []
    it = iter(value)
    for ch in it:
        if ch == "\\":
            nxt = next(it, "")
            out.append(_UNESCAPE.get(nxt, nxt))  # unknown escape: drop the backslash
        else:
            out.append(ch)
    return "".join(out)


def _parse_tags(raw: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if not _TAG_KEY.fullmatch(key):
            raise IRCProtocolError(f"invalid tag key {key!r}")
        tags[key] = _unescape(value)
    return tags


def parse_line(line: str) -> IRCMessage:
    """Parse one line (without its terminator).

    Raises:
        IRCProtocolError: the line is empty or malformed.
    """
    if "\r" in line or "\n" in line or "\0" in line:
        raise IRCProtocolError(f"CR, LF or NUL inside a message: {line!r}")
    rest = line.lstrip(" ")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw, sep, rest = rest[1:].partition(" ")
        if not sep:
            raise IRCProtocolError(f"message with only tags: {line!r}")
        tags = _parse_tags(raw)
        rest = rest.lstrip(" ")
    prefix = None
    if rest.startswith(":"):
        prefix, sep, rest = rest[1:].partition(" ")
        if not sep or not prefix:
            raise IRCProtocolError(f"message with only a prefix: {line!r}")
        rest = rest.lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    if rest.startswith(":"):  # can only be trailing without a command
        raise IRCProtocolError(f"message without a command: {line!r}")
    words = head.split(" ")
    words = [w for w in words if w]
    if not words:
        raise IRCProtocolError(f"message without a command: {line!r}")
    command, params = words[0], words[1:]
    if not _COMMAND.fullmatch(command):
        raise IRCProtocolError(f"invalid command {command!r}")
    if sep:
        params.append(trailing)
    return IRCMessage(command.upper(), tuple(params), prefix, tags)


def serialize(msg: IRCMessage) -> bytes:
    """Serialise a message, CRLF-terminated, UTF-8 encoded.

    Raises:
        IRCProtocolError: the message cannot be represented on the wire.
    """
    if not _COMMAND.fullmatch(msg.command):
        raise IRCProtocolError(f"invalid command {msg.command!r}")
    parts: list[str] = []
    if msg.tags:
        items = []
        for key, value in msg.tags.items():
            if not _TAG_KEY.fullmatch(key):
                raise IRCProtocolError(f"invalid tag key {key!r}")
            escaped = "".join(_ESCAPE.get(ch, ch) for ch in value)
            items.append(f"{key}={escaped}" if value else key)
        parts.append("@" + ";".join(items))
    if msg.prefix is not None:
        if not msg.prefix or any(c in msg.prefix for c in " \r\n\0"):
            raise IRCProtocolError(f"invalid prefix {msg.prefix!r}")
        parts.append(":" + msg.prefix)
    parts.append(msg.command)
    for n, param in enumerate(msg.params):
        if any(c in param for c in "\r\n\0"):
            raise IRCProtocolError(f"CR, LF or NUL in parameter {param!r}")
        last = n == len(msg.params) - 1
        if last and (not param or " " in param or param.startswith(":")):
            parts.append(":" + param)
        elif not param or " " in param or param.startswith(":"):
            raise IRCProtocolError(
                f"only the last parameter may be empty, contain a space or start "
                f"with ':', not {param!r}"
            )
        else:
            parts.append(param)
    return " ".join(parts).encode("utf-8") + b"\r\n"


class IRCEngine:
    """Sans-I/O IRC connection: bytes in, ``IRCMessage`` out, and back.

    Args:
        max_line_bytes: the longest line accepted, terminator excluded
            (default: 510 + the IRCv3 tags allowance).
    """

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES - 2 + MAX_TAGS_BYTES) -> None:
        self._lines = LineDecoder(max_line_bytes)
        self._ready: deque[IRCMessage] = deque()

    def receive_data(self, data: bytes) -> None:
        """Feed bytes received from the peer."""
        self._lines.receive_data(data)

    def next_event(self) -> IRCMessage | None:
        """The next message, or ``None`` if more data is needed.

        Raises:
            IRCProtocolError: the next line was malformed or too long; it is
                skipped and the next call continues after it.
        """
        while True:
            try:
                ev = self._lines.next_event()
            except LineTooLong as exc:
                raise IRCProtocolError(str(exc)) from None
            if ev is None:
                return None
            text = ev.data.decode("utf-8", "replace")
            if not text.strip(" "):
                continue  # RFC 2812 §2.3.1: empty messages are silently ignored
            return parse_line(text)

    def send(self, msg: IRCMessage) -> bytes:
        """Serialise ``msg`` (see ``serialize``)."""
        return serialize(msg)
