"""The root's handler index and dispatch cache.

Strategy: every node keeps its own handlers (``Manager._handlers``, the 3.2.5
layout). The *root* additionally keeps an index of all handlers of its tree,
by event name and by *resolved* channel (a handler's own ``channel``, or its
owner's when that is ``None``), built lazily and kept up to date on
(un)register and add/remove handler. A dispatch needs the sorted handler list
for ``(name, channels)``: it is computed from the index (a few dict lookups,
no tree walk) and cached until the tree changes. Registering or unregistering
a component costs O(its subtree), never O(tree), so building a tree is linear.

Order: per fired channel the matching handlers are taken in registration
order; the per-channel lists are concatenated (a handler matching two fired
channels runs twice, as in 3.2.5) and stably sorted by descending priority.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .manager import Manager

# Registration order of handlers, across all trees: ties in priority are
# broken by it, so equal-priority handlers run in the order they were added.
_seq = itertools.count()

# Bound the cache per event name: instance-targeted events (fired at a
# component) make one key per target.
CACHE_KEYS_PER_NAME = 256


def next_seq() -> int:
    return next(_seq)


def walk(node: Manager) -> Iterable[Manager]:
    """``node`` and all its descendants, each once, depth first."""
    if not node.components:
        return (node,)  # a leaf, the common case: no generator, no set
    return _walk(node)


def _walk(node: Manager) -> Iterator[Manager]:
    stack = [node]
    seen: set[int] = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        stack.extend(n.components)


def seq_of(node: Manager, h: Any) -> int:
    """``h``'s registration number (given now to a handler added behind addHandler's back)."""
    seq = node._handler_seq.get(h)
    if seq is None:
        seq = node._handler_seq[h] = next_seq()
    return seq


def resolve_channel(node: Manager, h: Any) -> Any:
    c = h.channel
    return getattr(node, "channel", None) if c is None else c


class Index:
    """name -> resolved channel -> {handler: seq} for a whole tree.

    Entries are plain ints in nested dicts: an index entry allocates no
    object of its own (every object a registration allocates costs GC time).
    """

    __slots__ = ("by_name", "where")

    def __init__(self) -> None:
        self.by_name: dict[str, dict[Any, dict[Any, int]]] = {}
        # name -> handler -> the channel bucket it is in, for O(1) removal
        self.where: dict[str, dict[Any, Any]] = {}

    def add_node(self, node: Manager) -> None:
        for name, hs in node._handlers.items():
            for h in hs:
                self.add(name, node, h, seq_of(node, h))
        for h in node._globals:
            self.add("*", node, h, seq_of(node, h))

    def remove_node(self, node: Manager) -> None:
        for name, hs in node._handlers.items():
            for h in hs:
                self.remove(name, node, h)
        for h in node._globals:
            self.remove("*", node, h)

    def add(self, name: str, node: Manager, h: Any, seq: int) -> None:
        chan = resolve_channel(node, h)
        self.by_name.setdefault(name, {}).setdefault(chan, {})[h] = seq
        self.where.setdefault(name, {})[h] = chan

    def remove(self, name: str, node: Manager, h: Any) -> None:
        where = self.where.get(name)
        if where is None or h not in where:
            return
        chan = where.pop(h)
        if not where:
            del self.where[name]
        buckets = self.by_name[name]
        bucket = buckets[chan]
        del bucket[h]
        if not bucket:
            del buckets[chan]
            if not buckets:
                del self.by_name[name]

    def matching(self, root: Manager, name: str, channel: Any) -> list[tuple[int, Any]]:
        """(seq, handler) of every handler of ``name`` (and catch-alls) matching ``channel``."""
        found: dict[Any, int] = {}
        for key in (name, "*") if name != "*" else ("*",):
            buckets = self.by_name.get(key)
            if not buckets:
                continue
            if channel == "*":
                for bucket in buckets.values():
                    found.update(bucket)
                continue
            for chan in ("*", channel):
                try:
                    maybe = buckets.get(chan)
                except TypeError:  # an unhashable channel matches nothing by value
                    maybe = None
                if maybe:
                    found.update(maybe)
            if getattr(channel, "root", None) is root and hasattr(channel, "_handlers"):
                # Fired at a component instance: all of its handlers match.
                owned = channel._handlers.get(key)
                if owned:
                    for h in owned:
                        found[h] = seq_of(channel, h)
                if key == "*":
                    for h in channel._globals:
                        found[h] = seq_of(channel, h)
        return sorted(((seq, h) for h, seq in found.items()), key=lambda t: t[0])


def build_handlers(root: Manager, index: Index, name: str, channels: tuple[Any, ...]) -> list[Any]:
    """The handlers to call for ``name`` fired on ``channels``, in call order."""
    collected: list[Any] = []
    for channel in channels:
        collected.extend(h for _, h in index.matching(root, name, channel))
    collected.sort(key=lambda h: -h.priority)
    return collected
