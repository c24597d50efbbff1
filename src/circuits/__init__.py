"""circuits: a lightweight, event-driven, asynchronous application framework.

Applications are trees of components that talk through events::

    from circuits import Component, Event

    class hello(Event):
        pass

    class App(Component):
        def hello(self):
            print("Hello World!")
            self.stop()

        def started(self, manager):
            self.fire(hello())

    App().run()

The core lives in :mod:`circuits.core`; networking in :mod:`circuits.net`,
:mod:`circuits.io` and :mod:`circuits.protocols`; the web framework in
:mod:`circuits.web`.
"""

from __future__ import annotations

from .core import (
    BaseComponent as BaseComponent,
    Bridge as Bridge,
    Component as Component,
    Debugger as Debugger,
    Event as Event,
    Loader as Loader,
    Manager as Manager,
    TimeoutError as TimeoutError,
    Timer as Timer,
    Worker as Worker,
    handler as handler,
    ipc as ipc,
    reprhandler as reprhandler,
    sleep as sleep,
    task as task,
)
from .version import __version__ as __version__


def run_async(app: Manager) -> None:
    """Run ``app`` on a new asyncio loop until it stops (``asyncio.run(app.run_async())``)."""
    from .core._asyncio import run_async as _run_async

    _run_async(app)


__author__ = "James Mills"
__date__ = "2026-11-25"

__all__ = [
    "BaseComponent",
    "Bridge",
    "Component",
    "Debugger",
    "Event",
    "Loader",
    "Manager",
    "TimeoutError",
    "Timer",
    "Worker",
    "__version__",
    "handler",
    "ipc",
    "reprhandler",
    "run_async",
    "sleep",
    "task",
]
