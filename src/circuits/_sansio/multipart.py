"""A streaming sans-I/O parser for ``multipart/form-data`` bodies (RFC 7578, RFC 2046 §5.1).

Bytes in, parts out::

    reader = MultipartReader(boundary_from_content_type(content_type))
    reader.receive_data(chunk)              # b"" when the body ended
    while (event := reader.next_event()) is not None:
        ...                                 # PartStart, PartData, PartEnd, Finished

Strategy: the body is a preamble, then parts each introduced by a delimiter
``CRLF "--" boundary``, then a close delimiter ``CRLF "--" boundary "--"``
and an epilogue (RFC 2046 §5.1.1). The first delimiter may start the body
without the CRLF, so the buffer starts as ``b"\\r\\n"``: every delimiter then
looks the same. Inside a part body we hand out everything except the last
``len(delimiter) - 1`` bytes, which might be the start of a delimiter split
across two reads; how bodies are cut into :class:`PartData` events depends on
the reads, the concatenated bytes do not.

Every failure is a :class:`MultipartParseError` (a ``ValueError``); it is
sticky, as in the HTTP/1.1 engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_HEADER_COUNT",
    "MAX_PARTS",
    "MAX_PART_BYTES",
    "Event",
    "Finished",
    "MultipartParseError",
    "MultipartReader",
    "PartData",
    "PartEnd",
    "PartStart",
    "boundary_from_content_type",
    "parse_options_header",
]

# One part's header section. Browsers send two or three short fields
# (Content-Disposition, Content-Type); 8 KiB is the line size nginx and
# Apache accept for a whole HTTP header line and leaves room for long
# filenames (255 bytes on most file systems, x3 when percent-encoded).
MAX_HEADER_BYTES = 8 * 1024
# Header fields per part: RFC 7578 §4.8 names only three that make sense.
MAX_HEADER_COUNT = 16
# Parts per body: Django (DATA_UPLOAD_MAX_NUMBER_FIELDS) and Werkzeug
# (max_form_parts) both default to 1000.
MAX_PARTS = 1000
# Bytes per part body; 1 GiB is the bottle-style ``disk_limit`` default.
MAX_PART_BYTES = 2**30
# Transport padding after a boundary (RFC 2046 §5.1.1 ``*LWSP-char``); any
# real sender uses none.
_MAX_PADDING_BYTES = 64

# RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace
_BOUNDARY_RE = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]\Z")
# RFC 9110 §5.6.2 token
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# ``; name=value`` or ``; name="quoted \" value"`` (RFC 9110 §5.6.6)
_PARAM_RE = re.compile(r';\s*([^\s;=]+)\s*(?:=\s*("(?:\\.|[^"\\])*"|[^;]*))?')
_ESCAPE_RE = re.compile(r'\\(["\\])')


class MultipartParseError(ValueError):
    """The body is not acceptable ``multipart/form-data`` (or breaks a limit)."""


@dataclass(frozen=True, slots=True)
class PartStart:
    """A part's header section.

    ``headers`` are ``(name, value)`` pairs, names lower-cased, decoded as
    Latin-1; ``name`` and ``filename`` come from Content-Disposition
    (``filename*`` preferred, RFC 7578 §4.2 / RFC 8187); ``filename`` is as
    sent, directories included: callers must not use it as a path.
    """

    headers: tuple[tuple[str, str], ...]
    name: str
    filename: str | None
    content_type: str | None


@dataclass(frozen=True, slots=True)
class PartData:
    """A piece of the current part's body."""

    data: bytes


@dataclass(frozen=True, slots=True)
class PartEnd:
    """The current part's body is complete."""


@dataclass(frozen=True, slots=True)
class Finished:
    """The close delimiter arrived; the epilogue is ignored."""


Event = PartStart | PartData | PartEnd | Finished


def parse_options_header(header: str) -> tuple[str, dict[str, str]]:
    """Split ``value; k=v; k2="v 2"`` into the lower-cased value and its parameters.

    Parameter names are lower-cased; quoted values lose their quotes and
    ``\\"`` / ``\\\\`` escapes (other backslashes stay, for Windows paths).
    """
    value, sep, rest = header.partition(";")
    options: dict[str, str] = {}
    for match in _PARAM_RE.finditer(sep + rest):
        key, raw = match.group(1).lower(), (match.group(2) or "").strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = _ESCAPE_RE.sub(r"\1", raw[1:-1])
        options[key] = raw
    return value.strip().lower(), options


def boundary_from_content_type(content_type: str | bytes) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type.

    Raises:
        MultipartParseError: not multipart/form-data, or no valid boundary.
    """
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    value, options = parse_options_header(content_type)
    if value != "multipart/form-data":
        raise MultipartParseError(f"expected multipart/form-data, not {value!r}")
    return check_boundary(options.get("boundary", "").encode("latin-1"))


def check_boundary(boundary: bytes) -> bytes:
    """Return ``boundary`` if RFC 2046 allows it (1-70 bchars, no trailing space).

    Raises:
        MultipartParseError: it does not.
    """
    if not _BOUNDARY_RE.match(boundary):
        raise MultipartParseError(f"invalid multipart boundary {boundary!r}")
    return boundary


def _decode_ext_value(value: str) -> str | None:
    # RFC 8187 §3.2: ext-value = charset "'" [ language ] "'" value-chars
    charset, _, rest = value.partition("'")
    _, _, encoded = rest.partition("'")
    if charset.lower() not in ("utf-8", "iso-8859-1") or not _:
        return None
    try:
        return unquote_to_bytes(encoded).decode(charset.lower())
    except UnicodeDecodeError:
        return None


def _part_start(headers: list[tuple[str, str]]) -> PartStart:
    fields = dict(headers)
    disposition = fields.get("content-disposition")
    if disposition is None:  # RFC 7578 §4.2: MUST
        raise MultipartParseError("a part has no Content-Disposition header")
    kind, options = parse_options_header(disposition)
    if kind != "form-data" or "name" not in options:
        raise MultipartParseError(f"expected form-data with a name, not {disposition!r}")
    filename = options.get("filename")
    if "filename*" in options:
        filename = _decode_ext_value(options["filename*"]) or filename
    return PartStart(tuple(headers), options["name"], filename, fields.get("content-type"))


class MultipartReader:
    """The parser of one ``multipart/form-data`` body.

    Args:
        boundary: the boundary (see :func:`boundary_from_content_type`).
        max_header_bytes: longer part header sections are an error.
        max_header_count: more header fields in one part are an error.
        max_parts: more parts are an error.
        max_part_bytes: longer part bodies are an error; ``None``: no limit.

    Raises:
        MultipartParseError: ``boundary`` is not a valid boundary.
    """

    def __init__(
        self,
        boundary: bytes,
        *,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_header_count: int = MAX_HEADER_COUNT,
        max_parts: int = MAX_PARTS,
        max_part_bytes: int | None = MAX_PART_BYTES,
    ) -> None:
        self._delimiter = b"\r\n--" + check_boundary(boundary)
        self.max_header_bytes = max_header_bytes
        self.max_header_count = max_header_count
        self.max_parts = max_parts
        self.max_part_bytes = max_part_bytes
        self._buffer = bytearray(b"\r\n")
        self._state = "preamble"  # -> delimiter -> headers -> body -> ... -> epilogue
        self._closed = False
        self._error: MultipartParseError | None = None
        self._parts = 0
        self._part_bytes = 0
        self._pending: list[Event] = []

    def receive_data(self, data: bytes) -> None:
        """Add body bytes; ``b""`` means the body ended."""
        if data:
            if self._state != "epilogue":
                self._buffer += data
        else:
            self._closed = True

    def next_event(self) -> Event | None:
        """The next event, or ``None`` until more bytes arrive.

        Raises:
            MultipartParseError: the body is malformed or broke a limit; it repeats.
        """
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except MultipartParseError as exc:
            self._error = exc
            raise

    def _next(self) -> Event | None:
        if self._pending:
            return self._pending.pop(0)
        state, buf = self._state, self._buffer
        if state == "preamble":
            index = buf.find(self._delimiter)
            if index < 0:  # discard the preamble, keep a possible split delimiter
                del buf[: max(0, len(buf) - len(self._delimiter) + 1)]
                return self._need_more()
            del buf[: index + len(self._delimiter)]
            self._state = "delimiter"
            return self._next()
        if state == "delimiter":
            return self._after_delimiter()
        if state == "headers":
            return self._headers()
        if state == "body":
            return self._body()
        return None  # epilogue

    def _need_more(self) -> Event | None:
        if self._closed:
            raise MultipartParseError(f"the body ended before its close delimiter ({self._state})")
        return None

    def _after_delimiter(self) -> Event | None:
        buf = self._buffer
        if buf == b"-":  # maybe the start of "--"
            return self._need_more()
        if buf[:2] == b"--":
            self._state = "epilogue"
            buf.clear()
            return Finished()
        end = buf.find(b"\r\n")
        padding = buf[:end] if end >= 0 else buf[:-1] if buf.endswith(b"\r") else buf
        if padding.strip(b" \t") or len(padding) > _MAX_PADDING_BYTES:
            raise MultipartParseError(f"expected CRLF after a boundary, not {bytes(buf[:20])!r}")
        if end < 0:
            return self._need_more()
        del buf[: end + 2]
        self._parts += 1
        if self._parts > self.max_parts:
            raise MultipartParseError(f"more than {self.max_parts} parts")
        self._state = "headers"
        return self._next()

    def _headers(self) -> Event | None:
        buf = self._buffer
        if buf[:2] == b"\r\n":
            end, raw = 0, b""
        else:
            end = buf.find(b"\r\n\r\n")
            if end < 0 or end > self.max_header_bytes:
                if end > self.max_header_bytes or len(buf) > self.max_header_bytes + 4:
                    raise MultipartParseError(f"part headers over {self.max_header_bytes} bytes")
                return self._need_more()
            raw, end = bytes(buf[:end]), end + 2
        headers: list[tuple[str, str]] = []
        for line in raw.decode("latin-1").split("\r\n") if raw else ():
            if line[:1] in (" ", "\t"):  # obs-fold (RFC 9112 §5.2)
                if not headers:
                    raise MultipartParseError(f"a continuation line starts part headers: {line!r}")
                headers[-1] = (headers[-1][0], f"{headers[-1][1]} {line.strip()}")
                continue
            name, colon, value = line.partition(":")
            if not colon or not _TOKEN_RE.match(name):
                raise MultipartParseError(f"invalid part header line {line!r}")
            headers.append((name.lower(), value.strip()))
            if len(headers) > self.max_header_count:
                raise MultipartParseError(f"more than {self.max_header_count} headers in a part")
        del buf[: end + 2]
        self._state = "body"
        self._part_bytes = 0
        return _part_start(headers)

    def _body(self) -> Event | None:
        buf, delimiter = self._buffer, self._delimiter
        index = buf.find(delimiter)
        if index >= 0:
            data = bytes(buf[:index])
            del buf[: index + len(delimiter)]
            self._state = "delimiter"
            self._count(len(data))
            if data:
                self._pending.append(PartEnd())
                return PartData(data)
            return PartEnd()
        safe = len(buf) - len(delimiter) + 1
        if safe > 0:
            data = bytes(buf[:safe])
            del buf[:safe]
            self._count(len(data))
            return PartData(data)
        return self._need_more()

    def _count(self, size: int) -> None:
        self._part_bytes += size
        if self.max_part_bytes is not None and self._part_bytes > self.max_part_bytes:
            raise MultipartParseError(f"a part body over {self.max_part_bytes} bytes")
