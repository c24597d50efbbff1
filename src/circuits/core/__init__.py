"""The core: events, handlers, components, the manager and its loop."""

from __future__ import annotations

from .bridge import Bridge as Bridge, ipc as ipc
from .components import BaseComponent as BaseComponent, Component as Component
from .debugger import Debugger as Debugger
from .events import Event as Event
from .handlers import handler as handler, reprhandler as reprhandler
from .loader import Loader as Loader
from .manager import Manager as Manager, TimeoutError as TimeoutError, sleep as sleep
from .timers import Timer as Timer
from .values import Value as Value
from .workers import Worker as Worker, task as task

__all__ = (
    "BaseComponent",
    "Bridge",
    "Component",
    "Debugger",
    "Event",
    "Manager",
    "TimeoutError",
    "Timer",
    "Worker",
    "handler",
    "ipc",
    "task",
)
