"""Pollers: wait for file descriptors and turn readiness into events.

A poller is the component that lets an idle loop block. It handles
``generate_events`` at priority -9 (after timers, which shrink ``time_left``),
stops the event (so the fallback generator does not also wait) and waits in
``select``/``poll``/``epoll``/``kqueue`` for at most ``event.time_left``
seconds (without limit when it is negative). Ready descriptors become
``_read(fd)``, ``_write(fd)``, ``_error(fd, error)`` and ``_disconnect(fd)``
events fired at the channel of the component that registered the descriptor.

Waking up
---------
Every poller also watches the read end of a *control channel* (a
non-blocking ``os.pipe()``; a socket pair where pipes cannot be selected).
``resume()`` writes one byte to it and the wait returns at once; the byte is
drained silently. The core calls ``resume()`` through
``generate_events.reduce_time_left(0)`` when another thread fires an event or
a signal handler fires one while the loop is blocked here. Python retries an
interrupted wait after running the signal handler (PEP 475), and that handler
is what writes the byte, so the retried wait returns immediately.

``resume()`` called by the polling thread itself outside the wait (e.g. when
the poller fires its own events) writes nothing: ``_in_poll`` is raised
*before* ``time_left`` is read, so a signal handler that runs between that
read and the system call still writes the byte, and the wait cannot miss it.

``Poller`` is the best poller of the platform (as ``selectors.DefaultSelector``
chooses): ``EPoll`` on Linux, ``KQueue`` on BSD and macOS, else ``Poll``,
else ``Select``. 3.2.5 used ``Select`` everywhere, which fails beyond
``FD_SETSIZE`` descriptors; ``Select`` here refuses such descriptors with an
error that names them instead of dropping them.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import sys
import weakref
from threading import get_ident
from typing import Any

from .components import BaseComponent
from .events import Event
from .handlers import handler

__all__ = ["BasePoller", "EPoll", "KQueue", "Poll", "Poller", "Select"]

log = logging.getLogger(__name__)

# select() can only watch descriptor numbers below FD_SETSIZE (glibc, macOS
# and the BSDs: 1024; CPython does not expose the constant). On Windows the
# limit is a count of sockets (CPython builds with FD_SETSIZE = 512).
FD_SETSIZE = 512 if sys.platform == "win32" else 1024

# Platform-specific parts of ``select`` (epoll, kqueue) are reached through
# this alias, so that the module type-checks on every platform.
_select: Any = select

_BAD_FD_ERRNOS = (errno.EBADF, errno.ENOTSOCK)


# Pollers alive in this process: a forked child gives each its own wake-up
# channel and kernel object (see BasePoller._after_fork).
_POLLERS: weakref.WeakSet[BasePoller] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for poller in list(_POLLERS):
        try:
            poller._after_fork()
        except Exception:  # one broken poller must not leave the others shared
            log.exception("%r: renewing after fork failed", poller)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _read(Event):
    """A watched descriptor is readable: ``_read(fd)``."""


class _write(Event):
    """A watched descriptor is writable: ``_write(fd)``."""


class _error(Event):
    """A watched descriptor failed: ``_error(fd, error)``."""


class _disconnect(Event):
    """A watched descriptor hung up or became invalid: ``_disconnect(fd)``."""


class _Watched(dict[Any, None]):
    """An insertion-ordered set of descriptors with the list methods 3.2.5 code uses.

    ``in`` and removal are O(1) (a server with many peers adds and removes
    descriptors all the time), iteration is in registration order.
    """

    def append(self, fd: Any) -> None:
        self[fd] = None

    def remove(self, fd: Any) -> None:
        try:
            del self[fd]
        except KeyError:
            raise ValueError(f"{fd!r} is not watched") from None


class BasePoller(BaseComponent):
    """The interface and bookkeeping shared by all pollers.

    Args:
        channel: the poller's channel (default ``"*"``).
    """

    channel: Any = None
    # Waits in the loop's idle step (see Manager._generate: under asyncio such
    # handlers are told not to wait).
    _idles = True

    def __init__(self, channel: Any = None) -> None:
        super().__init__(channel=channel)
        self._read: _Watched = _Watched()
        self._write: _Watched = _Watched()
        self._targets: dict[Any, Any] = {}
        # fd -> the component that asked to watch it (see _hand_over)
        self._sources: dict[Any, Any] = {}
        self._in_poll = False
        self._poll_ident: int | None = None
        self._ctrl_recv, self._ctrl_send = _control_channel()
        self._ctrl_fd = _fileno(self._ctrl_recv)
        self._finalizer = weakref.finalize(self, _close_all, [self._ctrl_recv, self._ctrl_send])
        _POLLERS.add(self)

    def _after_fork(self) -> None:
        """In a forked child: a wake-up channel and kernel object of its own.

        The inherited ones are shared with the parent: a wake-up byte could be
        read by the wrong process (a signal would not wake the loop that
        handles it), and an inherited epoll set is one interest list for both.
        """
        self._finalizer.detach()
        _close_all([self._ctrl_recv, self._ctrl_send])  # this process's copies only
        self._ctrl_recv, self._ctrl_send = _control_channel()
        self._ctrl_fd = _fileno(self._ctrl_recv)
        self._finalizer = weakref.finalize(self, _close_all, [self._ctrl_recv, self._ctrl_send])
        self._in_poll = False
        self._poll_ident = None
        self._renew_kernel()

    def _renew_kernel(self) -> None:
        """Recreate the kernel object (if any) with the control channel and every watch."""

    @handler("generate_events", priority=-9)
    def _on_generate_events(self, event: Any) -> None:
        event.stop()
        self._generate_events(event)

    def _generate_events(self, event: Any) -> None:
        """Wait for at most ``event.time_left`` seconds and fire the ready events."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _generate_events()")

    # -- registration -------------------------------------------------------

    def addReader(self, source: Any, fd: Any) -> None:
        """Watch ``fd`` for reading; events go to ``source``'s channel.

        Raises:
            ValueError: the descriptor cannot be watched by this poller.
        """
        self._watch(fd, reading=True, writing=fd in self._write)
        self._read.append(fd)
        self._targets[fd] = getattr(source, "channel", "*")
        self._sources[fd] = source

    def addWriter(self, source: Any, fd: Any) -> None:
        """Watch ``fd`` for writing; events go to ``source``'s channel.

        Raises:
            ValueError: the descriptor cannot be watched by this poller.
        """
        self._watch(fd, reading=fd in self._read, writing=True)
        self._write.append(fd)
        self._targets[fd] = getattr(source, "channel", "*")
        self._sources[fd] = source

    def removeReader(self, fd: Any) -> None:
        """Stop watching ``fd`` for reading."""
        if fd in self._read:
            del self._read[fd]
            self._unwatched(fd)

    def removeWriter(self, fd: Any) -> None:
        """Stop watching ``fd`` for writing."""
        if fd in self._write:
            del self._write[fd]
            self._unwatched(fd)

    def isReading(self, fd: Any) -> bool:
        """Whether ``fd`` is watched for reading."""
        return fd in self._read

    def isWriting(self, fd: Any) -> bool:
        """Whether ``fd`` is watched for writing."""
        return fd in self._write

    def discard(self, fd: Any) -> None:
        """Forget ``fd`` completely."""
        self._read.pop(fd, None)
        self._write.pop(fd, None)
        self._targets.pop(fd, None)
        self._sources.pop(fd, None)
        self._forget(fd)

    def _hand_over(self, source: Any, successor: BasePoller) -> None:
        """Move every descriptor ``source`` watches here to ``successor``, same interest.

        For a poller that leaves the tree while ``source`` stays (see
        ``circuits.net._attach``). Each is forgotten here before it is added
        there: two asyncio pollers share one asyncio loop's watches.

        Raises:
            ValueError: ``successor`` cannot watch a descriptor (which is then
                watched by neither; those not yet moved stay here).
        """
        for fd in [fd for fd, s in self._sources.items() if s is source]:
            reading, writing = fd in self._read, fd in self._write
            self.discard(fd)
            if reading:
                successor.addReader(source, fd)
            if writing:
                successor.addWriter(source, fd)

    def getTarget(self, fd: Any) -> Any:
        """The channel events about ``fd`` go to (the parent if ``fd`` is unknown)."""
        return self._targets.get(fd, self.parent)

    def resume(self) -> None:
        """Wake a blocking wait (thread- and signal-safe)."""
        if not self._in_poll and self._poll_ident == get_ident():
            return  # our own thread outside the wait: it will not block
        try:
            if isinstance(self._ctrl_send, int):
                os.write(self._ctrl_send, b"\0")
            else:
                self._ctrl_send.send(b"\0")
        except (BlockingIOError, InterruptedError):
            pass  # the channel is full: the wait is being woken already
        except OSError:
            pass  # closed (the poller is being destroyed)

    # -- hooks for the concrete pollers -----------------------------------

    def _watch(self, fd: Any, reading: bool, writing: bool) -> None:
        """Tell the kernel the new interest set of ``fd`` (may raise ValueError)."""

    def _forget(self, fd: Any) -> None:
        """Tell the kernel ``fd`` is no longer watched."""

    def _unwatched(self, fd: Any) -> None:
        if fd in self._read or fd in self._write:
            self._watch(fd, fd in self._read, fd in self._write)
        else:
            self._targets.pop(fd, None)
            self._sources.pop(fd, None)
            self._forget(fd)

    def _close_with_poller(self, kernel_object: Any) -> None:
        """Close ``kernel_object`` (an epoll/kqueue) with the control channel."""
        self._finalizer.detach()
        self._finalizer = weakref.finalize(
            self, _close_all, [self._ctrl_recv, self._ctrl_send, kernel_object]
        )

    def _enter_poll(self, event: Any) -> float:
        """Start a wait: returns its timeout in seconds (< 0: unlimited)."""
        self._poll_ident = get_ident()
        # Before reading time_left (see the module docstring, "Waking up").
        self._in_poll = True
        return float(event.time_left)

    def _drain(self) -> None:
        try:
            if isinstance(self._ctrl_recv, int):
                while os.read(self._ctrl_recv, 4096):
                    pass
            else:
                while self._ctrl_recv.recv(4096):
                    pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:
            log.debug("%r: draining the control channel failed: %s", self, exc)

    def _fire_ready(self, fd: Any, readable: bool, writable: bool) -> None:
        """Fire ``_read``/``_write`` for ``fd``; a failure makes it ``_error`` + ``_disconnect``."""
        try:
            target = self.getTarget(fd)
            if readable and fd in self._read:
                self.fire(_read(fd), target)
            if writable and fd in self._write:
                self.fire(_write(fd), target)
        except Exception as exc:
            target = self.getTarget(fd)
            self.fire(_error(fd, exc), target)
            self.fire(_disconnect(fd), target)
            self.discard(fd)

    def _fire_disconnect(self, fd: Any) -> None:
        target = self.getTarget(fd)
        self.discard(fd)
        self.fire(_disconnect(fd), target)


class Select(BasePoller):
    """A poller using ``select.select`` (portable; limited to ``FD_SETSIZE``).

    Args:
        channel: the poller's channel.
    """

    channel = "select"

    def __init__(self, channel: Any = channel) -> None:
        super().__init__(channel=channel)

    def _watch(self, fd: Any, reading: bool, writing: bool) -> None:
        if sys.platform == "win32":
            count = len(set(self._read) | set(self._write) | {fd})
            if count >= FD_SETSIZE:  # one slot is the control socket
                raise ValueError(
                    f"cannot watch {fd!r}: select() handles at most {FD_SETSIZE} sockets "
                    "on Windows; spread the sockets over several processes"
                )
            return
        n = _fileno(fd)
        if n >= FD_SETSIZE:
            raise ValueError(
                f"cannot watch {fd!r}: descriptor {n} is not below FD_SETSIZE "
                f"({FD_SETSIZE}), the limit of select(); use EPoll, KQueue or Poll "
                "(circuits.core.pollers.Poller is the best one of this platform)"
            )

    def _generate_events(self, event: Any) -> None:
        try:
            timeout = self._enter_poll(event)
            r = [self._ctrl_recv, *self._read]
            w = list(self._write)
            try:
                readable, writable, _ = select.select(r, w, [], None if timeout < 0 else timeout)
            except InterruptedError:
                return
            except (ValueError, TypeError) as exc:
                self._preen(exc)
                return
            except OSError as exc:
                if exc.errno not in _BAD_FD_ERRNOS:
                    raise
                self._preen(exc)
                return
        finally:
            self._in_poll = False

        for fd in writable:
            self._fire_ready(fd, False, True)
        for fd in readable:
            if fd is self._ctrl_recv:
                self._drain()
            else:
                self._fire_ready(fd, True, False)

    def _preen(self, exc: Exception) -> None:
        """Find and forget the descriptors that made ``select()`` fail."""
        for fd in [*self._read, *self._write]:
            try:
                select.select([fd], [], [], 0)
            except (ValueError, TypeError, OSError):
                log.debug("%r: discarding invalid descriptor %r (%s)", self, fd, exc)
                self.discard(fd)


class _KernelPoller(BasePoller):
    """Poll and EPoll: descriptors registered with a kernel object by number.

    A socket's ``fileno()`` is -1 once it is closed, so the number is
    remembered at registration. A number reused by a new object replaces the
    stale one.
    """

    _IN = 0
    _OUT = 0
    _HANGUP = 0

    def __init__(self, channel: Any) -> None:
        super().__init__(channel=channel)
        self._filenos: dict[Any, int] = {}  # watched object -> its number
        self._objects: dict[int, Any] = {}  # number -> watched object
        self._masks: dict[int, int] = {}

    def _watch(self, fd: Any, reading: bool, writing: bool) -> None:
        mask = (self._IN if reading else 0) | (self._OUT if writing else 0)
        n, new = _number(self, fd)
        if new:
            self._kernel_add(n, mask)
        elif self._masks.get(n) != mask:
            self._kernel_modify(n, mask)
        self._masks[n] = mask

    def _forget(self, fd: Any) -> None:
        n = self._filenos.pop(fd, None)
        if n is None:
            return
        self._objects.pop(n, None)
        self._masks.pop(n, None)
        self._kernel_remove(n)

    def _kernel_add(self, n: int, mask: int) -> None:
        raise NotImplementedError

    def _kernel_modify(self, n: int, mask: int) -> None:
        raise NotImplementedError

    def _kernel_remove(self, n: int) -> None:
        raise NotImplementedError

    def _dispatch_ready(self, ready: list[tuple[int, int]]) -> None:
        for n, mask in ready:
            if n == self._ctrl_fd:
                self._drain()
                continue
            fd = self._objects.get(n)
            if fd is None:
                continue
            if mask & self._HANGUP and not mask & self._IN:
                self._fire_disconnect(fd)
            else:
                self._fire_ready(fd, bool(mask & self._IN), bool(mask & self._OUT))


class Poll(_KernelPoller):
    """A poller using ``select.poll`` (POSIX; no descriptor-number limit).

    Args:
        channel: the poller's channel.
    """

    channel = "poll"

    _IN = getattr(select, "POLLIN", 0) | getattr(select, "POLLPRI", 0)
    _OUT = getattr(select, "POLLOUT", 0)
    # POLLNVAL: a descriptor closed while watched; handled as a hang-up.
    _HANGUP = (
        getattr(select, "POLLHUP", 0)
        | getattr(select, "POLLERR", 0)
        | getattr(select, "POLLNVAL", 0)
    )

    def __init__(self, channel: Any = channel) -> None:
        if not hasattr(select, "poll"):
            raise RuntimeError("Poll needs select.poll(), which this platform lacks; use Poller")
        super().__init__(channel=channel)
        self._poll: Any = _select.poll()
        self._poll.register(self._ctrl_fd, self._IN)

    def _renew_kernel(self) -> None:
        self._poll = _select.poll()
        self._poll.register(self._ctrl_fd, self._IN)
        for n, mask in self._masks.items():
            self._poll.register(n, mask)

    def _kernel_add(self, n: int, mask: int) -> None:
        self._poll.register(n, mask)

    def _kernel_modify(self, n: int, mask: int) -> None:
        self._poll.modify(n, mask)

    def _kernel_remove(self, n: int) -> None:
        try:
            self._poll.unregister(n)
        except KeyError:
            pass

    def _generate_events(self, event: Any) -> None:
        try:
            timeout = self._enter_poll(event)
            try:
                ready = self._poll.poll(None if timeout < 0 else timeout * 1000)
            except InterruptedError:
                return
        finally:
            self._in_poll = False
        self._dispatch_ready(ready)


class EPoll(_KernelPoller):
    """A poller using Linux ``epoll``.

    Regular files cannot be registered with epoll (``EPERM``); they are always
    ready, so they are reported as ready on every wait, which then does not
    block.

    Args:
        channel: the poller's channel.
    """

    channel = "epoll"

    _IN = getattr(select, "EPOLLIN", 0) | getattr(select, "EPOLLPRI", 0)
    _OUT = getattr(select, "EPOLLOUT", 0)
    _HANGUP = getattr(select, "EPOLLHUP", 0) | getattr(select, "EPOLLERR", 0)

    def __init__(self, channel: Any = channel) -> None:
        if not hasattr(select, "epoll"):
            raise RuntimeError("EPoll needs Linux (select.epoll); use Poller")
        super().__init__(channel=channel)
        self._epoll: Any = _select.epoll()
        self._close_with_poller(self._epoll)
        self._epoll.register(self._ctrl_fd, _select.EPOLLIN)
        self._always: dict[int, int] = {}  # regular files: number -> mask

    def _renew_kernel(self) -> None:
        try:
            self._epoll.close()  # this process's reference; the parent keeps its own
        except OSError:
            pass
        self._epoll = _select.epoll()
        self._close_with_poller(self._epoll)
        self._epoll.register(self._ctrl_fd, _select.EPOLLIN)
        for n, mask in self._masks.items():
            if n not in self._always:
                try:
                    self._epoll.register(n, mask)
                except OSError:
                    pass  # closed meanwhile: its owner will find out

    def _kernel_add(self, n: int, mask: int) -> None:
        try:
            self._epoll.register(n, mask)
        except FileExistsError:
            self._epoll.modify(n, mask)
        except PermissionError:
            self._always[n] = mask

    def _kernel_modify(self, n: int, mask: int) -> None:
        if n in self._always:
            self._always[n] = mask
            return
        try:
            self._epoll.modify(n, mask)
        except FileNotFoundError:
            self._epoll.register(n, mask)

    def _kernel_remove(self, n: int) -> None:
        if self._always.pop(n, None) is not None:
            return
        try:
            self._epoll.unregister(n)
        except (OSError, ValueError):
            pass  # already closed: the kernel forgot it

    def _generate_events(self, event: Any) -> None:
        try:
            timeout = self._enter_poll(event)
            if self._always:
                timeout = 0
            try:
                ready = self._epoll.poll(timeout)
            except InterruptedError:
                return
        finally:
            self._in_poll = False
        if self._always:
            ready = [*ready, *self._always.items()]
        self._dispatch_ready(ready)


class KQueue(BasePoller):
    """A poller using BSD/macOS ``kqueue``.

    Args:
        channel: the poller's channel.
    """

    channel = "kqueue"

    def __init__(self, channel: Any = channel) -> None:
        if not hasattr(select, "kqueue"):
            raise RuntimeError("KQueue needs BSD or macOS (select.kqueue); use Poller")
        super().__init__(channel=channel)
        self._kqueue: Any = _select.kqueue()
        self._close_with_poller(self._kqueue)
        self._filenos: dict[Any, int] = {}
        self._objects: dict[int, Any] = {}
        self._filters: dict[int, tuple[bool, bool]] = {}
        self._control([(self._ctrl_fd, _select.KQ_FILTER_READ, _select.KQ_EV_ADD)])

    def _renew_kernel(self) -> None:
        # A kqueue is not inherited by a child at all: make one and re-add.
        self._kqueue = _select.kqueue()
        self._close_with_poller(self._kqueue)
        self._control([(self._ctrl_fd, _select.KQ_FILTER_READ, _select.KQ_EV_ADD)])
        for n, (reading, writing) in self._filters.items():
            if reading:
                self._control([(n, _select.KQ_FILTER_READ, _select.KQ_EV_ADD)], strict=False)
            if writing:
                self._control([(n, _select.KQ_FILTER_WRITE, _select.KQ_EV_ADD)], strict=False)

    def _control(self, changes: list[tuple[int, int, int]], strict: bool = True) -> None:
        for n, filt, flags in changes:
            try:
                self._kqueue.control([_select.kevent(n, filt, flags)], 0, 0)
            except OSError:
                if strict:
                    raise

    def _watch(self, fd: Any, reading: bool, writing: bool) -> None:
        n, _ = _number(self, fd)
        was_reading, was_writing = self._filters.get(n, (False, False))
        changes = []
        if reading != was_reading:
            flag = _select.KQ_EV_ADD if reading else _select.KQ_EV_DELETE
            changes.append((n, _select.KQ_FILTER_READ, flag))
        if writing != was_writing:
            flag = _select.KQ_EV_ADD if writing else _select.KQ_EV_DELETE
            changes.append((n, _select.KQ_FILTER_WRITE, flag))
        self._control(changes)
        self._filters[n] = (reading, writing)

    def _forget(self, fd: Any) -> None:
        n = self._filenos.pop(fd, None)
        if n is None:
            return
        self._objects.pop(n, None)
        reading, writing = self._filters.pop(n, (False, False))
        changes = []
        if reading:
            changes.append((n, _select.KQ_FILTER_READ, _select.KQ_EV_DELETE))
        if writing:
            changes.append((n, _select.KQ_FILTER_WRITE, _select.KQ_EV_DELETE))
        self._control(changes, strict=False)  # a closed descriptor is already gone

    def _generate_events(self, event: Any) -> None:
        try:
            timeout = self._enter_poll(event)
            max_events = 2 * len(self._filenos) + 1
            try:
                ready = self._kqueue.control(None, max_events, None if timeout < 0 else timeout)
            except InterruptedError:
                return
        finally:
            self._in_poll = False
        for kev in ready:
            n = kev.ident
            if n == self._ctrl_fd:
                self._drain()
                continue
            fd = self._objects.get(n)
            if fd is None:
                continue
            if kev.flags & _select.KQ_EV_ERROR:
                self.fire(_error(fd, "error"), self.getTarget(fd))
            elif kev.flags & _select.KQ_EV_EOF and not (
                kev.filter == _select.KQ_FILTER_READ and kev.data > 0
            ):
                # Hung up with nothing left to read (pending data is read first).
                self._fire_disconnect(fd)
            elif kev.filter == _select.KQ_FILTER_READ:
                self._fire_ready(fd, True, False)
            elif kev.filter == _select.KQ_FILTER_WRITE:
                self._fire_ready(fd, False, True)


def _best_poller() -> type[BasePoller]:
    """The most scalable poller this platform has (``selectors.DefaultSelector``'s order)."""
    if hasattr(select, "epoll"):
        return EPoll
    if hasattr(select, "kqueue"):
        return KQueue
    if hasattr(select, "poll"):
        return Poll
    return Select


Poller = _best_poller()


def _fileno(fd: Any) -> int:
    return fd if isinstance(fd, int) else int(fd.fileno())


def _control_channel() -> tuple[Any, Any]:
    """A non-blocking (receive end, send end) pair to wake a waiting poller."""
    if os.name == "posix":
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        return r, w
    # select() on Windows takes sockets only.
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    return a, b


def _close_all(objects: list[Any]) -> None:
    for obj in objects:
        try:
            if isinstance(obj, int):
                os.close(obj)
            else:
                obj.close()
        except OSError:
            pass


def _number(poller: Any, fd: Any) -> tuple[int, bool]:
    """``fd``'s number in a kernel poller, remembered on first sight (then ``True``).

    A number reused by a new object replaces the stale entry.
    """
    n: int | None = poller._filenos.get(fd)
    if n is not None:
        return n, False
    n = _fileno(fd)
    if n < 0:
        raise ValueError(f"cannot watch {fd!r}: it is closed")
    stale = poller._objects.get(n)
    if stale is not None and stale is not fd:
        poller.discard(stale)
    poller._filenos[fd] = n
    poller._objects[n] = fd
    return n, True
