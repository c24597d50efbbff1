"""Request and Response objects of circuits.web, and the ``body``/``status`` descriptors.

The HTTP component builds one `Request` and one `Response` per parsed
request and fires ``request(req, res)``; handlers read the request and fill
in the response; ``Response.prepare()`` finalises the header block just
before it is written (web.md §4.3, §5).

Differences from 3.2.5, none visible to a well-behaved client: ``prepare()``
may be called again (it adds each cookie once and never emits both
``Content-Length`` and ``Transfer-Encoding``); bodies that are not iterable
(an ``int``) become their ``str()``; a cookie that would put CR, LF or NUL on
the wire is refused with a ``ValueError``; without a ``Host`` header and
without a server the request's local port is used instead of failing.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from functools import partial
from http.cookies import CookieError, SimpleCookie
from io import BytesIO
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar, overload

from circuits.net.sockets import BUFSIZE

from .constants import HTTP_STATUS_CODES, SERVER_VERSION
from .errors import httperror as httperror
from .headers import Headers as Headers, _check
from .url import URL, parse_url as parse_url

__all__ = [
    "Body",
    "FileChunks",
    "HTTPStatus",
    "Headers",
    "Host",
    "Request",
    "Response",
    "Status",
    "file_generator",
    "formatdate",
    "httperror",
    "parse_url",
]

formatdate = partial(email.utils.formatdate, usegmt=True)

_T = TypeVar("_T")

# Statuses that never carry a body, hence neither a length nor chunking
# (RFC 9110 §15.2, §15.3.5, §15.3.6, §15.4.5).
_NO_BODY = (204, 205, 304)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = ("\r", "\n", "\x00")
_content_types: dict[str, str] = {}


def _default_content_type(encoding: str) -> str:
    """``text/html; charset=<encoding>``, checked as a header value once per encoding."""
    value = _content_types.get(encoding)
    if value is None:
        value = _check("Content-Type", f"text/html; charset={encoding}")
        if len(_content_types) < 64:
            _content_types[encoding] = value
    return value


_date_cache: tuple[int, str] = (-1, "")


def _http_date(now: float) -> str:
    """``formatdate(now)``, computed once per second (every response has a Date)."""
    global _date_cache
    second = int(now)
    cached = _date_cache  # one tuple: consistent when read from any thread
    if cached[0] != second:
        cached = _date_cache = (second, formatdate(second))
    return cached[1]


def file_generator(input: IO[Any], chunkSize: int = BUFSIZE) -> FileChunks:
    """An iterator of ``chunkSize`` reads of ``input`` until an empty read; closes it at the end.

    Args:
        input: a file-like object with ``read`` and ``close``.
        chunkSize: bytes per read.

    Returns:
        A `FileChunks` (the file stays reachable as ``.file``, so the HTTP
        component can send a regular file with ``sendfile`` instead).
    """
    return FileChunks(input, chunkSize)


class FileChunks:
    """Iterate a file in chunks; ``close()`` (also at the end) closes the file.

    Args:
        file: a file-like object with ``read`` and ``close``.
        size: bytes per read.
    """

    __slots__ = ("file", "size")

    def __init__(self, file: IO[Any], size: int = BUFSIZE) -> None:
        self.file = file
        self.size = size

    def __iter__(self) -> FileChunks:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self.file.read(self.size)
        except BaseException:
            self.close()
            raise
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        """Close the file (idempotent)."""
        self.file.close()


class Host:
    """An endpoint: ``ip``, ``port`` and a ``name`` (defaults to ``ip``).

    Args:
        ip: the address.
        port: the port.
        name: the host name; ``ip`` when ``None``.
    """

    ip: Any = "0.0.0.0"
    port: Any = 80
    name: Any = "unknown.tld"

    def __init__(self, ip: Any, port: Any, name: Any = None) -> None:
        self.ip = ip
        self.port = port
        self.name = ip if name is None else name

    def __repr__(self) -> str:
        return f"Host({self.ip!r}, {self.port!r}, {self.name!r})"


class HTTPStatus:
    """A status code with its reason phrase; compares with ints by code.

    Args:
        status: the code.
        reason: the phrase; ``HTTP_STATUS_CODES.get(status, '')`` when ``None``.
    """

    __slots__ = ("_reason", "_status")

    def __init__(self, status: int = 200, reason: str | None = None) -> None:
        self._status = status
        self._reason = HTTP_STATUS_CODES.get(status, "") if reason is None else reason

    @property
    def status(self) -> int:
        """The code."""
        return self._status

    @property
    def reason(self) -> str:
        """The reason phrase."""
        return self._reason

    @staticmethod
    def _code(other: object) -> int | None:
        if isinstance(other, HTTPStatus):
            return other._status
        if isinstance(other, int):
            return other
        return None

    def __int__(self) -> int:
        return self._status

    def __index__(self) -> int:
        return self._status

    def __eq__(self, other: object) -> bool:
        code = self._code(other)
        return NotImplemented if code is None else self._status == code

    def __lt__(self, other: object) -> bool:
        code = self._code(other)
        return NotImplemented if code is None else self._status < code

    def __le__(self, other: object) -> bool:
        code = self._code(other)
        return NotImplemented if code is None else self._status <= code

    def __gt__(self, other: object) -> bool:
        code = self._code(other)
        return NotImplemented if code is None else self._status > code

    def __ge__(self, other: object) -> bool:
        code = self._code(other)
        return NotImplemented if code is None else self._status >= code

    def __hash__(self) -> int:
        return hash(self._status)

    def __str__(self) -> str:
        return f"{self._status:d} {self._reason}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"<Status (status={self._status:d} reason={self._reason}>"


class Body:
    """Descriptor of ``Response.body``: normalises what is assigned (web.md §5.6).

    bytes/str become a one-item list of bytes (``[]`` when empty), a file
    becomes a `file_generator` and turns on streaming, an ``httperror``
    becomes its rendered page, ``None`` becomes ``[]``; other iterables are
    kept as they are and anything else becomes its ``str()``.
    """

    encode_errors = "strict"

    def __get__(self, response: Any, cls: type | None = None) -> Any:
        if response is None:
            return self
        return response._body

    def __set__(self, response: Any, value: Any) -> None:
        if value is response:
            return
        if isinstance(value, bytes):
            body: Any = [value] if value else []
        elif isinstance(value, str):
            body = [value.encode(response.encoding, self.encode_errors)] if value else []
        elif hasattr(value, "read"):
            body = file_generator(value)
            response.stream = True
        elif isinstance(value, httperror):
            body = [str(value)]
        elif value is None:
            body = []
        elif hasattr(value, "__iter__"):
            body = value
        else:
            # 3.2.5 stored e.g. an int and crashed while writing it (web.md §4.4)
            body = [str(value).encode(response.encoding, self.encode_errors)]
        response._body = body


class Status:
    """Descriptor of ``Response.status``: an ``int`` is stored as an `HTTPStatus`."""

    def __get__(self, response: Any, cls: type | None = None) -> Any:
        if response is None:
            return self
        return response._status

    def __set__(self, response: Any, value: Any) -> None:
        response._status = HTTPStatus(value) if isinstance(value, int) else value


def _split_host(value: str, scheme: str) -> tuple[str, int]:
    # "host[:port]", where host may be an IPv6 literal in brackets (RFC 9110 §7.2)
    default = _DEFAULT_PORTS.get(scheme, 80)
    if value.startswith("["):
        end = value.find("]")
        if end != -1:
            host, rest = value[: end + 1], value[end + 1 :]
            port = rest[1:] if rest.startswith(":") else ""
            return host, int(port) if port.isdigit() else default
    host, _, port = value.partition(":")
    return host, int(port) if port.isdigit() else default


class _lazy(Generic[_T]):
    """A non-data descriptor: computed by ``method`` on first read, then a plain attribute.

    Assigning replaces the value as for any attribute (``req.remote = Host(...)``).
    """

    def __init__(self, method: Callable[[Any], _T]) -> None:
        self._method = method
        self._name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, cls: type | None = None) -> _lazy[_T]: ...
    @overload
    def __get__(self, obj: object, cls: type | None = None) -> _T: ...
    def __get__(self, obj: Any, cls: type | None = None) -> _lazy[_T] | _T:
        if obj is None:
            return self
        value = obj.__dict__[self._name] = self._method(obj)
        return value

    if TYPE_CHECKING:  # for type checkers only: at run time the instance dict shadows it

        def __set__(self, obj: object, value: _T) -> None: ...


class Request:
    """One HTTP request as the handlers see it.

    Args:
        sock: the client socket (``getpeername()`` gives `remote`); may be ``None``.
        method: the request method.
        scheme: ``'http'`` or ``'https'``; falsy means ``'http'``.
        path: the raw (still percent-encoded) path of the request line.
        protocol: the HTTP version as a tuple.
        qs: the raw query string.
        headers: the request headers.
        server: the server component (``host``, ``port``, ``display_banner``, ``debug``).

    ``remote``, ``local``, ``base`` and ``uri`` are computed on first use
    (from the values given here), so a request that never looks at them costs
    no system call and no URL parsing.
    """

    server: Any = None
    scheme = "http"
    protocol: tuple[int, int] = (1, 1)
    host = ""
    index: bool | None = None
    script_name = ""
    login: Any = None
    handled = False

    def __init__(
        self,
        sock: Any,
        method: str = "GET",
        scheme: str = "http",
        path: str = "/",
        protocol: tuple[int, int] = (1, 1),
        qs: str = "",
        headers: Headers | None = None,
        server: Any = None,
    ) -> None:
        self.sock = sock
        self.method = method
        self.scheme = scheme = scheme or "http"
        self.path = path
        self.protocol = tuple(protocol)  # type: ignore[assignment]
        self.qs = qs
        # Tracebacks reach clients only when the server asks for it (its debug flag).
        self.print_debug = bool(getattr(server, "debug", False))
        self.headers = headers = Headers() if headers is None else headers
        self.server = server
        self.body: Any = BytesIO()
        host = headers.get("Host")
        if host is not None:
            self.host, self.port = _split_host(str(host), scheme)
        else:
            local = self.local
            self.host = local.name or local.ip
            self.port = server.port if server is not None else local.port
        if self.port in (80, 443):
            self._base = f"{scheme}://{self.host}/"
        else:
            self._base = f"{scheme}://{self.host}:{self.port}/"
        self._target = (path, qs)

    @_lazy
    def cookie(self) -> SimpleCookie:
        """The cookies of the ``Cookie`` header (empty if it is missing or malformed)."""
        jar: SimpleCookie = SimpleCookie()
        header = self.headers.get("Cookie")
        if header is not None:
            try:
                jar.load(str(header))
            except CookieError:  # a bad Cookie header leaves the jar empty
                jar = SimpleCookie()
        return jar

    @_lazy
    def remote(self) -> Host:
        """The peer: ``Host(ip, port)`` (``Host(None, None, path)`` on a UNIX socket)."""
        if self.sock is None:
            return Host("", 0)
        try:
            peer = self.sock.getpeername()
        except OSError:  # closed meanwhile
            return Host("", 0)
        if isinstance(peer, tuple | list) and len(peer) >= 2:
            return Host(peer[0], peer[1])
        return Host(None, None, peer)

    @_lazy
    def local(self) -> Host:
        """The server's end: ``Host(server.host, server.port)``."""
        server = self.server
        if server is None:
            return Host("127.0.0.1", 80)
        return Host(server.host, server.port)

    @_lazy
    def base(self) -> URL:
        """The server's URL as the client addressed it (``scheme://host[:port]/``)."""
        return parse_url(self._base)

    @_lazy
    def uri(self) -> URL:
        """The full request URL, normalised (`URL.sanitize`)."""
        path, qs = self._target
        uri = self._base.rstrip("/") + (path if path.startswith("/") else "/" + path)
        if qs:
            uri += "?" + qs
        return parse_url(uri).sanitize()

    def __repr__(self) -> str:
        protocol = "HTTP/{}.{}".format(*self.protocol)
        return f"<Request {self.method} {self.path} {protocol}>"


class Response:
    """The response to a `Request`, filled in by handlers and serialised by HTTP.

    Args:
        request: the request answered.
        encoding: the encoding of str bodies and of the default ``Content-Type``.
        status: the status code (200 when ``None``).
    """

    body = Body()
    status = Status()
    done = False
    close = False
    stream = False
    chunked = False

    def __init__(
        self, request: Request, encoding: str = "utf-8", status: int | None = None
    ) -> None:
        self.request = request
        self.encoding = encoding
        self._body: Any = []
        self._status: Any = HTTPStatus(200 if status is None else status)
        self.time = now = time.time()
        self.headers = headers = Headers()
        # Trusted values, stored without the header checks.
        store = dict.__setitem__
        store(headers, "Date", _http_date(now))
        server = request.server
        if server is None:
            store(headers, "X-Powered-By", SERVER_VERSION)
        elif getattr(server, "display_banner", False):
            store(headers, "Server", SERVER_VERSION)
        protocol = request.protocol
        self.protocol = "HTTP/1.1" if protocol == (1, 1) else "HTTP/{}.{}".format(*protocol)
        self._auto_chunked = False

    def __str__(self) -> str:
        return f"{self.protocol} {self.status}\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode("iso-8859-1")

    def __repr__(self) -> str:
        content_type = self.headers.get("Content-Type", f"text/html; charset={self.encoding}")
        length = len(self.body) if isinstance(self.body, str) else 0
        return f"<Response {self.status} {content_type} ({length:d})>"

    def _length(self) -> int | None:
        body = self.body
        if isinstance(body, bytes | str):
            body = [body]
        if not isinstance(body, list):
            return None
        if len(body) == 1 and type(body[0]) is bytes:  # what the Body descriptor makes
            return len(body[0])
        return sum(
            len(item.encode(self.encoding) if isinstance(item, str) else item)
            for item in body
            if item is not None
        )

    @_lazy
    def cookie(self) -> SimpleCookie:
        """The request's cookie jar (the same object): what it holds is sent as ``Set-Cookie``."""
        return self.request.cookie

    def _cookies_pending(self) -> bool:
        """Whether a cookie jar exists with something in it (without creating one)."""
        jar = self.__dict__.get("cookie")
        if jar is None:
            request = self.request
            jar = request.__dict__.get("cookie")
            if jar is None:
                return "Cookie" in request.headers  # the jar would not be empty
        return bool(jar)

    def _add_cookies(self) -> None:
        sent = self.__dict__.setdefault("_cookies_sent", set())
        for name, morsel in self.cookie.items():
            line = morsel.OutputString()
            if any(char in line for char in _CONTROL):
                raise ValueError(f"cookie {name!r} would put CR, LF or NUL on the wire: {line!r}")
            if line not in sent:
                sent.add(line)
                self.headers.append("Set-Cookie", line)

    def prepare(self) -> None:
        """Finalise the headers before they are written (web.md §4.3, §5.5).

        Sets the default ``Content-Type``, ``Content-Length`` for list/str/bytes
        bodies, one ``Set-Cookie`` per cookie, and otherwise either chunking
        (HTTP/1.1 with a server) or ``close``; then ``Connection`` and ``chunked``.

        Raises:
            ValueError: a cookie would put CR, LF or NUL on the wire.
        """
        # Keys are stored title-cased, so the dict's own methods see them; the
        # values set here are ours (checked once per encoding, or digits).
        headers = self.headers
        has = dict.__contains__
        store = dict.__setitem__
        if not has(headers, "Content-Type"):
            store(headers, "Content-Type", _default_content_type(self.encoding))
        code = self._status._status if type(self._status) is HTTPStatus else int(self.status)
        no_body = code < 200 or code in _NO_BODY
        if self._auto_chunked:  # an earlier prepare() chose chunking; choose again
            headers.pop("Transfer-Encoding", None)
            self._auto_chunked = self.chunked = False
        length = self._length()
        if length is not None and not (code < 200 or code == 204):
            store(headers, "Content-Length", str(length))
        if self._cookies_pending():
            self._add_cookies()
        if code == 413:
            self.close = True
        if not no_body and not has(headers, "Content-Length"):
            if (
                self.protocol == "HTTP/1.1"
                and self.request.method != "HEAD"
                and self.request.server is not None
                and length != 0
            ):
                if not has(headers, "Transfer-Encoding"):
                    store(headers, "Transfer-Encoding", "chunked")
                    self._auto_chunked = True
            else:
                self.close = True
        coding = dict.get(headers, "Transfer-Encoding")
        if coding is not None and "chunked" in str(coding).lower():
            # RFC 9112 §6.2: a sender must not send Content-Length with Transfer-Encoding
            headers.pop("Content-Length", None)
            self.chunked = True
        if self.request.server is not None and not has(headers, "Connection"):
            if self.protocol == "HTTP/1.1" and self.close:
                store(headers, "Connection", "close")
            elif self.protocol == "HTTP/1.0" and not self.close:
                store(headers, "Connection", "Keep-Alive")
