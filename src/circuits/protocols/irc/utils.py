"""IRC helpers: prefixes, the 3.2.5 line parser, stripping and ANSI-rendering colours."""

from __future__ import annotations

import re

__all__ = [
    "COLOR",
    "COLOR_CODE",
    "PREFIX",
    "Error",
    "irc_color_to_ansi",
    "joinprefix",
    "parsemsg",
    "parseprefix",
    "strip",
]

PREFIX = re.compile(r"([^!].*)!(.*)@(.*)")
# mIRC colour: \x03, then an optional 1-2 digit foreground and ",background".
COLOR_CODE = re.compile(r"\x03(?:(\d\d?)(?:,(\d\d?))?)?")
COLOR = re.compile(r"\x03(?:(\d\d?)(?:,(\d\d?))?)?|[\x02\x0f\x16\x1d\x1e\x1f]")

_FORMATTING = "\x01\x02\x1d\x1f\x1e\x11\x16"

# ANSI SGR codes for mIRC formatting: (on, off).
_STYLES = {"\x02": (1, 22), "\x1d": (3, 23), "\x1f": (4, 24), "\x16": (7, 27), "\x1e": (9, 29)}
# mIRC colours 0-15 as ANSI foreground codes, 16-98 as 256-colour indices; 99 = default.
_FG = [37, 30, 34, 32, 31, 36, 35, 33, 93, 92, 36, 96, 94, 95, 90, 37]
_FG += [52, 94, 100, 58, 22, 29, 23, 24, 17, 54, 53, 89, 88, 130, 142, 64, 28, 35, 30, 25]
_FG += [18, 91, 90, 125, 124, 166, 184, 106, 34, 49, 37, 33, 19, 129, 127, 161, 196, 208]
_FG += [226, 154, 46, 86, 51, 75, 21, 171, 201, 198, 203, 215, 227, 191, 83, 122, 87, 111]
_FG += [63, 177, 207, 205, 217, 223, 229, 193, 157, 158, 159, 153, 147, 183, 219, 212, 16]
_FG += [233, 235, 237, 239, 241, 244, 247, 250, 254, 231]
_FG_MAP = {**dict(enumerate(_FG)), 99: 39}
_BG_MAP = {0: 47, 1: 40, 2: 44, 3: 42, 4: 41, 5: 46, 6: 45, 7: 43, 8: 103, 10: 46, 14: 97}
_BG_MAP.update({15: 47, 99: 49})


class Error(Exception):
    """An invalid IRC message."""


def strip(s: str, color: bool = False) -> str:
    """Drop one leading ``':'``; with ``color``, also mIRC formatting codes."""
    if s.startswith(":"):
        s = s[1:]
    if color:
        for ch in _FORMATTING:
            s = s.replace(ch, "")
        s = COLOR_CODE.sub("", s).replace("\x03", "").replace("\x0f", "")
    return s


def joinprefix(nick: str | None, user: str | None, host: str | None) -> str:
    """``"nick!user@host"``; ``None`` parts become empty."""
    return f"{nick or ''}!{user or ''}@{host or ''}"


def parseprefix(prefix: str) -> tuple[str | None, str | None, str | None]:
    """``(nick, user, host)`` of ``nick!user@host``, else ``(prefix or None, None, None)``."""
    m = PREFIX.match(prefix)
    if m is not None:
        nick, user, host = m.groups()
        return nick, user, host
    return prefix or None, None, None


def parsemsg(
    s: bytes, encoding: str = "utf-8"
) -> tuple[tuple[str | None, str | None, str | None], str | None, list[str]]:
    """Parse one IRC line the 3.2.5 way.

    Args:
        s: the line, without terminator.
        encoding: decoded with errors replaced.

    Returns:
        ``(prefix_tuple, command or None, args)``.

    Raises:
        ValueError: the line is only a prefix (no space after it).
    """
    text = s.decode(encoding, "replace")
    prefix = ""
    if text.startswith(":"):
        prefix, text = text[1:].split(" ", 1)  # ValueError without a space (3.2.5)
    if " :" in text:
        head, trailing = text.split(" :", 1)
        words = [*head.split(), trailing]
    else:
        words = text.split()
    command = words[0] if words else None
    return parseprefix(prefix), command, words[1:]


def _sgr(codes: list[int]) -> str:
    # 3.2.5 formats each code as two digits and omits zeros, so a reset is ESC[m.
    return "\x1b[" + ";".join(f"{c:02d}" for c in codes if c) + "m"


def irc_color_to_ansi(data: str, reset: bool = True) -> str:
    """Render mIRC formatting (bold, italic, underline, reverse, strike, colours) as ANSI.

    Args:
        data: text with mIRC control codes.
        reset: append ``ESC[m`` if a style or colour is still active at the end.

    Returns:
        The text with ANSI SGR sequences.
    """
    out: list[str] = []
    active: set[str] = set()
    color_active = False
    fg = bg = 0
    pos = 0
    for m in COLOR.finditer(data):
        out.append(data[pos : m.start()])
        pos = m.end()
        code = m.group(0)
        if code == "\x0f":
            out.append(_sgr([0]))
            active.clear()
            color_active = False
        elif code in _STYLES:
            on, off = _STYLES[code]
            if code in active:
                active.discard(code)
                out.append(_sgr([off]))
            else:
                active.add(code)
                out.append(_sgr([on]))
        elif m.group(1) is None:
            out.append(_sgr([39, 49]))
            color_active = False
        else:
            fg = _FG_MAP.get(int(m.group(1)), fg)
            if m.group(2) is not None:
                bg = _BG_MAP.get(int(m.group(2)), bg)
            out.append(_sgr([fg, bg]))
            color_active = True
    out.append(data[pos:])
    if reset and (active or color_active):
        out.append(_sgr([0]))
    return "".join(out)
