"""``Bridge`` and ``ipc``: run events in another process over a pipe (placeholder)."""

from __future__ import annotations

from typing import Any

from .components import BaseComponent
from .events import Event, exception
from .handlers import handler
from .values import Value

__all__ = ["BaseComponent", "Bridge", "Event", "Value", "exception", "handler", "ipc"]


class ipc(Event):
    """Ask the Bridge to run ``event`` in the peer process."""

    def __init__(self, event: Event, channel: Any = None) -> None:
        super().__init__(event, channel=channel)


class Bridge(BaseComponent):
    """Placeholder: replaced by the real implementation."""

    channel = "bridge"
