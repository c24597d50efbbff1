"""Multipart form data, bottle-style API: ``MultipartParser``, ``MultipartPart``, ``MultiDict``.

Parsing is done by the sans-I/O engine :mod:`circuits._sansio.multipart`;
this module reads the stream, buffers each part in memory (up to
``memfile_limit``) or in a temporary file, and enforces the total limits.
``MultipartError`` is the engine's parse error, so either name catches both.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, MutableMapping
from io import BytesIO
from typing import IO, Any
from urllib.parse import parse_qsl

from circuits._sansio.multipart import (
    Finished,
    MultipartParseError,
    MultipartReader,
    PartData,
    PartEnd,
    PartStart,
    check_boundary,
    parse_options_header as _parse_options,
)
from circuits.web.headers import Headers

__all__ = [
    "MultiDict",
    "MultipartError",
    "MultipartParser",
    "MultipartPart",
    "copy_file",
    "header_quote",
    "header_unquote",
    "parse_form_data",
    "parse_options_header",
    "tob",
]

MultipartError = MultipartParseError


class MultiDict(MutableMapping[Any, Any]):
    """A dict keeping every value of a key; ``d[key]`` is the last one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.dict: dict[Any, list[Any]] = {k: [v] for k, v in dict(*args, **kwargs).items()}

    def __len__(self) -> int:
        return len(self.dict)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.dict)

    def __contains__(self, key: object) -> bool:
        return key in self.dict

    def __delitem__(self, key: Any) -> None:
        del self.dict[key]

    def __getitem__(self, key: Any) -> Any:
        return self.get(key, KeyError, -1)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.append(key, value)

    def append(self, key: Any, value: Any) -> None:
        """Add ``value`` to the values of ``key``."""
        self.dict.setdefault(key, []).append(value)

    def replace(self, key: Any, value: Any) -> None:
        """Make ``value`` the only value of ``key``."""
        self.dict[key] = [value]

    def getall(self, key: Any) -> list[Any]:
        """Every value of ``key`` (``[]`` if none)."""
        return self.dict.get(key) or []

    def get(self, key: Any, default: Any = None, index: int = -1) -> Any:
        """The value at ``index`` (default the last) of ``key``, or ``default``.

        Raises:
            KeyError: ``default`` is ``KeyError`` and there is no such value.
        """
        if key in self.dict or default is KeyError:
            return self.dict[key][index]
        return default

    def iterallitems(self) -> Iterator[tuple[Any, Any]]:
        """Every ``(key, value)`` pair, repeats included."""
        for key, values in self.dict.items():
            for value in values:
                yield key, value


def tob(data: str | bytes, enc: str = "utf8") -> bytes:
    """``data`` as bytes (str is encoded with ``enc``)."""
    return data.encode(enc) if isinstance(data, str) else bytes(data)


def copy_file(
    stream: IO[bytes], target: IO[bytes], maxread: int = -1, buffer_size: int = 2 * 16
) -> int:
    """Copy up to ``maxread`` bytes (all if negative) from ``stream`` to ``target``.

    Returns:
        The number of bytes copied.
    """
    size, read, write = 0, stream.read, target.write
    while maxread < 0 or size < maxread:
        part = read(buffer_size if maxread < 0 else min(buffer_size, maxread - size))
        if not part:
            break
        write(part)
        size += len(part)
    return size


def header_quote(val: str) -> str:
    """``val`` as a header parameter value: bare if a token, else quoted."""
    if val and all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in val) and val.isascii():
        return val
    return '"' + val.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header_unquote(val: str, filename: bool = False) -> str:
    """Undo :func:`header_quote`; for a ``filename`` keep only the last path segment."""
    if len(val) >= 2 and val[0] == val[-1] == '"':
        val = val[1:-1]
        if val[1:3] == ":\\" or val[:2] == "\\\\":  # a Windows path sent by old browsers
            return val.split("\\")[-1] if filename else val
        return val.replace("\\\\", "\\").replace('\\"', '"')
    return val


def parse_options_header(
    header: str, options: dict[str, str] | None = None
) -> tuple[str, dict[str, str]]:
    """Split ``value; k=v`` into the lower-cased value and a dict of its parameters."""
    value, parsed = _parse_options(header)
    if options is not None:
        options.update(parsed)
        parsed = options
    return value, parsed


class MultipartPart:
    """One part of a multipart body, buffered in memory or in a temporary file."""

    def __init__(
        self,
        buffer_size: int = 2**16,
        memfile_limit: int = 2**18,
        charset: str = "latin1",
    ) -> None:
        self.headerlist: list[tuple[str, str]] = []
        self.headers = Headers()
        self.file: IO[bytes] = BytesIO()
        self.size = 0
        self.buffer_size = buffer_size
        self.memfile_limit = memfile_limit
        self.charset = charset
        self.name: str | None = None
        self.filename: str | None = None
        self.content_type: str | None = None
        self.disposition: str | None = None

    def _start(self, event: PartStart) -> None:
        for name, value in event.headers:
            self.headerlist.append((name.title(), value))
            self.headers.append(name, value)
        self.name, self.filename = event.name, event.filename
        self.disposition = self.headers.get("Content-Disposition")
        self.content_type = event.content_type
        if event.content_type is not None:
            charset = _parse_options(event.content_type)[1].get("charset")
            if charset:
                self.charset = charset

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.size += len(data)
        if self.size > self.memfile_limit and isinstance(self.file, BytesIO):
            spooled = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 - the part owns it
            spooled.write(self.file.getvalue())
            self.file = spooled

    def is_buffered(self) -> bool:
        """The part is held in memory."""
        return isinstance(self.file, BytesIO)

    @property
    def raw(self) -> bytes:
        """The part's bytes."""
        pos = self.file.tell()
        self.file.seek(0)
        try:
            return self.file.read()
        finally:
            self.file.seek(pos)

    @property
    def value(self) -> str:
        """The part's content decoded with :attr:`charset` (buffered parts only).

        Raises:
            MultipartError: the part is in a temporary file, or not in ``charset``.
        """
        if not self.is_buffered():
            raise MultipartError(f"part {self.name!r} is too large to be read as a value")
        try:
            return self.raw.decode(self.charset)
        except (UnicodeDecodeError, LookupError) as exc:
            raise MultipartError(f"part {self.name!r} is not {self.charset!r} text") from exc

    def save_as(self, path: str) -> int:
        """Write the content to ``path``; return the number of bytes written."""
        with open(path, "wb") as target:
            pos = self.file.tell()
            self.file.seek(0)
            try:
                return copy_file(self.file, target, buffer_size=self.buffer_size)
            finally:
                self.file.seek(pos)


class MultipartParser:
    """Read a ``multipart/form-data`` body from ``stream`` into :class:`MultipartPart` objects.

    Args:
        stream: a binary file-like object with ``read``.
        boundary: the boundary (str or bytes).
        content_length: bytes to read; negative: until EOF.
        disk_limit: total bytes of all parts.
        mem_limit: total bytes of the parts kept in memory.
        memfile_limit: larger parts go to a temporary file.
        buffer_size: bytes per read.
        charset: the default charset of part values.

    Raises:
        MultipartError: (when parsing) malformed input or a limit exceeded.
    """

    def __init__(
        self,
        stream: IO[bytes],
        boundary: str | bytes,
        content_length: int = -1,
        disk_limit: int = 2**30,
        mem_limit: int = 2**20,
        memfile_limit: int = 2**18,
        buffer_size: int = 2**16,
        charset: str = "latin1",
    ) -> None:
        self.stream = stream
        self.boundary = check_boundary(tob(boundary, "latin-1"))
        self.content_length = content_length
        self.disk_limit = disk_limit
        self.mem_limit = mem_limit
        self.memfile_limit = memfile_limit
        self.buffer_size = buffer_size
        self.charset = charset
        self._done: list[MultipartPart] = []
        self._parts: Iterator[MultipartPart] | None = None

    def __iter__(self) -> Iterator[MultipartPart]:
        """Yield the parts, parsing as needed (each part once, then from the cache)."""
        if self._parts is None:
            self._parts = self._iterparse()
        yield from self._done
        for part in self._parts:
            self._done.append(part)
            yield part

    def parts(self) -> list[MultipartPart]:
        """Every part."""
        return list(self)

    def get(self, name: str, default: MultipartPart | None = None) -> MultipartPart | None:
        """The first part named ``name``, or ``default``."""
        return next((part for part in self if part.name == name), default)

    def get_all(self, name: str) -> list[MultipartPart]:
        """Every part named ``name``."""
        return [part for part in self if part.name == name]

    def _chunks(self) -> Iterator[bytes]:
        remaining = self.content_length
        while remaining != 0:
            size = self.buffer_size if remaining < 0 else min(self.buffer_size, remaining)
            chunk = self.stream.read(size)
            if not chunk:
                break
            remaining -= len(chunk) if remaining > 0 else 0
            yield chunk
        yield b""

    def _iterparse(self) -> Iterator[MultipartPart]:
        reader = MultipartReader(self.boundary, max_part_bytes=self.disk_limit)
        part: MultipartPart | None = None
        disk = mem = 0
        for chunk in self._chunks():
            reader.receive_data(chunk)
            while (event := reader.next_event()) is not None:
                if isinstance(event, PartStart):
                    part = MultipartPart(self.buffer_size, self.memfile_limit, self.charset)
                    part._start(event)
                elif isinstance(event, PartData):
                    assert part is not None
                    part._write(event.data)
                    disk += len(event.data)
                    if disk > self.disk_limit:
                        raise MultipartError(f"the parts exceed disk_limit={self.disk_limit}")
                elif isinstance(event, PartEnd):
                    assert part is not None
                    if part.is_buffered():
                        mem += part.size
                        if mem > self.mem_limit:
                            raise MultipartError(f"the parts exceed mem_limit={self.mem_limit}")
                    part.file.seek(0)
                    yield part
                elif isinstance(event, Finished):
                    return


def parse_form_data(
    environ: dict[str, Any], charset: str = "utf8", strict: bool = False, **kw: Any
) -> tuple[MultiDict, MultiDict]:
    """Parse the form body of a WSGI ``environ`` into ``(forms, files)``.

    Args:
        environ: a WSGI environment (``wsgi.input``, ``CONTENT_TYPE``, ``CONTENT_LENGTH``).
        charset: the default charset of field values.
        strict: raise on an unsupported or malformed body instead of
            returning what was parsed.
        kw: passed to :class:`MultipartParser`.

    Raises:
        MultipartError: with ``strict``, a malformed or unsupported body.
    """
    forms, files = MultiDict(), MultiDict()
    try:
        if environ.get("REQUEST_METHOD", "GET").upper() not in ("POST", "PUT", "PATCH"):
            raise MultipartError("the request method has no form body")
        content_length = int(environ.get("CONTENT_LENGTH") or -1)
        content_type, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
        stream = environ["wsgi.input"]
        if content_type == "multipart/form-data":
            parser = MultipartParser(
                stream, options.get("boundary", ""), content_length, charset=charset, **kw
            )
            for part in parser:
                if part.filename is not None:
                    files.append(part.name, part)
                else:
                    forms.append(part.name, part.value)
        elif content_type in ("application/x-www-form-urlencoded", "application/x-url-encoded"):
            limit = kw.get("mem_limit", 2**20)
            if content_length > limit:
                raise MultipartError(f"the body exceeds mem_limit={limit}")
            data = stream.read(limit if content_length < 0 else content_length)
            if len(data) > limit:
                raise MultipartError(f"the body exceeds mem_limit={limit}")
            for key, value in parse_qsl(data.decode(charset), keep_blank_values=True):
                forms.append(key, value)
        else:
            raise MultipartError(f"unsupported content type {content_type!r}")
    except (MultipartError, ValueError, KeyError, UnicodeDecodeError):
        if strict:
            raise
    return forms, files
