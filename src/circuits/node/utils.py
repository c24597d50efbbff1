"""The 3.2.5 node packets: events and results as JSON text.

An event packet is ``{"id", "name", "args", "kwargs", "success", "failure",
"channels", "notify", "meta"}`` and a result packet ``{"id", "errors",
"value", "meta"}``, in that key order, written by ``json.dumps`` with its
default separators (the bytes 3.2.5 nodes write and expect). ``meta`` carries
the attributes a program set on the event; everything the event machinery
itself puts on an event is listed in `META_EXCLUDE` and never travels.

Nothing here unpickles: a packet is JSON or it is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Set as AbstractSet
from typing import TYPE_CHECKING, Any

from ..core.events import Event as Event
from ..core.values import Value

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["META_EXCLUDE", "Event", "dump_event", "dump_value", "load_event", "load_value"]


# The attributes of an event that are machinery, not user data: everything a
# fresh Event has (flags, per-dispatch state, methods, dunders), what the
# node protocol sets on events it executes (3.2.5's four names), and what this
# core and this package attach while dispatching or sending (``complete_channels``
# from ``unregister()``, ``remote`` from the Bridge, ``node_*`` bookkeeping,
# ``remote_finish``/``errors`` set on a sent event when its result arrives).
# ``node_error`` is *not* here: results of failed calls carry it in ``meta``.
# A set, as in 3.2.5: a program may add names of its own.
class _ExcludedNames(set[str]):
    """`META_EXCLUDE`: a set that makes `_meta` forget its cached names when it changes."""

    def _changed(self) -> None:
        _meta_names.clear()

    def add(self, name: str) -> None:
        super().add(name)
        self._changed()

    def discard(self, name: object) -> None:
        super().discard(name)
        self._changed()

    def remove(self, name: str) -> None:
        super().remove(name)
        self._changed()

    def pop(self) -> str:
        name = super().pop()
        self._changed()
        return name

    def clear(self) -> None:
        super().clear()
        self._changed()

    def update(self, *others: Iterable[str]) -> None:
        super().update(*others)
        self._changed()

    def difference_update(self, *others: Iterable[Any]) -> None:
        super().difference_update(*others)
        self._changed()

    def intersection_update(self, *others: Iterable[Any]) -> None:
        super().intersection_update(*others)
        self._changed()

    def symmetric_difference_update(self, other: Iterable[str]) -> None:
        super().symmetric_difference_update(other)
        self._changed()

    def __ior__(self, other: AbstractSet[str]) -> Self:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __iand__(self, other: AbstractSet[object]) -> Self:
        self.intersection_update(other)
        return self

    def __isub__(self, other: AbstractSet[object]) -> Self:
        self.difference_update(other)
        return self

    def __ixor__(self, other: AbstractSet[str]) -> Self:  # type: ignore[override,misc]
        self.symmetric_difference_update(other)
        return self


META_EXCLUDE: set[str] = _ExcludedNames(
    set(dir(Event()))
    | {
        "node_call_id",
        "node_sock",
        "node_without_result",
        "success_channels",
        "complete_channels",
        "remote",
        "remote_finish",
        "errors",
        "node_protocol",
        "node_sender",
    }
)

# The meta names of an event, by (class, its instance attributes, skip
# dunders): ``dir()`` of every event sent cost more than the rest of its
# packet. Class attributes are therefore read once per class. A program
# that gives its events ever new attribute sets stops being cached here.
_meta_names: dict[tuple[type, tuple[str, ...], bool], tuple[str, ...]] = {}
MAX_CACHED_SHAPES = 1024


def _meta(event: Any, skip_dunders: bool) -> dict[str, Any]:
    if event is None:
        return {}
    key = (type(event), tuple(event.__dict__), skip_dunders)
    names = _meta_names.get(key)
    if names is None:
        names = tuple(
            k
            for k in dir(event)
            if k not in META_EXCLUDE and not (skip_dunders and k.startswith("__"))
        )
        if len(_meta_names) < MAX_CACHED_SHAPES:
            _meta_names[key] = names
    return {k: getattr(event, k) for k in names}


def dump_event(e: Event, id: int) -> str:
    """Encode ``e`` as an event packet with call id ``id``.

    Args:
        e: the event; its arguments and meta attributes must be JSON values.
        id: the call id the result will carry.

    Returns:
        The packet as JSON text (no delimiter).

    Raises:
        TypeError: an argument or attribute cannot be encoded as JSON.
    """
    return json.dumps(event_packet(e, id))


def event_packet(e: Event, id: int) -> dict[str, Any]:
    """The fields of `dump_event`'s packet, not yet encoded (for an enclosing JSON)."""
    return {
        "id": id,
        "name": e.name,
        "args": list(e.args),
        "kwargs": e.kwargs,
        "success": e.success,
        "failure": e.failure,
        "channels": list(e.channels),
        "notify": e.notify,
        "meta": _meta(e, skip_dunders=False),
    }


def load_event(s: str | bytes) -> tuple[Event, Any]:
    """Decode an event packet into a new event and its call id.

    Args:
        s: the packet text.

    Returns:
        ``(event, id)``: an ``Event.create(name, *args, **kwargs)`` with
        ``success``, ``failure``, ``notify``, ``channels`` and the allowed meta
        attributes set.

    Raises:
        ValueError: not JSON, or not an event packet (wrong field types).
        LookupError: a field is missing.
    """
    return event_from_packet(json.loads(s))


def event_from_packet(data: Any) -> tuple[Event, Any]:
    """`load_event` for a packet already decoded from JSON."""
    if not isinstance(data, dict):
        raise ValueError(f"an event packet is a JSON object, not {type(data).__name__}")
    name, args, kwargs = data["name"], data["args"], data["kwargs"]
    channels, meta = data["channels"], data["meta"]
    if not isinstance(name, str) or not name:
        raise ValueError(f"event name must be a non-empty string, not {name!r}")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ValueError("event args must be a list and kwargs an object")
    if not isinstance(channels, list) or not isinstance(meta, dict):
        raise ValueError("event channels must be a list and meta an object")
    e = Event.create(name, *args, **kwargs)
    e.success = bool(data["success"])
    e.failure = bool(data["failure"])
    e.notify = bool(data["notify"])
    e.channels = tuple(channels)
    for k, v in meta.items():
        if not k.startswith("__") and k not in META_EXCLUDE:
            setattr(e, k, v)
    return e, data["id"]


def dump_value(v: Value) -> str:
    """Encode ``v`` as a result packet for the call ``v.node_call_id``.

    ``value`` is the raw stored result (a list when several handlers or a
    generator produced values); ``meta`` the user attributes of ``v.event``.

    Raises:
        TypeError: the value or an attribute cannot be encoded as JSON.
    """
    return result_packet(
        getattr(v, "node_call_id", None), v.errors, _plain(v._value), _meta(v.event, True)
    )


def result_packet(id: Any, errors: bool, value: Any, meta: dict[str, Any]) -> str:
    """The text of a result packet from its four fields."""
    return json.dumps({"id": id, "errors": errors, "value": value, "meta": meta})


def event_meta(event: Any) -> dict[str, Any]:
    """The user attributes of ``event`` that a result packet carries back."""
    return _meta(event, skip_dunders=True)


def load_value(s: str | bytes) -> tuple[Any, Any, bool, dict[str, Any]]:
    """Decode a result packet.

    Returns:
        ``(value, id, errors, meta)``, meta without dunder or excluded names.

    Raises:
        ValueError: not JSON, or not a result packet.
        LookupError: a field is missing.
    """
    return value_from_packet(json.loads(s))


def value_from_packet(data: Any) -> tuple[Any, Any, bool, dict[str, Any]]:
    """`load_value` for a packet already decoded from JSON."""
    if not isinstance(data, dict):
        raise ValueError(f"a result packet is a JSON object, not {type(data).__name__}")
    meta = data["meta"]
    if not isinstance(meta, dict):
        raise ValueError(f"result meta must be an object, not {meta!r}")
    meta = {k: v for k, v in meta.items() if not k.startswith("__") and k not in META_EXCLUDE}
    return data["value"], data["id"], bool(data["errors"]), meta


def _plain(value: Any) -> Any:
    """A result with nested Values (a handler returned another event's Value) read through."""
    if isinstance(value, Value):
        return _plain(value.value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
