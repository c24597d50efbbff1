"""``Notify``: file-system change events from Linux inotify (net-io §5.5).

The inotify descriptor is watched by the tree's poller; each readable
notification reads the pending records (parsed by ``_inotify``, a pure
parser) and fires, for every ``EVENT_MAP`` flag set in a record, an event
``(name, path, pathname, dir)`` on the component's channel: ``name`` is the
entry's name inside the watched directory (``""`` for the directory itself),
``path`` the watched directory, ``pathname`` the entry's full path and
``dir`` whether it is a directory.

Recursive watches: with ``recursive=True`` every existing subdirectory is
watched too, and with ``auto_add=True`` (the default) so is every directory
created in (or moved into) a watched one. Entries created inside a new
directory before its watch was in place are reported as ``created`` right
after the directory's own ``created`` (as pyinotify does); an entry created
in that instant may therefore be reported twice.

3.2.5 used pyinotify and was optional; this binding uses ``ctypes`` and is
only missing where libc has no inotify (importing this module then raises
``ImportError``, and ``circuits.io`` has no ``Notify``).
"""

from __future__ import annotations

import errno
import logging
import os
import weakref
from dataclasses import dataclass
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.pollers import BasePoller
from ..net._attach import PollerUser
from . import _inotify
from ._inotify import (
    IN_ACCESS,
    IN_ALL_EVENTS,
    IN_ATTRIB,
    IN_CLOSE_NOWRITE,
    IN_CLOSE_WRITE,
    IN_CREATE,
    IN_DELETE,
    IN_DELETE_SELF,
    IN_IGNORED,
    IN_ISDIR,
    IN_MODIFY,
    IN_MOVE_SELF,
    IN_MOVED_FROM,
    IN_MOVED_TO,
    IN_OPEN,
    IN_Q_OVERFLOW,
    IN_UNMOUNT,
    InotifyParser,
    Record,
)
from .events import (
    accessed,
    closed,
    created,
    deleted,
    error,
    modified,
    moved,
    opened,
    ready,
    unmounted,
)

__all__ = ["EVENT_MAP", "MASK", "BaseComponent", "Notify"]

log = logging.getLogger(__name__)

# Watch everything by default (pyinotify's ALL_EVENTS).
MASK = IN_ALL_EVENTS

# inotify flag -> the event fired for it (net-io §5.5), in 3.2.5's order.
EVENT_MAP: dict[int, type[Event]] = {
    IN_MOVED_TO: moved,
    IN_MOVE_SELF: moved,
    IN_MOVED_FROM: moved,
    IN_CLOSE_WRITE: closed,
    IN_CLOSE_NOWRITE: closed,
    IN_OPEN: opened,
    IN_DELETE_SELF: deleted,
    IN_DELETE: deleted,
    IN_CREATE: created,
    IN_ACCESS: accessed,
    IN_MODIFY: modified,
    IN_ATTRIB: modified,
    IN_UNMOUNT: unmounted,
}

# One read() takes at most this much; the kernel returns whole records, the
# largest being 16 + NAME_MAX + 1 bytes, so this holds hundreds of them.
READ_BYTES = 64 * 1024
# Reads per readable notification before giving the loop back (level-triggered
# polling brings us back while more is pending).
READS_PER_WAKEUP = 8

# What new subdirectories of an auto_add watch are found by.
_NEW_DIR = IN_CREATE | IN_MOVED_TO


@dataclass
class _Watch:
    path: str
    mask: int  # the events the user asked for
    recursive: bool
    auto_add: bool


class Notify(PollerUser):
    """Report changes below watched paths as events.

    Args:
        channel: the component's channel (``"notify"``).

    Events (all with ``(name, path, pathname, dir)``): ``created``,
    ``deleted``, ``moved``, ``modified``, ``accessed``, ``opened``,
    ``closed``, ``unmounted``; ``error(exc)`` when the kernel's queue
    overflowed (events were lost) or reading failed.
    """

    channel = "notify"

    def __init__(self, channel: Any = channel) -> None:
        super().__init__(channel=channel)
        self._fd = -1  # created on first use
        self._parser = InotifyParser()
        self._watches: dict[int, _Watch] = {}
        self._wds: dict[str, int] = {}
        self._poller: BasePoller | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # -- watches -------------------------------------------------------------

    def add_path(
        self, path: Any, mask: int | None = None, recursive: bool = False, auto_add: bool = True
    ) -> None:
        """Watch ``path``.

        Args:
            path: a directory (or file) to watch.
            mask: the inotify events to report (default ``MASK``: all).
            recursive: also watch the subdirectories.
            auto_add: with ``recursive``, watch new subdirectories as they appear.

        Raises:
            OSError: ``path`` cannot be watched (missing, no permission,
                ``max_user_watches`` reached).
        """
        path = os.path.normpath(os.fsdecode(os.fspath(path)))
        watch = _Watch(path, MASK if mask is None else mask, recursive, auto_add)
        self._add(watch)
        if recursive:
            for sub in _subdirs(path):
                self._add_quietly(_Watch(sub, watch.mask, True, auto_add))

    def remove_path(self, path: Any, recursive: bool = False) -> None:
        """Stop watching ``path`` (and, with ``recursive``, everything below it).

        Unknown paths are ignored.
        """
        path = os.path.normpath(os.fsdecode(os.fspath(path)))
        paths = [path]
        if recursive:
            prefix = os.path.join(path, "")
            paths += [p for p in self._wds if p.startswith(prefix)]
        for p in paths:
            wd = self._wds.pop(p, None)
            if wd is None:
                continue
            self._watches.pop(wd, None)
            try:
                _inotify.rm_watch(self._fd, wd)
            except OSError as exc:
                log.debug("removing the watch of %r: %s", p, exc)

    @property
    def paths(self) -> list[str]:
        """The watched paths."""
        return list(self._wds)

    def close(self) -> None:
        """Stop watching everything and release the inotify descriptor."""
        if self._fd < 0:
            return
        if self._poller is not None:
            self._poller.discard(self._fd)
        if self._finalizer is not None:
            self._finalizer()
        self._fd = -1
        self._watches.clear()
        self._wds.clear()

    def _ensure_fd(self) -> int:
        if self._fd < 0:
            self._fd = _inotify.init()
            self._finalizer = weakref.finalize(self, _close_quietly, self._fd)
            if self._poller is not None:
                self._poller.addReader(self, self._fd)
        return self._fd

    def _add(self, watch: _Watch) -> int:
        kernel_mask = watch.mask
        if watch.recursive and watch.auto_add:
            kernel_mask |= _NEW_DIR
        wd = _inotify.add_watch(self._ensure_fd(), watch.path, kernel_mask)
        old = self._watches.get(wd)
        if old is not None and old.path != watch.path:
            self._wds.pop(old.path, None)  # the same inode under another name
        self._watches[wd] = watch
        self._wds[watch.path] = wd
        return wd

    def _add_quietly(self, watch: _Watch) -> bool:
        try:
            self._add(watch)
        except OSError as exc:
            # Gone again (ENOENT), or not a directory any more: nothing to watch.
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                log.warning("cannot watch %r: %s", watch.path, exc)
                self.fire(error(exc))
            return False
        return True

    # -- poller attachment and reading ---------------------------------------

    def _ready_event(self) -> Event:
        return ready(self)

    def _poller_attached(self, poller: BasePoller) -> None:
        try:
            poller.addReader(self, self._ensure_fd())
        except OSError as exc:
            log.warning("cannot start inotify: %s", exc)
            self.fire(error(exc))

    @handler("_read", priority=1)
    def _on_read_ready(self, fd: Any) -> None:
        if fd != self._fd or fd < 0:
            return
        for _ in range(READS_PER_WAKEUP):
            try:
                data = os.read(fd, READ_BYTES)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("reading inotify events failed: %s", exc)
                self.fire(error(exc))
                return
            if not data:
                return
            for record in self._parser.feed(data):
                self._dispatch(record)

    def _dispatch(self, record: Record) -> None:
        mask = record.mask
        if mask & IN_Q_OVERFLOW:
            log.warning("the inotify queue overflowed: events were lost")
            self.fire(error(OverflowError("the inotify queue overflowed: events were lost")))
            return
        watch = self._watches.get(record.wd)
        if watch is None:
            return  # a watch that was just removed
        if mask & IN_IGNORED:  # the kernel dropped the watch (deleted, unmounted)
            self._watches.pop(record.wd, None)
            if self._wds.get(watch.path) == record.wd:
                del self._wds[watch.path]
            return
        name = os.fsdecode(record.name)
        pathname = os.path.join(watch.path, name) if name else watch.path
        is_dir = bool(mask & IN_ISDIR)
        self._fire_for(mask & watch.mask, name, watch.path, pathname, is_dir)
        if is_dir and name and mask & _NEW_DIR and watch.recursive and watch.auto_add:
            self._watch_new_dir(pathname, watch)

    def _fire_for(self, mask: int, name: str, path: str, pathname: str, is_dir: bool) -> None:
        for flag, cls in EVENT_MAP.items():
            if mask & flag:
                self.fire(cls(name, path, pathname, is_dir))

    def _watch_new_dir(self, dirpath: str, parent: _Watch) -> None:
        """Watch a new directory and report what was created in it before the watch."""
        if not self._add_quietly(_Watch(dirpath, parent.mask, True, True)):
            return
        try:
            entries = list(os.scandir(dirpath))
        except OSError:
            return
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            self._fire_for(parent.mask & IN_CREATE, entry.name, dirpath, entry.path, is_dir)
            if is_dir:
                self._watch_new_dir(entry.path, parent)

    # -- lifecycle -----------------------------------------------------------

    @handler("prepare_unregister", channel="*")
    def _on_prepare_unregister(self, event: Any, c: Any) -> None:
        if event.in_subtree(self):
            self.close()


def _subdirs(path: str) -> list[str]:
    found = []
    for root, dirs, _files in os.walk(path):
        found += [os.path.join(root, d) for d in dirs]
    return found


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
