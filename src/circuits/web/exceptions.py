"""HTTP exceptions: raise one from a request handler to answer with its status and description.

Descriptions are HTML paragraphs inserted into the error page unescaped
(web.md §7.1), so they must never contain request data unescaped.
"""

from __future__ import annotations

import html
from typing import Any

from .constants import HTTP_STATUS_CODES

__all__ = [
    "BadGateway",
    "BadRequest",
    "Forbidden",
    "Gone",
    "HTTPException",
    "InternalServerError",
    "LengthRequired",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "NotImplemented",
    "PreconditionFailed",
    "RangeUnsatisfiable",
    "Redirect",
    "RequestEntityTooLarge",
    "RequestTimeout",
    "RequestURITooLarge",
    "ServiceUnavailable",
    "Unauthorized",
    "UnicodeError",
    "UnsupportedMediaType",
]


class HTTPException(Exception):
    """Base of the HTTP exceptions; its message is ``"<code> <reason>"``.

    Args:
        description: replaces the class description (HTML) when given.
        traceback: replaces the class ``traceback`` flag when given.

    Raises:
        TypeError: on a class without a ``code`` (this base, `UnicodeError`), as in 3.2.5.
    """

    code: int | None = None
    traceback: bool = True
    description: str | None = None

    def __init__(self, description: str | None = None, traceback: bool | None = None) -> None:
        if self.code is None:
            raise TypeError(f"{type(self).__name__} has no HTTP status code; raise a subclass")
        super().__init__(f"{self.code:d} {self.name}")
        if description is not None:
            self.description = description
        if traceback is not None:
            self.traceback = traceback

    @property
    def name(self) -> str:
        """The reason phrase of `code`, ``''`` when unknown."""
        return HTTP_STATUS_CODES.get(self.code, "") if self.code is not None else ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"


class BadRequest(HTTPException):
    """400: the request could not be understood."""

    code = 400
    description = (
        "<p>The browser (or proxy) sent a request that this server could not understand.</p>"
    )


class UnicodeError(HTTPException):  # 3.2.5 name; shadows the builtin in this module
    """A request could not be decoded; it has no status code, so raising it raises TypeError."""


class Unauthorized(HTTPException):
    """401: authorisation could not be verified."""

    code = 401
    description = (
        "<p>The server could not verify that you are authorized to access the URL "
        "requested. You either supplied the wrong credentials (e.g. a bad password), "
        "or your browser doesn't understand how to supply the credentials required.</p>"
        "<p>In case you are allowed to request the document, please check your "
        "user-id and password and try again.</p>"
    )


class Forbidden(HTTPException):
    """403: no permission for the resource."""

    code = 403
    description = (
        "<p>You don't have the permission to access the requested resource. "
        "It is either read-protected or not readable by the server.</p>"
    )


class NotFound(HTTPException):
    """404: no such URL."""

    code = 404
    description = (
        "<p>The requested URL was not found on the server.</p>"
        "<p>If you entered the URL manually please check your spelling and try again.</p>"
    )


class MethodNotAllowed(HTTPException):
    """405: the method is not allowed for the URL.

    Args:
        method: the request method; HTML-escaped in the default description.
        description: replaces the default description when given.
    """

    code = 405

    def __init__(self, method: str, description: str | None = None) -> None:
        self.method = method
        if description is None:
            description = (
                f"<p>The method {html.escape(str(method))} is not allowed "
                "for the requested URL.</p>"
            )
        super().__init__(description)


class NotAcceptable(HTTPException):
    """406: nothing acceptable per the request's Accept headers."""

    code = 406
    description = (
        "<p>The resource identified by the request is only capable of generating "
        "response entities which have content characteristics not acceptable "
        "according to the accept headers sent in the request.</p>"
    )


class RequestTimeout(HTTPException):
    """408: the request was not finished in time."""

    code = 408
    description = (
        "<p>The server closed the network connection because the browser "
        "didn't finish the request within the specified time.</p>"
    )


class Gone(HTTPException):
    """410: permanently gone."""

    code = 410
    description = (
        "<p>The requested URL is no longer available on this server and "
        "there is no forwarding address.</p><p>If you followed a link "
        "from a foreign page, please contact the author of this page.</p>"
    )


class LengthRequired(HTTPException):
    """411: a Content-Length is required."""

    code = 411
    description = (
        "<p>A request with this method requires a valid <code>Content-Length</code> header.</p>"
    )


class PreconditionFailed(HTTPException):
    """412: a precondition failed."""

    code = 412
    description = "<p>The precondition on the request for the URL failed positive evaluation.</p>"


class RequestEntityTooLarge(HTTPException):
    """413: the body is too large."""

    code = 413
    description = "<p>The data value transmitted exceeds the capacity limit.</p>"


class RequestURITooLarge(HTTPException):
    """414: the URL is too long."""

    code = 414
    description = (
        "<p>The length of the requested URL exceeds the capacity limit for this server. "
        "The request cannot be processed.</p>"
    )


class UnsupportedMediaType(HTTPException):
    """415: the media type is not supported."""

    code = 415
    description = "<p>The server does not support the media type transmitted in the request.</p>"


class RangeUnsatisfiable(HTTPException):
    """416: the requested range(s) cannot be satisfied."""

    code = 416
    description = "<p>The server cannot satisfy the request range(s).</p>"


class InternalServerError(HTTPException):
    """500: an internal error."""

    code = 500
    description = (
        "<p>The server encountered an internal error and was unable to complete "
        "your request. Either the server is overloaded or there is an error "
        "in the application.</p>"
    )


class NotImplemented(HTTPException):  # 3.2.5 name; shadows the builtin in this module
    """501: the action is not supported."""

    code = 501
    description = "<p>The server does not support the action requested by the browser.</p>"


class BadGateway(HTTPException):
    """502: the upstream server answered invalidly."""

    code = 502
    description = "<p>The proxy server received an invalid response from an upstream server.</p>"


class ServiceUnavailable(HTTPException):
    """503: temporarily unavailable."""

    code = 503
    description = (
        "<p>The server is temporarily unable to service your request due to "
        "maintenance downtime or capacity problems. Please try again later.</p>"
    )


class Redirect(HTTPException):
    """303: redirect to ``urls``.

    ``status`` is stored but, as in 3.2.5, the HTTP component answers with
    `code` (303) whatever it is.

    Args:
        urls: a URL or a list of URLs.
        status: the status the caller asked for (kept as ``self.status``).
    """

    code = 303

    def __init__(self, urls: str | list[str], status: int | None = None) -> None:
        self.urls: list[str] = [urls] if isinstance(urls, str) else list(urls)
        self.status: Any = status
        super().__init__()
