"""Form-body processors: turn a request body into handler keyword arguments (web.md §13).

`process` looks at the request's ``Content-Type``: ``multipart/*`` bodies go
to `process_multipart`, ``application/x-www-form-urlencoded`` bodies to
`process_urlencoded` with the declared ``charset`` (UTF-8 when none). Any
other body stays in ``request.body`` for the handler to read.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from .headers import HeaderElement as HeaderElement
from .parsers import MultipartParser as MultipartParser, QueryStringParser as QueryStringParser
from .parsers.multipart import parse_options_header

__all__ = ["process", "process_multipart", "process_urlencoded"]

# RFC 2046 §5.1.1: 1-70 characters, here up to 201 as 3.2.5 accepts; no
# trailing space.
_BOUNDARY = re.compile(r"^[ -~]{0,200}[!-~]$")

_DEFAULT_CHARSET = "utf-8"


def _content_type(request: Any) -> tuple[str, dict[str, str]]:
    header = request.headers.get("Content-Type")
    if not header:
        return "", {}
    mtype, options = parse_options_header(str(header))
    return mtype.lower(), options


def _charset(options: dict[str, str]) -> str:
    """The declared charset, or UTF-8 when none is declared or it is unknown."""
    charset = options.get("charset", "").strip().strip('"')
    if not charset:
        return _DEFAULT_CHARSET
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return _DEFAULT_CHARSET


def process(request: Any, params: dict[str, Any]) -> None:
    """Add the form fields of ``request``'s body to ``params``.

    Args:
        request: the `circuits.web.wrappers.Request`.
        params: the handler's keyword arguments, updated in place.

    Raises:
        ValueError: a multipart body with an invalid boundary.
        UnicodeDecodeError: a urlencoded body not in its declared charset.
    """
    mtype, options = _content_type(request)
    if mtype.startswith("multipart/"):
        process_multipart(request, params)
    elif mtype == "application/x-www-form-urlencoded":
        process_urlencoded(request, params, encoding=_charset(options))


def _body(request: Any) -> bytes:
    body = request.body
    if hasattr(body, "getvalue"):
        data: bytes = body.getvalue()
        return data
    body.seek(0)
    try:
        return bytes(body.read())
    finally:
        body.seek(0)


def process_urlencoded(request: Any, params: dict[str, Any], encoding: str = "utf-8") -> None:
    """Add the fields of an ``application/x-www-form-urlencoded`` body to ``params``.

    The query string is re-parsed first with the same nested-key, last-wins
    rules as the body, so form posts see both the same way.

    Args:
        request: the request.
        params: updated in place.
        encoding: the charset the body bytes are decoded with before
            percent-escapes are decoded (as UTF-8).
    """
    params.update(QueryStringParser(request.qs).result)
    params.update(QueryStringParser(_body(request).decode(encoding)).result)


def process_multipart(request: Any, params: dict[str, Any]) -> None:
    """Add the parts of a ``multipart/*`` body to ``params``.

    File parts and parts too large to keep in memory are stored as
    `circuits.web.parsers.multipart.MultipartPart` objects, other fields as
    their decoded text (the part's own charset, else the body's declared
    charset, else UTF-8). Later parts with the same name win; parts without
    a name are skipped.

    Raises:
        ValueError: the boundary is missing or invalid.
    """
    _, options = _content_type(request)
    boundary = options.get("boundary", "").strip('"')
    if not _BOUNDARY.match(boundary):
        raise ValueError(f"Invalid boundary in multipart form: {boundary!r}")
    body = request.body
    body.seek(0)
    try:
        for part in MultipartParser(body, boundary, charset=_charset(options)):
            if part.name is None:  # no field name: nothing to pass it as
                continue
            if part.filename or not part.is_buffered():
                params[part.name] = part
            else:
                params[part.name] = part.value
    finally:
        body.seek(0)
