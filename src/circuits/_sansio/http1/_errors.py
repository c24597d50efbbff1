"""Protocol errors of the HTTP/1.1 engine.

Two kinds, as in h11: a :class:`RemoteProtocolError` means the peer's bytes
are not acceptable HTTP/1.1 (a server answers with ``error_status_hint`` and
closes); a :class:`LocalProtocolError` means *we* were asked to send something
that would not be valid HTTP/1.1 (a bug in the caller, never put on the wire).
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of the engine's errors.

    Args:
        msg: what was wrong, showing the offending value.
        error_status_hint: the HTTP status a server should answer with
            (400 unless the RFC names a better one: 413, 414, 431, 501, 505).
    """

    def __init__(self, msg: str, error_status_hint: int = 400) -> None:
        super().__init__(msg)
        self.error_status_hint = error_status_hint

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.args[0]!r}, error_status_hint={self.error_status_hint})"
        )


class LocalProtocolError(ProtocolError):
    """We were asked to send something HTTP/1.1 forbids; nothing was sent."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break HTTP/1.1 (or our limits)."""
