"""``Daemon``: turn the running application into a Unix daemon.

Register a ``Daemon`` in an application before ``run()`` and the process
detaches at start-up (the classic double fork): the launching process exits
with status 0 and the daemon writes its pid to ``pidfile``. Registering one
into an application that is already running daemonizes it at once.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from ..core import Component, Event, handler

__all__ = [
    "Component",
    "Daemon",
    "Event",
    "daemonize",
    "daemonized",
    "deletepid",
    "handler",
    "writepid",
]

log = logging.getLogger(__name__)

# Descriptors closed after detaching when RLIMIT_NOFILE is unlimited.
MAXFD = 2048
DEVNULL = "/dev/null"


class daemonize(Event):
    """Detach the process (double fork); fired at start-up by ``Daemon``."""


class daemonized(Event):
    """Fired in the daemon once it has detached, with the ``Daemon`` as argument."""


class deletepid(Event):
    """Remove the pid file."""


class writepid(Event):
    """Write the current pid to the pid file."""


def _fork(step: int) -> None:
    """Fork; the parent exits at once, the child returns."""
    try:
        pid = os.fork()
    except OSError as e:
        sys.stderr.write(f"fork #{step} failed: {e.errno} ({e.strerror})\n")
        raise SystemExit(1)
    if pid > 0:
        os._exit(0)


def _maxfd() -> int:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return MAXFD if hard == resource.RLIM_INFINITY else hard


def _redirect(path: str, flags: int, target: int) -> None:
    fd = os.open(path, flags, 0o666)
    if fd != target:
        os.dup2(fd, target)
        os.close(fd)


class Daemon(Component):
    """Daemonize the application it is registered in.

    Constructor arguments (see ``init``):
        pidfile: where the daemon writes its pid.
        path: the daemon's working directory; must be absolute.
        stdin: file for standard input (``/dev/null`` unless an absolute path).
        stdout: file appended to by standard output (likewise).
        stderr: file appended to by standard error (likewise).
        channel: the daemon's channel (``"daemon"``).

    Raises:
        AssertionError: if ``path`` is not absolute.
    """

    channel = "daemon"

    def init(
        self,
        pidfile: str,
        path: str = "/",
        stdin: str | None = None,
        stdout: str | None = None,
        stderr: str | None = None,
        channel: Any = channel,
    ) -> None:
        assert os.path.isabs(path), f"path must be absolute, not {path!r}"

        self.pidfile = pidfile
        self.path = path
        self.stdin = stdin if stdin and os.path.isabs(stdin) else DEVNULL
        self.stdout = stdout if stdout and os.path.isabs(stdout) else DEVNULL
        self.stderr = stderr if stderr and os.path.isabs(stderr) else DEVNULL
        self._daemonize_fired = False

    def deletepid(self) -> None:
        """Remove the pid file."""
        os.remove(self.pidfile)

    def writepid(self) -> None:
        """Write ``os.getpid()`` to the pid file."""
        with open(self.pidfile, "w") as f:
            f.write(str(os.getpid()))

    def daemonize(self) -> None:
        """Detach: double fork, new session, standard streams on the configured files.

        Raises:
            SystemExit: (status 1) if a fork fails.
        """
        _fork(1)
        os.chdir(self.path)
        os.setsid()
        os.umask(0)
        _fork(2)

        sys.stdout.flush()
        sys.stderr.flush()
        os.closerange(0, _maxfd())
        _redirect(self.stdin, os.O_RDONLY, 0)
        _redirect(self.stdout, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 1)
        _redirect(self.stderr, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 2)
        log.debug("daemonized: pid %d", os.getpid())

        self.fire(writepid())
        self.fire(daemonized(self))

    def registered(self, component: Any, manager: Any) -> None:
        """Daemonize at once when registered into a running application."""
        if component is self and manager.root.running:
            self._fire_daemonize()

    @handler("started", priority=100.0, channel="*")
    def on_started(self, component: Any) -> None:
        """Daemonize when the application starts, before other ``started`` handlers."""
        if component is not self:
            self._fire_daemonize()

    def _fire_daemonize(self) -> None:
        # A Daemon registered before run() gets both its "registered" event
        # (dispatched once the loop is running) and "started": daemonize once.
        if not self._daemonize_fired:
            self._daemonize_fired = True
            self.fire(daemonize())
