"""Pieces shared by the components that host or are hosted by another server.

`mount_for` picks the application a WSGI or ASGI `Gateway` hands a request
to; `Unlistening` gives the WSGI and ASGI ``Application`` (which own no
socket: their server does) the ``host``/``port``/``secure`` a `Request` reads.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Unlistening", "mount_for"]


def mount_for(mounts: Iterable[str], path: str) -> str | None:
    """The mount whose segments prefix ``path``, the longest one; ``/`` matches everything."""
    parts = [part for part in path.split("/") if part]
    best: str | None = None
    best_len = -1
    for mount in mounts:
        segments = [part for part in mount.split("/") if part]
        if parts[: len(segments)] == segments and len(segments) > best_len:
            best, best_len = mount, len(segments)
    return best


class Unlistening:
    """``host``, ``port`` and ``secure`` of a component that has no listening socket."""

    @property
    def host(self) -> str:
        """``''``: there is no listening socket (the hosting server owns it)."""
        return ""

    @property
    def port(self) -> int:
        """``0``."""
        return 0

    @property
    def secure(self) -> bool:
        """``False``."""
        return False
