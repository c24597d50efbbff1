"""Events: named messages carrying arguments to handlers.

This module defines :class:`Event` and the events the core itself fires.

Per-event cost matters (an event is built for every ``fire``), so the flags
and the per-dispatch state an event starts with (``uid``, ``value``,
``handler``, ``stopped``, ``cancelled``) are class attributes: an instance
only stores what differs. The event name is computed once per class, when
the class is created, instead of on every construction.
"""

from __future__ import annotations

import threading
import traceback as _traceback
from collections.abc import Sequence
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

    from .components import BaseComponent
    from .manager import Manager

__all__ = [
    "Event",
    "exception",
    "generate_events",
    "registered",
    "signal",
    "started",
    "stopped",
    "unregistered",
]

# Marks, in a class's own ``__dict__``, that its ``name`` was derived from the
# class name (as opposed to set by the user). A dunder name keeps it out of
# ``dir(event)``, which circuits.node uses as the list of Event attributes.
_AUTONAME = "__circuits_autoname__"

# Event.create() builds classes on the fly; building a class costs ~10 µs, so
# the classes are kept per (base, name). The bound keeps one-off names (the
# Bridge uses per-call names) from growing the table without limit.
_CREATED: dict[tuple[type, str], type] = {}
_CREATED_MAX = 4096


class Event:
    """An event: a name (the class name), arguments and dispatch flags.

    Args:
        *args: positional arguments passed on to the handlers.
        **kwargs: keyword arguments passed on to the handlers.
    """

    channels: tuple[Any, ...] = ()
    parent: Event | None = None
    notify: bool | str = False
    success: bool = False
    failure: bool = False
    complete: bool = False
    alert_done: bool = False
    waitingHandlers: int = 0

    # Per-dispatch state, instance attributes once set.
    uid: Any = None
    value: Any = None
    handler: Any = None
    stopped: bool = False
    cancelled: bool = False
    name: str

    args: list[Any]
    kwargs: dict[str, Any]

    # Read only when set on an instance (annotations, not class attributes):
    # where ``<name>_success`` / ``<name>_complete`` go instead of ``channels``.
    success_channels: Sequence[Any]
    complete_channels: Sequence[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            return
        for base in cls.__mro__[1:]:
            if "name" in base.__dict__:
                if not base.__dict__.get(_AUTONAME):
                    return  # a name the user chose on a base class is inherited
                break
        cls.name = cls.__name__
        setattr(cls, _AUTONAME, True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = list(args)
        self.kwargs = kwargs

    @classmethod
    def create(cls, _name: str, *args: Any, **kwargs: Any) -> Self:
        """Create an instance of a new subclass of ``cls`` named ``_name``.

        Args:
            _name: the event (and class) name.
            *args: positional event arguments.
            **kwargs: keyword event arguments.

        Returns:
            The new event (an instance of a subclass of ``cls``).
        """
        key = (cls, _name)
        try:
            klass = _CREATED[key]
        except KeyError:
            if len(_CREATED) >= _CREATED_MAX:
                _CREATED.clear()
            klass = _CREATED[key] = type(_name, (cls,), {"name": _name})
        return klass(*args, **kwargs)  # type: ignore[no-any-return]

    def child(self, name: str, *args: Any, **kwargs: Any) -> Event:
        """Create the derived event ``<self.name>_<name>`` with ``parent = self``."""
        e = Event.create(f"{self.name}_{name}", *args, **kwargs)
        e.parent = self
        return e

    def stop(self) -> None:
        """Stop further handlers from being called for this event."""
        self.stopped = True

    def cancel(self) -> None:
        """Cancel the event: if still queued it is skipped entirely."""
        self.cancelled = True

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("handler", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __le__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return False

    def __repr__(self) -> str:
        channels = self.channels
        if not channels:
            chan = ""
        elif len(channels) == 1:
            chan = str(channels[0])
        else:
            chan = repr(channels)
        args = ", ".join(repr(a) for a in self.args)
        kwargs = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"<{self.name}[{chan}] ({args} {kwargs})>"

    def __getitem__(self, i: int | str) -> Any:
        if isinstance(i, int):
            return self.args[i]
        if isinstance(i, str):
            return self.kwargs[i]
        raise TypeError(f"event index must be an int or a str, not {type(i).__name__}")

    def __setitem__(self, i: int | str, value: Any) -> None:
        if isinstance(i, int):
            self.args[i] = value
        elif isinstance(i, str):
            self.kwargs[i] = value
        else:
            raise TypeError(f"event index must be an int or a str, not {type(i).__name__}")


Event.name = "Event"
setattr(Event, _AUTONAME, True)


class exception(Event):
    """Fired when a handler raises.

    Args:
        type: the exception class.
        value: the exception.
        traceback: the traceback; stored formatted (a list of str).
        handler: the handler that raised, if any.
        fevent: the event that was being handled.
    """

    def __init__(
        self,
        type: type[BaseException],
        value: BaseException,
        traceback: TracebackType | list[str] | None,
        handler: Any = None,
        fevent: Event | None = None,
    ) -> None:
        super().__init__(
            type, value, self.format_traceback(traceback), handler=handler, fevent=fevent
        )

    def format_traceback(self, traceback: Any) -> list[str]:
        """Return ``traceback`` as a list of lines (already formatted lists pass)."""
        if traceback is None:
            return []
        if isinstance(traceback, list):
            return traceback
        return _traceback.format_tb(traceback)


# The events below take Event's ``*args`` at run time (no __init__ of their
# own: no extra call per event, and 3.2.5 programs firing them with other
# arguments keep working); the signatures under TYPE_CHECKING tell type
# checkers the arguments the framework fires them with.


class started(Event):
    """Fired by ``run()`` when the loop starts: ``started(manager)``."""

    if TYPE_CHECKING:

        def __init__(self, manager: Manager) -> None: ...


class stopped(Event):
    """Fired by ``stop()``: ``stopped(manager)``."""

    if TYPE_CHECKING:

        def __init__(self, manager: Manager) -> None: ...


class signal(Event):
    """Fired when the process receives SIGINT/SIGTERM: ``signal(signo, stack)``."""

    if TYPE_CHECKING:

        def __init__(self, signo: int, stack: FrameType | None) -> None: ...


class registered(Event):
    """Fired by ``register()``: ``registered(component, manager)``."""

    if TYPE_CHECKING:

        def __init__(self, component: BaseComponent, manager: Manager) -> None: ...


class unregistered(Event):
    """Fired once a component left the tree: ``unregistered(component, manager)``."""

    if TYPE_CHECKING:

        def __init__(self, component: BaseComponent, manager: Manager) -> None: ...


class generate_events(Event):
    """Fired on every loop iteration so producers can fire events and the loop can idle.

    Args:
        lock: the root's lock, guarding ``time_left``.
        max_wait: how long the loop may idle, in seconds (< 0: unlimited).
    """

    _time_left: float
    _lock: threading.RLock

    def __init__(self, lock: Any, max_wait: float) -> None:
        super().__init__()
        self._time_left = max_wait
        self._lock = lock

    @property
    def time_left(self) -> float:
        """Seconds the loop may still idle (< 0: unlimited)."""
        return self._time_left

    @property
    def lock(self) -> Any:
        """The lock guarding ``time_left``."""
        return self._lock

    def reduce_time_left(self, time_left: float) -> None:
        """Shrink the idle time to ``time_left`` seconds; 0 wakes an idle handler.

        Larger and negative values are ignored: the time can only shrink.
        """
        with self._lock:
            if time_left >= 0 and (self._time_left < 0 or self._time_left > time_left):
                self._time_left = time_left
                if time_left == 0 and self.handler is not None:
                    resume = getattr(getattr(self.handler, "__self__", None), "resume", None)
                    if resume is not None:
                        resume()
