"""``Watcher``: a component that records the events of a tree, and waiting for them.

Tests run the tree in its own thread (``Manager.start()``) and wait from the
test thread: ``assert watcher.wait("pong")``. The record is a list guarded by
a condition variable; the handler appends under the lock and notifies, so a
waiter wakes as soon as the event is recorded and never misses one that came
before it started waiting.

The recording handler is a catch-all on channel ``"*"`` with the lowest
priority: an event is recorded after every other handler of it has run, so
"seen" means "handled". An event a handler stopped (``event.stop()``) is not
recorded; ``generate_events`` (one per idle loop iteration) never is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from circuits.core.components import BaseComponent
from circuits.core.events import Event
from circuits.core.handlers import handler

__all__ = ["Watcher"]

# Priority of the recording handler: below any priority an application uses,
# so the watcher sees an event after its handlers ran.
WATCH_PRIORITY = -1e9
# How many of the recorded events a failed wait lists.
SHOWN_EVENTS = 50
# Events the watcher does not record: the idle step's, fired on every iteration.
IGNORED_NAMES = frozenset({"generate_events"})


class Watcher:
    """Record every event dispatched in the tree it is registered in.

    ``watcher = Watcher().register(manager)``: register it on the root of the
    tree; events fired before that are not seen. (It is not a component
    itself, so that its method names cannot shadow the component API; it
    registers a small recording component.)

    Attributes:
        events: the recorded events, oldest first (read it under no lock only
            when the loop is stopped; `find` and `names` copy it safely).
    """

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self._recorder = _Recorder(self)

    def register(self, manager: Any) -> Watcher:
        """Start recording the events of ``manager``'s tree; returns ``self``."""
        self._recorder.register(manager)
        return self

    def unregister(self) -> None:
        """Stop recording (the events recorded so far stay)."""
        self._recorder.unregister()

    def _record(self, event: Event) -> None:
        if event.name in IGNORED_NAMES:
            return
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def find(self, name: str, channel: Any = None) -> list[Event]:
        """The recorded events called ``name`` (fired on ``channel``, if given), oldest first."""
        with self._cond:
            return [e for e in self.events if _matches(e, name, channel)]

    def names(self) -> list[str]:
        """The names of the recorded events, oldest first."""
        with self._cond:
            return [e.name for e in self.events]

    def clear(self) -> None:
        """Forget every recorded event (a later ``wait`` waits for a new one)."""
        with self._cond:
            self.events.clear()

    def wait(self, name: str, channel: Any = None, timeout: float = 5.0) -> bool:
        """Wait until an event ``name`` (on ``channel``, if given) was handled.

        Returns at once if one was handled before the call (since the last
        `clear`). The timeout is real time: a `FakeClock` does not shorten it.

        Args:
            name: the event name (``"started"``, ``"read"``, ``"hello_done"``, ...).
            channel: only an event fired on this channel counts; ``None``: any.
            timeout: seconds to wait.

        Returns:
            ``True`` (so ``assert watcher.wait(...)`` reads naturally).

        Raises:
            AssertionError: no such event within ``timeout``; the message lists
                the events that were seen.
        """
        return self.wait_until(
            lambda events: any(_matches(e, name, channel) for e in events),
            timeout,
            what=f"event {name!r}" + ("" if channel is None else f" on channel {channel!r}"),
        )

    def wait_until(
        self, predicate: Callable[[list[Event]], bool], timeout: float = 5.0, what: str = ""
    ) -> bool:
        """Wait until ``predicate(events)`` is true of the recorded events.

        Args:
            predicate: called under the watcher's lock with the list of events.
            timeout: seconds to wait.
            what: what is waited for, for the failure message.

        Returns:
            ``True``.

        Raises:
            AssertionError: ``predicate`` stayed false for ``timeout`` seconds.
        """
        with self._cond:
            if self._cond.wait_for(lambda: predicate(self.events), timeout):
                return True
            seen = [_describe(e) for e in self.events]
        shown = seen[-SHOWN_EVENTS:]
        more = f" (the last {len(shown)} of {len(seen)})" if len(seen) > len(shown) else ""
        listing = "\n  ".join(shown) if shown else "(none)"
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what or 'a condition'}; "
            f"events seen{more}:\n  {listing}"
        )


class _Recorder(BaseComponent):
    channel = "*"

    def init(self, watcher: Watcher) -> None:
        self._watcher = watcher

    @handler(channel="*", priority=WATCH_PRIORITY)
    def _record(self, event: Event, *args: Any, **kwargs: Any) -> None:
        self._watcher._record(event)


def _matches(event: Event, name: str, channel: Any) -> bool:
    return event.name == name and (channel is None or channel in (event.channels or ()))


def _describe(event: Event) -> str:
    channels = ", ".join(repr(c) for c in event.channels or ())
    args = ", ".join(_short(a) for a in event.args)
    return f"{event.name}({args}) on ({channels})"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
