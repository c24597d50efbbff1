"""Attaching I/O components to the tree's poller (net-io §3.2).

Socket, file and serial components cannot block the loop, so they hand their
descriptors to a poller (``circuits.core.pollers``). On ``registered`` and
``started`` (heard on every channel) a component without a poller adopts the
one being registered, or, when the event is about the component itself,
looks for a poller anywhere in its tree and creates one (``Poller``, the best
of the platform) as its own child if there is none. Then it fires ``ready``.
So one poller serves a whole tree, whichever order things are registered in.
"""

from __future__ import annotations

from typing import Any

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.pollers import BasePoller, Poller
from ..core.utils import findcmp
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
            poller = component
        elif component is not self:
            return
        else:
            found = findcmp(self.root, BasePoller)
            if found is None:
                try:
                    found = Poller().register(self)
                except OSError as exc:
                    self.fire(error(exc))
                    return
            poller = found
        self._poller = poller
        self._poller_attached(poller)
        self.fire(self._ready_event())

    def _poller_attached(self, poller: BasePoller) -> None:
        """Called once a poller was adopted, before ``ready`` is fired."""

    def _ready_event(self) -> Event:
        return ready(self)


class ClosingPollerUser(PollerUser):
    """A poller user that closes with its application (clients, files, serial ports).

    On any ``stopped`` it asks itself to ``close`` (flushing what is queued);
    when it leaves the tree it closes at once. Subclasses provide ``_close()``.
    """

    def _close(self) -> None:
        raise NotImplementedError

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        self.fire(close())

    @handler("prepare_unregister", channel="*")
    def _on_prepare_unregister(self, event: Any, c: Any) -> None:
        if event.in_subtree(self):
            self._close()
