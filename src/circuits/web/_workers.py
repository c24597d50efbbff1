"""The supervisor of a multi-process web server (``--workers N``, ``Server(workers=N)``).

Theory of operation
-------------------

The supervisor binds the listening socket once; every worker inherits it
and accepts on it (one shared accept queue). We do not use one
``SO_REUSEPORT`` socket per worker: the kernel spreads new connections over
those sockets as they arrive, so the connections queued on a worker's socket
when it stops are reset. With one shared socket a stopping worker just
stops calling ``accept()`` (closing its copy of the descriptor, never
``shutdown()``, which would stop the socket for all), and whatever waits in
the queue is taken by the others: a reload loses no connection.

A worker is either a fresh interpreter (the command: ``spawn`` runs
``python -m circuits.web.main`` with the socket's descriptor, so the
application is imported anew, which is what makes SIGHUP a code reload) or
a fork of the supervisor (``Server(workers=N)``: the application is the one
already imported, so SIGHUP replaces the workers with the same code).

Each worker gets the write end of a pipe and writes one byte to it when it
listens ("ready"); the supervisor reads the other end. The supervisor is a
plain loop on a selector: the pipes plus the wake-up descriptor of the
signals (``signal.set_wakeup_fd``), so a signal or a worker's death
(SIGCHLD) wakes it at once and no state changes inside a signal handler.

* A worker that dies unexpectedly is restarted after a delay that doubles
  with each death in a row (``RESTART_DELAY_MIN_S`` to ``RESTART_DELAY_MAX_S``);
  one that had run ``STABLE_UPTIME_S`` resets the delay.
* SIGHUP starts a new generation of N workers; once all of them are ready,
  the old ones get SIGTERM and drain. If a new one dies (or is not ready
  within ``WORKER_START_TIMEOUT_S``), the reload is abandoned and the old
  workers keep serving.
* With a source watcher (``--reload``, see `circuits.web._reload`), a
  change starts a reload as SIGHUP does, ``RELOAD_DEBOUNCE_S`` after the
  last change of a burst; one during a reload waits for it to end.
* SIGTERM/SIGINT: every worker gets SIGTERM and drains (each exits once its
  requests in flight are answered, or after its drain timeout); one still
  alive ``KILL_GRACE_S`` after that is killed. The supervisor then returns 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._reload import SourceWatcher

__all__ = ["Supervisor", "WorkerProcess", "supervise_forks"]

log = logging.getLogger("circuits.web.workers")

# A cold interpreter importing an application on a loaded machine.
WORKER_START_TIMEOUT_S = 30.0
# Beyond its drain timeout, how long a stopping worker has before SIGKILL.
KILL_GRACE_S = 5.0
# Restart delays: quick for a one-off crash, bounded for a crash loop (as
# systemd's RestartSec with a bounded exponential "RestartSteps").
RESTART_DELAY_MIN_S = 0.1
RESTART_DELAY_MAX_S = 10.0
STABLE_UPTIME_S = 10.0
# --reload: how long after a source change no further change must come before
# reloading. uvicorn's watcher waits for a burst to settle for a similar time:
# long enough for an editor's save (truncate, write, close, maybe rename) or a
# checkout, short enough not to be noticed.
RELOAD_DEBOUNCE_S = 0.2
# The longest the loop sleeps with nothing due (children are also reaped on SIGCHLD).
POLL_INTERVAL_S = 1.0

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_HANDLED_SIGNALS = (*_STOP_SIGNALS, signal.SIGHUP, signal.SIGCHLD)


class WorkerProcess(Protocol):
    """A started worker: its ``pid``, and ``poll()`` for its exit status (``None`` while alive)."""

    @property
    def pid(self) -> int:
        """The process id."""
        ...

    def poll(self) -> int | None:
        """The exit status once the process ended (reaping it), else ``None``."""
        ...


class _WorkerStarted(Exception):
    """Raised in a forked child to leave the supervisor's loop (see `supervise_forks`)."""


@dataclass(eq=False)
class _Worker:
    proc: WorkerProcess
    ready_fd: int  # the read end of its ready pipe; -1 once closed
    slot: int
    started: float
    ready: bool = False
    kill_at: float | None = None  # set once asked to stop

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class _State:
    live: dict[int, _Worker] = field(default_factory=dict)  # slot -> the serving generation
    next: dict[int, _Worker] = field(default_factory=dict)  # a reload's generation
    next_deadline: float = 0.0
    retiring: list[_Worker] = field(default_factory=list)  # told to stop
    restart_at: dict[int, float] = field(default_factory=dict)
    failures: dict[int, int] = field(default_factory=dict)
    stopping: bool = False
    reload_at: float | None = None  # a debounced source change's reload
    changed: set[str] = field(default_factory=set)  # the files changed since the last reload


class Supervisor:
    """Start ``workers`` worker processes and keep them running until SIGTERM/SIGINT.

    Args:
        spawn: starts one worker, given the descriptor it writes its "ready"
            byte to (the worker must write it once it listens).
        workers: how many workers serve at a time.
        drain_timeout: the workers' drain timeout (for the SIGKILL deadline).
        pidfile: a file to write the supervisor's PID to (removed at exit).
        watcher: reload when it reports changed source files (``--reload``).
    """

    def __init__(
        self,
        spawn: Callable[[int], WorkerProcess],
        workers: int,
        drain_timeout: float,
        pidfile: str | os.PathLike[str] | None = None,
        watcher: SourceWatcher | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"expected at least 1 worker, not {workers!r}")
        self._spawn = spawn
        self._count = workers
        self._drain_timeout = drain_timeout
        self._pidfile = pidfile
        self._watcher = watcher
        self._state = _State()
        self._selector = selectors.DefaultSelector()
        self._in_child = False

    def run(self) -> int | None:
        """Supervise until stopped.

        Returns:
            0 in the supervisor once every worker has exited; ``None`` in a
            worker forked by ``spawn`` (it raised `_WorkerStarted`).
        """
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        previous = {signo: signal.signal(signo, _note_signal) for signo in _HANDLED_SIGNALS}
        old_wakeup = signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
        self._selector.register(wake_r, selectors.EVENT_READ)
        watch_fd = None if self._watcher is None else self._watcher.fileno()
        if watch_fd is not None:
            self._selector.register(watch_fd, selectors.EVENT_READ, self._watcher)
        try:
            if self._pidfile is not None:
                with open(self._pidfile, "w", encoding="ascii") as f:
                    f.write(f"{os.getpid()}\n")
            log.info("supervisor started, %d worker(s)", self._count)
            for slot in range(self._count):
                self._state.live[slot] = self._start(slot)
            while self._step(wake_r):
                pass
            log.info("supervisor stopped")
            return 0
        except _WorkerStarted:
            self._in_child = True
            return None
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for signo, handler in previous.items():
                signal.signal(signo, handler)
            if self._in_child:
                # A terminal's hangup reaches the whole process group: a
                # worker leaves reloading to its supervisor.
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
            for key in list(self._selector.get_map().values()):
                if isinstance(key.fileobj, int) and key.fileobj != watch_fd:
                    os.close(key.fileobj)
            self._selector.close()
            wake_r.close()
            wake_w.close()
            if self._pidfile is not None and not self._in_child:
                with contextlib.suppress(OSError):
                    os.unlink(self._pidfile)

    # -- the loop --------------------------------------------------------------------

    def _step(self, wake: socket.socket) -> bool:
        """Wait for a signal, a ready byte or a deadline, and act; ``False`` when done."""
        state = self._state
        now = time.monotonic()
        deadlines = [*state.restart_at.values()]
        deadlines += [w.kill_at for w in self._all() if w.kill_at is not None]
        if state.next:
            deadlines.append(state.next_deadline)
        if state.reload_at is not None:
            deadlines.append(state.reload_at)
        if self._watcher is not None:
            deadlines.append(self._watcher.next_check())
        timeout = min([POLL_INTERVAL_S, *(d - now for d in deadlines)])
        signals: list[int] = []
        for key, _ in self._selector.select(max(0.0, timeout)):
            if key.fileobj is wake:
                with contextlib.suppress(BlockingIOError):
                    signals += wake.recv(4096)
            elif key.data is not self._watcher:
                self._on_ready_pipe(key.data)
        self._reap()
        self._note_changes()
        for signo in signals:
            if signo in _STOP_SIGNALS and not state.stopping:
                log.info("%s: stopping the workers", signal.Signals(signo).name)
                self._stop_all()
            elif signo == signal.SIGHUP and not state.stopping:
                self._reload("SIGHUP")
        now = time.monotonic()
        if state.stopping:
            if not self._all():
                return False
        else:
            for slot, when in list(state.restart_at.items()):
                if when <= now:
                    del state.restart_at[slot]
                    state.live[slot] = self._start(slot)
            self._advance_reload(now)
            if state.reload_at is not None and state.reload_at <= now:
                self._reload_changed(now)
        for w in self._all():
            if w.kill_at is not None and w.kill_at <= now:
                log.warning("worker %d did not stop in time, killing it", w.pid)
                _send(w, signal.SIGKILL)
                w.kill_at = None
        return True

    def _all(self) -> list[_Worker]:
        state = self._state
        return [*state.live.values(), *state.next.values(), *state.retiring]

    def _start(self, slot: int) -> _Worker:
        read_fd, write_fd = os.pipe()
        try:
            try:
                proc = self._spawn(write_fd)
            except _WorkerStarted:
                os.close(read_fd)
                raise
        finally:
            with contextlib.suppress(OSError):
                os.close(write_fd)
        os.set_blocking(read_fd, False)
        worker = _Worker(proc, read_fd, slot, time.monotonic())
        self._selector.register(read_fd, selectors.EVENT_READ, worker)
        log.info("worker %d started (slot %d)", worker.pid, slot)
        return worker

    def _on_ready_pipe(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.ready_fd, 64)
        except BlockingIOError:
            return
        if data:
            worker.ready = True
            log.info("worker %d ready", worker.pid)
        self._close_pipe(worker)  # one byte is all it sends; EOF if it died

    def _close_pipe(self, worker: _Worker) -> None:
        if worker.ready_fd >= 0:
            self._selector.unregister(worker.ready_fd)
            os.close(worker.ready_fd)
            worker.ready_fd = -1

    def _reap(self) -> None:
        state = self._state
        for w in self._all():
            status = w.proc.poll()
            if status is None:
                continue
            self._close_pipe(w)
            if w in state.retiring:
                state.retiring.remove(w)
                log.info("worker %d exited (%s)", w.pid, _describe(status))
            elif state.next.get(w.slot) is w:
                log.error("new worker %d exited (%s): reload abandoned", w.pid, _describe(status))
                del state.next[w.slot]
                self._abandon_reload()
            else:
                del state.live[w.slot]
                if state.stopping:
                    log.info("worker %d exited (%s)", w.pid, _describe(status))
                    continue
                uptime = time.monotonic() - w.started
                failures = 0 if uptime >= STABLE_UPTIME_S else state.failures.get(w.slot, 0) + 1
                state.failures[w.slot] = failures
                delay = min(RESTART_DELAY_MIN_S * 2 ** max(0, failures - 1), RESTART_DELAY_MAX_S)
                log.warning(
                    "worker %d died (%s), restarting in %.1f s", w.pid, _describe(status), delay
                )
                state.restart_at[w.slot] = time.monotonic() + delay

    # -- stopping and reloading ------------------------------------------------------

    def _retire(self, worker: _Worker) -> None:
        """Tell ``worker`` to drain and stop; it is killed if it takes too long."""
        _send(worker, signal.SIGTERM)
        worker.kill_at = time.monotonic() + self._drain_timeout + KILL_GRACE_S
        self._state.retiring.append(worker)

    def _stop_all(self) -> None:
        state = self._state
        state.stopping = True
        state.restart_at.clear()
        for w in [*state.live.values(), *state.next.values()]:
            self._retire(w)
        state.live.clear()
        state.next.clear()

    def _note_changes(self) -> None:
        """Ask the watcher for changed files; reload once no more come for a while."""
        if self._watcher is None or self._state.stopping:
            return
        paths = self._watcher.changed()
        if paths:
            self._state.changed.update(paths)
            self._state.reload_at = time.monotonic() + RELOAD_DEBOUNCE_S

    def _reload_changed(self, now: float) -> None:
        state = self._state
        if state.next:  # the new workers may have imported the code before this change
            state.reload_at = now + RELOAD_DEBOUNCE_S
            return
        state.reload_at = None
        changed = sorted(state.changed)
        state.changed.clear()
        shown = ", ".join(os.path.basename(p) for p in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        self._reload(f"changed: {shown}{more}")

    def _reload(self, reason: str) -> None:
        state = self._state
        if state.next:
            log.info("%s: a reload is under way already", reason)
            return
        log.info("%s: starting %d new worker(s)", reason, self._count)
        state.next_deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        for slot in range(self._count):
            state.next[slot] = self._start(slot)

    def _advance_reload(self, now: float) -> None:
        state = self._state
        if not state.next:
            return
        if all(w.ready for w in state.next.values()):
            for slot, w in state.live.items():
                if state.next.get(slot) is not w:
                    self._retire(w)
            state.live = state.next
            state.next = {}
            for slot in state.live:
                state.restart_at.pop(slot, None)
            log.info("reload done: %s", ", ".join(str(w.pid) for w in state.live.values()))
        elif now >= state.next_deadline:
            log.error("new workers not ready in %.0f s: reload abandoned", WORKER_START_TIMEOUT_S)
            self._abandon_reload()

    def _abandon_reload(self) -> None:
        state = self._state
        for w in state.next.values():
            self._retire(w)
        state.next.clear()


def supervise_forks(workers: int, drain_timeout: float) -> int | None:
    """Run a `Supervisor` whose workers are forks of this process.

    Called by a running server's loop: in each forked child it returns
    ``None`` (the child goes on running the loop, as a worker); in this
    process it returns the supervisor's exit code once all workers are gone.
    """

    def spawn(ready_fd: int) -> WorkerProcess:
        pid = os.fork()
        if pid:
            return _Forked(pid)
        # The child: signals as they were before the supervisor (the
        # finally of Supervisor.run restores them), then "ready" at once:
        # it inherited the listening socket from a loop that was running.
        os.write(ready_fd, b"R")
        os.close(ready_fd)
        raise _WorkerStarted

    return Supervisor(spawn, workers, drain_timeout).run()


class _Forked:
    """A forked worker, reaped with ``os.waitpid``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._status: int | None = None

    def poll(self) -> int | None:
        if self._status is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self._status = -1
                return self._status
            if pid:
                self._status = os.waitstatus_to_exitcode(status)
        return self._status


def _note_signal(signo: int, frame: FrameType | None) -> None:
    """Nothing: the wake-up descriptor carries the signal to the loop."""


def _send(worker: _Worker, signo: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(worker.pid, signo)


def _describe(status: int) -> str:
    if status < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-status).name}"
    return f"exit code {status}"
