"""Source watching for ``circuits.web --reload``: restart the workers when the code changes.

Theory of operation
-------------------

The supervisor (see `circuits.web._workers`) never imports the application:
it finds where the ``--app`` module lives with ``importlib.util.find_spec``
of its *top-level* name (which imports nothing) and watches the Python files
there:

* a package: every ``*.py`` file below the package's directory;
* a plain module: the ``*.py`` files beside it (its directory, not below),
  so that a helper module it imports counts too.

Directories are watched rather than files, because editors often save by
writing a new file and renaming it over the old one (a watch on the old
inode would go quiet).

Two watchers report "these files changed" to the supervisor's loop:

* `InotifyWatcher` runs our own `circuits.io.Notify` in a small
  `Manager` thread; each change of a ``*.py`` file writes a byte to a socket
  pair whose read end the supervisor's selector watches.
* `PollingWatcher` compares the files' ``(mtime_ns, size, inode)`` every
  ``POLL_INTERVAL_S``; it is used where inotify is missing (not Linux, no
  inotify instances left) or when ``CIRCUITS_RELOAD_POLL=1`` is set.

The supervisor debounces: a reload starts ``_workers.RELOAD_DEBOUNCE_S`` after the
last change of a burst (an editor's save is several events, a ``git
checkout`` many), as a SIGHUP does: new workers import the new code, and
only once they listen are the old ones drained. New workers that fail (a
syntax error) leave the old ones serving.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
import time
from typing import Any, Protocol

from ..core import BaseComponent, Manager, handler

__all__ = [
    "POLL_ENV",
    "InotifyWatcher",
    "PollingWatcher",
    "SourceWatcher",
    "make_watcher",
    "source_roots",
]

log = logging.getLogger("circuits.web.workers")

# Polling: a stat() per source file twice a second is cheap for an
# application's few hundred files, and fast enough for a human.
POLL_INTERVAL_S = 0.5
# Set to 1 to poll even where inotify works (network file systems, where
# inotify does not see changes made on other hosts; and the tests).
POLL_ENV = "CIRCUITS_RELOAD_POLL"
# The inotify events that mean "a file's content or presence changed".
_CHANGE_EVENTS = ("created", "deleted", "moved", "modified", "closed")


class SourceWatcher(Protocol):
    """What the supervisor's loop needs of a watcher."""

    kind: str

    def fileno(self) -> int | None:
        """A descriptor readable when changes may be pending (``None``: poll on time only)."""
        ...

    def next_check(self) -> float:
        """The ``time.monotonic()`` by which `changed` should be called again."""
        ...

    def changed(self) -> list[str]:
        """The source files changed since the last call (reads or scans without blocking)."""
        ...

    def close(self) -> None:
        """Stop watching."""
        ...


def source_roots(module_name: str) -> list[tuple[str, bool]]:
    """The directories whose ``*.py`` files make up ``module_name``'s source.

    Returns:
        ``[(directory, recursive)]``: a package's directory (recursive), or a
        plain module's directory (not recursive).

    Raises:
        ValueError: ``module_name`` cannot be found, or has no source file.
    """
    top = module_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError) as exc:
        raise ValueError(f"cannot find module {top!r}: {exc}") from None
    if spec is None:
        raise ValueError(f"cannot find module {top!r} (sys.path: {os.getcwd()!r} and the rest)")
    if spec.submodule_search_locations:
        return [(os.path.abspath(d), True) for d in spec.submodule_search_locations]
    if spec.origin is None or not spec.origin.endswith(".py"):
        raise ValueError(f"expected a module with a .py source file, not {spec.origin!r}")
    return [(os.path.dirname(os.path.abspath(spec.origin)), False)]


def make_watcher(roots: list[tuple[str, bool]]) -> SourceWatcher:
    """An `InotifyWatcher` of ``roots``, or a `PollingWatcher` if inotify is missing or
    ``CIRCUITS_RELOAD_POLL=1``."""
    if os.environ.get(POLL_ENV, "") not in ("", "0"):
        return PollingWatcher(roots)
    try:
        return InotifyWatcher(roots)
    except (ImportError, OSError) as exc:
        log.warning("inotify is not available (%s): polling for changes instead", exc)
        return PollingWatcher(roots)


class PollingWatcher:
    """Compare the source files' ``stat()`` every ``POLL_INTERVAL_S``."""

    kind = "polling"

    def __init__(self, roots: list[tuple[str, bool]], interval: float = POLL_INTERVAL_S) -> None:
        self._roots = roots
        self._interval = interval
        self._snapshot = self._scan()
        self._due = time.monotonic() + interval

    @property
    def files(self) -> list[str]:
        """The source files seen at the last scan."""
        return sorted(self._snapshot)

    def fileno(self) -> int | None:
        return None

    def next_check(self) -> float:
        return self._due

    def changed(self) -> list[str]:
        now = time.monotonic()
        if now < self._due:
            return []
        self._due = now + self._interval
        old, new = self._snapshot, self._scan()
        self._snapshot = new
        return sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))

    def close(self) -> None:
        self._snapshot = {}

    def _scan(self) -> dict[str, tuple[int, int, int]]:
        found: dict[str, tuple[int, int, int]] = {}
        for path in _python_files(self._roots):
            with contextlib.suppress(OSError):  # gone between listing and stat()
                st = os.stat(path)
                found[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return found


class InotifyWatcher:
    """`circuits.io.Notify` on the source directories, in a `Manager` thread of its own.

    Raises:
        ImportError: this platform has no inotify.
        OSError: a directory cannot be watched (or no inotify instance is left).
    """

    kind = "inotify"

    def __init__(self, roots: list[tuple[str, bool]]) -> None:
        from circuits.io._inotify import (
            IN_CLOSE_WRITE,
            IN_CREATE,
            IN_DELETE,
            IN_MODIFY,
            IN_MOVED_FROM,
            IN_MOVED_TO,
        )
        from circuits.io.notify import Notify

        mask = IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO
        self._roots = roots
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._pending: list[str] = []
        channel = "circuits.web.reload"
        self._manager = Manager()
        self._notify = Notify(channel=channel)
        try:
            # The kernel queues changes from here on, before the thread runs.
            for directory, recursive in roots:
                self._notify.add_path(directory, mask=mask, recursive=recursive)
        except BaseException:
            self._notify.close()
            self._wake_r.close()
            self._wake_w.close()
            raise
        self._notify.register(self._manager)
        _ChangeSink(self, channel=channel).register(self._manager)
        self._manager.start()

    @property
    def files(self) -> list[str]:
        """The source files there are now."""
        return list(_python_files(self._roots))

    def fileno(self) -> int | None:
        return self._wake_r.fileno()

    def next_check(self) -> float:
        return float("inf")

    def changed(self) -> list[str]:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        # list.pop/append are atomic: no lock needed between the two threads.
        paths: list[str] = []
        while self._pending:
            paths.append(self._pending.pop(0))
        return sorted(set(paths))

    def close(self) -> None:
        self._manager.stop()
        self._manager.join()
        self._notify.close()
        self._wake_r.close()
        self._wake_w.close()

    def _note(self, pathname: str) -> None:
        """In the watcher's thread: remember ``pathname`` and wake the supervisor."""
        self._pending.append(pathname)
        with contextlib.suppress(BlockingIOError, OSError):  # a full buffer wakes it already
            self._wake_w.send(b"!")


class _ChangeSink(BaseComponent):
    """Passes the ``*.py`` files' changes from `Notify` to its `InotifyWatcher`."""

    def __init__(self, watcher: InotifyWatcher, channel: Any) -> None:
        super().__init__(channel=channel)
        self._watcher = watcher

    @handler(*_CHANGE_EVENTS)
    def _on_change(self, name: str, path: str, pathname: str, is_dir: bool) -> None:
        if not is_dir and pathname.endswith(".py"):
            self._watcher._note(pathname)

    @handler("error")
    def _on_error(self, error: Any) -> None:
        # Lost events (a queue overflow): something may have changed.
        log.warning("watching the source files: %s", error)
        self._watcher._note("?")


def _python_files(roots: list[tuple[str, bool]]) -> list[str]:
    found: list[str] = []
    for directory, recursive in roots:
        if recursive:
            for root, dirs, files in os.walk(directory):
                dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
                found += [os.path.join(root, f) for f in files if f.endswith(".py")]
        else:
            with contextlib.suppress(OSError):
                found += [
                    e.path for e in os.scandir(directory) if e.name.endswith(".py") and e.is_file()
                ]
    return sorted(found)
