"""Pollers (placeholder)."""

from __future__ import annotations

from typing import Any

from .components import BaseComponent
from .events import Event
from .handlers import handler

__all__ = ["BasePoller", "EPoll", "KQueue", "Poll", "Poller", "Select"]


class BasePoller(BaseComponent):
    channel: Any = None


class Select(BasePoller):
    channel = "select"


class Poll(BasePoller):
    channel = "poll"


class EPoll(BasePoller):
    channel = "epoll"


class KQueue(BasePoller):
    channel = "kqueue"


Poller = Select
_unused = (Event, handler)
