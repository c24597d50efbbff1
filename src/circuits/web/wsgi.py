"""WSGI both ways: host PEP 3333 applications in circuits.web, and serve circuits.web over WSGI.

``Gateway({mount: app})`` is a ``request`` handler on the web channel
(priority 0.2, before the ``Dispatcher``) that gives each request under a
mount path to a WSGI application and turns its answer into the response.
``Application()`` is the root of a circuits.web component tree that is itself
a WSGI callable: ``application = Application() + Root()`` (web.md §21).

How the Gateway runs an application. The call happens inside the
``request`` handler, on the loop thread (as in 3.2.5; nothing else runs on
the loop meanwhile). A list or tuple result is joined and answered with a
``Content-Length``. Any other iterable is run up to its first non-empty chunk
- PEP 3333 lets the application call ``start_response`` that late - and then
handed to the HTTP component as a streamed body: each further chunk is pulled
by one ``stream`` event, so other connections are served between chunks.
Data passed to ``write()`` is buffered (PEP 3333 allows that) and goes out
before the iterable's chunks. The result's ``close()`` is called exactly once
in every case: after a list is joined, at the end of a stream, on an error,
and when the client goes away (``disconnect``).

Errors. Before anything is on the wire an exception becomes one clean 500
page naming the exception type and message (tracebacks only with the
server's ``debug``, web.md §7.1); after the stream has begun the connection
is closed without the final chunk, so the client sees a truncated response
rather than a complete-looking one.

Differences from 3.2.5 (all towards PEP 3333): ``PATH_INFO``,
``SCRIPT_NAME`` and ``QUERY_STRING`` are "WSGI strings" (the request's bytes
as Latin-1, paths percent-decoded); ``SERVER_PROTOCOL`` is the client's
version; ``HTTP_CONTENT_TYPE``/``HTTP_CONTENT_LENGTH`` are not set (only the
CGI names) and header names containing ``_`` are not passed on (they would
collide with ``-`` after translation); the status line keeps the
application's reason phrase; ``write()`` data precedes the iterable's
chunks instead of being dropped when both are used.
"""

from __future__ import annotations

import html
import logging
import os
import re
import stat
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO, StringIO
from types import TracebackType
from typing import IO, Any
from urllib.parse import quote, unquote_to_bytes

from circuits.core import _clock
from circuits.core.components import BaseComponent as BaseComponent
from circuits.core.events import Event
from circuits.core.handlers import handler as handler
from circuits.net.events import close

from ._mount import Unlistening, mount_for
from .dispatchers import Dispatcher as Dispatcher
from .errors import httperror as httperror
from .events import request as request
from .headers import HOP_BY_HOP, Headers as Headers
from .http import HTTP as HTTP, _close_body, _standard_reason
from .wrappers import Host, HTTPStatus, Request, Response

__all__ = [
    "HTTP",
    "Application",
    "BaseComponent",
    "Dispatcher",
    "Gateway",
    "Headers",
    "create_environ",
    "empty",
    "handler",
    "httperror",
    "request",
]

log = logging.getLogger(__name__)

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
Write = Callable[[bytes], None]
StartResponse = Callable[..., Write]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[Any]]

# The encoding circuits.web decodes request targets with (HTTP_ENCODING);
# the environ turns them back into bytes with it.
_PATH_ENCODING = "utf-8"
# Files given to wsgi.file_wrapper are read in blocks this big: one stream
# event per 64 KiB keeps the loop fair without an event per 8 KiB.
FILE_BLOCK_BYTES = 65536
# PEP 3333: "hop-by-hop" headers belong to the server; an application using
# them is a fatal error (PEP 3333 takes RFC 2616's list, with "Trailers").
_HOP_BY_HOP = HOP_BY_HOP | {"trailers"}
# Headers the Response sets by default that an application's own value replaces.
_REPLACEABLE = frozenset({"date", "server", "x-powered-by", "content-type"})
_STATUS_RE = re.compile(r"([0-9]{3})(?: (.*))?\Z", re.DOTALL)
_PROTOCOL_RE = re.compile(r"HTTP/([0-9]+)\.([0-9]+)\Z")
# The characters a request path carries unencoded (RFC 3986 pchar and "/").
_PATH_SAFE = "/:@!$&'()*+,;=~"


class _Empty(str):
    """An empty body that is still a true value, so it is not taken for "no answer"."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return True


#: What the Gateway answers for an empty result: a 200 with an empty body
#: (``Content-Length: 0``), not a 404 (web.md §21.2).
empty = _Empty()


def create_environ(errors: IO[str], path: str, req: Request) -> dict[str, Any]:
    """Build the WSGI environ of ``req`` for an application mounted at ``path``.

    Splits the request path at the mount: ``req.script_name`` becomes the
    first ``len(path)`` characters of ``req.path`` and ``req.path`` the rest
    (both mutated on the request, as in 3.2.5). For the mount ``/`` the
    request ``/foo`` gives ``SCRIPT_NAME`` ``'/'`` and ``PATH_INFO`` ``'foo'``
    (a 3.2.5 quirk kept on purpose, web.md §21.1).

    Args:
        errors: the ``wsgi.errors`` stream.
        path: the mount path.
        req: the request; its ``body`` becomes ``wsgi.input``.

    Returns:
        The environ; every CGI value is a "WSGI string" (Latin-1 text of the bytes).
    """
    server = req.server
    headers = req.headers
    raw_target = req.path + (f"?{req.qs}" if req.qs else "")
    length = str(headers.get("Content-Length", "")).strip()
    if not length and "Transfer-Encoding" in headers:
        # A chunked body arrives decoded and whole: tell the application its size.
        length = str(_remaining(req.body))
    remote = req.remote
    environ: dict[str, Any] = {
        "REQUEST_METHOD": req.method,
        "SERVER_NAME": str(req.host or getattr(server, "host", None) or ""),
        "SERVER_PORT": str(getattr(server, "port", None) or 0),
        "SERVER_PROTOCOL": "HTTP/{}.{}".format(*req.protocol),
        "QUERY_STRING": _wsgi_text(req.qs),
        "REQUEST_URI": _wsgi_text(raw_target),
        "SCRIPT_NAME": _wsgi_path(req.script_name),
        "PATH_INFO": "",
        "CONTENT_TYPE": str(headers.get("Content-Type", "")),
        "CONTENT_LENGTH": length,
        "REMOTE_ADDR": "" if remote.ip is None else str(remote.ip),
        "REMOTE_PORT": str(remote.port or 0),
        "wsgi.version": (1, 0),
        "wsgi.input": _Input(req.body, int(length) if length.isdigit() else None),
        "wsgi.errors": errors,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.url_scheme": req.scheme,
        "wsgi.file_wrapper": _FileWrapper,
        # The input ends where the body ends (an extension of mod_wsgi/gunicorn).
        "wsgi.input_terminated": True,
    }
    if req.path:
        req.script_name = req.path[: len(path)]
        req.path = req.path[len(path) :]
        environ["SCRIPT_NAME"] = _wsgi_path(req.script_name)
        environ["PATH_INFO"] = _wsgi_path(req.path)
    for name, value in headers.items():
        # CGI: the body's type and length only under their own names (PEP 3333;
        # wsgiref.validate refuses the HTTP_ forms). A name with "_" would
        # collide with its "-" twin after translation (header spoofing).
        if name in ("Content-Type", "Content-Length") or "_" in name:
            continue
        key = "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class Gateway(BaseComponent):
    """Host WSGI applications: requests under a mount path go to its application.

    Args:
        apps: mount path -> WSGI application. The longest mount whose segments
            prefix the request path wins; ``/`` matches everything.
        **kwargs: passed to `circuits.core.BaseComponent` (``channel``).

    Attributes:
        apps: the applications by mount path.
        errors: mount path -> the ``StringIO`` given as ``wsgi.errors``.
    """

    channel = "web"

    def init(self, apps: dict[str, WSGIApp], **kwargs: Any) -> None:
        self.apps = apps
        self.errors: dict[str, IO[str]] = {mount: StringIO() for mount in apps}
        self._streams: dict[Any, _Body] = {}  # sock -> the body being streamed to it

    @handler("request", priority=0.2)
    def _on_request(self, event: Event, req: Request, res: Response, *args: Any) -> Any:
        mount = mount_for(self.apps, req.path)
        if mount is None:
            return None
        event.stop()
        errors = self.errors.get(mount)
        if errors is None:
            errors = self.errors[mount] = StringIO()
        exchange = _Exchange(self, req, res)
        environ = create_environ(errors, mount, req)
        return exchange.run(self.apps[mount], environ)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        body = self._streams.pop(sock, None)
        if body is not None:
            body.close()  # PEP 3333: close() also when the client goes away


class _Exchange:
    """One call of a hosted application: its ``start_response``, ``write`` and result."""

    def __init__(self, gateway: Gateway, req: Request, res: Response) -> None:
        self.gateway = gateway
        self.req = req
        self.res = res
        self.defaults = _copy_headers(res.headers)  # restored when exc_info replaces headers
        self.started = False  # start_response was called
        self.headers_sent = False  # PEP 3333's "headers sent": the body has begun
        self.written: deque[bytes] = deque()

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Write:
        if exc_info is not None:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # PEP 3333: no reference cycle through the traceback
        elif self.started:
            raise AssertionError(
                f"start_response({status!r}) called a second time without exc_info (PEP 3333)"
            )
        code, reason = _parse_status(status)
        fresh = _copy_headers(self.defaults)
        if not isinstance(headers, list):
            raise TypeError(f"response headers must be a list of (name, value), not {headers!r}")
        for item in headers:
            _add_header(fresh, item)
        self.res.headers = fresh
        self.res.status = HTTPStatus(code, reason)
        self.started = True
        return self.write

    def write(self, data: bytes) -> None:
        if not self.started:
            raise AssertionError("write() called before start_response() (PEP 3333)")
        chunk = _as_bytes(data, self.res.encoding)
        if chunk:
            self.written.append(chunk)
            self.headers_sent = True

    def run(self, app: WSGIApp, environ: dict[str, Any]) -> Any:
        """Call ``app`` and turn its answer into what the ``request`` handler returns."""
        try:
            result = app(environ, self.start_response)
        except Exception:
            return self.fail(sys.exc_info())
        body = _Body(self, result)
        try:
            if isinstance(result, list | tuple | str | bytes):
                items = [result] if isinstance(result, str | bytes) else result
                chunks = [_as_bytes(item, self.res.encoding) for item in items]
                body.close()
                self.check_started()
                if not self.written:
                    return b"".join(chunks) or empty  # Content-Length
                self.written.extend(chunk for chunk in chunks if chunk)
                body = _Body(self, ())  # stream what was written (web.md §21.2)
            else:
                if type(result) is _FileWrapper:
                    self.prepare_file(result)
                more = body.prefetch()
                self.check_started()
                if not more:
                    body.close()
                    return empty
        except Exception:
            body.close()
            return self.fail(sys.exc_info())
        self.headers_sent = True
        res = self.res
        if self.req.method == "HEAD":
            body.close()  # no body is sent; HTTP answers with the head alone
            res.body = iter(())
            return res
        body.hand_over(self.req.sock, res.headers.get("Content-Length"))
        self.gateway._streams[self.req.sock] = body
        res.body = body
        res.stream = True
        return res

    def check_started(self) -> None:
        if not self.started:
            raise AssertionError("the WSGI application returned without calling start_response()")

    def prepare_file(self, wrapper: _FileWrapper) -> None:
        """Read a ``wsgi.file_wrapper`` file in big blocks, with a length when it is known."""
        wrapper.blksize = max(wrapper.blksize, FILE_BLOCK_BYTES)
        if "Content-Length" in self.res.headers:
            return
        try:
            fileno = wrapper.filelike.fileno()
            info = os.fstat(fileno)
            if stat.S_ISREG(info.st_mode):
                left = info.st_size - wrapper.filelike.tell()
                self.res.headers["Content-Length"] = str(max(left, 0))
        except (AttributeError, OSError, ValueError):
            pass  # not a real file: chunked it is

    def fail(self, exc_info: Any) -> httperror:
        """The 500 answer to an exception raised before anything was sent."""
        etype, evalue, tb = exc_info
        res = self.res
        res.headers = _copy_headers(self.defaults)  # PEP 3333: drop the app's headers
        res.body = None
        res.stream = False
        # The type and message are shown (web.md §21.2: the page names the
        # exception); the traceback only when the server's debug flag allows it.
        summary = "".join(traceback.format_exception_only(etype, evalue)).strip()
        description = f"<p>{html.escape(summary, True)}</p>"
        error = (etype, evalue, traceback.format_tb(tb))
        return httperror(self.req, res, 500, description=description, error=error)


class _Body:
    """A hosted application's result as the HTTP component streams it.

    Yields non-empty bytes: first what ``write()`` buffered, then the
    result's chunks; stops at a declared ``Content-Length``. ``close()``
    closes the result once, whoever calls it first (the end of the stream,
    an error, or the Gateway on ``disconnect``).
    """

    def __init__(self, exchange: _Exchange, result: Any) -> None:
        self._exchange = exchange
        self._result = result
        self._iter: Iterator[Any] | None = None
        self._queue = exchange.written
        self._exhausted = False
        self._closed = False
        self._sock: Any = None
        self._limit: int | None = None
        self._sent = 0

    def prefetch(self) -> bool:
        """Run the application up to its first non-empty chunk; False if it has none."""
        chunk = self._next_chunk()
        if chunk is None:
            return False
        self._queue.appendleft(chunk)
        return True

    def hand_over(self, sock: Any, content_length: Any) -> None:
        """From now on the HTTP component pulls the chunks (the head is on its way)."""
        self._sock = sock
        if content_length is not None:
            self._limit = int(content_length)

    def _next_chunk(self) -> bytes | None:
        while not self._queue and not self._exhausted:
            if self._iter is None:
                self._iter = iter(self._result)
            item = next(self._iter, _END)
            if item is _END:
                self._exhausted = True
                break
            chunk = _as_bytes(item, self._exchange.res.encoding)
            if chunk:
                self._queue.append(chunk)
        return self._queue.popleft() if self._queue else None

    def __iter__(self) -> _Body:
        return self

    def __next__(self) -> bytes:
        try:
            chunk = self._next_chunk()
        except Exception:
            # The head is out: no error page is possible. Close the connection
            # and raise, so that HTTP does not end the response as complete.
            self._abort()
            raise
        if chunk is None:
            self.close()
            if self._limit is not None and self._sent < self._limit:
                self._abort()
                raise RuntimeError(
                    f"WSGI application declared Content-Length {self._limit} but sent "
                    f"{self._sent} bytes; connection closed"
                )
            raise StopIteration
        if self._limit is not None:
            # PEP 3333: never send more than the declared Content-Length.
            left = self._limit - self._sent
            if len(chunk) >= left:
                chunk = chunk[:left]
                self._exhausted = True
                self._queue.clear()
                self.close()
        self._sent += len(chunk)
        return chunk

    def _abort(self) -> None:
        self.close()
        if self._sock is not None:
            self._exchange.gateway.fire(close(self._sock))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        streams = self._exchange.gateway._streams
        if streams.get(self._sock) is self:
            del streams[self._sock]
        closer = getattr(self._result, "close", None)
        if closer is not None:
            try:
                closer()
            except Exception:
                log.exception("close() of the WSGI result %r failed", self._result)


_END = object()


class _Input:
    """``wsgi.input``: the request body, never read past ``limit`` bytes (PEP 3333)."""

    def __init__(self, stream: Any, limit: int | None) -> None:
        self._stream = stream
        self._left = sys.maxsize if limit is None else limit

    def _size(self, size: int | None) -> int:
        if size is None or size < 0 or size > self._left:
            return self._left
        return size

    def read(self, size: int | None = -1) -> bytes:
        size = self._size(size)
        data: bytes = self._stream.read(size) if size else b""
        self._left -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        size = self._size(size)
        data: bytes = self._stream.readline(size) if size else b""
        self._left -= len(data)
        return data

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class _FileWrapper:
    """``wsgi.file_wrapper``: a file as an iterable of blocks; the Gateway streams it.

    Args:
        filelike: an object with ``read`` (and optionally ``close``, ``fileno``).
        blksize: bytes per block.
    """

    def __init__(self, filelike: Any, blksize: int = 8192) -> None:
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> _FileWrapper:
        return self

    def __next__(self) -> bytes:
        data: bytes = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration

    def close(self) -> None:
        closer = getattr(self.filelike, "close", None)
        if closer is not None:
            closer()


class Application(Unlistening, BaseComponent):
    """A circuits.web component tree as a WSGI application.

    ``application = Application() + Root()`` is a WSGI callable: each call
    builds a `Request`/`Response` from the environ, fires ``request`` and
    runs this tree's loop until the response is ready. Calls are serialised
    (one request at a time). Usable under any WSGI server, including a
    `Gateway`.

    Attributes:
        response_timeout: seconds to wait for a response that a handler
            promised to send later (it returned a bool or a pending Value);
            then the answer is a 500.
    """

    channel = "web"

    # CGI variables that carry a request header under another name.
    header_names = {
        "HTTP_CGI_AUTHORIZATION": "Authorization",
        "CONTENT_LENGTH": "Content-Length",
        "CONTENT_TYPE": "Content-Type",
        "REMOTE_HOST": "Remote-Host",
        "REMOTE_ADDR": "Remote-Addr",
    }
    response_timeout: float = 30.0
    # How long the loop sleeps while it only waits for another thread or a timer.
    IDLE_POLL_S = 0.005

    def init(self, *args: Any, **kwargs: Any) -> None:
        self._call_lock = threading.Lock()  # (the Manager's _lock guards the queue)
        self._finished = False
        self._answer: Response | None = None
        self.request: Request | None = None
        self.response: Response | None = None
        HTTP(self, channel=self.channel).register(self)
        Dispatcher(channel=self.channel).register(self)

    def translate_headers(self, environ: dict[str, Any]) -> Iterator[tuple[str, str]]:
        """Yield ``(header name, value)`` for the environ's header variables.

        The CGI names of `header_names` and every ``HTTP_*`` key (``_`` -> ``-``).
        """
        for key, value in environ.items():
            name = self.header_names.get(key)
            if name is not None:
                if value:  # an empty CONTENT_TYPE/CONTENT_LENGTH means "none"
                    yield name, str(value)
            elif key.startswith("HTTP_"):
                yield key[5:].replace("_", "-"), str(value)

    def get_request_response(self, environ: dict[str, Any]) -> tuple[Request, Response]:
        """Build the `Request` and `Response` of one WSGI call.

        The request path is ``PATH_INFO`` as the target carried it (percent-encoded
        again, so handlers see what the HTTP server would give them), without a
        leading ``/`` added (web.md §21.3); the body is ``CONTENT_LENGTH`` bytes
        of ``wsgi.input``.

        Returns:
            ``(request, response)``; the response has ``gzip`` set to whether the
            client accepts gzip.
        """
        env = environ.get
        headers = Headers(list(self.translate_headers(environ)))
        scheme = str(env("wsgi.url_scheme", "http"))
        server_name = str(env("SERVER_NAME", "") or "")
        server_port = _int(env("SERVER_PORT"))
        synthetic_host = "Host" not in headers and bool(server_name)
        if synthetic_host:
            # No Host header: the URLs are built from SERVER_NAME/SERVER_PORT.
            name = f"[{server_name}]" if ":" in server_name else server_name
            headers["Host"] = f"{name}:{server_port}" if server_port else name
        match = _PROTOCOL_RE.match(str(env("SERVER_PROTOCOL", "")))
        protocol = (int(match[1]), int(match[2])) if match else (1, 1)
        path = quote(_wsgi_bytes(str(env("PATH_INFO", ""))), safe=_PATH_SAFE)
        qs = _from_wsgi_text(str(env("QUERY_STRING", "")))
        req = Request(None, str(env("REQUEST_METHOD", "GET")), scheme, path, protocol, qs,
                      headers=headers)  # fmt: skip
        if synthetic_host:
            del req.headers["Host"]
        req.remote = Host(env("REMOTE_ADDR"), _int(env("REMOTE_PORT")) or None)
        if server_name:
            req.local = Host(server_name, server_port)
        req.script_name = str(env("SCRIPT_NAME", ""))
        req.wsgi_environ = environ  # type: ignore[attr-defined]
        req.body = BytesIO(_read_input(environ))
        res = Response(req)
        res.gzip = "gzip" in str(req.headers.get("Accept-Encoding", ""))  # type: ignore[attr-defined]
        return req, res

    def __call__(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        exc_info: ExcInfo | None = None,
    ) -> Iterable[bytes]:
        """Answer one WSGI call (PEP 3333)."""
        with self._call_lock:
            req, res = self.get_request_response(environ)
            self.request, self.response = req, res
            self._finished = False
            self._answer = None
            self.fire(request(req, res))
            self._run_until_answered(req, res)
            res = self._answer or res
            self.response = res
            res.prepare()
            code = int(res.status)
            reason = getattr(res.status, "reason", "") or _standard_reason(code)
            headers = [(k, v) for k, v in res.headers.items() if k.lower() not in _HOP_BY_HOP]
            if exc_info is None:
                start_response(f"{code} {reason}", headers)
            else:
                start_response(f"{code} {reason}", headers, exc_info)
            return _wsgi_body(res, req.method == "HEAD")

    def _run_until_answered(self, req: Request, res: Response) -> None:
        deadline = _clock.now() + self.response_timeout
        while not self._finished:
            self.tick()
            if self._finished or len(self) or self._tasks_ready or self._pending:
                continue
            # Only another thread or a timer can answer now.
            if _clock.now() >= deadline:
                log.error("%r: no response within %s s; answering 500", req, self.response_timeout)
                late = Response(req, res.encoding, 500)
                description = "<p>The application did not respond in time.</p>"
                late.body = str(httperror(req, late, 500, description=description))
                self._answer = late
                return
            time.sleep(self.IDLE_POLL_S)

    @handler("response", priority=1.0)
    def _on_response(self, event: Event, res: Response) -> None:
        if res.request is not self.request:
            return  # a late answer to an earlier call
        self._answer = res
        self._finished = True
        event.stop()  # the WSGI server sends it, not our HTTP component

    # 3.2.5 names
    headerNames = header_names
    translateHeaders = translate_headers
    getRequestResponse = get_request_response


class _Encoded:
    """A streamed response body as WSGI wants it: bytes only, and ``close()``."""

    def __init__(self, body: Any, encoding: str) -> None:
        self._body = body
        self._iter = iter(body)
        self._encoding = encoding

    def __iter__(self) -> _Encoded:
        return self

    def __next__(self) -> bytes:
        while True:
            item = next(self._iter)
            if item is not None:
                return _as_bytes(item, self._encoding)

    def close(self) -> None:
        _close_body(self._body)


def _wsgi_body(res: Response, head: bool) -> Iterable[bytes]:
    body = res.body
    if head:
        _close_body(body)
        return []
    if isinstance(body, str | bytes):
        return [_as_bytes(body, res.encoding)]
    if isinstance(body, list | tuple):
        return [_as_bytes(item, res.encoding) for item in body if item is not None]
    return _Encoded(body, res.encoding)


def _read_input(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = str(environ.get("CONTENT_LENGTH", "") or "").strip()
    if not length.isdigit():
        # PEP 3333: without a length the input is read only when it is terminated.
        return bytes(stream.read()) if environ.get("wsgi.input_terminated") else b""
    left = int(length)
    chunks: list[bytes] = []
    while left > 0:
        data = stream.read(left)
        if not data:
            break
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


def _copy_headers(headers: Headers) -> Headers:
    copy = Headers()
    for name, value in headers.items():
        copy.append(name, value)
    return copy


def _add_header(headers: Headers, item: Any) -> None:
    if not (isinstance(item, tuple) and len(item) == 2):
        raise TypeError(f"a response header must be a (name, value) tuple, not {item!r}")
    name, value = item
    if not (isinstance(name, str) and isinstance(value, str)):
        raise TypeError(f"response header {item!r} must be a pair of str (PEP 3333)")
    key = name.lower()
    if key in _HOP_BY_HOP:
        raise ValueError(f"hop-by-hop header {name!r} is the server's, not the application's")
    if key == "content-length" and not value.strip().isdigit():
        raise ValueError(f"Content-Length {value!r} is not a number of bytes")
    if key in _REPLACEABLE:
        headers[name] = value
    else:
        headers.append(name, value)


def _parse_status(status: Any) -> tuple[int, str | None]:
    if not isinstance(status, str):
        raise TypeError(f"status must be a str such as '200 OK', not {status!r}")
    match = _STATUS_RE.match(status)
    if match is None or int(match[1]) < 100 or any(c in status for c in "\r\n\x00"):
        raise ValueError(f"status {status!r} is not 'NNN Reason' (PEP 3333)")
    return int(match[1]), match[2] or None


def _as_bytes(item: Any, encoding: str) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode(encoding)  # 3.2.5 accepted str; PEP 3333 wants bytes
    if isinstance(item, bytearray | memoryview):
        return bytes(item)
    raise TypeError(f"a WSGI body item must be bytes, not {type(item).__name__}: {item!r:.60}")


def _wsgi_text(text: str) -> str:
    """A circuits.web request string as a WSGI string: its bytes read as Latin-1."""
    return text.encode(_PATH_ENCODING, "surrogateescape").decode("latin-1")


def _wsgi_bytes(text: str) -> bytes:
    """The bytes of a WSGI string (a server that broke the Latin-1 rule gets UTF-8)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode(_PATH_ENCODING, "surrogateescape")


def _from_wsgi_text(text: str) -> str:
    """A WSGI string back as circuits.web keeps request text."""
    return _wsgi_bytes(text).decode(_PATH_ENCODING, "surrogateescape")


def _wsgi_path(path: str) -> str:
    """A raw (percent-encoded) path as PEP 3333 wants it: decoded, as a WSGI string."""
    return unquote_to_bytes(path.encode(_PATH_ENCODING, "surrogateescape")).decode("latin-1")


def _remaining(body: Any) -> int:
    try:
        here = body.tell()
        end = body.seek(0, os.SEEK_END)
        body.seek(here)
    except (AttributeError, OSError, ValueError):
        return 0
    return int(end - here)


def _int(value: Any) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else 0
