"""The ``circuits.web`` command: serve a directory over HTTP (web.md §23).

    circuits.web [-b ADDRESS[:PORT] | -b unix:PATH] [--certfile FILE [--keyfile FILE]]
                 [-l] [-p FILE] [--workers N] [--drain-timeout S]
                 [--pid FILE] [--app MODULE:NAME] [--reload] [--user NAME] [--group NAME]
                 [--poller NAME]
                 [--server base|server] [--profile] [--debug] [--validate] [docroot]

It serves ``docroot`` (default: the current directory, or nothing when
``--app`` is given) with ``Static``, with directory listings, plus a
``/hello`` page from the ``Root`` controller (or the components of
``--app``); with ``--server base`` every request that is
not a file gets ``Hello World!``. ``python -m circuits.web`` and
``python -m circuits.web.main`` run it too. Bad options are reported by
argparse (usage and message on stderr, exit 2).

SIGINT/SIGTERM stop it gracefully (see ``BaseServer.drain``). With
``--workers N`` (alias ``-j/--jobs``; before issue #10, ``-j N`` started N
processes besides the first) this process binds the socket and supervises N
worker processes, each a fresh interpreter running this command (hidden
options ``--worker-socket``/``--ready-fd``), so ``--app`` is imported in the
workers only and SIGHUP reloads it (see ``circuits.web._workers``). With
``--reload`` (for development; implies ``--workers 1`` unless given) a change
of the ``--app`` module's source reloads it too (see ``circuits.web._reload``;
``CIRCUITS_RELOAD_POLL=1`` polls instead of using inotify). ``-b unix:PATH``
listens on a UNIX socket (a stale socket file is replaced; the file is
removed at exit); ``--certfile`` (and ``--keyfile``) serve TLS. Both work
with ``--workers``: the supervisor binds, each worker wraps the connections
it accepts in TLS itself. ``--user``/``--group`` (started as root): the
process binds first, then becomes that user and group before it starts any
worker (or, without workers, before it imports ``--app``), so no worker runs
as root; the files it reads later (``--app``, ``--certfile``) must be readable
by that user. Events of
the supervisor and of stopping servers are logged to stdout, one line each:
time, level, PID, message.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import socket
import ssl
import stat
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
from ._reload import SourceWatcher, make_watcher, source_roots
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


class Authentication(Component):
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


class HelloWorld(Component):
    """``--server base``: answers ``Hello World!`` to every request."""

    channel = "web"

    def request(self, request: Any, response: Any, *args: Any) -> str:
        """Any request that no earlier handler claimed."""
        return "Hello World!"


class Root(Controller):
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
        The options: ``bind`` (``(address, port)``, or a UNIX socket's path),
        ``certfile``, ``keyfile``, ``user``/``group`` (names) with ``uid``/``gid``
        (``None`` when not given), ``logging``, ``passwd``,
        ``workers``, ``drain_timeout``, ``pid``, ``app``, ``poller``,
        ``reload``, ``server``, ``profile``, ``debug``, ``validate`` and ``docroot`` (an
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
        help=f"the address to listen on (default {DEFAULT_BIND}), or unix:PATH for a UNIX socket",
    )
    parser.add_argument(
        "--certfile",
        metavar="FILE",
        help="serve HTTPS: the certificate chain (PEM; it may hold the key too)",
    )
    parser.add_argument(
        "--keyfile", metavar="FILE", help="the private key (PEM), if not in --certfile"
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
    parser.add_argument(
        "--reload",
        action="store_true",
        help="for development: reload the workers when the --app module's source changes "
        "(implies --workers 1 unless given; CIRCUITS_RELOAD_POLL=1 polls instead of inotify)",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="once bound, become this user (a name or a number; started as root), "
        "with its group unless --group is given",
    )
    parser.add_argument(
        "--group", metavar="NAME", help="once bound, become this group (a name or a number)"
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
        default=None,
        help="the directory to serve (default: the current directory, unless --app is given)",
    )
    opts = parser.parse_args(args)
    if opts.docroot is None and opts.app is None:
        opts.docroot = os.getcwd()
    if opts.keyfile is not None and opts.certfile is None:
        parser.error("--keyfile needs --certfile")
    if opts.certfile is not None:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(opts.certfile, opts.keyfile)
        except (OSError, ssl.SSLError) as exc:
            parser.error(f"--certfile/--keyfile: cannot load {opts.certfile!r}: {exc}")
    if opts.validate and (isinstance(opts.bind, str) or opts.certfile is not None):
        parser.error("--validate serves plain TCP only: not with unix:PATH or --certfile")
    try:
        opts.uid, opts.gid = _resolve_ids(opts.user, opts.group)
    except LookupError as exc:
        parser.error(str(exc))
    if opts.reload and opts.app is None:
        parser.error("--reload watches the --app module's source: give --app MODULE:NAME")
    if opts.reload and not opts.workers:
        opts.workers = 1
    if opts.docroot is not None:
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
    unix_path = None  # a UNIX socket this process bound, removed at exit
    if opts.worker_socket is not None:
        # Reloading is the supervisor's business; a terminal's hangup
        # reaches the whole process group.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        bind = socket.socket(fileno=opts.worker_socket)
        bind.setblocking(False)
    else:
        if opts.pid:
            _write_pid(opts.pid)
        if isinstance(opts.bind, str):
            bind = _listen(opts.bind)
            bind.setblocking(False)
            unix_path = opts.bind
    server_class = BaseServer if opts.server == "base" else Server
    tls: dict[str, Any] = {}
    if opts.certfile is not None:
        tls = {"secure": True, "certfile": opts.certfile, "keyfile": opts.keyfile}
    try:
        server = server_class(bind, drain_timeout=opts.drain_timeout, **tls)
    except OSError as exc:  # in use, not an address of this host, no permission
        sys.exit(f"circuits.web: error: cannot listen on {_bind_text(opts.bind)}: {exc}")
    if opts.worker_socket is None:
        _drop_privileges(opts.uid, opts.gid)
    server.register(manager)
    if opts.ready_fd >= 0:
        _ReadyNotice(opts.ready_fd, server.channel).register(manager)
    if opts.worker_socket is not None:
        _OrphanWatch(server, server.channel).register(manager)
        # One connection per wake-up: the workers share the listening socket,
        # and a burst of connections should not all go to the first awake.
        server.server.accepts_per_event = 1
    if opts.app is not None:
        try:
            load_app(opts.app).register(manager)
        except (ImportError, AttributeError, TypeError, ValueError, SyntaxError) as exc:
            sys.exit(f"circuits.web: error: --app {opts.app}: {exc}")
    elif opts.server == "base":
        HelloWorld(channel=server.channel).register(manager)
    else:
        Root().register(manager)
    if opts.logging:
        Logger(file=sys.stdout).register(manager)
    if opts.passwd is not None:
        Authentication(passwd=opts.passwd).register(manager)
    if opts.docroot is not None:  # with --app, only when a directory is given
        Static(docroot=opts.docroot, dirlisting=True).register(manager)
    if opts.debug:
        print(graph(manager))
        print(inspect(manager), flush=True)
    try:
        if opts.profile:
            _run_profiled(manager)
        else:
            manager.run()
    finally:
        if unix_path is not None:
            _unlink_socket(unix_path)


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
    listener = _listen(opts.bind)
    pidfile = opts.pid
    if opts.uid is not None or opts.gid is not None:
        # Written while we may; removed at exit if the new user may.
        if pidfile is not None:
            _write_pid(pidfile)
            pidfile = None
        _drop_privileges(opts.uid, opts.gid)
    fd = listener.fileno()

    def spawn(ready_fd: int) -> WorkerProcess:
        worker_argv = [*argv, "--worker-socket", str(fd), "--ready-fd", str(ready_fd)]
        return subprocess.Popen(
            [sys.executable, "-m", "circuits.web", *worker_argv],
            stdin=subprocess.DEVNULL,
            pass_fds=(fd, ready_fd),
        )

    with listener, contextlib.ExitStack() as stack:
        if isinstance(opts.bind, str):
            stack.callback(_unlink_socket, opts.bind)
        if opts.pid is not None and pidfile is None:
            stack.callback(_remove_quietly, opts.pid)
        watcher = None
        if opts.reload:
            watcher = _watch_sources(opts.app)
            stack.callback(watcher.close)
        supervisor = Supervisor(spawn, opts.workers, opts.drain_timeout, pidfile, watcher)
        return supervisor.run() or 0


def _listen(bind: tuple[str, int] | str) -> socket.socket:
    """A listening socket on ``(address, port)`` or a UNIX socket path (exits on failure)."""
    if isinstance(bind, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address: Any = bind
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(os.stat(bind).st_mode):
                os.unlink(bind)  # a stale socket (of a server that was killed)
    else:
        family = socket.AF_INET6 if ":" in bind[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        address = bind
    try:
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        sys.exit(f"circuits.web: error: cannot listen on {_bind_text(bind)}: {exc}")
    return sock


def _resolve_ids(user: str | None, group: str | None) -> tuple[int | None, int | None]:
    """``--user``/``--group`` as ``(uid, gid)``; a user without a group brings its own.

    Raises:
        LookupError: no such user or group.
    """
    if user is None and group is None:
        return None, None
    import grp
    import pwd

    uid = gid = None
    if user is not None:
        try:
            entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        except KeyError:
            raise LookupError(f"--user: no such user {user!r}") from None
        uid, gid = entry.pw_uid, entry.pw_gid
    if group is not None:
        try:
            gid = (grp.getgrgid(int(group)) if group.isdigit() else grp.getgrnam(group)).gr_gid
        except KeyError:
            raise LookupError(f"--group: no such group {group!r}") from None
    return uid, gid


def _drop_privileges(uid: int | None, gid: int | None) -> None:
    """Become ``uid``/``gid`` (exits if that is not allowed); the group first, as it needs root."""
    if (uid is None or uid == os.geteuid()) and (gid is None or gid == os.getegid()):
        return
    if os.geteuid() != 0:
        sys.exit(
            f"circuits.web: error: --user/--group: only root can switch user or group, "
            f"not uid {os.geteuid()}"
        )
    try:
        if gid is not None:
            os.setgroups([])
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
    except OSError as exc:
        sys.exit(f"circuits.web: error: --user/--group: cannot switch to {uid}:{gid}: {exc}")
    log.info("running as uid %d, gid %d", os.getuid(), os.getgid())


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _bind_text(bind: tuple[str, int] | str) -> str:
    return f"unix:{bind}" if isinstance(bind, str) else f"{bind[0]}:{bind[1]}"


def _unlink_socket(path: str) -> None:
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)


def _watch_sources(app: str) -> SourceWatcher:
    """``--reload``: a watcher of the ``--app`` module's source files (exits if not found)."""
    try:
        roots = source_roots(app.partition(":")[0])
    except ValueError as exc:
        sys.exit(f"circuits.web: error: --reload: {exc}")
    watcher = make_watcher(roots)
    where = ", ".join(d + (os.sep + "**" if recursive else "") for d, recursive in roots)
    log.info("reload: watching the *.py files in %s (%s)", where, watcher.kind)
    return watcher


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


def _bind_arg(text: str) -> tuple[str, int] | str:
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if not path:
            raise argparse.ArgumentTypeError("expected a socket path after 'unix:'")
        return os.path.abspath(path)
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
