"""Turning received bytes into events: heads and the three body framings.

Strategy: all bytes go into one :class:`ReceiveBuffer`. A head is complete
when ``\\r\\n\\r\\n`` is in the buffer; we look for it with ``bytes.find`` on
``\\n``, resuming where the last look stopped, so a head that arrives a byte at
a time costs O(n), not O(n^2). Each ``\\n`` found must follow a ``\\r`` (bare
LF is refused on the spot), and only the first ``max_head_bytes`` are ever
searched: the first problem *in byte order* decides the error, so the outcome
does not depend on how the bytes were split into reads.

Body readers are small objects with ``read(buf)`` (an event, or ``None`` for
"need more bytes") and ``read_eof()`` (the event that a close produces, or a
:class:`RemoteProtocolError` if the close cut the body short).
"""

from __future__ import annotations

from ._abnf import (
    ABSOLUTE_FORM,
    AUTHORITY_FORM,
    CHUNK_LINE,
    FIELD_LINE,
    HTTP_VERSION,
    ORIGIN_FORM,
    SIMPLE_REQUEST_HEAD,
    STATUS_LINE,
    TOKEN,
)
from ._errors import ProtocolError, RemoteProtocolError
from ._events import Data, EndOfMessage, Headers, InformationalResponse, Request, Response
from ._headers import parse_field_line
from ._limits import MAX_CHUNK_SIZE_DIGITS, Limits

__all__ = [
    "BodyReader",
    "ChunkedReader",
    "ContentLengthReader",
    "ReceiveBuffer",
    "UntilCloseReader",
    "check_target",
    "read_request_head",
    "read_response_head",
]

SUPPORTED_VERSIONS = (b"1.0", b"1.1")


class ReceiveBuffer:
    """The bytes received and not yet turned into events."""

    def __init__(self) -> None:
        self.data = bytearray()
        self._scan = 0  # where the search for the end of the head resumes
        self._lf_seen = False  # the head's first line is complete

    def __len__(self) -> int:
        return len(self.data)

    def take(self, n: int) -> bytes:
        out = bytes(self.data[:n])
        del self.data[:n]
        self._scan = 0
        self._lf_seen = False
        return out

    def find_head_end(self, limits: Limits, line_limit: int | None) -> int:
        """The length of a complete head (through ``\\r\\n\\r\\n``), or -1.

        Raises 400 for a bare LF, 414 for a first line longer than
        ``line_limit``, 431 when the head exceeds ``limits.max_head_bytes``.
        Checks run in byte order, so their outcome does not depend on splits.
        """
        data = self.data
        stop = limits.max_head_bytes  # the head, its final empty line included
        i = data.find(b"\n", self._scan, stop)
        while i != -1:
            if not self._lf_seen:
                self._lf_seen = True
                if line_limit is not None and i > line_limit + 1:
                    raise _line_too_long(line_limit)
            if i == 0 or data[i - 1] != 0x0D:
                raise RemoteProtocolError("bare LF in the message head; lines end with CRLF")
            if i >= 3 and data[i - 3 : i - 1] == b"\r\n":
                self._scan = 0
                self._lf_seen = False
                return i + 1
            i = data.find(b"\n", i + 1, stop)
        self._scan = min(len(data), stop)
        if line_limit is not None and not self._lf_seen and len(data) > line_limit + 1:
            raise _line_too_long(line_limit)
        if len(data) >= stop:
            raise RemoteProtocolError(
                f"message head longer than {limits.max_head_bytes} bytes", error_status_hint=431
            )
        return -1


def _line_too_long(line_limit: int) -> RemoteProtocolError:
    return RemoteProtocolError(
        f"request line longer than {line_limit} bytes", error_status_hint=414
    )


def _split_head(head: bytes, limits: Limits) -> tuple[bytes, Headers]:
    """Split a complete head (ending in CRLFCRLF) into its first line and fields."""
    lines = head[:-4].split(b"\r\n")
    for line in lines:
        if b"\r" in line:
            # RFC 9112 §2.2: a bare CR outside content MUST be treated as
            # invalid or replaced by SP; we treat it as invalid.
            raise RemoteProtocolError(f"bare CR in the message head: {line[:60]!r}")
    if len(lines) - 1 > limits.max_header_count:
        raise RemoteProtocolError(
            f"{len(lines) - 1} header fields; at most {limits.max_header_count} accepted",
            error_status_hint=431,
        )
    return lines[0], tuple(parse_field_line(line) for line in lines[1:])


def check_target(method: bytes, target: bytes, error: type[ProtocolError]) -> None:
    """RFC 9112 §3.2: request-target = origin-form / absolute-form /
    authority-form / asterisk-form; authority-form only for CONNECT (§3.2.3),
    asterisk-form only for OPTIONS (§3.2.4)."""
    if method == b"CONNECT":
        if AUTHORITY_FORM.fullmatch(target) is None:
            raise error(f"CONNECT needs an authority-form target (host:port), not {target!r}")
    elif target == b"*":
        if method != b"OPTIONS":
            raise error(f"the asterisk-form target '*' is only for OPTIONS, not {method!r}")
    elif ORIGIN_FORM.fullmatch(target) is None and ABSOLUTE_FORM.fullmatch(target) is None:
        raise error(f"invalid request target {target[:80]!r} (RFC 9112 §3.2)")


def read_request_head(buf: ReceiveBuffer, limits: Limits) -> Request | None:
    """Parse a request head from ``buf``, or return ``None`` if it is incomplete."""
    data = buf.data
    if data[:1] != b"\r":
        # The fast path: a complete head of the common shape, checked in one
        # match; it accepts exactly what the general path below accepts.
        end = data.find(b"\r\n\r\n", 0, limits.max_head_bytes)
        if end != -1:
            head = bytes(data[: end + 4])
            match = SIMPLE_REQUEST_HEAD.fullmatch(head)
            if (
                match is not None
                and match.end(3) <= limits.max_request_line_bytes
                and match[1] != b"CONNECT"
            ):
                fields = FIELD_LINE.findall(head, match.start(4), match.end(4))
                if len(fields) <= limits.max_header_count:
                    buf.take(end + 4)
                    return Request(
                        match[1],
                        match[2],
                        tuple([(name.lower(), value) for name, value in fields]),
                        b"1." + match[3],
                    )
    # RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF)
    # received prior to the request-line.
    while buf.data[:2] == b"\r\n":
        buf.take(2)
    end = buf.find_head_end(limits, limits.max_request_line_bytes)
    if end == -1:
        return None
    line, headers = _split_head(buf.take(end), limits)
    # RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    parts = line.split(b" ")
    if len(parts) != 3:
        raise RemoteProtocolError(
            f"request line {line[:80]!r} is not 'method SP target SP version'"
        )
    method, target, version = parts
    version_match = HTTP_VERSION.fullmatch(version)
    if version_match is None:
        raise RemoteProtocolError(f"invalid HTTP version {version[:20]!r} in the request line")
    http_version = version[5:]
    if http_version not in SUPPORTED_VERSIONS:
        # RFC 9110 §15.6.6: 505 HTTP Version Not Supported
        raise RemoteProtocolError(
            f"HTTP/{http_version.decode()} is not supported; expected HTTP/1.0 or HTTP/1.1",
            error_status_hint=505,
        )
    if TOKEN.fullmatch(method) is None:
        raise RemoteProtocolError(f"request method {method[:40]!r} is not a token")
    check_target(method, target, RemoteProtocolError)
    return Request(method, target, headers, http_version)


def read_response_head(
    buf: ReceiveBuffer, limits: Limits
) -> InformationalResponse | Response | None:
    """Parse a status line and fields from ``buf``, or ``None`` if incomplete."""
    end = buf.find_head_end(limits, None)
    if end == -1:
        return None
    line, headers = _split_head(buf.take(end), limits)
    match = STATUS_LINE.fullmatch(line)
    if match is None:
        raise RemoteProtocolError(f"invalid status line {line[:80]!r}")
    http_version = line[5:8]
    if http_version not in SUPPORTED_VERSIONS:
        raise RemoteProtocolError(f"HTTP/{http_version.decode()} response; expected HTTP/1.x")
    status = int(match[3])
    reason = match[4] or b""
    if status < 100:
        raise RemoteProtocolError(f"status code {status} is below 100 (RFC 9110 §15)")
    if status < 200:
        return InformationalResponse(status, headers, reason, http_version)
    return Response(status, headers, reason, http_version)


class BodyReader:
    """Base of the body readers."""

    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | None:
        raise NotImplementedError

    def read_eof(self) -> EndOfMessage:
        raise RemoteProtocolError("the peer closed the connection in the middle of a body")


class ContentLengthReader(BodyReader):
    """RFC 9112 §6.3 rule 6: exactly Content-Length bytes."""

    def __init__(self, length: int) -> None:
        self.remaining = length

    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | None:
        if self.remaining == 0:
            return EndOfMessage()
        if not buf:
            return None
        data = buf.take(self.remaining)
        self.remaining -= len(data)
        return Data(data)

    def read_eof(self) -> EndOfMessage:
        raise RemoteProtocolError(
            f"the peer closed the connection with {self.remaining} body bytes still to come"
        )


class UntilCloseReader(BodyReader):
    """RFC 9112 §6.3 rule 8: a response without framing runs until the close."""

    def __init__(self, max_body_bytes: int | None) -> None:
        self.left = max_body_bytes

    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | None:
        if not buf:
            return None
        data = buf.take(len(buf))
        if self.left is not None:
            self.left -= len(data)
            if self.left < 0:
                raise RemoteProtocolError("the body exceeds max_body_bytes", error_status_hint=413)
        return Data(data)

    def read_eof(self) -> EndOfMessage:
        return EndOfMessage()


class ChunkedReader(BodyReader):
    """RFC 9112 §7.1: chunked transfer coding, decoded; trailers end the message."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.left = limits.max_body_bytes
        self.in_chunk = 0  # bytes of the current chunk still to read
        self.need_crlf = False  # chunk data read; its CRLF is next
        self.in_trailer = False

    def read(self, buf: ReceiveBuffer) -> Data | EndOfMessage | None:
        if self.in_chunk:
            if not buf:
                return None
            data = buf.take(self.in_chunk)
            self.in_chunk -= len(data)
            self.need_crlf = self.in_chunk == 0
            return Data(data)
        if self.need_crlf:
            # chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
            head = bytes(buf.data[:2])
            if head != b"\r\n"[: len(head)]:
                raise RemoteProtocolError(f"chunk data followed by {head!r}, not CRLF")
            if len(head) < 2:
                return None
            buf.take(2)
            self.need_crlf = False
        if self.in_trailer:
            return self._read_trailer(buf)
        return self._read_size_line(buf)

    def _read_size_line(self, buf: ReceiveBuffer) -> Data | EndOfMessage | None:
        limit = self.limits.max_chunk_line_bytes
        i = buf.data.find(b"\n", 0, limit + 2)
        if i == -1:
            if len(buf) > limit + 1:
                raise RemoteProtocolError(f"chunk-size line longer than {limit} bytes")
            return None
        if i == 0 or buf.data[i - 1] != 0x0D:
            raise RemoteProtocolError("chunk-size line ends in a bare LF, not CRLF")
        line = buf.take(i + 1)[:-2]
        match = CHUNK_LINE.fullmatch(line)
        if match is None:
            raise RemoteProtocolError(f"invalid chunk-size line {line[:40]!r}")
        digits = match[1]
        if len(digits) > MAX_CHUNK_SIZE_DIGITS:
            raise RemoteProtocolError(f"chunk size {digits[:30]!r} has too many digits")
        size = int(digits, 16)
        if self.left is not None:
            self.left -= size
            if self.left < 0:
                raise RemoteProtocolError("the body exceeds max_body_bytes", error_status_hint=413)
        if size == 0:
            self.in_trailer = True
            return self._read_trailer(buf)
        self.in_chunk = size
        return self.read(buf)

    def _read_trailer(self, buf: ReceiveBuffer) -> EndOfMessage | None:
        # chunked-body = *chunk last-chunk trailer-section CRLF
        # trailer-section = *( field-line CRLF )
        head = bytes(buf.data[:2])
        if head == b"\r\n":
            buf.take(2)
            return EndOfMessage()
        if head == b"\r":
            return None
        end = buf.find_head_end(self.limits, None)
        if end == -1:
            return None
        _, fields = _split_head(b"\r\n" + buf.take(end), self.limits)
        return EndOfMessage(fields)
