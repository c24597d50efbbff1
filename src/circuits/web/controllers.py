"""Controllers: components whose methods answer URLs under their channel.

A controller's channel is the URL prefix it serves (``"/"``, ``"/admin"``);
the `circuits.web.dispatchers.Dispatcher` maps a request path to one of its
handlers and fires an event named after it, with ``(request, response,
*path_segments)`` as arguments and the query/form fields as keyword
arguments. `expose` wraps a method so that it sees only the path segments and
fields, while ``self.request``/``self.response`` hold the request during the
call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from functools import update_wrapper
from http.cookies import SimpleCookie
from inspect import isgenerator
from typing import TYPE_CHECKING, Any

from ..core import BaseComponent, handler
from ..tools import getargspec
from . import errors, tools
from .errors import (
    forbidden as forbidden,
    httperror as httperror,
    notfound as notfound,
    redirect as redirect,
)
from .wrappers import Request, Response

if TYPE_CHECKING:
    from .sessions import Session
    from .url import URL

__all__ = [
    "BaseController",
    "Controller",
    "ExposeJSONMetaClass",
    "ExposeMetaClass",
    "JSONController",
    "expose",
    "exposeJSON",
]

# The per-request attributes set on the controller for the duration of a call.
_REQUEST_ATTRS = ("request", "response", "cookie", "session")


_Arity = tuple[list[str], str | None, str | None, Any, bool]


def _arity(f: Callable[..., Any]) -> _Arity:
    """``getargspec(f)`` minus a leading ``self`` and then ``event``; and whether ``event`` was."""
    args, varargs, varkw, defaults = getargspec(f)
    args = list(args)
    if args and args[0] == "self":
        del args[0]
    takes_event = bool(args and args[0] == "event")
    if takes_event:
        del args[0]
    return args, varargs, varkw, defaults, takes_event


def _begin(self: Any, args: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    """Take ``(request, response)`` off ``args`` onto ``self`` unless a call is in progress."""
    if hasattr(self, "request"):
        return args, False
    self.request, self.response = args[0], args[1]
    self.cookie = self.request.cookie
    if hasattr(self.request, "session"):
        self.session = self.request.session
    return args[2:], True


def _end(self: Any) -> None:
    for name in _REQUEST_ATTRS:
        self.__dict__.pop(name, None)


def _as_handler(
    wrapper: Callable[..., Any],
    f: Callable[..., Any],
    arity: _Arity,
    event: bool,
    channels: tuple[Any, ...],
    config: dict[str, Any],
) -> Callable[..., Any]:
    """Dress ``wrapper`` as ``f`` (name, argspec for the dispatcher) and make it a handler."""
    update_wrapper(wrapper, f)
    wa: Any = wrapper
    wa.args, wa.varargs, wa.varkw, wa.defaults, _ = arity
    wa.event = event
    return handler(*channels, **config)(wrapper)


def expose(*channels: Any, **config: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a controller method answer the URL segments ``channels``.

    Despite the name, ``channels`` are event (handler) names: the raw URL
    segments the method answers (``@expose("foo+bar", "foo_bar")``). The
    method's own name is not registered unless listed.

    Args:
        *channels: the handler names.
        **config: passed to `circuits.core.handler` (``priority``, ``channel``, ...).

    Returns:
        A decorator turning ``f(self, *segments, **fields)`` (or ``f(self, event,
        ...)``) into an event handler taking ``(event, request, response,
        *segments, **fields)``.
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        arity = _arity(f)
        takes_event = arity[4]

        def wrapper(self: Any, event: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                args, first = _begin(self, args)
                if first:
                    self.request.args = args
                    self.request.kwargs = kwargs
                if takes_event:
                    return f(self, event, *args, **kwargs)
                return f(self, *args, **kwargs)
            finally:
                # (3.2.5) the request state lives on the shared controller, so a
                # generator handler loses it at its first suspension.
                _end(self)

        return _as_handler(wrapper, f, arity, True, channels, config)

    return decorate


class _ExposingMeta(type):
    """Applies ``_expose(name)`` to every public callable of a class body."""

    _expose: Callable[..., Any]

    def __init__(cls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> None:
        super().__init__(name, bases, ns)
        for k, v in ns.items():
            if callable(v) and not k.startswith("_") and not hasattr(v, "handler"):
                setattr(cls, k, type(cls)._expose(k)(v))


class ExposeMetaClass(_ExposingMeta):
    """Metaclass exposing every public callable of the class body under its own name."""

    _expose = staticmethod(expose)


class BaseController(BaseComponent):
    """A component serving the URLs under its channel (the URL prefix, no trailing slash).

    The helpers below are valid only while a request is being handled; each
    returns the event or response the handler must *return*.
    """

    channel = "/"

    # Set by the exposed wrappers for the duration of a call only (annotations,
    # not class attributes: "no request attribute" means no call in progress).
    request: Request
    response: Response
    cookie: SimpleCookie
    session: Session

    @property
    def uri(self) -> URL | None:
        """The current request's `circuits.web.url.URL`, or ``None`` outside a request."""
        request = self.__dict__.get("request")
        return None if request is None else request.uri

    def forbidden(self, description: str | None = None) -> errors.forbidden:
        """Answer 403; ``description`` (HTML) replaces the default text when given."""
        kwargs: dict[str, Any] = {} if description is None else {"description": description}
        return errors.forbidden(self.request, self.response, **kwargs)

    def notfound(self, description: str | None = None) -> errors.notfound:
        """Answer 404; ``description`` (HTML) replaces the default text when given."""
        # 3.2.5 passes description=None through and the page shows "None";
        # we keep the class default instead, as the spec recommends.
        kwargs: dict[str, Any] = {} if description is None else {"description": description}
        return errors.notfound(self.request, self.response, **kwargs)

    def redirect(self, urls: str | list[str], code: int | None = None) -> errors.redirect:
        """Redirect to ``urls`` (relative ones resolve against the request URI).

        Raises:
            ValueError: ``code`` is not a known 3xx code.
        """
        return errors.redirect(self.request, self.response, urls, code=code)

    def serve_file(
        self,
        path: str,
        type: str | None = None,
        disposition: str | None = None,
        name: str | None = None,
    ) -> Any:
        """Answer with the file at ``path`` (see ``circuits.web.tools.serve_file``)."""
        return tools.serve_file(self.request, self.response, path, type, disposition, name)

    def serve_download(self, path: str, name: str | None = None) -> Any:
        """Answer with the file at ``path`` as an attachment named ``name``."""
        return tools.serve_download(self.request, self.response, path, name)

    def expires(self, secs: float = 0, force: bool = False) -> None:
        """Set the caching headers of the response to expire in ``secs`` seconds."""
        tools.expires(self.request, self.response, secs, force)


class Controller(BaseController, metaclass=ExposeMetaClass):
    """A controller whose public methods are exposed under their own names."""


def exposeJSON(*channels: Any, **config: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like `expose`, but the result is sent as JSON (``Content-Type: application/json``).

    An `circuits.web.errors.httperror` or `circuits.web.wrappers.Response`
    result is returned unchanged; anything else goes through ``json.dumps``.
    The method gets no ``event`` argument and ``request.args``/``kwargs`` are
    not set. A generator method is a coroutine, as with `expose`: it may
    ``yield self.call(...)``, ``self.wait(...)`` or ``sleep(...)``, and the
    result it yields is sent as JSON.

    Args:
        *channels: the handler names (URL segments).
        **config: passed to `circuits.core.handler`.

    Returns:
        The decorator.
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        arity = _arity(f)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                args, _ = _begin(self, args)
                self.response.headers["Content-Type"] = "application/json"
                result = f(self, *args, **kwargs)
                if isgenerator(result):
                    return _json_coroutine(result)
                return _as_json(result)
            finally:
                _end(self)

        return _as_handler(wrapper, f, arity, False, channels, config)

    return decorate


def _as_json(result: Any) -> Any:
    if isinstance(result, errors.httperror | Response):
        return result
    return json.dumps(result)


def _json_coroutine(task: Generator[Any, Any, Any]) -> Generator[Any, Any, None]:
    """Run the coroutine ``task`` as the handler; what it yields as a result goes out as JSON.

    ``None`` (give way) and awaitables (``self.call()``, ``self.wait()``,
    ``sleep()``, a `Value`) are passed to the loop unchanged, and what the loop
    sends or throws back goes to ``task``.
    """
    send: Any = None
    throw: BaseException | None = None
    while True:
        try:
            item = task.send(send) if throw is None else task.throw(throw)
        except StopIteration:
            return
        send = throw = None
        if item is not None and not hasattr(item, "__await__"):
            item = _as_json(item)
        try:
            send = yield item
        except GeneratorExit:
            task.close()
            raise
        except BaseException as exc:  # a timeout at a call()/wait(): the task's to handle
            throw = exc


class ExposeJSONMetaClass(_ExposingMeta):
    """Metaclass applying `exposeJSON` to every public callable of the class body."""

    _expose = staticmethod(exposeJSON)


class JSONController(BaseController, metaclass=ExposeJSONMetaClass):
    """A controller whose public methods are exposed and answer JSON."""
