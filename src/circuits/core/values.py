"""``Value``: the result of an event, returned by ``fire()``.

A Value fills in as the event's handlers return; a handler that returns
another event's Value nests it (``parent`` links the inner to the outer), and
resolving the inner one updates the outer one's flags and notifications.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

from .events import Event

__all__ = ["Event", "Value"]


class Value:
    """The future result of an event.

    Args:
        event: the event this Value belongs to.
        manager: the manager that fired it (notifications are sent to it).
    """

    # Defaults live on the class: a fresh Value stores only three attributes.
    notify: bool | str = False
    promise: bool = False
    result: bool = False
    errors: bool = False
    handled: bool = False
    _value: Any = None
    # Set by the dispatcher when every handler of the event has finished.
    _done: bool = False
    # Callbacks run (once) when the event is done: resumed call()/wait() tasks.
    _waiters: list[Callable[[Value], None]] | None = None

    # The enclosing Value; a Value is its own parent until nested. Stored only
    # when nested, so that a plain Value is not a reference cycle by itself.
    _parent: Value | None = None

    def __init__(self, event: Event | None = None, manager: Any = None) -> None:
        self.event = event
        self.manager = manager

    @property
    def parent(self) -> Value:
        """The Value this one was returned into, or itself."""
        parent = self._parent
        return self if parent is None else parent

    @parent.setter
    def parent(self, parent: Value) -> None:
        self._parent = None if parent is self else parent

    def _when_done(self, callback: Callable[[Value], None]) -> None:
        """Call ``callback(self)`` once the event is done: at once if it is."""
        if self._done:
            callback(self)
        elif self._waiters is None:
            self._waiters = [callback]
        else:
            self._waiters.append(callback)

    def _detach(self) -> None:
        """Drop the links to the event and the enclosing Value (both cycles).

        For a final value that nothing reads through its event any more: the
        objects are then freed by reference counting, not by the cyclic GC.
        """
        self.event = None
        self._parent = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("manager", None)
        state.pop("_waiters", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.manager = None

    def __contains__(self, y: object) -> bool:
        value = self.value
        return y in value if isinstance(value, list) else y == value

    def __getitem__(self, y: Any) -> Any:
        v = self.value[y]
        return v.value if isinstance(v, Value) else v

    def __iter__(self) -> Iterator[Any]:
        for v in self.value:
            yield v.value if isinstance(v, Value) else v

    def __repr__(self) -> str:
        value = repr(self.value) if self.result else ""
        return (
            f"<Value ({value}) result={self.result!r}; errors={self.errors!r}; for {self.event!r}>"
        )

    def __str__(self) -> str:
        return str(self.value)

    def __await__(self) -> Generator[Any, Any, Any]:
        """Wait until the event is fully handled; return its result or raise its error.

        Works from asyncio code (on any thread: the manager may run elsewhere)
        and from an ``async def`` handler under either loop.

        Raises:
            TypeError: the Value was not returned by ``fire()``.
            Exception: the error of a handler that raised.
        """
        from ._coroutines import _in_asyncio_task, _Wait

        if self.manager is None:
            raise TypeError(f"{self!r} was not returned by fire(): there is nothing to await")
        wait = _Wait(self.manager, self, (), -1, False)
        if _in_asyncio_task():
            from ._asyncio import wait_future

            yield from wait_future(wait).__await__()
        else:
            yield wait
        return self.outcome()

    def outcome(self) -> Any:
        """The result, or raise the error of the handler that failed.

        Raises:
            Exception: the first error stored in the Value.
        """
        value = self.value
        if self.errors:
            for item in value if isinstance(value, list) else [value]:
                if (
                    isinstance(item, tuple)
                    and len(item) == 3
                    and isinstance(item[1], BaseException)
                ):
                    error = item[1]
                    if type(error).__name__ == "CancelledError":
                        # Re-raising CancelledError would make asyncio take the
                        # awaiting task for cancelled; it was the handler.
                        raise RuntimeError(
                            f"a handler of {self.event!r} was cancelled "
                            "(its component left the tree or the manager stopped)"
                        ) from error
                    raise error.with_traceback(item[2])
        return value

    def inform(self, force: bool = False) -> None:
        """Fire the value-changed notification if notification is on.

        Args:
            force: notify even though a coroutine handler is still running.
        """
        if self.promise and not force:
            return
        notify = getattr(self.event, "notify", False) or self.notify
        manager = self.manager
        if manager is not None and notify:
            if isinstance(notify, str):
                e = Event.create(notify, self)
            else:
                assert self.event is not None
                e = self.event.child("value_changed", self)
            manager.fire(e, manager)

    def getValue(self, recursive: bool = True) -> Any:
        """Return the stored result; with ``recursive``, read through nested Values."""
        value = self._value
        if not recursive:
            return value
        while isinstance(value, Value):
            value = value._value
        return value

    def setValue(self, value: Any) -> None:
        """Store a handler result: the first is kept as is, later ones make a list."""
        if isinstance(value, Value):
            value.parent = self
        if self.result and isinstance(self._value, list):
            self._value.append(value)
        elif self.result:
            self._value = [self._value, value]
        else:
            self._value = value

        o = self
        while True:
            if isinstance(value, Value):
                o.errors = value.errors
                o.result = value.result
            elif value is not None:
                o.result = True
                o.inform()
            parent = o.parent
            if parent is o:
                break
            parent.errors = o.errors
            parent.result = o.result
            o = parent

    value = property(getValue, setValue, None, "The result, read through nested Values.")
