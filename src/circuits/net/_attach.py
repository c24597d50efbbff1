"""Attaching I/O components to the tree's poller (net-io §3.2).

Socket, file and serial components cannot block the loop, so they hand their
descriptors to a poller (``circuits.core.pollers``). On ``registered`` and
``started`` (heard on every channel) a component without a poller adopts the
one being registered, or, when the event is about the component itself,
looks for a poller anywhere in its tree and creates one (``Poller``, the best
of the platform) as its own child if there is none. Then it fires ``ready``.
So one poller serves a whole tree, whichever order things are registered in.

A poller made that way lives in its creator's subtree, and leaves the tree
with it. So a poller in a subtree that is being unregistered (its
``unregister()`` was called, ``unregistered`` was not yet fired) is not
adopted, except by a component leaving with it; and when a component's poller
has left while the component stays (heard as any ``unregistered``), the
component moves its descriptors to the tree's poller, created as above if
there is none. Without this, a server registered while an old subtree was
leaving, or a client that had adopted the poller of a server since
unregistered, would never be polled again.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.pollers import BasePoller, Poller
from ..core.utils import findtype
from .events import close, error, ready

__all__ = ["ClosingPollerUser", "PollerUser"]


class PollerUser(BaseComponent):
    """A component that does its I/O through the tree's poller.

    Subclasses override ``_poller_attached`` (to watch their descriptors) and
    ``_ready_event`` (to announce themselves).
    """

    _poller: BasePoller | None = None

    @handler("registered", "started", channel="*")
    def _on_registered_or_started(self, component: Any, manager: Any = None) -> None:
        if self._poller is not None:
            return
        if isinstance(component, BasePoller):
            if _leaving_without(component, self):
                return
            poller = component
        elif component is not self:
            return
        else:
            found = self._find_or_create_poller()
            if found is None:
                return
            poller = found
        self._poller = poller
        self._poller_attached(poller)
        self.fire(self._ready_event())

    def _fire_notified(self, event: Event) -> None:
        """Fire ``event`` (a ``read``) with ``notify`` set, as 3.2.5 fired reads."""
        event.notify = True
        self.fire(event)

    @handler("unregistered", channel="*")
    def _on_unregistered(self, component: Any, manager: Any = None) -> None:
        old = self._poller
        if old is None or old.root is self.root:
            return
        # Our poller left the tree and we did not (we still hear the tree's events).
        poller = self._find_or_create_poller()
        if poller is None:
            return
        self._poller = poller
        old._hand_over(self, poller)

    def _find_or_create_poller(self) -> BasePoller | None:
        """The tree's poller (not one that is leaving); else a new child; ``None`` on error."""
        pollers: list[BasePoller] = findtype(self.root, BasePoller, all=True)
        for poller in pollers:
            if not _leaving_without(poller, self):
                return poller
        try:
            created: BasePoller = Poller().register(self)
        except OSError as exc:
            self.fire(error(exc))
            return None
        return created

    def _poller_attached(self, poller: BasePoller) -> None:
        """Called once a poller was adopted, before ``ready`` is fired."""

    def _ready_event(self) -> Event:
        return ready(self)


class ClosingPollerUser(PollerUser):
    """A poller user that closes with its application (clients, files, serial ports).

    On any ``stopped`` it asks itself to ``close`` (flushing what is queued);
    when it leaves the tree it closes at once. Subclasses provide ``_close()``
    and the write queue ``_buffer`` with its ``_closeflag``.
    """

    _buffer: deque[Any]
    _closeflag: bool

    def _close(self) -> None:
        raise NotImplementedError

    def _close_after_flush(self) -> None:
        """Close now if nothing is queued; else once the queue is written."""
        if not self._buffer:
            self._close()
        else:
            self._closeflag = True

    def _unwatch_and_drop_queue(self, fd: Any) -> None:
        """The first steps of every ``_close()``: stop polling ``fd``, forget what is queued."""
        if self._poller is not None:
            self._poller.discard(fd)
        self._buffer.clear()
        self._closeflag = False

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        self.fire(close())

    @handler("prepare_unregister", channel="*")
    def _on_prepare_unregister(self, event: Any, c: Any) -> None:
        if event.in_subtree(self):
            self._close()


def _leaving_without(poller: BasePoller, user: BaseComponent) -> bool:
    """Whether ``poller`` is in a subtree being unregistered that ``user`` is not in."""
    node: Any = poller
    while node.parent is not node:
        if node.unregister_pending and not _within(user, node):
            return True
        node = node.parent
    return False


def _within(component: Any, top: Any) -> bool:
    """Whether ``component`` is ``top`` or below it."""
    while component is not top:
        if component.parent is component:
            return False
        component = component.parent
    return True
