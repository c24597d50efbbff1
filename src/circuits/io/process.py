"""``Process``: a child process whose pipes are ``File`` components.

``start()`` spawns the child with three pipes and wraps each in a ``File``
child component on the channels ``"<pid>.stdin"``, ``"<pid>.stderr"`` and
``"<pid>.stdout"``. Output arrives as ``read(data)`` on the stdout/stderr
channels (and is collected in ``Process.stdout``/``Process.stderr``); firing
``write(data)`` on ``"<pid>.stdin"`` (or calling ``Process.write``) feeds the
child, and ``close()`` there closes its standard input.

Termination: the child is done when both output pipes fired ``closed`` and
its exit status is known. Pipes close when the child exits, a moment before
the kernel lets us reap it, so after both pipes closed a ``generate_events``
handler polls the child, starting at 1 ms and backing off to
``circuits.core.manager.TIMEOUT``. Then ``terminated(self)`` is fired on the
process channel (``Process.status`` holds the exit code by then; negative:
killed by that signal), followed by one ``close()`` on the three pipe
channels.
"""

from __future__ import annotations

import io
import logging
import signal as _signal
import subprocess
from collections.abc import Callable
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.manager import TIMEOUT
from .events import close, started, write
from .file import File

__all__ = [
    "BaseComponent",
    "Event",
    "File",
    "Process",
    "close",
    "handler",
    "started",
    "terminated",
    "write",
]

log = logging.getLogger(__name__)

# First wait between polls of a child whose pipes are closed (seconds); it
# doubles up to TIMEOUT. Exit usually follows the pipes closing within
# microseconds, a daemonising child may take forever.
FIRST_POLL_S = 0.001


class terminated(Event):
    """The child exited and its output was read: ``terminated(process)``."""


class Process(BaseComponent):
    """Run a child process, feeding its stdin and collecting its output.

    Constructor arguments (see ``init``):
        args: the program and its arguments, as for ``subprocess.Popen``.
        cwd: the child's working directory.
        shell: run ``args`` through the shell.
        channel: the component's channel (``"process"``; an extension:
            3.2.5 only had the class attribute).
    """

    channel = "process"

    def init(
        self, args: Any, cwd: str | None = None, shell: bool = False, channel: Any = channel
    ) -> None:
        self.args = args
        self.cwd = cwd
        self.shell = shell
        self.p: subprocess.Popen[bytes] | None = None
        self.stdout = io.BytesIO()
        self.stderr = io.BytesIO()
        self._status: int | None = None
        self._terminated = False
        self._stdout_closed = False
        self._stderr_closed = False
        self._stdin: File | None = None
        self._stdout: File | None = None
        self._stderr: File | None = None
        self._helpers: list[Any] = []
        self._poll_wait = FIRST_POLL_S

    # start/stop/wait replace the Manager's methods of the same names, as in
    # 3.2.5: a Process is never run as a loop of its own.
    def start(self) -> None:  # type: ignore[override]
        """Spawn the child; fires ``started(self)``.

        Raises:
            OSError: the program could not be started (e.g. ``FileNotFoundError``).
        """
        p = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            shell=self.shell,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.p = p
        self.stdout = io.BytesIO()
        self.stderr = io.BytesIO()
        self._status = None
        self._terminated = self._stdout_closed = self._stderr_closed = False
        self._poll_wait = FIRST_POLL_S
        pid = p.pid
        self._stdin = File(p.stdin, channel=f"{pid}.stdin").register(self)
        self._stderr = File(p.stderr, channel=f"{pid}.stderr").register(self)
        self._stdout = File(p.stdout, channel=f"{pid}.stdout").register(self)

        def _on_stdout_read(self: Process, data: bytes) -> None:
            self.stdout.write(data)

        def _on_stderr_read(self: Process, data: bytes) -> None:
            self.stderr.write(data)

        def _on_stdout_closed(self: Process) -> None:
            self._stdout_closed = True

        def _on_stderr_closed(self: Process) -> None:
            self._stderr_closed = True

        helpers: list[tuple[str, str, Callable[..., None]]] = [
            ("read", f"{pid}.stdout", _on_stdout_read),
            ("read", f"{pid}.stderr", _on_stderr_read),
            ("closed", f"{pid}.stdout", _on_stdout_closed),
            ("closed", f"{pid}.stderr", _on_stderr_closed),
        ]
        self._helpers = [self.addHandler(handler(n, channel=c)(f)) for n, c, f in helpers]
        self.fire(started(self))

    def stop(self, code: int | str | None = None) -> None:
        """Ask the child to terminate (``SIGTERM``); ``code`` is ignored."""
        if self.p is not None and self.p.returncode is None:
            try:
                self.p.terminate()
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """Kill the child (``SIGKILL``)."""
        if self.p is not None and self.p.returncode is None:
            try:
                self.p.kill()
            except ProcessLookupError:
                pass

    def signal(self, signal: int = _signal.SIGTERM) -> None:
        """Send ``signal`` to the child."""
        if self.p is not None and self.p.returncode is None:
            self.p.send_signal(signal)

    def wait(self) -> int | None:  # type: ignore[override]
        """Block until the child exits; its exit code (``None`` if never started)."""
        return self.p.wait() if self.p is not None else None

    def write(self, data: Any) -> None:
        """Send ``data`` to the child's stdin (fires ``write(data)`` on ``"<pid>.stdin"``)."""
        if self._stdin is not None:
            self.fire(write(data), self._stdin.channel)

    @property
    def status(self) -> int | None:
        """The exit code (negative: killed by that signal); ``None`` while running."""
        if self.p is None:
            return None
        if self._status is None:
            self._status = self.p.poll()
        return self._status

    @handler("generate_events")
    def _on_generate_events(self, event: Any) -> None:
        if self.p is None or self._terminated:
            return
        if not (self._stdout_closed and self._stderr_closed):
            return  # the pipes closing will wake the loop
        if self.status is None:
            event.reduce_time_left(self._poll_wait)
            self._poll_wait = min(self._poll_wait * 2, TIMEOUT)
            return
        self._terminated = True
        for h in self._helpers:
            try:
                self.removeHandler(h)
            except KeyError:
                pass
        self._helpers = []
        self.fire(terminated(self))
        channels = [f.channel for f in (self._stdin, self._stderr, self._stdout) if f is not None]
        self.fire(close(), *channels)
        event.reduce_time_left(0)
