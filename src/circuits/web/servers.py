"""The web servers: a socket server and the `HTTP` component on one channel (web.md §3).

``BaseServer(bind)`` serves ``request`` events to whatever handles them on
its channel; ``Server(bind)`` adds the URL ``Dispatcher`` for controllers.

Unlike 3.2.5, error pages carry tracebacks only when the server's ``debug``
attribute is true (default ``False``); ``display_banner`` only controls the
``Server:`` header and the "Powered by" block.
"""

from __future__ import annotations

import contextlib
import logging
import signal as _signal
import socket
import sys
from typing import Any

from circuits.core.components import BaseComponent
from circuits.core.handlers import handler
from circuits.core.timers import Timer
from circuits.net.events import close as close, read as read, write as write
from circuits.net.sockets import BUFSIZE, TCP6Server, TCPServer, UNIXServer

from .constants import SERVER_VERSION
from .events import terminate
from .http import HTTP

__all__ = ["BaseServer", "FakeSock", "Server", "StdinServer"]

log = logging.getLogger(__name__)

# How long a stopping server waits for its requests in flight, by default:
# long enough for an ordinary response, short enough for a process manager's
# stop timeout (systemd's TimeoutStopSec defaults to 90 s, Docker's to 10 s).
DRAIN_TIMEOUT_S = 10.0

# BaseServer keyword arguments that configure HTTP rather than the socket server.
_HTTP_OPTIONS = (
    "max_body_bytes",
    "max_head_bytes",
    "max_header_count",
    "max_request_line_bytes",
    "header_timeout",
    "body_timeout",
    "keepalive_timeout",
)


class BaseServer(BaseComponent):
    """A web server without a dispatcher: a socket server plus `HTTP`.

    Args:
        bind: an ``int``/tuple/list or ``"host:port"`` (TCP), or a path (UNIX socket).
        encoding: the response and path encoding.
        secure: serve TLS (needs ``certfile``).
        certfile: the certificate (and key) file.
        channel: the channel shared by the socket server, `HTTP` and handlers.
        display_banner: send a ``Server:`` header and "Powered by" on error pages.
        bufsize: bytes per socket read.
        debug: show tracebacks on error pages (only for development).
        drain_timeout: on SIGINT/SIGTERM (or `drain`), the seconds the
            requests in flight get to finish before the process exits.
        workers: serve from this many worker processes forked when the loop
            starts, supervised by this one (see `circuits.web._workers`):
            restarted when they die, drained on SIGINT/SIGTERM, replaced (same
            code) on SIGHUP; 0 serves in this process.
        **kwargs: the `HTTP` limits and timeouts (``max_body_bytes``,
            ``max_head_bytes``, ``max_header_count``, ``max_request_line_bytes``,
            ``header_timeout``, ``body_timeout``, ``keepalive_timeout``); the
            rest go to the socket server (``keyfile``, ``backlog``, ...).
    """

    channel = "web"

    def __init__(
        self,
        bind: Any,
        encoding: str = "utf-8",
        secure: bool = False,
        certfile: str | None = None,
        channel: Any = channel,
        display_banner: bool = True,
        bufsize: int = BUFSIZE,
        debug: bool = False,
        drain_timeout: float = DRAIN_TIMEOUT_S,
        workers: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(channel=channel)
        if workers < 0:
            raise ValueError(f"expected workers >= 0, not {workers!r}")
        self._display_banner = display_banner
        self.debug = debug
        self.drain_timeout = drain_timeout
        self.workers = workers
        self._draining = self._drained = False
        server_class: type[Any]
        if isinstance(bind, socket.socket):  # a listening socket, e.g. from a supervisor
            server_class = {socket.AF_INET: TCPServer, socket.AF_INET6: TCP6Server}.get(
                bind.family, UNIXServer
            )
        elif isinstance(bind, int | list | tuple) or (isinstance(bind, str) and ":" in bind):
            server_class = TCPServer
        else:
            server_class = UNIXServer
        http_options = {key: kwargs.pop(key) for key in _HTTP_OPTIONS if key in kwargs}
        self.server = server_class(
            bind, secure=secure, certfile=certfile, channel=channel, bufsize=bufsize, **kwargs
        ).register(self)
        self.http = HTTP(self, encoding=encoding, channel=channel, **http_options).register(self)

    @property
    def host(self) -> Any:
        """The bound host (a path for UNIX sockets); ``None`` before the socket server exists."""
        server = getattr(self, "server", None)
        return None if server is None else server.host

    @property
    def port(self) -> Any:
        """The bound port."""
        server = getattr(self, "server", None)
        return None if server is None else server.port

    @property
    def secure(self) -> bool:
        """Whether the socket server speaks TLS."""
        server = getattr(self, "server", None)
        return False if server is None else bool(server.secure)

    @property
    def display_banner(self) -> bool:
        """The constructor flag."""
        return bool(getattr(self, "_display_banner", False))

    @handler("connect")
    def _on_connect(self, *args: Any, **kwargs: Any) -> None:
        """Placeholder, so that ``connect`` is handled."""

    @handler("closed")
    def _on_closed(self, *args: Any, **kwargs: Any) -> None:
        """Placeholder, so that ``closed`` is handled."""

    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if self.workers and component is self.root:
            from ._workers import supervise_forks

            code = supervise_forks(self.workers, self.drain_timeout)
            if code is not None:  # this is the supervisor, and it is done
                raise SystemExit(code)
            # else: a forked worker; it goes on serving with this loop

    @handler("signal")
    def _on_signal(self, signo: int = 0, *args: Any) -> None:
        if signo == _signal.SIGTERM:
            # Draining already; it ends by itself, bounded by drain_timeout. A
            # signal sent to a whole process group (systemd's default
            # KillMode, ``kill -- -PGID``) reaches each worker, and then its
            # supervisor signals it again: that second SIGTERM may come after
            # the loop has ended and restored the default action, and must not
            # turn the worker's exit 0 into a kill.
            with contextlib.suppress(ValueError):  # not the main thread
                _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
        self.drain()

    def drain(self) -> None:
        """Stop gracefully: stop accepting, finish the requests in flight, exit 0.

        The listening socket is closed (new connections are refused, unless
        other processes share it), idle keep-alive connections are closed,
        and every response still to come carries ``Connection: close``. The
        process exits (``SystemExit(0)``) once every connection is closed,
        its response sent, or after ``drain_timeout`` seconds. Calling it
        again changes nothing.
        """
        if self._draining:
            return
        self._draining = True
        transport = self.server
        transport.close_listener()
        self.http.drain()
        log.info("draining: not accepting; %d connection(s) open", transport.peer_count)
        Timer(self.drain_timeout, terminate()).register(self)
        self._check_drained()

    @handler("disconnect")
    def _on_disconnect(self, sock: Any) -> None:
        if self._draining:
            self._check_drained()

    def _check_drained(self) -> None:
        if self.server.peer_count == 0 and not self._drained:
            self._drained = True
            self.fire(terminate())

    @handler("terminate")
    def _on_terminate(self) -> None:
        raise SystemExit(0)

    @handler("ready")
    def _on_ready(self, server: Any, bind: Any) -> None:
        sys.stderr.write(f"{SERVER_VERSION} ready! Listening on: {self.http.base}\n")


class Server(BaseServer):
    """`BaseServer` plus the URL ``Dispatcher`` (a child of ``self.http``)."""

    def __init__(self, bind: Any, **kwargs: Any) -> None:
        super().__init__(bind, **kwargs)
        from .dispatchers import Dispatcher  # a sibling of this module; imported late

        Dispatcher(channel=self.channel).register(self.http)


class FakeSock:
    """The "socket" of a conversation over stdin/stdout: no peer."""

    def getpeername(self) -> tuple[None, None]:
        """``(None, None)``."""
        return None, None


from ._stdin import StdinServer as StdinServer  # noqa: E402 - it builds on FakeSock
from .dispatchers import Dispatcher as Dispatcher  # noqa: E402 - 3.2.5 name; imports us
