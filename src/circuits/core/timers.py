"""``Timer``: fire an event after an interval, once or periodically."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from . import _clock
from .components import BaseComponent
from .events import Event
from .handlers import handler

__all__ = ["BaseComponent", "Timer", "handler"]


class Timer(BaseComponent):
    """Fire ``event`` on ``channels`` after ``interval`` seconds.

    Args:
        interval: seconds, or a ``datetime`` to fire at.
        event: the event instance to fire (re-fired as is when persistent).
        *channels: where to fire it (default: the normal ``fire`` rules).
        persist: fire every ``interval`` seconds until unregistered.
        **kwargs: accepted and ignored.
    """

    def __init__(
        self,
        interval: float | datetime,
        event: Event,
        *channels: Any,
        persist: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._expiry: float | None = None
        self.interval: float = 0
        self.event = event
        self.channels = channels
        self.persist = persist
        self.reset(interval)

    @handler("generate_events")
    def _on_generate_events(self, event: Any) -> None:
        # Runs on every loop iteration for every timer: attributes, not the
        # properties, and no lock when the loop already may not idle.
        expiry = self._expiry
        if expiry is None:
            return
        now = _clock.now()
        if now >= expiry:
            if self._unregister_pending:
                return
            self.fire(self.event, *self.channels)
            if self.persist:
                self._expiry = now + self.interval
            else:
                self.unregister()
            if event._time_left != 0:
                event.reduce_time_left(0)
        elif event._time_left != 0:
            event.reduce_time_left(expiry - now)

    @property
    def expiry(self) -> float | None:
        """When the timer fires next (clock seconds)."""
        return self._expiry

    @expiry.setter
    def expiry(self, expiry: float | None) -> None:
        self._expiry = expiry

    def reset(self, interval: float | datetime | None = None) -> None:
        """Restart the interval (optionally a new one) from now."""
        if isinstance(interval, datetime):
            self.interval = time.mktime(interval.timetuple()) - time.time()
        elif interval is not None:
            self.interval = interval
        self.expiry = _clock.now() + self.interval
