"""The events of the HTTP/1.1 engine: what ``next_event`` returns and ``send`` takes.

One message is a head event (:class:`Request`, or :class:`Response` after
any number of :class:`InformationalResponse`), then zero or more
:class:`Data`, then one :class:`EndOfMessage`. :class:`ConnectionClosed`
says the peer closed (received) or that we are closing (sent).

Header fields are ``(name, value)`` pairs of bytes, in order, repeats kept.
Received names are lower-cased (field names are case-insensitive, RFC 9110
§5.1) and values stripped of surrounding whitespace; names we send go out as
given.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "Headers",
    "InformationalResponse",
    "Request",
    "Response",
]

Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class Request:
    """A request line and its header fields.

    ``http_version`` is what the peer sent (``b"1.0"`` or ``b"1.1"``); we
    always send HTTP/1.1.
    """

    method: bytes
    target: bytes
    headers: Headers = ()
    http_version: bytes = b"1.1"


@dataclass(frozen=True, slots=True)
class InformationalResponse:
    """A 1xx interim response (100 Continue, 101 Switching Protocols, 103 ...)."""

    status_code: int
    headers: Headers = ()
    reason: bytes = b""
    http_version: bytes = b"1.1"


@dataclass(frozen=True, slots=True)
class Response:
    """A final (2xx-5xx) status line and its header fields."""

    status_code: int
    headers: Headers = ()
    reason: bytes = b""
    http_version: bytes = b"1.1"


@dataclass(frozen=True, slots=True)
class Data:
    """A piece of the message body (a chunked body arrives decoded).

    Sent with Content-Length framing, ``data`` may be any object with
    ``len()`` (a file region for ``sendfile``, as h11 allows): it is counted
    and handed back unchanged for the caller to write.
    """

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The message is complete; ``headers`` is the chunked trailer section, if any."""

    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its side of the connection (or, sent, we close ours)."""


Event = Request | InformationalResponse | Response | Data | EndOfMessage | ConnectionClosed
