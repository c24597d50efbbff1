"""The ``circuits.web`` command: serve a directory over HTTP (web.md §23).

    circuits.web [-b ADDRESS[:PORT]] [-l] [-p FILE] [-j N] [--poller NAME]
                 [--server base|server] [--profile] [--debug] [--validate] [docroot]

It serves ``docroot`` (default: the current directory) with ``Static``, with
directory listings, plus a ``/hello`` page from the ``Root`` controller; with
``--server base`` every request that is not a file gets ``Hello World!``.
``python -m circuits.web`` and ``python -m circuits.web.main`` run it too.
Bad options are reported by argparse (usage and message on stderr, exit 2).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from hashlib import md5
from typing import Any

from circuits.core import BaseComponent, Component, Debugger, Manager, handler
from circuits.core.pollers import EPoll, Poll, Select
from circuits.tools import graph, inspect

from ..version import __version__
from .controllers import Controller
from .dispatchers import Static
from .loggers import Logger
from .servers import BaseServer, Server
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
    "main",
    "parse_bind",
    "parse_options",
    "read_passwd",
    "select_poller",
]

DEFAULT_BIND = "0.0.0.0:8000"
DEFAULT_PORT = 8000
# How long the parent waits for a terminated --jobs worker before going on.
WORKER_EXIT_TIMEOUT_S = 5
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


class _Workers(BaseComponent):
    """``--jobs``: the processes that share one listening socket stop together.

    None of them may close the listening socket the usual way on SIGINT/SIGTERM:
    the server's ``close()`` shuts it down, which breaks ``accept()`` in every
    process sharing it. So a worker exits at once, and the parent terminates
    the workers, then stops; the socket closes with the last process.
    """

    def __init__(self, processes: list[Any]) -> None:
        super().__init__(channel="*")
        self._parent_pid = os.getpid()
        self._processes = processes

    @handler("signal", channel="*", priority=100)
    def _stop_together(self, event: Any, signo: int, stack: Any) -> None:
        if signo not in (signal.SIGINT, signal.SIGTERM):
            return
        event.stop()
        if os.getpid() != self._parent_pid:
            os._exit(0)  # a forked worker: nothing to flush, as multiprocessing exits too
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(WORKER_EXIT_TIMEOUT_S)
        self.root.stop()


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
        ``jobs``, ``poller``, ``server``, ``profile``, ``debug``,
        ``validate`` and ``docroot`` (an absolute path).

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
        "-j",
        "--jobs",
        default=0,
        type=_jobs_arg,
        metavar="N",
        help="start N extra processes serving the same socket (default 0)",
    )
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
    opts = parse_options(args)
    if opts.validate:
        _serve_validated(opts.bind)
        return
    manager = Manager()
    if opts.debug:
        Debugger().register(manager)
    select_poller(opts.poller)().register(manager)
    try:
        server = (BaseServer if opts.server == "base" else Server)(opts.bind)
    except OSError as exc:  # in use, not an address of this host, no permission
        address, port = opts.bind
        sys.exit(f"circuits.web: error: cannot listen on {address}:{port}: {exc}")
    server.register(manager)
    if opts.server == "base":
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
    if opts.jobs:
        # The children fork with the listening socket already bound: all accept on it.
        processes: list[Any] = []
        _Workers(processes).register(manager)
        processes.extend(manager.start(process=True)[0] for _ in range(opts.jobs))
    if opts.profile:
        _run_profiled(manager)
    else:
        manager.run()


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
