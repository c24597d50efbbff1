"""Utilities to search a component tree and to (re)import modules."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib import reload
from types import ModuleType
from typing import Any

__all__ = ["findchannel", "findcmp", "findroot", "findtype", "flatten", "safeimport"]


def flatten(root: Any, visited: set[int] | None = None) -> Iterator[Any]:
    """Yield ``root`` and then every descendant, depth first, each once."""
    if visited is None:
        visited = set()
    if id(root) in visited:
        return
    visited.add(id(root))
    yield root
    for component in list(root.components):
        yield from flatten(component, visited)


def findchannel(root: Any, channel: Any, all: bool = False) -> Any:
    """The first component of the tree on ``channel`` (all of them with ``all``)."""
    components = [x for x in flatten(root) if getattr(x, "channel", None) == channel]
    if all:
        return components
    return components[0] if components else None


def findtype(root: Any, component: type | tuple[type, ...], all: bool = False) -> Any:
    """The first component of the tree that is an instance of ``component``."""
    components = [x for x in flatten(root) if isinstance(x, component)]
    if all:
        return components
    return components[0] if components else None


findcmp = findtype


def findroot(component: Any) -> Any:
    """Follow ``parent`` links up to the root."""
    while component.parent is not component:
        component = component.parent
    return component


def safeimport(name: str) -> ModuleType | None:
    """Import (or reload, if already imported) module ``name``; ``None`` on failure.

    On failure every module the attempt added to ``sys.modules`` is removed.
    """
    modules = set(sys.modules)
    try:
        if name in sys.modules:
            return reload(sys.modules[name])
        return __import__(name, globals(), locals(), [""])
    except Exception:
        for added in set(sys.modules) - modules:
            del sys.modules[added]
        return None
