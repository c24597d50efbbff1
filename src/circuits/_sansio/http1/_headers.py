"""Header fields: parsing one field line, validating what we send, and the
fields that decide framing and the connection (Content-Length,
Transfer-Encoding, Host, Connection, Expect, Upgrade).

The same checks run on both directions; the caller passes the error class,
:class:`RemoteProtocolError` for bytes we received and
:class:`LocalProtocolError` for an event we were asked to send.
"""

from __future__ import annotations

from ._abnf import FIELD_VALUE, HOST, TOKEN
from ._errors import ProtocolError, RemoteProtocolError
from ._events import Headers
from ._limits import MAX_CONTENT_LENGTH_DIGITS

__all__ = [
    "comma_tokens",
    "content_length",
    "expects_100_continue",
    "is_chunked",
    "parse_field_line",
    "persistent",
    "validate_fields",
    "validate_host",
]

_OWS = b" \t"


def parse_field_line(line: bytes) -> tuple[bytes, bytes]:
    """Parse one received ``field-line`` (no CRLF) into ``(lower-cased name, value)``.

    RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
    """
    name, colon, value = line.partition(b":")
    if not colon or TOKEN.fullmatch(name) is None:
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 §5.2: obs-fold is deprecated; a server MUST reject it
            # with 400 (or unfold it). We always reject.
            raise RemoteProtocolError(f"obsolete line folding in header line {line[:60]!r}")
        if colon and name.rstrip(_OWS) != name and TOKEN.fullmatch(name.rstrip(_OWS)):
            # RFC 9112 §5.1: "No whitespace is allowed between the field name
            # and colon ... a server MUST reject [such a] message with 400"
            raise RemoteProtocolError(f"whitespace before the colon in header {name!r}")
        if not colon:
            raise RemoteProtocolError(f"header line without a colon: {line[:60]!r}")
        raise RemoteProtocolError(f"header name {name[:60]!r} is not a token (RFC 9110 §5.6.2)")
    value = value.strip(_OWS)
    if FIELD_VALUE.fullmatch(value) is None:
        raise RemoteProtocolError(
            f"header {name!r} has a control character (CR, LF, NUL, ...) in its value"
        )
    return name.lower(), value


def validate_fields(headers: Headers, error: type[ProtocolError]) -> None:
    """Check header fields we are about to send: token names; values without
    CR, LF, NUL or other controls (they would split or truncate the head:
    response splitting) and without surrounding whitespace."""
    for name, value in headers:
        if not isinstance(name, bytes) or not isinstance(value, bytes):
            raise error(f"header fields must be bytes, not {name!r}: {value!r}")
        if TOKEN.fullmatch(name) is None:
            raise error(f"header name {name!r} is not a token (RFC 9110 §5.6.2)")
        if FIELD_VALUE.fullmatch(value) is None or value.strip(_OWS) != value:
            raise error(
                f"header {name!r} value {value!r} has a control character (CR, LF, NUL, ...)"
                " or surrounding whitespace"
            )


def comma_tokens(headers: Headers, name: bytes) -> list[bytes]:
    """The lower-cased elements of every ``name`` field, comma lists split.

    RFC 9110 §5.6.1: recipients accept empty list elements and ignore them.
    """
    out: list[bytes] = []
    for field, value in headers:
        if field.lower() == name:
            out.extend(v.strip(_OWS).lower() for v in value.split(b",") if v.strip(_OWS))
    return out


def content_length(headers: Headers, error: type[ProtocolError]) -> int | None:
    """The Content-Length, or ``None`` if there is none.

    RFC 9110 §8.6: Content-Length = 1*DIGIT. RFC 9112 §6.3 rule 5: an invalid
    value is an unrecoverable framing error (400). RFC 9110 allows a list of
    identical values; we refuse any repetition, as a value that needed
    repeating came through a broken or hostile intermediary.
    """
    values = [v for n, v in headers if n.lower() == b"content-length"]
    if not values:
        return None
    if len(values) > 1:
        raise error(f"Content-Length repeated: {values!r}")
    value = values[0]
    if not value.isdigit() or not value.isascii():
        raise error(f"Content-Length {value!r} is not 1*DIGIT (RFC 9110 §8.6)")
    if len(value) > MAX_CONTENT_LENGTH_DIGITS:
        raise error(f"Content-Length {value[:30]!r}... does not fit 64 bits")
    return int(value)


def is_chunked(headers: Headers, error: type[ProtocolError]) -> bool:
    """Whether Transfer-Encoding says chunked; any other coding is refused.

    RFC 9112 §6.3 rule 4: if chunked is not the final coding of a request the
    length cannot be determined: 400. RFC 9112 §7.1: chunked is applied at
    most once. RFC 9112 §6.1: a coding we do not implement gets 501.
    """
    values = [v for n, v in headers if n.lower() == b"transfer-encoding"]
    if not values:
        return False
    codings = comma_tokens(headers, b"transfer-encoding")
    if codings == [b"chunked"]:
        return True
    if not codings or any(TOKEN.fullmatch(c) is None for c in codings):
        raise error(f"invalid Transfer-Encoding {values!r}")
    if codings[-1] != b"chunked" or codings.count(b"chunked") > 1:
        raise error(f"Transfer-Encoding {values!r}: chunked must be the single final coding")
    raise error(f"Transfer-Encoding {values!r}: only chunked is implemented", 501)


def validate_host(headers: Headers, http_version: bytes, error: type[ProtocolError]) -> None:
    """RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status
    code to any HTTP/1.1 request message that lacks a Host header field and
    to any request message that contains more than one Host header field line
    or a Host header field with an invalid field value." """
    hosts = [v for n, v in headers if n.lower() == b"host"]
    if len(hosts) > 1:
        raise error(f"Host repeated: {hosts!r}")
    if not hosts:
        if http_version == b"1.1":
            raise error("HTTP/1.1 request without a Host header (RFC 9112 §3.2)")
        return
    if HOST.fullmatch(hosts[0]) is None:
        raise error(f"invalid Host {hosts[0]!r}: expected uri-host [ ':' port ]")


def persistent(headers: Headers, http_version: bytes) -> bool:
    """RFC 9112 §9.3: HTTP/1.1 persists unless ``Connection: close``."""
    return http_version == b"1.1" and b"close" not in comma_tokens(headers, b"connection")


def expects_100_continue(headers: Headers, http_version: bytes) -> bool:
    """RFC 9110 §10.1.1: "100-continue" (case-insensitive); ignored for HTTP/1.0."""
    return http_version == b"1.1" and b"100-continue" in comma_tokens(headers, b"expect")
