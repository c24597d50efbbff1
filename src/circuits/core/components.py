"""Components: managers that collect their handlers and live in a tree.

``BaseComponent`` registers the methods explicitly decorated with
``@handler``; ``Component`` (built with ``HandlerMetaClass``) makes every
public method a handler for the event of the same name.

The attribute scan that finds a component's handlers is computed once per
class (names of handler attributes and component class attributes), so
creating a component costs a few dict operations per handler, not a walk of
``dir()``.
"""

from __future__ import annotations

from types import MethodType
from typing import TYPE_CHECKING, Any

from ._registry import walk
from .events import Event, registered, unregistered
from .handlers import HandlerMetaClass, handler
from .manager import Manager

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "BaseComponent",
    "Component",
    "Event",
    "HandlerMetaClass",
    "Manager",
    "handler",
    "prepare_unregister",
    "registered",
    "unregistered",
]


class prepare_unregister(Event):
    """Fired by ``unregister()``; the component leaves once it is complete.

    Args:
        *args: the component being unregistered (first argument).
    """

    complete = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def in_subtree(self, component: Any) -> bool:
        """Whether ``component`` is the unregistered component or below it."""
        while True:
            if component is self.args[0]:
                return True
            if component is component.parent:
                return False
            component = component.parent


# Per class: the "<Base>_<name>" aliases of inherited handlers (spec §6.3) and
# the attribute names to look at when registering handlers and children.
_ALIASES: dict[type, list[tuple[str, Any]]] = {}
_SCAN: dict[type, tuple[str, ...]] = {}


def _aliases(cls: type) -> list[tuple[str, Any]]:
    try:
        return _ALIASES[cls]
    except KeyError:
        pass
    aliases = []
    for base in cls.__bases__:
        for k, v in base.__dict__.items():
            if not callable(v) or getattr(v, "handler", False) is not True:
                continue
            own = cls.__dict__.get(k)
            if (
                own is not None
                and getattr(own, "handler", False)
                and getattr(own, "override", False)
            ):
                continue
            aliases.append((f"{base.__name__}_{k}", v))
    _ALIASES[cls] = aliases
    return aliases


def _scan_names(cls: type) -> tuple[str, ...]:
    try:
        return _SCAN[cls]
    except KeyError:
        pass
    names = []
    for name in dir(cls):
        try:
            v = getattr(cls, name)
        except AttributeError:
            continue
        if isinstance(v, property):
            continue
        if isinstance(v, BaseComponent) or (callable(v) and getattr(v, "handler", False) is True):
            names.append(name)
    _SCAN[cls] = result = tuple(names)
    return result


class BaseComponent(Manager):
    """A manager on a channel, with the handlers its class declares.

    Args:
        *args: passed to ``init()``.
        **kwargs: passed to ``init()``; ``channel=`` sets the component's
            channel (default: the class attribute, ``"*"``).
    """

    channel: Any = "*"

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        self = super().__new__(cls)
        for alias, f in _aliases(cls):
            setattr(self, alias, MethodType(f, self))
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Instance attributes that exist before the Manager's own: the
        # inherited-handler aliases of __new__ and whatever a subclass set
        # before calling super().__init__().
        early = [k for k, v in self.__dict__.items() if _is_member(v)]
        super().__init__(*args, **kwargs)
        self.channel = kwargs.get("channel", self.channel) or "*"

        names = set(_scan_names(type(self)))
        names.update(early)
        # Read every member before registering any: addHandler sets the
        # attribute named after the function, so an inherited alias
        # ("A_foo" -> A.foo) would otherwise shadow the subclass's "foo".
        members = []
        for name in sorted(names):
            try:
                members.append(getattr(self, name))
            except AttributeError:
                continue
        for v in members:
            if isinstance(v, BaseComponent):
                if v is not self:
                    v.register(self)
            elif callable(v) and getattr(v, "handler", False) is True:
                self.addHandler(v)

        init = getattr(self, "init", None)
        if callable(init):
            init(*args, **kwargs)

        self.addHandler(_UnregisterComplete(self))

    @property
    def unregister_pending(self) -> bool:
        """Whether ``unregister()`` was called and the component has not left yet."""
        return self._unregister_pending

    def register(self, parent: Manager) -> Self:
        """Register under ``parent``; fires ``registered(self, parent)``.

        Returns:
            ``self``.
        """
        self.parent = parent
        self.root = parent.root
        if parent is not self:
            parent.registerChild(self)
            self._updateRoot(parent.root)
            self.fire(registered(self, parent))
        else:
            self._updateRoot(parent.root)
        return self

    def unregister(self) -> Self:
        """Leave the tree once ``prepare_unregister`` has been handled.

        Returns:
            ``self``.
        """
        if self._unregister_pending or self.parent is self:
            return self
        self._unregister_pending = True
        self.root._invalidate()
        e = prepare_unregister(self)
        e.complete_channels = (self,)
        self.fire(e)
        return self

    @classmethod
    def handlers(cls) -> list[Any]:
        """The handler functions visible on the class."""
        found: list[Any] = []
        for name in dir(cls):
            v = getattr(cls, name, None)
            if callable(v) and getattr(v, "handler", False) is True and v not in found:
                found.append(v)
        return found

    @classmethod
    def events(cls) -> list[str]:
        """The event names the class handles (no private or catch-all names)."""
        names: set[str] = set()
        for h in cls.handlers():
            names.update(n for n in h.names if not n.startswith("_"))
        return list(names)

    @classmethod
    def handles(cls, *names: str) -> bool:
        """Whether the class handles every one of ``names``."""
        events = cls.events()
        return all(name in events for name in names)


def _is_member(v: Any) -> bool:
    return isinstance(v, BaseComponent) or (callable(v) and getattr(v, "handler", False) is True)


class _UnregisterComplete:
    """The handler every component has for ``prepare_unregister_complete``.

    It behaves as a bound method whose handler channel is the component
    itself, which a function shared by all instances cannot carry; one small
    slotted object per component is cheaper than a function of its own.
    """

    __slots__ = ("__self__",)

    handler = True
    names = ("prepare_unregister_complete",)
    priority = 0
    override = False
    event = True
    __name__ = "_on_prepare_unregister_complete"

    def __init__(self, component: BaseComponent) -> None:
        self.__self__ = component

    @property
    def channel(self) -> BaseComponent:
        return self.__self__

    def __call__(self, event: Event, e: Any, value: Any) -> None:
        component = self.__self__
        component._unregister_pending = False
        parent = component.parent
        component.fire(unregistered(component, parent))
        if parent is not component:
            old_root = component.root
            parent.unregisterChild(component)
            component.parent = component
            component._updateRoot(component)
            # Leaving the tree cancels the subtree's pending async handlers.
            if old_root._coros or old_root._aio is not None:
                nodes = {id(node) for node in walk(component)}
                old_root._close_coroutines(nodes)
                if old_root._aio is not None:
                    old_root._aio.cancel_owned_by(nodes)

    def __repr__(self) -> str:
        return f"<bound method {type(self.__self__).__name__}._on_prepare_unregister_complete>"


class Component(BaseComponent, metaclass=HandlerMetaClass):
    """A component whose public methods are handlers of the event of the same name.

    ``def hello(self, who)`` handles ``hello`` events; ``@handler(False)``
    keeps a public method out, ``@handler("name", ...)`` configures one.
    """
