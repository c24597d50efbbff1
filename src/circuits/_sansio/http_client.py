"""A small, strict HTTP/1.1 *response* parser without I/O.

Feed the bytes a server sent with ``receive_data`` (``b""`` = the connection
closed), pull :class:`Response`, :class:`Data` and :class:`EndOfMessage`
events with ``next_event``. Responses may follow each other on one connection
(pipelining); each is parsed on its own.

Framing (RFC 9112 §6.3, in this order):

1. 1xx, 204 and 304 responses, and responses to HEAD (``head=True`` in
   :meth:`ResponseParser.expect`), have no body.
2. ``Transfer-Encoding`` whose last coding is ``chunked``: chunked body
   (§7.1); any other transfer coding is refused (we cannot find the end).
3. ``Content-Length``: exactly that many bytes; several differing values, or
   a value that is not digits, are an error (§6.3 rule 5).
4. Otherwise the body runs until the connection closes.

``Transfer-Encoding`` together with ``Content-Length`` is an error here
(§6.1 allows a server to send both only for broken intermediaries; a strict
client refuses, which closes the request-smuggling door). A 101 response ends
after its headers: the bytes that follow belong to the new protocol and are
left in :attr:`ResponseParser.trailing_data`.

Every violation raises :class:`RemoteProtocolError`; the parser then stays
broken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MAX_HEADER_BYTES",
    "Data",
    "EndOfMessage",
    "RemoteProtocolError",
    "Response",
    "ResponseParser",
]

# h11's DEFAULT_MAX_INCOMPLETE_EVENT_SIZE: servers (nginx, Apache, IIS, node)
# cap a header block at 8-64 KiB; 64 KiB accepts anything they send.
MAX_HEADER_BYTES = 64 * 1024
# A chunk-size line is hex digits plus extensions; 4 KiB is generous.
MAX_CHUNK_LINE_BYTES = 4096

# RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3}) ?([\t \x21-\x7e\x80-\xff]*)")
# RFC 9110 §5.1/5.5: field-name = token; field-value = *field-content (no CR/LF/NUL)
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[\t ]*(;.*)?")


class RemoteProtocolError(Exception):
    """The server's bytes are not a well-framed HTTP/1.1 response."""


@dataclass(frozen=True, slots=True)
class Response:
    """A status line and headers (names lower-cased, in order, repeats kept)."""

    status: int
    reason: bytes
    http_version: tuple[int, int]
    headers: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class Data:
    """A piece of the body (chunked bodies: decoded)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfMessage:
    """The response is complete (``headers``: the chunked trailer, if any)."""

    headers: tuple[tuple[bytes, bytes], ...] = ()


Event = Response | Data | EndOfMessage

# Parser states. _BODY_DONE: the body is complete, EndOfMessage comes next.
# _DONE: a close-delimited response ended; nothing can follow on this connection.
(_HEAD, _LENGTH, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _CLOSE, _BODY_DONE, _DONE) = (
    range(9)
)


class ResponseParser:
    """Parse the responses of one connection.

    Args:
        max_header_bytes: limit for a status line plus headers (and a trailer).
    """

    def __init__(self, max_header_bytes: int = MAX_HEADER_BYTES) -> None:
        self.max_header_bytes = max_header_bytes
        self._buffer = bytearray()
        self._closed = False
        self._state = _HEAD
        self._remaining = 0
        self._error: RemoteProtocolError | None = None
        self._heads: list[bool] = []  # per expected response: was it a HEAD request?
        self.trailing_data = b""  # bytes after a 101 response
        self._switched = False  # a 101 ended HTTP on this connection

    def expect(self, head: bool = False) -> None:
        """Note that a request was sent (``head``: it was HEAD, so no body comes)."""
        self._heads.append(head)

    def receive_data(self, data: bytes) -> None:
        """Add received bytes; ``b""`` means the server closed the connection."""
        if data:
            if self._switched:
                self.trailing_data += data
                return
            self._buffer += data
        else:
            self._closed = True

    def next_event(self) -> Event | None:
        """The next event, or ``None`` until more bytes (or the close) arrive.

        Raises:
            RemoteProtocolError: the response is malformed or cut short.
        """
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except RemoteProtocolError as exc:
            self._error = exc
            raise

    def _next(self) -> Event | None:
        buf = self._buffer
        state = self._state
        if state == _DONE:
            return None
        if state == _HEAD:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > self.max_header_bytes:
                    raise RemoteProtocolError(
                        f"no end of headers within {self.max_header_bytes} bytes"
                    )
                if self._closed and buf:
                    raise RemoteProtocolError("connection closed inside the response head")
                return None
            if end > self.max_header_bytes:
                raise RemoteProtocolError(
                    f"response head of {end} bytes exceeds {self.max_header_bytes}"
                )
            head = bytes(buf[:end])
            del buf[: end + 4]
            return self._start(head)
        if state == _LENGTH:
            if not buf:
                if self._closed:
                    raise RemoteProtocolError(
                        f"connection closed with {self._remaining} body bytes missing"
                    )
                return None
            data = bytes(buf[: self._remaining])
            del buf[: len(data)]
            self._remaining -= len(data)
            if self._remaining == 0:
                self._state = _BODY_DONE
            return Data(data)
        if state == _BODY_DONE:
            return self._finish()
        if state == _CLOSE:
            if buf:
                data = bytes(buf)
                buf.clear()
                return Data(data)
            if self._closed:
                self._state = _DONE
                return EndOfMessage()
            return None
        return self._chunked()

    def _start(self, head: bytes) -> Response:
        lines = head.split(b"\r\n")
        match = _STATUS_LINE.fullmatch(lines[0])
        if match is None:
            raise RemoteProtocolError(f"bad status line {lines[0][:80]!r}")
        major, minor, status = int(match[1]), int(match[2]), int(match[3])
        if major != 1:
            raise RemoteProtocolError(f"HTTP/{major}.{minor} response; expected HTTP/1.x")
        headers = tuple(_parse_field(line) for line in lines[1:])
        response = Response(status, match[4], (major, minor), headers)
        head_request = self._heads.pop(0) if self._heads else False
        self._frame(response, head_request)
        return response

    def _frame(self, response: Response, head_request: bool) -> None:
        status = response.status
        lengths = {v.strip() for k, v in response.headers if k == b"content-length"}
        codings = b",".join(v for k, v in response.headers if k == b"transfer-encoding")
        if status == 101:
            self.trailing_data = bytes(self._buffer)
            self._buffer.clear()
            self._switched = True
            self._state = _BODY_DONE
            return
        if status < 200 or status in (204, 304) or head_request:
            self._state = _BODY_DONE
            return
        if codings:
            if lengths:
                raise RemoteProtocolError("both Transfer-Encoding and Content-Length")
            names = [c.strip().lower() for c in codings.split(b",")]
            if names[-1] != b"chunked" or names.count(b"chunked") != 1:
                raise RemoteProtocolError(f"unsupported Transfer-Encoding {codings!r}")
            self._state = _CHUNK_SIZE_LINE
            return
        if lengths:
            if len(lengths) != 1:
                raise RemoteProtocolError(f"conflicting Content-Length values {sorted(lengths)}")
            (value,) = lengths
            if not value.isdigit():
                raise RemoteProtocolError(f"bad Content-Length {value!r}")
            self._remaining = int(value)
            self._state = _LENGTH if self._remaining else _BODY_DONE
            return
        self._state = _CLOSE

    def _finish(self) -> EndOfMessage:
        self._state = _DONE if self._switched else _HEAD
        return EndOfMessage()

    def _chunked(self) -> Event | None:
        buf = self._buffer
        if self._state == _CHUNK_SIZE_LINE:
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > MAX_CHUNK_LINE_BYTES:
                    raise RemoteProtocolError("chunk-size line too long")
                return self._need_more()
            match = _CHUNK_SIZE.fullmatch(bytes(buf[:end]))
            if match is None:
                raise RemoteProtocolError(f"bad chunk-size line {bytes(buf[:end])[:40]!r}")
            del buf[: end + 2]
            self._remaining = int(match[1], 16)
            self._state = _CHUNK_DATA if self._remaining else _TRAILER
            return self._chunked()
        if self._state == _CHUNK_DATA:
            if not buf:
                return self._need_more()
            data = bytes(buf[: self._remaining])
            del buf[: len(data)]
            self._remaining -= len(data)
            if self._remaining == 0:
                self._state = _CHUNK_END
            return Data(data)
        if self._state == _CHUNK_END:
            if len(buf) < 2:
                return self._need_more()
            if buf[:2] != b"\r\n":
                raise RemoteProtocolError("chunk data not followed by CRLF")
            del buf[:2]
            self._state = _CHUNK_SIZE_LINE
            return self._chunked()
        # _TRAILER: *( field-line CRLF ) CRLF
        if buf[:2] == b"\r\n":
            del buf[:2]
            self._state = _HEAD
            return EndOfMessage()
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self.max_header_bytes:
                raise RemoteProtocolError("trailer too long")
            return self._need_more()
        trailer = tuple(_parse_field(line) for line in bytes(buf[:end]).split(b"\r\n"))
        del buf[: end + 4]
        self._state = _HEAD
        return EndOfMessage(trailer)

    def _need_more(self) -> Event | None:
        if self._closed:
            raise RemoteProtocolError("connection closed inside a chunked body")
        return None


def _parse_field(line: bytes) -> tuple[bytes, bytes]:
    name, colon, value = line.partition(b":")
    if not colon or _TOKEN.fullmatch(name) is None:
        raise RemoteProtocolError(f"bad header line {line[:80]!r}")
    value = value.strip(b" \t")
    if _FIELD_VALUE.fullmatch(value) is None:
        raise RemoteProtocolError(f"bad characters in header {name!r}")
    return name.lower(), value
