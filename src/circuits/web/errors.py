"""Error events: ``httperror`` and its subclasses, and the error page they render.

Every subclass keeps the event name ``httperror``, so one handler (the HTTP
component's) answers them all: it sets ``res.body = str(event)`` and fires
``response(res)``. Constructing the event already sets the response status
and ``close`` (web.md §7).

Safety, unlike 3.2.5: a traceback is shown to the client only when the
request's ``print_debug`` is true, which follows the server's ``debug`` flag
(off by default) rather than ``display_banner``; otherwise it goes to the
``circuits.web.errors`` logger. ``name`` and ``traceback`` are HTML-escaped;
``description`` is HTML by design and inserted as is, so it must never carry
request data unescaped. Redirect targets are percent-encoded (no CR/LF,
quotes or spaces can reach the ``Location`` header) and HTML-escaped in the
note body.
"""

from __future__ import annotations

import html
import json
import logging
import traceback as _traceback
from types import TracebackType
from typing import Any
from urllib.parse import quote, urljoin

from circuits.core.events import Event as Event

from .constants import (
    DEFAULT_ERROR_MESSAGE,
    HTTP_STATUS_CODES,
    POWERED_BY,
    SERVER_URL,
    SERVER_VERSION,
)
from .exceptions import HTTPException, Redirect

__all__ = ["Event", "forbidden", "httperror", "notfound", "redirect", "unauthorized"]

log = logging.getLogger(__name__)

# Statuses whose responses carry no body (RFC 9110 §6.4.1, §15.3.5, §15.3.6, §15.4.5).
_NO_BODY = (204, 205, 304)
# Headers describing an entity, dropped from a 304 (RFC 9110 §15.4.5).
_ENTITY_HEADERS = (
    "Allow",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Location",
    "Content-MD5",
    "Content-Range",
    "Content-Type",
    "Expires",
    "Last-Modified",
)
# Kept as is in a redirect target: RFC 3986 reserved characters and "%" (already
# encoded octets). Everything else (space, quotes, <>, CR, LF, non-ASCII) is encoded.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_REDIRECT_NOTES = {
    300: "This resource can be found at ",
    301: "This resource has permanently moved to ",
    302: "This resource resides temporarily at ",
    303: "This resource can be found at ",
    307: "This resource has moved temporarily to ",
    308: "This resource has been moved to ",
}


def _format_traceback(error: Any) -> str:
    etype, evalue, tb = error
    if isinstance(tb, TracebackType):
        lines: Any = _traceback.format_tb(tb)
    elif tb is None:
        lines = []
    else:
        lines = tb
    return f"ERROR: ({etype}) {evalue}\n" + "".join(str(line) for line in lines)


class httperror(Event):
    """An HTTP error answer for ``(request, response)``; the event is always named ``httperror``.

    Args:
        request: the `circuits.web.wrappers.Request`.
        response: its `circuits.web.wrappers.Response`; gets ``status = code`` and ``close = True``.
        code: the status code; the class ``code`` (500) when ``None``.
        **kwargs: ``description`` (HTML, replaces the class one even when ``None``)
            and ``error`` (an exc_info triple; its traceback may be pre-formatted lines).
    """

    name = "httperror"
    code: int = 500
    description: str | None = ""

    def __init__(self, request: Any, response: Any, code: int | None = None, **kwargs: Any) -> None:
        super().__init__(request, response, code, **kwargs)
        self.request = request
        self.response = response
        if code is not None:
            self.code = code
        self.error: Any = kwargs.get("error")
        if "description" in kwargs:
            self.description = kwargs["description"]
        self.traceback = "" if self.error is None else _format_traceback(self.error)
        response.close = True
        response.status = self.code
        server = getattr(request, "server", None)
        if server is not None and getattr(server, "display_banner", False):
            powered_by = POWERED_BY % {
                "url": html.escape(SERVER_URL, True),
                "version": html.escape(SERVER_VERSION, True),
            }
        else:
            powered_by = ""
        self.data: dict[str, Any] = {
            "code": self.code,
            "name": HTTP_STATUS_CODES.get(self.code, "???"),
            "description": self.description,
            "traceback": self.traceback,
            "powered_by": powered_by,
        }
        if self.traceback:
            # 5xx are server faults; other codes raised as exceptions are routine.
            level = logging.ERROR if self.code >= 500 else logging.INFO
            name = self.data["name"]
            log.log(level, "%d %s for %r:\n%s", self.code, name, request, self.traceback)

    @property
    def _print_debug(self) -> bool:
        return bool(getattr(self.request, "print_debug", False))

    def sanitize(self) -> None:
        """Drop ``Location`` from the response unless the code is 201 or 3xx."""
        if self.code != 201 and not 300 <= self.code <= 399:
            self.response.headers.pop("Location", None)

    def __str__(self) -> str:
        self.sanitize()
        if self.code < 200 or self.code in _NO_BODY:
            return ""
        description = self.data["description"]
        if "json" in str(self.response.headers.get("Content-Type", "")):
            index = ("code", "name", "description")
            doc = {key: self.data[key] for key in index}
            if self._print_debug:
                doc["traceback"] = self.data["traceback"]
            return json.dumps(doc)
        return DEFAULT_ERROR_MESSAGE % {
            "code": self.code,
            "name": html.escape(str(self.data["name"]), True),
            "description": "" if description is None else description,
            "traceback": html.escape(self.data["traceback"], True) if self._print_debug else "",
            "powered_by": self.data["powered_by"],
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code:d} {HTTP_STATUS_CODES.get(self.code, '???')}>"


class forbidden(httperror):
    """403 Forbidden."""

    code = 403


class unauthorized(httperror):
    """401 Unauthorized."""

    code = 401


class notfound(httperror):
    """404 Not Found."""

    code = 404


class redirect(httperror):
    """Redirect to ``urls`` (3xx); the first URL goes in ``Location``.

    Args:
        request: the request; its ``uri`` resolves relative URLs and its
            ``protocol`` picks the default code.
        response: the response.
        urls: a URL or a list of them.
        code: 300-399; default 303 for HTTP/1.1 requests, 302 for HTTP/1.0.

    Raises:
        ValueError: the code is outside 300-399, or is a 3xx this class does not know (306).
    """

    def __init__(
        self, request: Any, response: Any, urls: str | list[str], code: int | None = None
    ) -> None:
        if isinstance(urls, str | bytes):
            urls = [urls]
        base = str(getattr(request, "uri", ""))
        texts = [url.decode() if isinstance(url, bytes) else str(url) for url in urls]
        self.urls = [quote(urljoin(base, url), safe=_URL_SAFE) for url in texts]
        if code is None:
            code = 303 if tuple(getattr(request, "protocol", (1, 1))) >= (1, 1) else 302
        elif not 300 <= code <= 399:
            raise ValueError(f"status code must be between 300 and 399. Got {code!r}")
        if code not in _REDIRECT_NOTES and code not in (304, 305):
            raise ValueError(f"The {code!r} status code is unknown.")
        super().__init__(request, response, code)
        if code in _REDIRECT_NOTES:
            response.headers["Content-Type"] = "text/html"
            response.headers["Location"] = self.urls[0]
            note = _REDIRECT_NOTES[code]
            response.body = "<br />\n".join(
                f'{note}<a href="{html.escape(url, True)}">{html.escape(url, True)}</a>.'
                for url in self.urls
            )
            response.headers.pop("Content-Length", None)
        elif code == 304:
            for key in _ENTITY_HEADERS:
                response.headers.pop(key, None)
            response.body = None
        else:  # 305 Use Proxy
            response.headers["Location"] = self.urls[0]
            response.body = None

    def __repr__(self) -> str:
        channels = ",".join(str(channel) for channel in self.channels)
        urls = " ".join(self.urls)
        return f"<{type(self).__name__} {self.code:d}[{channels}.{self.name}] {urls}>"


def error_event(req: Any, res: Any, error: Any, always_error: bool = False) -> httperror:
    r"""The event that answers a request whose handler raised (web.md §4.4).

    Args:
        req: the request.
        res: its response.
        error: the ``(type, exception, traceback)`` triple, or a list of
            handler results in which the first such triple wins.
        always_error: pass the triple on even for an `HTTPException` that
            does not ask for its traceback (the request's own handler failed).

    Returns:
        A `redirect` for `Redirect`, an `httperror` with the exception's code
        for other `HTTPException`\ s, else a 500 `httperror`.
    """
    if isinstance(error, list):  # several handlers; the first error wins
        error = next((x for x in error if isinstance(x, tuple) and len(x) == 3), error)
    _etype, evalue, _tb = error
    if isinstance(evalue, Redirect):
        return redirect(req, res, evalue.urls, evalue.code)
    if isinstance(evalue, HTTPException):
        kwargs: dict[str, Any] = {"description": evalue.description}
        if always_error or evalue.traceback:
            kwargs["error"] = error
        return httperror(req, res, evalue.code, **kwargs)
    return httperror(req, res, error=error)
