"""What the XML-RPC and JSON-RPC dispatchers share: the request claim, the callable methods.

``RPCDispatcher`` claims the requests for its path at priority 0.2 (before
the ``Dispatcher``) and hands them to the subclass's ``_serve``.

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
from collections.abc import Generator
from typing import Any

from ...core import BaseComponent, Event, handler

__all__ = [
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "RESERVED_NAMES",
    "RPCDispatcher",
    "arguments_fit",
    "rpc_handlers",
]

# The error codes of calls that never ran. JSON-RPC 2.0 (jsonrpc.org/specification
# §5.1) took them from the XML-RPC fault code interoperability spec
# (xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php): both use these numbers.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

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


class RPCDispatcher(BaseComponent):
    """Claim the requests POSTed to ``path``; a subclass answers them in ``_serve``.

    Args:
        path: the URL path served (``"/rpc"``); ``None`` claims every request.
        encoding: the encoding of the response (and of a JSON-RPC request).
        rpc_channel: where the call events are fired.
        **kwargs: passed to `circuits.core.BaseComponent` (``channel``).
    """

    channel = "web"
    content_type = "application/octet-stream"  # each subclass names its own

    def __init__(
        self,
        path: str | None = None,
        encoding: str = "utf-8",
        rpc_channel: Any = "*",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.encoding = encoding
        self.rpc_channel = rpc_channel

    @handler("request", priority=0.2)
    def _on_request(self, event: Event, req: Any, res: Any, peer_cert: Any = None) -> Any:
        if self.path is not None and self.path != req.path.rstrip("/"):
            return None
        event.stop()
        res.headers["Content-Type"] = self.content_type
        return self._serve(req, res)

    def _serve(self, req: Any, res: Any) -> Generator[Any, Any, None]:
        """Yield the response body for the call in ``req``."""
        raise NotImplementedError

    def _refusal(
        self, method: str, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[int, str] | None:
        """Why ``method(*args, **kwargs)`` may not be called (a code and a message), or None."""
        handlers = rpc_handlers(self, method, self.rpc_channel)
        if not handlers:
            return METHOD_NOT_FOUND, f"method not found: {method!r}"
        # "_name" would clash with the first argument of Event.create
        if "_name" in kwargs or not arguments_fit(handlers, args, kwargs):
            return INVALID_PARAMS, f"invalid parameters for {method!r}"
        return None


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
