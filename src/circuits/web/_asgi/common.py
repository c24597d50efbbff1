"""What both directions of the ASGI bridge share: types, versions, header conversion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ..headers import HOP_BY_HOP as HOP_BY_HOP, Headers

__all__ = [
    "ASGI_INFO",
    "HOP_BY_HOP",
    "ASGIApp",
    "ClientDisconnected",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "headers_from_asgi",
    "settle",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# ASGI 3.0 (single callable); spec 2.4: send() on a closed connection raises
# an OSError subclass instead of being ignored.
ASGI_INFO = {"version": "3.0", "spec_version": "2.4"}


class ClientDisconnected(OSError):
    """Raised by an ASGI ``send()`` once the client is gone (ASGI spec 2.4)."""


def headers_from_asgi(pairs: Iterable[Any]) -> list[tuple[str, str]]:
    """ASGI ``[(bytes, bytes)]`` headers as text pairs (Latin-1, as on the wire).

    Raises:
        TypeError: a header is not a pair of bytes.
    """
    out: list[tuple[str, str]] = []
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(f"an ASGI header must be a (name, value) pair, not {pair!r}") from None
        if not isinstance(name, bytes | bytearray) or not isinstance(value, bytes | bytearray):
            raise TypeError(f"ASGI header {pair!r} must be a pair of bytes")
        out.append((bytes(name).decode("latin-1"), bytes(value).decode("latin-1")))
    return out


def headers_to_asgi(headers: Headers) -> list[tuple[bytes, bytes]]:
    """circuits `Headers` as ASGI wants them: lower-case names, Latin-1 bytes."""
    return [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in headers.items()
    ]


def settle(fut: asyncio.Future[Any], exc: BaseException | None = None) -> None:
    """Complete ``fut`` (with ``None`` or ``exc``) unless it is done already."""
    if fut.done():
        return
    if exc is None:
        fut.set_result(None)
    else:
        fut.set_exception(exc)
