"""What the XML-RPC and JSON-RPC dispatchers share: which method names a client may call.

A remote call becomes an event named after the method, fired on the RPC
channel (``"*"`` by default: every channel). Unchecked, a client could
fire the framework's own events that way (``close``, ``write``,
``request``...) on every component. So a method is callable only if its
name is not one of those (nor ``_private``, nor one of their
``_success``-style follow-ups) and some handler of that name listens on the
RPC channel; a call whose arguments that handler cannot take is refused
before it runs.
"""

from __future__ import annotations

import inspect
from typing import Any

from ...core import Event

__all__ = ["RESERVED_NAMES", "arguments_fit", "rpc_handlers"]

# Events of circuits.core, circuits.net and circuits.web a remote client must
# not fire: lifecycle, I/O, HTTP plumbing.
RESERVED_NAMES = frozenset(
    {
        "close", "closed", "connect", "connected", "disconnect", "disconnected",
        "error", "exception", "generate_events", "started", "stopped", "signal",
        "registered", "unregistered", "prepare_unregister", "ready", "read", "write",
        "unreachable", "task", "request", "response", "stream", "httperror",
        "notfound", "forbidden", "redirect", "unauthorized", "terminate", "value_changed",
    }
)  # fmt: skip
_FOLLOW_UPS = ("_success", "_failure", "_complete", "_done", "_value_changed")


def _reserved(name: str) -> bool:
    if not name or name.startswith("_") or name in RESERVED_NAMES:
        return True
    return any(name.endswith(s) and _reserved(name[: -len(s)]) for s in _FOLLOW_UPS)


def rpc_handlers(component: Any, name: str, channel: Any) -> list[Any]:
    """The handlers of the event ``name`` on ``channel`` in ``component``'s tree.

    Handlers of every event (a debugger, say) do not count. Empty for a
    reserved name. Looked up before any event class is made for ``name``, so
    a client naming methods that do not exist creates nothing.
    """
    if not isinstance(name, str) or _reserved(name):
        return []
    probe = Event()
    probe.name = name
    found = component.root.getHandlers(probe, channel)
    return [h for h in found if name in getattr(h, "names", ())]


def arguments_fit(handlers: list[Any], args: list[Any], kwargs: dict[str, Any]) -> bool:
    """Whether at least one of ``handlers`` accepts ``args`` and ``kwargs``.

    A handler whose signature cannot be read is assumed to accept them.
    """
    for h in handlers:
        try:
            signature = inspect.signature(h)
        except (TypeError, ValueError):
            return True
        leading = [None] if getattr(h, "event", False) else []
        try:
            signature.bind(*leading, *args, **kwargs)
        except TypeError:
            continue
        return True
    return False
