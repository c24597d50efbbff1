"""``Message``: one IRC message, rendered the 3.2.5 way (``str``/``bytes``)."""

from __future__ import annotations

from typing import Any

from .utils import Error as Error, parsemsg as parsemsg

__all__ = ["Error", "Message", "parsemsg"]

# RFC 1459 §2.3: at most 512 characters including the CRLF.
MAX_MESSAGE_CHARS = 512

_ABSENT: Any = object()


class Message:
    """An IRC message: ``Message(command, *args, prefix=..., encoding='utf-8')``.

    ``None`` arguments are dropped, bytes decoded with ``encoding``, ints
    converted with ``str``. Only the last argument may contain a space.

    Raises:
        Error: a space in a non-last argument, or a newline in any.
    """

    def __init__(self, command: Any, *args: Any, **kwargs: Any) -> None:
        self.command = command
        prefix = kwargs.get("prefix", _ABSENT)
        # 3.2.5: an explicit prefix=None is kept as the string "None".
        self.prefix: str | None = None if prefix is _ABSENT else str(prefix)
        self.encoding: str = kwargs.get("encoding", "utf-8")
        self.add_nick: bool = kwargs.get("add_nick", False)
        self.args: list[str] = [self._text(a) for a in args if a is not None]
        self._check_args()

    def _text(self, arg: Any) -> str:
        if isinstance(arg, bytes):
            return arg.decode(self.encoding)
        return arg if isinstance(arg, str) else str(arg)

    def _check_args(self) -> None:
        for arg in self.args[:-1]:
            if " " in arg:
                raise Error("Space can only appear in the very last arg")
        for arg in self.args:
            if "\n" in arg:
                raise Error("No newline allowed")

    @staticmethod
    def from_string(s: bytes) -> Message:
        """Parse one line (bytes).

        Raises:
            Error: longer than 512 characters.
        """
        if len(s) > MAX_MESSAGE_CHARS:
            raise Error("Message must not be longer than 512 characters")
        prefix, command, args = parsemsg(s)
        return Message(command, *args, prefix=prefix)

    def __str__(self) -> str:
        self._check_args()
        args = list(self.args)
        if args and " " in args[-1] and not args[-1].startswith(":"):
            args[-1] = ":" + args[-1]
        prefix = f":{self.prefix} " if self.prefix else ""
        return f"{prefix}{self.command} {' '.join(args)}\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode(self.encoding)

    def __repr__(self) -> str:
        return repr(str(self)[:-2])

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Message)
            and type(other) is type(self)
            and (self.prefix, self.command, self.args) == (other.prefix, other.command, other.args)
        )

    __hash__ = None  # type: ignore[assignment]
