"""The HTTP protocol component: ``read`` bytes in, ``request`` events out, responses back.

Sits on the web server's channel next to the socket server (web.md §4). One
sans-I/O `circuits._sansio.http1.Connection` per client socket does all the
parsing and framing; this module is the glue: ``read`` feeds the engine and
drains its events into one ``request(req, res)``; ``response``/``stream``
hand the response to the engine and fire ``write``.

Differences from 3.2.5, none visible to a well-behaved client: pipelined
requests are answered in order (the engine holds the next one until the
response to the current one is sent); malformed input gets the engine's
status (400, 413, 414, 431, 501, 505) and the connection is closed; every
request gets exactly one response (a second ``response`` for the same
request, or an error after the response started, is dropped).
"""

from __future__ import annotations

import logging
import os
import re
import stat
from functools import cached_property
from http import HTTPStatus as _StdStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

from circuits._sansio.http1 import (
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    MAX_HEADER_COUNT,
    MAX_REQUEST_LINE_BYTES,
    SERVER,
    Connection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    InformationalResponse,
    RemoteProtocolError,
    Request as Http1Request,
    Response as Http1Response,
    State,
)
from circuits.core import _clock
from circuits.core.components import BaseComponent
from circuits.core.handlers import handler
from circuits.core.values import Value
from circuits.net._region import FileRegion, accepts_regions
from circuits.net.events import close, read, write
from circuits.net.utils import is_ssl_handshake as is_ssl_handshake

from .constants import SERVER_PROTOCOL, SERVER_VERSION
from .errors import error_event, httperror, notfound, redirect
from .events import request, response, stream
from .exceptions import HTTPException as HTTPException, Redirect
from .headers import Headers, _check as check_header
from .parsers import HttpParser as HttpParser
from .url import URL, parse_url
from .utils import is_unix_socket as is_unix_socket
from .wrappers import FileChunks, Host, Request, Response

__all__ = ["HTTP", "HTTP_ENCODING"]

HTTP_ENCODING = "utf-8"  # the default encoding of paths and str bodies
RedirectException = Redirect  # 3.2.5's name for it here

log = logging.getLogger(__name__)

_VERSIONS = {b"1.1": (1, 1), b"1.0": (1, 0)}
# A streamed body is paused while this much is queued for its socket.
STREAM_HIGH_WATER = 256 * 1024
# Paths that URL normalisation leaves as they are, with "//" and "/." excluded.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.~/-]*").fullmatch


class _Client:
    """What HTTP keeps per client socket: the engine and the exchange under way."""

    __slots__ = ("body", "engine", "peer", "req", "res", "since", "started", "waiting")

    def __init__(self, limits: dict[str, Any], peer: tuple[Any, ...] = ()) -> None:
        self.peer = peer  # the (ip, port) of the connect event, once per connection
        self.engine = Connection(SERVER, **limits)
        self.req: Request | None = None
        self.res: Response | None = None
        self.body: list[bytes] = []
        self.started = False  # the response head went to the engine
        # What the connection waits for ("new", "head", "body", "response",
        # "idle") and since when: the sweep closes those waiting too long.
        self.waiting = "new"
        self.since = _clock.now()


class HTTP(BaseComponent):
    """Turn ``read(sock, data)`` into ``request(req, res)`` and responses into ``write``.

    Args:
        server: the owning server component (``secure``, ``host``, ``port``,
            ``display_banner``, ``debug``).
        encoding: the encoding of str bodies and of request paths.
        channel: the server's channel.
        header_timeout: seconds for a request head to arrive (408 after).
        body_timeout: seconds a request body may go without progress (408 after).
        keepalive_timeout: seconds an idle keep-alive connection is kept.
        max_body_bytes: larger request bodies get 413 (``None``: no limit).
        max_head_bytes: larger request heads get 431.
        max_header_count: more header fields get 431.
        max_request_line_bytes: longer request lines get 414.
    """

    channel = "web"

    # Against slow clients (slowloris, slow POST, idle keep-alive hogs); the
    # defaults follow common servers: a request head must arrive within 30 s
    # of its first byte (Apache's RequestReadTimeout allows 20-40 s, nginx's
    # client_header_timeout 60 s), a body must make progress every 60 s
    # (nginx client_body_timeout), an idle keep-alive connection is closed
    # after 60 s (nginx keepalive_timeout: 75 s). Settable per instance.
    header_timeout: float = 30.0
    body_timeout: float = 60.0
    keepalive_timeout: float = 60.0
    SWEEP_INTERVAL_S = 1.0

    def __init__(
        self,
        server: Any,
        encoding: str = "utf-8",
        channel: Any = channel,
        *,
        header_timeout: float | None = None,
        body_timeout: float | None = None,
        keepalive_timeout: float | None = None,
        max_body_bytes: int | None = MAX_BODY_BYTES,
        max_head_bytes: int = MAX_HEAD_BYTES,
        max_header_count: int = MAX_HEADER_COUNT,
        max_request_line_bytes: int = MAX_REQUEST_LINE_BYTES,
    ) -> None:
        super().__init__(channel=channel)
        if header_timeout is not None:
            self.header_timeout = header_timeout
        if body_timeout is not None:
            self.body_timeout = body_timeout
        if keepalive_timeout is not None:
            self.keepalive_timeout = keepalive_timeout
        self._limits: dict[str, Any] = {
            "max_body_bytes": max_body_bytes,
            "max_head_bytes": max_head_bytes,
            "max_header_count": max_header_count,
            "max_request_line_bytes": max_request_line_bytes,
        }
        self._server = server
        self._encoding = encoding
        self._uri: URL | None = None
        self._conns: dict[Any, _Client] = {}
        self._paused: dict[Any, Response] = {}  # streams waiting for their socket to drain
        self._next_sweep = 0.0
        self._switched: set[Any] = set()  # sockets a 101 handed to another protocol
        self._draining = False  # see drain()

    def drain(self) -> None:
        """Keep no connection alive any more: the graceful stop of the server.

        Idle keep-alive connections are closed now; a connection that has not
        sent its first request yet, or is sending or awaiting one, gets its
        response, which carries ``Connection: close``, and is closed after it.
        """
        self._draining = True
        for sock, client in list(self._conns.items()):
            if client.waiting == "idle":
                self._forget(sock, close_it=True)

    @property
    def version(self) -> str:
        """``SERVER_VERSION``."""
        return SERVER_VERSION

    @property
    def protocol(self) -> tuple[int, int]:
        """``SERVER_PROTOCOL``."""
        return SERVER_PROTOCOL

    @property
    def scheme(self) -> str:
        """``'https'`` when the server is secure, else ``'http'``."""
        return "https" if getattr(self._server, "secure", False) else "http"

    @property
    def uri(self) -> URL | None:
        """The server's base URL, computed on ``ready``; ``None`` before."""
        return self._uri

    @property
    def base(self) -> str:
        """The base URL as text without a trailing ``/``; ``''`` before ``ready``."""
        if self._uri is None:
            return ""
        return self._uri.utf8().rstrip(b"/").decode(self._encoding)

    @property
    def _clients(self) -> dict[Any, tuple[Request, Response]]:
        """Sock -> ``(req, res)`` of the request being served (3.2.5 attribute)."""
        return {
            sock: (c.req, c.res)
            for sock, c in self._conns.items()
            if c.req is not None and c.res is not None
        }

    # -- inbound ----------------------------------------------------------------

    @handler("ready", priority=1.0)
    def _on_ready(self, server: Any, bind: Any) -> None:
        host = getattr(self._server, "host", None)
        if isinstance(host, str) and os.path.exists(host):
            self._uri = parse_url(host)
            return
        port = getattr(self._server, "port", None) or 80
        url = f"{self.scheme}://{host or '0.0.0.0'}"
        if port not in (80, 443):
            url += f":{port}"
        self._uri = parse_url(url)

    @handler("read")
    def _on_read(self, sock: Any, data: bytes) -> None:
        client = self._conns.get(sock)
        if client is None or client.waiting == "new":
            if sock in self._switched:
                return  # after a 101 the bytes belong to the new protocol (see _switch)
            if data[:2] == b"\x16\x03" and not getattr(self._server, "secure", False):
                self._forget(sock, close_it=True)  # a TLS handshake on a plain server
                return
            if client is None:
                client = self._conns[sock] = _Client(self._limits)
        if client.waiting in ("new", "idle"):
            client.waiting, client.since = "head", _clock.now()
        elif client.waiting == "body":
            client.since = _clock.now()  # progress
        client.engine.receive_data(data)
        self._drain(sock, client)

    def _drain(self, sock: Any, client: _Client) -> None:
        """Feed the engine's events into ``request``; stop at the end of one request."""
        engine = client.engine
        try:
            while (event := engine.next_event()) is not None:
                if isinstance(event, Http1Request):
                    self._begin(sock, client, event)
                    if engine.they_are_waiting_for_100_continue:
                        self.fire(
                            write(sock, engine.send(InformationalResponse(100, reason=b"Continue")))
                        )
                elif isinstance(event, Data):
                    client.body.append(event.data)
                elif isinstance(event, EndOfMessage):
                    self._dispatch(sock, client)
                    return
                elif isinstance(event, ConnectionClosed):
                    return
        except RemoteProtocolError as exc:
            log.info("%r: bad request, answering %d: %s", sock, exc.error_status_hint, exc)
            self._refuse(sock, client, exc.error_status_hint)

    def _refuse(self, sock: Any, client: _Client, status: int) -> None:
        """Answer ``status`` and close, if our response has not begun (else just close)."""
        engine = client.engine
        if client.started or engine.our_state not in (State.IDLE, State.SEND_RESPONSE):
            # Our response has begun: too late for a status of its own.
            self._forget(sock, close_it=True)
            return
        client.waiting = "response"
        req = client.req
        if req is None:
            req = client.req = Request(sock, server=self._server)
            client.res = Response(req, encoding=self._encoding)
        assert client.res is not None
        client.res.close = True
        self.fire(httperror(req, client.res, status))

    @handler("connect")
    def _on_connect(self, sock: Any, *peer: Any) -> None:
        if sock not in self._conns:
            self._conns[sock] = _Client(self._limits, peer)  # the head timeout runs from now

    @handler("generate_events")
    def _on_generate_events(self, event: Any) -> None:
        # The slow-client sweep rides on the idle step (no event of its own,
        # nothing for a Debugger to print): at most once per SWEEP_INTERVAL_S,
        # and the loop is only woken for it while connections exist.
        if not self._conns:
            return
        now = _clock.now()
        if now >= self._next_sweep:
            self._sweep(now)
            self._next_sweep = now + self.SWEEP_INTERVAL_S
        event.reduce_time_left(max(0.0, self._next_sweep - now))

    def _sweep(self, now: float) -> None:
        for sock, client in list(self._conns.items()):
            waiting = client.waiting
            if waiting == "response":
                continue  # the application is working on it
            limit = (
                self.keepalive_timeout
                if waiting == "idle"
                else (self.body_timeout if waiting == "body" else self.header_timeout)
            )
            if now - client.since < limit:
                continue
            if waiting in ("head", "body"):
                log.info("%r: request not received in time, answering 408", sock)
                self._refuse(sock, client, 408)
            else:
                self._forget(sock, close_it=True)  # silent: nothing was asked

    def _begin(self, sock: Any, client: _Client, event: Http1Request) -> None:
        target = event.target.decode(self._encoding, "surrogateescape")
        if "://" in target and not target.startswith("/"):  # absolute-form
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, qs = target.partition("?")
        version = _VERSIONS.get(event.http_version)
        if version is None:
            major, _, minor = event.http_version.partition(b".")
            version = (int(major), int(minor or 0))
        req = Request(sock, event.method.decode("ascii"), self.scheme, path, version, qs,
                      headers=Headers._from_wire(event.headers), server=self._server)  # fmt: skip
        peer = client.peer
        if len(peer) >= 2:
            req.remote = Host(peer[0], peer[1])  # no getpeername() per request
        res = Response(req, encoding=self._encoding)
        res.protocol = "HTTP/1.1" if version >= (1, 1) else "HTTP/{}.{}".format(*version)
        res.close = not client.engine.keep_alive
        client.req, client.res, client.body, client.started = req, res, [], False
        client.waiting, client.since = "body", _clock.now()

    def _dispatch(self, sock: Any, client: _Client) -> None:
        client.waiting = "response"
        req, res = client.req, client.res
        assert req is not None
        assert res is not None
        body = client.body
        req.body = BytesIO(body[0] if len(body) == 1 else b"".join(body))
        client.body = []
        # Path guard (web.md §4.2 step 6): redirect to the normalised path.
        # Most paths are plain (no dot segment, no "//", nothing to escape):
        # normalising would give them back unchanged, so skip the URL work.
        path = req.path
        if not (path[:1] == "/" and _PLAIN_PATH(path) and "//" not in path and "/." not in path):
            raw = path.encode(self._encoding, "surrogateescape")
            clean = req.uri._path
            if raw != clean and quote(raw, safe="/%").encode("ascii") != clean:
                self.fire(redirect(req, res, [req.uri.utf8().decode(self._encoding)], 301))
                return
        getpeercert = getattr(sock, "getpeercert", None)  # TLS sockets only
        cert = getpeercert() if getpeercert is not None else None
        self.fire(request(req, res, cert) if cert else request(req, res))

    # -- outbound ---------------------------------------------------------------

    @handler("response")
    def _on_response(self, res: Response) -> None:
        req = res.request
        sock = req.sock
        client = self._conns.get(sock)
        if client is None:  # the client is gone
            _abandon(res)
            return
        if client.res is not res or client.started:
            return  # this request was answered already
        client.started = True
        engine = client.engine
        if self._draining:
            res.close = True  # "Connection: close": the server is stopping
        res.prepare()
        # A str value was checked when it was stored; list items (mutable in
        # place) and other objects are checked now. The engine validates the
        # whole head once more before producing a byte.
        headers: list[tuple[bytes, bytes]] = []
        add = headers.append
        for name, value in dict.items(res.headers):
            bname = name.encode("latin-1")
            if type(value) is str:
                add((bname, value.encode("latin-1")))
            else:
                for item in value if type(value) is list else (value,):
                    add((bname, check_header(name, str(item)).encode("latin-1")))
        status = res.status
        # 3.2.5's table has no phrase for newer codes (431, 308, 429...): the
        # status line gets the standard one rather than none.
        reason = (status.reason or _standard_reason(int(status))).encode("latin-1", "replace")
        head = Http1Response(int(status), tuple(headers), reason)
        if head.status_code == 101:
            self._switch(sock, client, head)
            return
        if req.method == "HEAD":
            self.fire(write(sock, engine.send_response(head)))
            _close_body(res.body)
            self._finish(sock, client, res)
            return
        if res.stream and res.body:
            region = self._region(sock, res)
            if region is not None:
                # The kernel copies the file to the socket (zero-copy); the
                # region, queued after the head, owns and closes the file.
                self.fire(write(sock, engine.send(head)))
                res.body = []
                self.fire(write(sock, engine.send(Data(region))))  # type: ignore[arg-type]
                engine.send(EndOfMessage())  # b"" with Content-Length framing
                self._finish(sock, client, res)
                return
            res.body = chunks = iter(res.body)
            self.fire(write(sock, engine.send(head)))
            self.fire(stream(res, _next_chunk(chunks)))
            return
        # head and body in one write
        self.fire(write(sock, engine.send_response(head, _join(res.body, res.encoding))))
        self._finish(sock, client, res)

    def _region(self, sock: Any, res: Response) -> FileRegion | None:
        """A `FileRegion` for a file body the transport can ``sendfile``, else ``None``.

        Only a regular file whose remaining size is the response's
        Content-Length, on a plain socket of a server that takes regions.
        """
        body = res.body
        if type(body) is not FileChunks or not accepts_regions(sock):
            return None
        if not getattr(self._socket_server, "accepts_file_regions", False):
            return None
        length = dict.get(res.headers, "Content-Length")
        try:
            fileno = body.file.fileno()
            st = os.fstat(fileno)
            offset = body.file.tell()
        except (OSError, ValueError, AttributeError):
            return None  # no real descriptor (BytesIO, a socket file, ...)
        if not stat.S_ISREG(st.st_mode) or length is None or str(st.st_size - offset) != length:
            return None
        return FileRegion(body.file, offset, st.st_size - offset)

    @handler("stream")
    def _on_stream(self, res: Response, data: Any) -> None:
        sock = res.request.sock
        client = self._conns.get(sock)
        if client is None or client.res is not res:  # the client went away
            _abandon(res)
            return
        engine = client.engine
        if data is not None:
            if isinstance(data, str):
                data = data.encode(res.encoding)
            if data:
                self.fire(write(sock, engine.send(Data(data))))
            if res.body and not res.done:
                transport = self._transport
                if transport is not None and transport.pending_bytes(sock) >= STREAM_HIGH_WATER:
                    # Back-pressure: the peer reads slower than the body is
                    # made; pull the next chunk once the queue has drained.
                    self._paused[sock] = res
                    transport.notify_when_drained(sock)
                else:
                    self.fire(stream(res, _next_chunk(res.body)))
            return
        _close_body(res.body)
        self.fire(write(sock, engine.send(EndOfMessage())))
        self._finish(sock, client, res)

    @cached_property
    def _socket_server(self) -> Any:
        """The owner's socket server (``None`` for owners without one), looked up once."""
        return getattr(self._server, "server", None)

    @cached_property
    def _transport(self) -> Any:
        """The socket server, if it offers back-pressure (``pending_bytes``)."""
        transport = self._socket_server
        return transport if hasattr(transport, "notify_when_drained") else None

    @handler("drained")
    def _on_drained(self, sock: Any) -> None:
        res = self._paused.pop(sock, None)
        if res is not None and not res.done:
            self.fire(stream(res, _next_chunk(res.body)))

    def _switch(self, sock: Any, client: _Client, head: Http1Response) -> None:
        """Send a 101 head alone and hand the socket over (web.md §19, WebSockets).

        HTTP ends here: ``_on_read`` ignores the socket from now on. The bytes
        the engine holds after the upgrade request are the new protocol's
        first; they go out as one ``read(sock, data)`` event (``data`` may be
        empty) marked ``handover = True``, so that the new protocol's handler
        knows they come before any read it set aside meanwhile.
        """
        fields = tuple(f for f in head.headers if f[0].lower() != b"content-type")
        self.fire(write(sock, client.engine.send(InformationalResponse(101, fields, head.reason))))
        data = client.engine.trailing_data[0]
        self._forget(sock)
        self._switched.add(sock)
        handover = read(sock, data)
        handover.handover = True  # type: ignore[attr-defined]
        self.fire(handover)

    def _finish(self, sock: Any, client: _Client, res: Response) -> None:
        res.done = True
        engine = client.engine
        client.req = client.res = None
        client.started = False
        client.waiting, client.since = "idle", _clock.now()
        if (
            self._draining
            or engine.our_state is not State.IDLE
            or engine.their_state is not State.IDLE
        ):
            # Draining, MUST_CLOSE (no keep-alive), or an error response to an
            # unfinished request
            self._forget(sock, close_it=True)
            return
        self._drain(sock, client)  # a pipelined request waiting in the buffer

    def _forget(self, sock: Any, close_it: bool = False) -> None:
        client = self._conns.pop(sock, None)
        paused = self._paused.pop(sock, None)
        if paused is not None:
            _close_body(paused.body)
        if client is not None and client.res is not None:
            client.res.done = True
        if close_it:
            self.fire(close(sock))

    # -- results and errors ------------------------------------------------------

    @handler("request_success")
    def _on_request_success(self, e: Any, value: Any) -> None:
        req, res = e.args[:2]
        outer = e.value
        value = outer.getValue(recursive=False)
        if isinstance(value, Value) and not value.promise:
            # The request's value is final: nothing will read it through its
            # event again. Unlink them so the request (and the controller
            # event, for a chained value) is freed now, not by the cyclic GC.
            value._detach()
            outer._detach()
            value = value.getValue(recursive=False)
        if value is None:
            self.fire(notfound(req, res))
        elif isinstance(value, httperror):
            res.body = str(value)
            self.fire(response(res))
        elif isinstance(value, Response):
            self.fire(response(value))
        elif isinstance(value, Value):
            if value.result and not value.errors:
                res.body = value.value
                self.fire(response(res))
            elif value.errors:
                self.fire(error_event(req, res, value.value))
            else:  # still running: the Dispatcher answers when it is ready
                value.event = e
                value.notify = True
        elif isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
            self.fire(error_event(req, res, value))
        elif isinstance(value, bool):
            pass  # "I will respond myself" (3.2.5)
        else:
            res.body = value
            self.fire(response(res))

    @handler("request_failure")
    def _on_request_failure(self, e: Any, error: Any) -> None:
        req, res = e.args[:2]
        if req.handled:
            return
        req.handled = True
        self.fire(error_event(req, res, error, always_error=True))

    @handler("httperror")
    def _on_httperror(
        self, event: Any, req: Any, res: Any, code: Any = None, **kwargs: Any
    ) -> None:
        res.body = str(event)
        self.fire(response(res))

    @handler("response_failure")
    def _on_response_failure(self, e: Any, error: Any) -> None:
        res = e.args[0]
        if res.done:
            return
        req = res.request
        client = self._conns.get(req.sock)
        log.error("response to %r failed", req, exc_info=error)
        if client is not None and client.res is res and client.engine.our_state is State.IDLE:
            # Nothing reached the engine: answer with a clean 500.
            client.started = False
            fresh = client.res = Response(req, self._encoding, 500)
            fresh.close = True
            self.fire(httperror(req, fresh, error=error))
        else:
            self._forget(req.sock, close_it=True)

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        self._forget(sock)
        self._switched.discard(sock)


def _join(body: Any, encoding: str) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode(encoding)
    return b"".join(
        item.encode(encoding) if isinstance(item, str) else bytes(item)
        for item in body
        if item is not None
    )


def _next_chunk(body: Any) -> Any:
    """The next non-empty chunk of a streamed body, ``None`` at its end."""
    for chunk in body:
        if chunk:
            return chunk
    return None


def _abandon(res: Response) -> None:
    """A response whose client has gone: close its body, mark it done."""
    _close_body(res.body)
    res.done = True


def _close_body(body: Any) -> None:
    closer = getattr(body, "close", None)
    if closer is not None:
        closer()


def _standard_reason(code: int) -> str:
    try:
        return _StdStatus(code).phrase
    except ValueError:
        return ""
