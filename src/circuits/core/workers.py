"""``Worker`` and ``task``: run blocking functions in a thread or process pool.

The ``task`` handler submits the function to the pool and parks as a
coroutine on a private Value; the pool's completion callback (in a pool
thread) hands that Value to the loop thread, which resolves it and resumes
the coroutine at once: no polling, no internal events.
"""

from __future__ import annotations

import multiprocessing
import threading
import weakref
from collections.abc import Callable, Generator
from multiprocessing.pool import Pool, ThreadPool
from typing import Any

from .components import BaseComponent
from .events import Event
from .handlers import handler
from .values import Value

__all__ = ["DEFAULT_WORKERS", "BaseComponent", "Event", "Worker", "handler", "task"]

# Threads in a thread-mode Worker's pool (3.2.5's default).
DEFAULT_WORKERS = 10


class task(Event):
    """Run ``f(*args, **kwargs)`` on a Worker; the event's value is its result.

    Args:
        f: the function (picklable in process mode).
        *args: its positional arguments.
        **kwargs: its keyword arguments.
    """

    success = True
    failure = True

    def __init__(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(f, *args, **kwargs)


class Worker(BaseComponent):
    """A pool of threads (or processes) that runs ``task`` events.

    Args:
        process: use a process pool instead of threads.
        workers: pool size (default: CPU count for processes, 10 for threads).
        channel: the worker's channel (``"worker"``).
    """

    channel = "worker"

    def __init__(
        self, process: bool = False, workers: int | None = None, channel: Any = channel
    ) -> None:
        super().__init__(channel=channel)
        current = threading.current_thread()
        if not hasattr(current, "_children"):
            current._children = weakref.WeakKeyDictionary()  # type: ignore[attr-defined]
        self.workers = workers or (multiprocessing.cpu_count() if process else DEFAULT_WORKERS)
        self.pool: Pool = (
            multiprocessing.get_context("fork").Pool(self.workers)
            if process
            else ThreadPool(self.workers)
        )

    @handler("task")
    def _on_task(
        self, f: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Generator[Any, Any, Any]:
        done = Value()
        root = self.root

        def finished(_: Any) -> None:  # in a pool thread
            root._call_in_loop(root._resolve, done)

        result = self.pool.apply_async(f, args, kwargs, callback=finished, error_callback=finished)
        yield self.wait(done)
        yield result.get()

    @handler("stopped", "unregistered", channel="*")
    def _on_stopped(self, event: Event, *args: Any) -> None:
        if event.name == "unregistered" and args and args[0] is not self:
            return
        self.pool.close()
        self.pool.join()
