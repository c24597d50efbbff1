"""``HttpParser``: the 3.2.5 incremental HTTP/1.x parser API over our strict http1 engine.

The engine (:mod:`circuits._sansio.http1`) does the parsing and enforces
the limits; this wrapper keeps the old method names and return conventions:
``execute`` returns the number of bytes taken and never raises for bad
input, it sets :attr:`HttpParser.errno` / ``errstr`` instead (plus
``error_status_hint``, the status a server should answer with).

Differences from 3.2.5, all on the strict side: requests with both
Content-Length and Transfer-Encoding, HTTP/1.1 requests without ``Host``,
and obsolete line folding are refused; header bytes are decoded as Latin-1
with no escape processing. A response (``kind=1``) is read as the answer to
a ``GET``.
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import urlsplit

from circuits._sansio.http1 import (
    CLIENT,
    MAX_REQUEST_LINE_BYTES,
    SERVER,
    Connection,
    Data,
    EndOfMessage,
    InformationalResponse,
    RemoteProtocolError,
    Request,
    Response,
)
from circuits.web.headers import Headers

__all__ = [
    "BAD_FIRST_LINE",
    "HEADER_RE",
    "INVALID_CHUNK",
    "INVALID_HEADER",
    "METHOD_RE",
    "STATUS_RE",
    "VERSION_RE",
    "Headers",
    "HttpParser",
    "InvalidChunkSize",
    "InvalidHeader",
    "InvalidRequestLine",
]

BAD_FIRST_LINE = 0
INVALID_HEADER = 1
INVALID_CHUNK = 2

# The 3.2.5 patterns, kept for callers that use them; the engine applies the
# RFC 9112 grammar instead.
METHOD_RE = re.compile(r"^[A-Z0-9$-_.]{1,20}$")
VERSION_RE = re.compile(r"^HTTP/(\d+).(\d+)$")
STATUS_RE = re.compile(r"^(\d{3})(?:\s+([\s\w]*))$")
HEADER_RE = re.compile(r"[\x00-\x1F\x7F()<>@,;:\[\]={} \t\\\"]")

# Statuses the engine gives for a bad request or status line (RFC 9112 §3,
# RFC 9110 §15.6.2, §15.6.6).
_FIRST_LINE_STATUSES = (414, 501, 505)
_DECOMPRESSED_LIMIT_BYTES = 16 * 1024 * 1024  # as http1.MAX_BODY_BYTES: bounds a zip bomb


class InvalidRequestLine(Exception):
    """The request or status line is malformed."""


class InvalidHeader(Exception):
    """A header field is malformed."""


class InvalidChunkSize(Exception):
    """The body framing (a chunk size) is malformed."""


class HttpParser:
    """Parse one HTTP/1.x message fed in pieces.

    Args:
        kind: 0 requests, 1 responses, 2 detect from the first bytes.
        decompress: inflate ``Content-Encoding: gzip`` / ``deflate`` bodies.
    """

    def __init__(self, kind: int = 2, decompress: bool = False) -> None:
        self.kind = kind
        self.decompress = decompress
        self.errno: int | None = None
        self.errstr = ""
        self.error_status_hint: int | None = None
        self._conn: Connection | None = None
        self._first_line = bytearray()
        self._probe = False  # a probe does not classify its own errors
        self._pending = b""  # kind=2: bytes seen before the kind is known
        self._version: tuple[int, int] | None = None
        self._method: str | None = None
        self._status_code: int | None = None
        self._reason = ""
        self._url = ""
        self._scheme: str | None = None
        self._path = ""
        self._query_string = ""
        self._fragment = ""
        self._headers = Headers()
        self._body: list[bytes] = []
        self._started = False
        self._headers_complete = False
        self._partial_body = False
        self._complete = False
        self._chunked = False
        self._inflater: zlib._Decompress | None = None
        self._inflated = 0
        if kind in (0, 1):
            self._start(kind)

    def _start(self, kind: int) -> None:
        self.kind = kind
        self._conn = Connection(SERVER if kind == 0 else CLIENT)
        if kind == 1:  # the engine reads a response only as the answer to a request
            self._conn.send(Request(b"GET", b"/", ((b"Host", b"localhost"),)))
            self._conn.send(EndOfMessage())

    # -- feeding ------------------------------------------------------------

    def execute(self, data: bytes, length: int) -> int:
        """Feed ``data[:length]``; ``length == 0`` means the peer closed (EOF).

        Returns:
            The number of bytes taken (0 after an error).
        """
        if self.errno is not None:
            return 0
        data = bytes(data[:length])
        if self._conn is None:
            self._pending += data
            if not length:
                data = b""
            elif len(self._pending) < 5 and b"HTTP/".startswith(self._pending):
                return length
            self._start(1 if self._pending.startswith(b"HTTP/") else 0)
            data, self._pending = self._pending, b""
        assert self._conn is not None
        try:
            if data or not length:
                if b"\r\n" not in self._first_line:  # kept to classify errors
                    self._first_line += data[: MAX_REQUEST_LINE_BYTES + 2]
                self._conn.receive_data(data)
            while (event := self._conn.next_event()) is not None:
                self._handle(event)
        except RemoteProtocolError as exc:
            self._fail(str(exc), exc.error_status_hint)
            return 0
        except zlib.error as exc:
            self._fail(f"cannot decompress the body: {exc}", 400)
            return 0
        return length

    def _fail(self, message: str, status: int) -> None:
        if self._headers_complete:
            self.errno = INVALID_CHUNK
        elif self._probe or status in _FIRST_LINE_STATUSES or not self._first_line_ok():
            self.errno = BAD_FIRST_LINE
        else:
            self.errno = INVALID_HEADER
        self.errstr, self.error_status_hint = message, status

    def _first_line_ok(self) -> bool:
        # Replay the first line alone, with a minimal head, through a fresh engine.
        line, crlf, _ = bytes(self._first_line).partition(b"\r\n")
        if not crlf:
            return False
        probe = HttpParser(self.kind)
        probe._probe = True
        head = line + (b"\r\n\r\n" if self.kind == 1 else b"\r\nHost: h\r\n\r\n")
        return probe.execute(head, len(head)) == len(head)

    def _handle(self, event: object) -> None:
        if isinstance(event, Request):
            self._url = event.target.decode("latin-1")
            parts = urlsplit(self._url)
            if parts.fragment or "#" in self._url:
                raise RemoteProtocolError(f"a fragment in the request target {self._url!r}")
            self._method = event.method.decode("latin-1").upper()
            self._on_head(event.headers, event.http_version)
            self._scheme = parts.scheme or None
            self._path, self._query_string = parts.path, parts.query
        elif isinstance(event, Response):
            self._on_head(event.headers, event.http_version)
            self._status_code = event.status_code
            self._reason = event.reason.decode("latin-1")
        elif isinstance(event, InformationalResponse):
            self._started = True
        elif isinstance(event, Data):
            self._partial_body = True
            self._body.append(self._inflate(event.data))
        elif isinstance(event, EndOfMessage):
            if self._inflater is not None:
                self._body.append(self._inflater.flush())
            self._partial_body = False
            self._complete = True

    def _on_head(self, fields: tuple[tuple[bytes, bytes], ...], version: bytes) -> None:
        self._started = True
        major, _, minor = version.decode("ascii").partition(".")
        self._version = (int(major), int(minor))
        for name, value in fields:
            self._headers.append(name.decode("latin-1"), value.decode("latin-1"))
        self._chunked = "chunked" in self._headers.get("Transfer-Encoding", "").lower()
        encoding = self._headers.get("Content-Encoding", "").strip().lower()
        if self.decompress and encoding in ("gzip", "deflate"):
            wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
            self._inflater = zlib.decompressobj(wbits)
        self._headers_complete = True

    def _inflate(self, data: bytes) -> bytes:
        if self._inflater is None:
            return data
        out = self._inflater.decompress(data, _DECOMPRESSED_LIMIT_BYTES - self._inflated + 1)
        self._inflated += len(out)
        if self._inflated > _DECOMPRESSED_LIMIT_BYTES or self._inflater.unconsumed_tail:
            raise RemoteProtocolError(
                f"the body inflates past {_DECOMPRESSED_LIMIT_BYTES} bytes", 413
            )
        return out

    # -- getters ------------------------------------------------------------

    def get_version(self) -> tuple[int, int] | None:
        """The message's HTTP version, ``(1, 1)``; None before the first line."""
        return self._version

    def get_method(self) -> str | None:
        """The request method, upper-cased."""
        return self._method

    def get_status_code(self) -> int | None:
        """The response status code."""
        return self._status_code

    def get_reason(self) -> str:
        """The response reason phrase."""
        return self._reason

    def get_url(self) -> str:
        """The request target as sent."""
        return self._url

    def get_scheme(self) -> str | None:
        """The scheme of an absolute request target, else None."""
        return self._scheme

    def get_path(self) -> str:
        """The path of the request target (not unquoted)."""
        return self._path

    def get_query_string(self) -> str:
        """The query string of the request target, without ``?``."""
        return self._query_string

    def get_fragment(self) -> str:
        """Always ``""``: a request target with a fragment is an error."""
        return self._fragment

    def get_headers(self) -> Headers:
        """The header fields (repeats comma-joined, ``Set-Cookie`` a list)."""
        return self._headers

    def recv_body(self) -> bytes:
        """Return and clear the body bytes received so far."""
        body = b"".join(self._body)
        self._body.clear()
        return body

    def recv_body_into(self, barray: bytearray) -> int:
        """Move up to ``len(barray)`` body bytes into ``barray``; return how many."""
        body = self.recv_body()
        size = min(len(barray), len(body))
        barray[:size] = body[:size]
        if size < len(body):
            self._body.append(body[size:])
        return size

    # -- predicates ---------------------------------------------------------

    def is_upgrade(self) -> bool:
        """The Connection header contains ``upgrade``."""
        return "upgrade" in self._headers.get("Connection", "").lower()

    def is_headers_complete(self) -> bool:
        """The head (first line and header fields) has been parsed."""
        return self._headers_complete

    def is_partial_body(self) -> bool:
        """Some body arrived and the message is not complete."""
        return self._partial_body

    def is_message_begin(self) -> bool:
        """A first line has arrived."""
        return self._started

    def is_message_complete(self) -> bool:
        """The whole message, body included, has arrived."""
        return self._complete

    def is_chunked(self) -> bool:
        """The body uses chunked transfer coding."""
        return self._chunked

    def should_keep_alive(self) -> bool:
        """``Connection: close`` -> False, ``keep-alive`` -> True, else HTTP/1.1."""
        connection = self._headers.get("Connection", "").lower()
        if "close" in connection:
            return False
        if "keep-alive" in connection:
            return True
        return self._version == (1, 1)
