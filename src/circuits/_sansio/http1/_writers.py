"""Turning events into bytes: heads in one ``bytes``, and the body framings.

Writers validate before they produce anything, so an invalid event raises
:class:`LocalProtocolError` and nothing reaches the wire (no response
splitting through a header value with CRLF in it).
"""

from __future__ import annotations

from ._abnf import FIELD_BLOCK, REASON_PHRASE, TOKEN
from ._errors import LocalProtocolError, ProtocolError
from ._events import Data, EndOfMessage, Headers, InformationalResponse, Request, Response
from ._headers import content_length, is_chunked, validate_fields
from ._readers import check_target

__all__ = [
    "BodyWriter",
    "ChunkedWriter",
    "ContentLengthWriter",
    "NoBodyWriter",
    "UntilCloseWriter",
    "body_writer",
    "write_request_head",
    "write_response_head",
]


def _fields(headers: Headers) -> bytes:
    return b"".join(b"%s: %s\r\n" % (name, value) for name, value in headers)


# Field names already seen to be tokens (servers send few distinct names).
_TOKEN_NAMES: set[bytes] = set()
_MAX_TOKEN_NAMES = 1024


def _checked_fields(headers: Headers) -> bytes:
    """The field lines of ``headers``, validated as `validate_fields` does, fast.

    Names are checked once per distinct name; values in one regex match of
    the whole block, plus a count of its CRLFs (a value hiding ``CRLF
    name: value`` inside would add one). Anything that fails is checked field
    by field for a precise error.
    """
    try:
        block = b"".join([b"%s: %s\r\n" % (name, value) for name, value in headers])
        ok = FIELD_BLOCK.fullmatch(block) is not None and block.count(b"\r\n") == len(headers)
        for name, _ in headers:
            if name not in _TOKEN_NAMES:
                if TOKEN.fullmatch(name) is None:
                    ok = False
                elif len(_TOKEN_NAMES) < _MAX_TOKEN_NAMES:
                    _TOKEN_NAMES.add(name)
    except TypeError:
        ok = False  # a str name or value: validate_fields names it
    if not ok:
        validate_fields(headers, LocalProtocolError)  # raises, naming the bad field
        block = _fields(headers)
    return block


def write_request_head(event: Request) -> bytes:
    """``method SP target SP HTTP/1.1 CRLF *(field-line CRLF) CRLF``."""
    if not isinstance(event.method, bytes) or TOKEN.fullmatch(event.method) is None:
        raise LocalProtocolError(f"request method {event.method!r} is not a token")
    if not isinstance(event.target, bytes):
        raise LocalProtocolError(f"request target must be bytes, not {event.target!r}")
    check_target(event.method, event.target, LocalProtocolError)
    validate_fields(event.headers, LocalProtocolError)
    return b"%s %s HTTP/1.1\r\n%s\r\n" % (event.method, event.target, _fields(event.headers))


def write_response_head(event: InformationalResponse | Response) -> bytes:
    """``HTTP/1.1 SP status SP reason CRLF *(field-line CRLF) CRLF``."""
    status = event.status_code
    if isinstance(event, InformationalResponse):
        if not (isinstance(status, int) and 100 <= status <= 199):
            raise LocalProtocolError(f"informational status must be 100-199, not {status!r}")
    elif not (isinstance(status, int) and 200 <= status <= 999):
        raise LocalProtocolError(f"final status must be 200-999, not {status!r}")
    if not isinstance(event.reason, bytes) or REASON_PHRASE.fullmatch(event.reason) is None:
        raise LocalProtocolError(f"reason phrase {event.reason!r} has a control character")
    return b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, event.reason, _checked_fields(event.headers))


class BodyWriter:
    """Frames the body of one outgoing message."""

    def data(self, event: Data) -> bytes:
        raise NotImplementedError

    def end(self, event: EndOfMessage) -> bytes:
        if event.headers:
            raise LocalProtocolError("trailer fields need Transfer-Encoding: chunked")
        return b""


class NoBodyWriter(BodyWriter):
    """HEAD responses, 1xx/204/304, and requests without framing headers."""

    def data(self, event: Data) -> bytes:
        if event.data:
            raise LocalProtocolError(
                "this message has no body (HEAD response, 1xx/204/304, or a request"
                " without Content-Length or Transfer-Encoding)"
            )
        return b""


class ContentLengthWriter(BodyWriter):
    """Exactly Content-Length bytes; more, or fewer by EndOfMessage, is an error."""

    def __init__(self, length: int) -> None:
        self.remaining = length

    def data(self, event: Data) -> bytes:
        if len(event.data) > self.remaining:
            raise LocalProtocolError(
                f"{len(event.data)} bytes of data but only {self.remaining} left of Content-Length"
            )
        self.remaining -= len(event.data)
        return event.data

    def end(self, event: EndOfMessage) -> bytes:
        if self.remaining:
            raise LocalProtocolError(
                f"message ended {self.remaining} bytes short of Content-Length"
            )
        return super().end(event)


class ChunkedWriter(BodyWriter):
    """RFC 9112 §7.1: each Data is one chunk; EndOfMessage writes the last chunk and trailers."""

    def data(self, event: Data) -> bytes:
        if not event.data:  # a zero-size chunk would end the body
            return b""
        return b"%x\r\n%s\r\n" % (len(event.data), event.data)

    def end(self, event: EndOfMessage) -> bytes:
        validate_fields(event.headers, LocalProtocolError)
        return b"0\r\n%s\r\n" % _fields(event.headers)


class UntilCloseWriter(BodyWriter):
    """A response to an HTTP/1.0 client without Content-Length: the close ends it."""

    def data(self, event: Data) -> bytes:
        return event.data


def body_writer(
    headers: Headers,
    *,
    no_body: bool,
    error: type[ProtocolError],
    names: set[bytes] | frozenset[bytes] | None = None,
) -> BodyWriter | None:
    """The writer our framing headers ask for; ``None`` if they give none.

    ``names``: the lower-cased field names, when the caller has them (the
    framing fields absent from it are not looked for).
    """
    chunked = (names is None or b"transfer-encoding" in names) and is_chunked(headers, error)
    length = content_length(headers, error) if names is None or b"content-length" in names else None
    if chunked and length is not None:
        raise error("both Transfer-Encoding and Content-Length")
    if no_body:
        return NoBodyWriter()
    if chunked:
        return ChunkedWriter()
    if length is not None:
        return ContentLengthWriter(length)
    return None
