"""The ``@handler`` decorator and the metaclass that makes methods handlers.

A handler is a plain function carrying attributes (``handler``, ``names``,
``channel``, ``priority``, ``override``, ``event``); the decorator sets them on
the very function it is given. Everything the dispatcher needs to know about
a handler is computed here, once, not per event.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType
from typing import Any, Literal, TypeVar

from ..tools import getargspec

__all__ = ["HandlerMetaClass", "Unknown", "getargspec", "handler", "reprhandler"]

F = TypeVar("F", bound=Callable[..., Any])


def handler(
    *names: str | Literal[False],
    channel: Any = None,
    priority: float = 0,
    override: bool = False,
    **kwargs: Any,
) -> Callable[[F], F]:
    """Mark a function as an event handler.

    Args:
        *names: event names handled; none (or ``"*"``) handles every event.
            ``handler(False)`` marks a method of a ``Component`` as *not* a handler.
        channel: ``None``: the owner's channel, ``"*"``: all channels.
        priority: higher runs first.
        override: replace the base class's handler of the same name.
        **kwargs: accepted and ignored.

    Returns:
        A decorator returning the same function, with handler attributes set.
    """

    def wrapper(f: F) -> F:
        fa: Any = f
        if names and names[0] is False:
            fa.handler = False
            return f
        fa.handler = True
        fa.names = names
        fa.priority = priority
        fa.channel = channel
        fa.override = override
        if not hasattr(f, "event"):
            args = getargspec(f)[0]
            if args and args[0] == "self":
                del args[0]
            fa.event = bool(args and args[0] == "event")
        return f

    return wrapper


class Unknown:
    """Placeholder class whose name ``reprhandler`` shows for unbound handlers."""


def reprhandler(handler: Any) -> str:
    """Describe a handler: ``<handler[channel][names][priority] (Class.func)>``."""
    from .manager import Manager

    args = ",".join(handler.names)
    channel = handler.channel
    if channel is None:
        channel = "*"
    elif isinstance(channel, Manager):
        channel = f"<instance of {channel.__class__.__name__}>"
    priority = f"[{handler.priority:0.2f}]" if handler.priority else ""
    owner = getattr(handler, "__self__", Unknown())
    return f"<handler[{channel}][{args}]{priority} ({owner.__class__.__name__}.{handler.__name__})>"


class HandlerMetaClass(type):
    """Metaclass turning every public function of a class body into a handler.

    The handler's event name is the attribute name. Functions already carrying a
    ``handler`` attribute (including ``@handler(False)``) are left alone. Other
    callables (nested classes, staticmethods, builtins) are not converted.
    """

    def __init__(cls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> None:
        super().__init__(name, bases, ns)
        for k, v in ns.items():
            if k.startswith("_") or not isinstance(v, FunctionType) or hasattr(v, "handler"):
                continue
            try:
                setattr(cls, k, handler(k)(v))
            except ValueError as e:
                raise ValueError(f"{e} - {cls!r} {k}") from None
