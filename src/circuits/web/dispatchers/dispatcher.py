"""The default dispatcher: request path -> controller channel + handler name.

Strategy. Controllers register under their channel, which is a URL prefix;
the dispatcher records every `BaseController` that joins the tree. For a
request it tries the registered prefixes longest first. On a controller, a
handler named after the HTTP method (``GET``) takes the whole rest of the
path; otherwise the first left-over segment names the handler and the others
become positional arguments, falling back to ``index`` with all of them. A
handler is chosen only if it accepts that many positional arguments. The
dispatcher then fires an event named after the handler on the controller's
channel, with ``(request, response, *segments)`` and the query string and
form fields as keyword arguments, and returns that event's Value: the
``request`` event's value becomes the handler's result.

Nothing found means the dispatcher returns ``None``; the HTTP component then
answers 404 unless another ``request`` handler produced a value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ...core import BaseComponent, Event, handler
from ..controllers import BaseController
from ..errors import error_event
from ..events import response
from ..processors import process
from ..utils import parse_qs

__all__ = ["Dispatcher", "find_handlers", "process", "resolve_methods", "resolve_path"]

log = logging.getLogger(__name__)

# Every component has this internal handler; a URL must never reach it.
_INTERNAL_NAMES = frozenset({"prepare_unregister_complete"})


class Dispatcher(BaseComponent):
    """Route ``request`` events to controller handlers by URL path.

    Args:
        **kwargs: passed to `circuits.core.BaseComponent` (usually ``channel``).

    Attributes:
        paths: controller channel (URL prefix) -> controller.
    """

    channel = "web"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paths: dict[str, BaseController] = {}

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        # The first controller on a channel wins. Only "registered" events
        # handled after we joined are seen (as in 3.2.5): register the
        # Dispatcher before the controllers.
        if isinstance(component, BaseController) and component.channel not in self.paths:
            self.paths[component.channel] = component

    @handler("unregistered", channel="*")
    def _on_unregistered(self, component: Any, manager: Any) -> None:
        if isinstance(component, BaseController) and self.paths.get(component.channel) is component:
            del self.paths[component.channel]

    @handler("request", priority=0.1)
    def _on_request(self, event: Event, req: Any, res: Any, peer_cert: Any = None) -> Any:
        if peer_cert:
            event.peer_cert = peer_cert  # type: ignore[attr-defined]
        _, name, channel, vpath = find_handlers(req, self.paths)
        if name is None or vpath is None:
            return None
        event.kwargs = dict(parse_qs(req.qs)) if req.qs else {}
        if "Content-Type" in req.headers:  # a form body adds its fields
            process(req, event.kwargs)
        # The handler gets (req, res, *segments); a TLS peer certificate stays
        # on the request event.
        event.args = [req, res, *vpath]
        return self.fire(Event.create(name, *event.args, **event.kwargs), channel)

    @handler("request_value_changed")
    def _on_request_value_changed(self, value: Any) -> None:
        if value.handled:
            return
        if value.result and not value.errors:
            res = value.event.args[1]
            res.body = value.value
            self.fire(response(res))
        elif value.errors:  # a coroutine controller raised
            req, res = value.event.args[:2]
            self.fire(error_event(req, res, value.getValue(recursive=True), always_error=True))
        elif value.promise:
            value.event.notify = True


def resolve_path(paths: dict[str, Any], parts: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Yield ``(channel, left-over segments)`` for each registered prefix, longest first."""
    for i in range(len(parts), 0, -1):
        channel = "/" + "/".join(parts[:i])
        if channel in paths:
            yield channel, parts[i:]
    if "/" in paths:
        yield "/", list(parts)


def resolve_methods(parts: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Yield the ``(handler name, positional segments)`` to try for ``parts``, in order.

    The first segment as a method name with the rest as arguments, then
    ``index`` with all of them.
    """
    if parts:
        yield parts[0], parts[1:]
    yield "index", parts


def _accepts(h: Any, n: int) -> bool:
    try:
        return len(h.args) == n or bool(h.varargs) or bool(h.defaults and n <= len(h.defaults))
    except AttributeError:
        # A plain @handler method: it never said how many arguments it takes.
        return False


def _lookup(controller: Any, name: str, vpath: list[str]) -> set[Any] | None:
    if name in _INTERNAL_NAMES:
        return None
    handlers: set[Any] | None = controller._handlers.get(name)
    if handlers and (not vpath or all(_accepts(h, len(vpath)) for h in handlers)):
        return handlers
    return None


def find_handlers(
    req: Any, paths: dict[str, Any]
) -> tuple[Any, str | None, str | None, list[str] | None]:
    """Resolve ``req.path`` (and ``req.method``) against the controllers in ``paths``.

    Sets ``req.index`` to whether the ``index`` handler was chosen.

    Returns:
        ``(handlers, name, channel, vpath)``, or ``([], None, None, None)``.
    """
    parts = [p for p in req.path.strip("/").split("/") if p]
    for channel, left in resolve_path(paths, parts):
        controller = paths[channel]
        method = controller._handlers.get(req.method)
        if method:
            return method, req.method, channel, left
        for name, vpath in resolve_methods(left):
            handlers = _lookup(controller, name, vpath)
            if handlers:
                req.index = name == "index"
                return handlers, name, channel, vpath
    return [], None, None, None
