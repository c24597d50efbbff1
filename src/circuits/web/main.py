"""The ``circuits.web`` command: serve a directory over HTTP (web.md §23).

    circuits.web [-b ADDRESS[:PORT]] [-l] [-p FILE] [--workers N] [--drain-timeout S]
                 [--pid FILE] [--app MODULE:NAME] [--poller NAME]
                 [--server base|server] [--profile] [--debug] [--validate] [docroot]

It serves ``docroot`` (default: the current directory) with ``Static``, with
directory listings, plus a ``/hello`` page from the ``Root`` controller (or
the components of ``--app``); with ``--server base`` every request that is
not a file gets ``Hello World!``. ``python -m circuits.web`` and
``python -m circuits.web.main`` run it too. Bad options are reported by
argparse (usage and message on stderr, exit 2).

SIGINT/SIGTERM stop it gracefully (see ``BaseServer.drain``). With
``--workers N`` (alias ``-j/--jobs``; before issue #10, ``-j N`` started N
processes besides the first) this process binds the socket and supervises N
worker processes, each a fresh interpreter running this command (hidden
options ``--worker-socket``/``--ready-fd``), so ``--app`` is imported in the
workers only and SIGHUP reloads it (see ``circuits.web._workers``). Events of
the supervisor and of stopping servers are logged to stdout, one line each:
time, level, PID, message.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from hashlib import md5
from typing import Any

from circuits.core import BaseComponent, Component, Debugger, Event, Manager, Timer, handler
from circuits.core.pollers import EPoll, Poll, Select
from circuits.tools import graph, inspect

from ..net.sockets import BACKLOG
from ..version import __version__
from ._workers import Supervisor, WorkerProcess
from .controllers import Controller
from .dispatchers import Static
from .loggers import Logger
from .servers import DRAIN_TIMEOUT_S, BaseServer, Server
from .tools import check_auth, digest_auth
from .wsgi import Application

__all__ = [
    "Application",
    "Authentication",
    "BaseServer",
    "Component",
    "Controller",
    "Debugger",
    "EPoll",
    "HelloWorld",
    "Logger",
    "Manager",
    "Poll",
    "Root",
    "Select",
    "Server",
    "Static",
    "check_auth",
    "digest_auth",
    "graph",
    "handler",
    "inspect",
    "load_app",
    "main",
    "parse_bind",
    "parse_options",
    "read_passwd",
    "select_poller",
]

# A worker's own events go with the supervisor's (logged to stdout, see _log_to_stdout).
log = logging.getLogger("circuits.web.workers")

DEFAULT_BIND = "0.0.0.0:8000"
DEFAULT_PORT = 8000
LOG_FORMAT = "%(asctime)s %(levelname)s %(process)d %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# How often a worker checks that its supervisor is alive: cheap (getppid).
ORPHAN_CHECK_S = 1.0
POLLERS: dict[str, type[Select | Poll | EPoll]] = {"select": Select, "poll": Poll, "epoll": EPoll}


class Authentication(Component):  # type: ignore[misc,valid-type]
    """Digest authentication in front of every request of the server.

    Args:
        channel: the server's channel.
        realm: the realm named in the challenge (default ``Secure Area``).
        passwd: a file of ``user:password`` lines (plain-text passwords, as
            Digest needs them); blank lines and ``#`` comments are skipped.

    Raises:
        OSError: ``passwd`` cannot be read.
        ValueError: a line of ``passwd`` is not ``user:password``.
    """

    channel = "web"
    realm = "Secure Area"
    users = {"admin": md5(b"admin").hexdigest()}

    def __init__(
        self,
        channel: Any = channel,
        realm: str | None = None,
        passwd: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(channel=channel)
        if realm is not None:
            self.realm = realm
        if passwd is not None:
            self.users = read_passwd(passwd)

    @handler("request", priority=10)
    def request(self, event: Any, request: Any, response: Any, *args: Any) -> Any:
        """Answer with a 401 challenge (and stop the request) unless authenticated."""
        challenge = digest_auth(request, response, self.realm, self.users)
        if challenge is None:
            return None
        event.stop()
        return challenge


class _ReadyNotice(BaseComponent):
    """A worker tells its supervisor it listens: one byte on ``fd``, then closes it."""

    def __init__(self, fd: int, channel: Any) -> None:
        super().__init__(channel=channel)
        self._fd = fd

    @handler("ready")
    def _on_ready(self, server: Any, bind: Any) -> None:
        if self._fd >= 0:
            try:
                os.write(self._fd, b"R")
            finally:
                os.close(self._fd)
                self._fd = -1


class check_supervisor(Event):
    """A worker's periodic check that its supervisor is alive (see `_OrphanWatch`)."""


class _OrphanWatch(BaseComponent):
    """A worker whose supervisor died (say, SIGKILL) drains and exits, not serving unsupervised."""

    def __init__(self, server: BaseServer, channel: Any) -> None:
        super().__init__(channel=channel)
        self._server = server
        self._supervisor = os.getppid()
        Timer(ORPHAN_CHECK_S, check_supervisor(), channel, persist=True).register(self)

    @handler("check_supervisor")
    def _on_check(self) -> None:
        if os.getppid() != self._supervisor:  # re-parented: the supervisor is gone
            log.warning("supervisor %d is gone, stopping", self._supervisor)
            self._server.drain()


class HelloWorld(Component):  # type: ignore[misc,valid-type]
    """``--server base``: answers ``Hello World!`` to every request."""

    channel = "web"

    def request(self, request: Any, response: Any, *args: Any) -> str:
        """Any request that no earlier handler claimed."""
        return "Hello World!"


class Root(Controller):  # type: ignore[misc,valid-type]
    """The default server's controller: ``/hello`` (``/`` falls to ``Static``)."""

    def hello(self) -> str:
        """``GET /hello``."""
        return "Hello World!"


def read_passwd(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a ``user:password`` file into ``{user: password}``.

    Raises:
        OSError: the file cannot be read.
        ValueError: a line is not ``user:password`` with a non-empty user.
    """
    users: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            user, sep, password = line.partition(":")
            if not sep or not user:
                raise ValueError(
                    f"{os.fspath(path)}:{lineno}: expected 'user:password', not {line!r}"
                )
            users[user] = password
    return users


def parse_bind(bind: str) -> tuple[str, int]:
    """Split ``address[:port]`` into ``(address, port)``; the port defaults to 8000.

    Raises:
        ValueError: the port is not an integer from 0 to 65535.
    """
    if ":" not in bind:
        return bind, DEFAULT_PORT
    address, port_text = bind.rsplit(":", 1)
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"expected a port number after ':', not {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"expected a port from 0 to 65535, not {port}")
    return address, port


def select_poller(name: str) -> type[Select | Poll | EPoll]:
    """The poller class called ``name`` (``select``, ``poll`` or ``epoll``).

    A poller this platform lacks falls back to ``Select``, with a message on
    stderr (this is the command's helper, so it may print).

    Raises:
        ValueError: ``name`` is none of the three.
    """
    try:
        poller = POLLERS[name]
    except KeyError:
        raise ValueError(f"expected one of {', '.join(POLLERS)}, not {name!r}") from None
    import select

    if (poller is Poll and not hasattr(select, "poll")) or (
        poller is EPoll and not hasattr(select, "epoll")
    ):
        print(f"No {name} support available, using select instead.", file=sys.stderr)
        return Select
    return poller


def parse_options(args: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` by default).

    Returns:
        The options: ``bind`` (``(address, port)``), ``logging``, ``passwd``,
        ``workers``, ``drain_timeout``, ``pid``, ``app``, ``poller``,
        ``server``, ``profile``, ``debug``, ``validate`` and ``docroot`` (an
        absolute path); the hidden ``worker_socket`` and ``ready_fd``.

    Raises:
        SystemExit: a bad option (after printing usage and the reason), or
            ``--version``/``--help``.
    """
    parser = argparse.ArgumentParser(
        prog="circuits.web",
        description="Serve a directory (and a /hello page) with circuits.web.",
    )
    parser.add_argument(
        "-b",
        "--bind",
        default=DEFAULT_BIND,
        type=_bind_arg,
        metavar="ADDRESS[:PORT]",
        help=f"the address to listen on (default {DEFAULT_BIND})",
    )
    parser.add_argument("-l", "--logging", action="store_true", help="log each request to stdout")
    parser.add_argument(
        "-p",
        "--passwd",
        metavar="FILE",
        type=_passwd_arg,
        help="require Digest authentication; FILE has a 'user:password' per line",
    )
    parser.add_argument(
        "--workers",
        "-j",
        "--jobs",
        dest="workers",
        default=0,
        type=_jobs_arg,
        metavar="N",
        help="serve from N supervised worker processes; SIGHUP reloads them (default 0: "
        "serve in this process)",
    )
    parser.add_argument(
        "--drain-timeout",
        default=DRAIN_TIMEOUT_S,
        type=_seconds_arg,
        metavar="SECONDS",
        help=f"on SIGINT/SIGTERM, how long requests in flight may take (default {DRAIN_TIMEOUT_S})",
    )
    parser.add_argument("--pid", metavar="FILE", help="write the (supervisor's) PID to FILE")
    parser.add_argument(
        "--app",
        metavar="MODULE:NAME",
        help="serve this component (a class, an instance, or a function returning one) "
        "instead of the /hello page; with --workers, each worker imports it",
    )
    # A worker started by the supervisor: the inherited listening socket and
    # the pipe to say "ready" on.
    parser.add_argument("--worker-socket", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ready-fd", type=int, default=-1, help=argparse.SUPPRESS)
    parser.add_argument(
        "--poller",
        default="select",
        choices=list(POLLERS),
        help="the I/O poller (default select; one this platform lacks falls back to select)",
    )
    parser.add_argument(
        "--server",
        default="server",
        choices=["base", "server"],
        help="base: BaseServer answering 'Hello World!'; server: Server with controllers",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the run; statistics go to stderr"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print every event, the component graph and its handlers",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="serve the Root controller through wsgiref's WSGI validator instead",
    )
    parser.add_argument("-v", "--version", action="version", version=f"%(prog)s v{__version__}")
    parser.add_argument(
        "docroot",
        nargs="?",
        default=os.getcwd(),
        help="the directory to serve (default: the current directory)",
    )
    opts = parser.parse_args(args)
    if not os.path.isdir(opts.docroot):
        parser.error(f"docroot: expected a directory, not {opts.docroot!r}")
    opts.docroot = os.path.abspath(opts.docroot)
    return opts


def main(args: Sequence[str] | None = None) -> None:
    """Run the command until interrupted.

    Args:
        args: the command line without the program name (default ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if args is None else args)
    opts = parse_options(argv)
    if opts.validate:
        _serve_validated(opts.bind)
        return
    _log_to_stdout()
    if opts.workers and opts.worker_socket is None:
        sys.exit(_supervise(opts, argv))
    manager = Manager()
    if opts.debug:
        Debugger().register(manager)
    select_poller(opts.poller)().register(manager)
    bind: Any = opts.bind
    if opts.worker_socket is not None:
        # Reloading is the supervisor's business; a terminal's hangup
        # reaches the whole process group.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        bind = socket.socket(fileno=opts.worker_socket)
        bind.setblocking(False)
    elif opts.pid:
        _write_pid(opts.pid)
    server_class = BaseServer if opts.server == "base" else Server
    try:
        server = server_class(bind, drain_timeout=opts.drain_timeout)
    except OSError as exc:  # in use, not an address of this host, no permission
        address, port = opts.bind
        sys.exit(f"circuits.web: error: cannot listen on {address}:{port}: {exc}")
    server.register(manager)
    if opts.ready_fd >= 0:
        _ReadyNotice(opts.ready_fd, server.channel).register(manager)
    if opts.worker_socket is not None:
        _OrphanWatch(server, server.channel).register(manager)
    if opts.app is not None:
        try:
            load_app(opts.app).register(manager)
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            sys.exit(f"circuits.web: error: --app {opts.app}: {exc}")
    elif opts.server == "base":
        HelloWorld(channel=server.channel).register(manager)
    else:
        Root().register(manager)
    if opts.logging:
        Logger(file=sys.stdout).register(manager)
    if opts.passwd is not None:
        Authentication(passwd=opts.passwd).register(manager)
    Static(docroot=opts.docroot, dirlisting=True).register(manager)
    if opts.debug:
        print(graph(manager))
        print(inspect(manager), flush=True)
    if opts.profile:
        _run_profiled(manager)
    else:
        manager.run()


def load_app(spec: str) -> BaseComponent:
    """The component named by ``MODULE:NAME``, imported now.

    ``NAME`` may be a component instance, a component class (instantiated
    without arguments) or a function returning a component.

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no ``NAME``.
        ValueError: ``spec`` is not ``MODULE:NAME``.
        TypeError: ``NAME`` does not give a component.
    """
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise ValueError(f"expected MODULE:NAME, not {spec!r}")
    obj = getattr(importlib.import_module(module_name), name)
    if not isinstance(obj, BaseComponent) and callable(obj):
        obj = obj()
    if not isinstance(obj, BaseComponent):
        raise TypeError(f"expected a component, a component class or a factory, not {obj!r}")
    return obj


def _supervise(opts: argparse.Namespace, argv: list[str]) -> int:
    """Bind the socket, then run the workers (fresh interpreters) under a `Supervisor`."""
    address, port = opts.bind
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(BACKLOG)
    except OSError as exc:
        listener.close()
        sys.exit(f"circuits.web: error: cannot listen on {address}:{port}: {exc}")
    fd = listener.fileno()

    def spawn(ready_fd: int) -> WorkerProcess:
        worker_argv = [*argv, "--worker-socket", str(fd), "--ready-fd", str(ready_fd)]
        return subprocess.Popen(
            [sys.executable, "-m", "circuits.web", *worker_argv],
            stdin=subprocess.DEVNULL,
            pass_fds=(fd, ready_fd),
        )

    with listener:
        return Supervisor(spawn, opts.workers, opts.drain_timeout, opts.pid).run() or 0


def _log_to_stdout() -> None:
    """One line per event on stdout, for process managers: time, level, PID, message."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT))
    # The supervisor's events and the servers' graceful stops; other
    # messages stay where they were (warnings on stderr).
    for name in ("circuits.web.workers", "circuits.web.servers"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _write_pid(path: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(f"{os.getpid()}\n")


def _bind_arg(text: str) -> tuple[str, int]:
    try:
        return parse_bind(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _passwd_arg(path: str) -> str:
    try:
        read_passwd(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


def _jobs_arg(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, not {jobs}")
    return jobs


def _seconds_arg(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, not {text}")
    return seconds


def _run_profiled(manager: Manager) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    try:
        profiler.runcall(manager.run)
    finally:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(30)


def _serve_validated(bind: tuple[str, int]) -> None:
    """Serve ``Application() + Root()`` through ``wsgiref.validate`` until interrupted."""
    from wsgiref.simple_server import make_server
    from wsgiref.validate import validator

    app: Any = Application() + Root()  # a WSGI callable
    try:
        httpd = make_server(bind[0], bind[1], validator(app))
    except OSError as exc:
        sys.exit(f"circuits.web: error: cannot listen on {bind[0]}:{bind[1]}: {exc}")
    with httpd:
        host, port = httpd.server_address[:2]
        print(f"Serving WSGI (validated) on http://{host!s}:{port}/", file=sys.stderr, flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
