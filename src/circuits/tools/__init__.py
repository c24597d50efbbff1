"""Tools for inspecting and managing component trees.

``Inspector`` (in ``_inspector``) serves a running app's tree and events to
the ``python -m circuits inspect`` and ``circuits.sniff`` commands.

``getargspec`` and ``tryimport`` live here because the core imports them
(``circuits.core.handlers`` needs ``getargspec``), so this module must not
import ``circuits.core`` at import time: the few functions that need the core
import it when called.

The tree functions take any component (anything with ``parent`` and
``components``); children are visited in the iteration order of
``components``, which is unspecified.
"""

from __future__ import annotations

import functools
import inspect as _inspect
import logging
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._inspector import Inspector as Inspector

__all__ = [
    "Inspector",
    "deprecated",
    "edges",
    "findroot",
    "getargspec",
    "graph",
    "graph_ascii",
    "graph_dot",
    "graph_png",
    "inspect",
    "kill",
    "tryimport",
    "walk",
]

log = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    # Inspector is a component, and the core imports this module while it is
    # itself being imported: load it on first use instead.
    if name == "Inspector":
        from ._inspector import Inspector

        return Inspector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# What graph_dot()/graph_png() need, in the order the error message lists them.
GRAPH_PACKAGES = ("networkx", "pygraphviz", "matplotlib")


def getargspec(func: Callable[..., Any]) -> tuple[list[str], str | None, str | None, Any]:
    """Return ``(args, varargs, varkw, defaults)`` of ``func``.

    Raises:
        TypeError: if ``func`` has no inspectable signature.
    """
    spec = _inspect.getfullargspec(func)
    return spec.args, spec.varargs, spec.varkw, spec.defaults


def tryimport(
    modules: str | Iterable[str], obj: str | None = None, message: str | None = None
) -> Any:
    """Import the first importable of ``modules`` (and return its ``obj`` if given).

    Returns:
        The module (for a dotted name, its top-level package, as ``__import__``
        gives it) or the attribute; ``None`` if nothing could be imported, after
        ``warnings.warn(message)`` when a message was given.
    """
    if isinstance(modules, str):
        modules = [modules]
    for module in modules:
        try:
            m = __import__(module, globals(), locals())
            return getattr(m, obj) if obj is not None else m
        except Exception:
            continue
    if message is not None:
        warnings.warn(message, stacklevel=2)
    return None


def walk(x: Any, f: Callable[[int, Any], T], d: int = 0, v: set[int] | None = None) -> Iterator[T]:
    """Yield ``f(depth, node)`` for ``x`` (at depth ``d``) and every descendant.

    The walk is depth first and visits each node once.

    Args:
        x: the component to start from.
        f: called with the depth and the node.
        d: the depth of ``x``.
        v: ids of nodes already visited (internal).
    """
    if v is None:
        v = set()
    v.add(id(x))
    yield f(d, x)
    for c in list(x.components):
        if id(c) not in v:
            yield from walk(c, f, d + 1, v)


def edges(
    x: Any, e: set[tuple[Any, Any, int]] | None = None, v: set[int] | None = None, d: int = 0
) -> set[tuple[Any, Any, int]]:
    """Return the ``(parent, child, depth)`` links of the subtree of ``x``.

    ``x``'s own children are at depth 1.

    Args:
        x: the component to start from.
        e: a set to add the links to (internal).
        v: ids of nodes already visited (internal).
        d: the depth of ``x``.
    """
    if e is None:
        e = set()
    if v is None:
        v = set()
    v.add(id(x))
    for c in list(x.components):
        e.add((x, c, d + 1))
        if id(c) not in v:
            edges(c, e, v, d + 1)
    return e


def findroot(x: Any) -> Any:
    """Follow ``parent`` links from ``x`` up to the root of its tree."""
    while x.parent is not x:
        x = x.parent
    return x


def kill(x: Any) -> None:
    """Take the subtree of ``x`` apart: every node ends up as its own root.

    Children are killed first, then ``x`` is unregistered from its parent.
    Unregistration is deferred: flush the root's queue afterwards.
    """
    for c in list(x.components):
        kill(c)
    if x.parent is not x:
        x.unregister()


def graph_ascii(x: Any) -> str:
    """Draw the tree of ``x`` as indented ``* <repr>`` lines (no final newline)."""

    def line(d: int, node: Any) -> str:
        return f"{' ' * d}* {node!r}"

    return "\n".join(walk(x, line))


def _graph_modules(what: str) -> tuple[Any, Any, Any]:
    """Import networkx, pygraphviz and matplotlib, or say which are missing.

    Raises:
        ImportError: naming the packages that could not be imported.
    """
    modules = [tryimport(name) for name in GRAPH_PACKAGES]
    missing = [name for name, m in zip(GRAPH_PACKAGES, modules, strict=True) if m is None]
    if missing:
        raise ImportError(
            f"{what} needs {', '.join(GRAPH_PACKAGES)}; missing: {', '.join(missing)} "
            f"(install them with: pip install {' '.join(missing)})",
            name=missing[0],
        )
    nx, pygraphviz, matplotlib = modules
    return nx, pygraphviz, matplotlib


def _digraph(nx: Any, x: Any) -> Any:
    g = nx.DiGraph()
    for u, v, d in edges(x):
        g.add_edge(u.name, v.name, weight=d)
    return g


def graph_dot(x: Any, name: str | None = None) -> None:
    """Write the tree of ``x`` as Graphviz ``<name>.dot`` in the current directory.

    Args:
        x: the component to start from.
        name: the file's base name (default: ``x.name``).

    Raises:
        ImportError: if networkx, pygraphviz or matplotlib is missing.
    """
    import importlib

    nx, _, _ = _graph_modules("graph_dot()")
    nx_agraph = importlib.import_module("networkx.drawing.nx_agraph")
    nx_agraph.write_dot(_digraph(nx, x), f"{name or x.name}.dot")


def graph_png(x: Any, name: str | None = None) -> None:
    """Draw the tree of ``x`` into ``<name>.png`` in the current directory.

    Uses a standalone matplotlib ``Figure`` (no pyplot state, no backend change).

    Args:
        x: the component to start from.
        name: the file's base name (default: ``x.name``).

    Raises:
        ImportError: if networkx, pygraphviz or matplotlib is missing.
    """
    import importlib

    nx, _, _ = _graph_modules("graph_png()")
    nx_agraph = importlib.import_module("networkx.drawing.nx_agraph")
    figure = importlib.import_module("matplotlib.figure")

    g = _digraph(nx, x)
    fig = figure.Figure(figsize=(8, 8))
    ax = fig.add_subplot()
    ax.set_axis_off()
    pos = nx_agraph.graphviz_layout(g, prog="dot")
    nx.draw(g, pos, ax=ax, with_labels=True, node_color="#dddddd", node_size=1500, font_size=8)
    fig.savefig(f"{name or x.name}.png")


def graph(x: Any, name: str | None = None) -> str:
    """Write ``.dot`` and ``.png`` drawings of the tree if possible; return the ASCII one.

    Without networkx, pygraphviz and matplotlib no file is written and a
    warning naming the missing packages is logged (not a ``warnings``
    warning: the ASCII graph must still come back where warnings are errors).

    Args:
        x: the component to start from.
        name: base name of the files (default: ``x.name``).

    Returns:
        ``graph_ascii(x)``.
    """
    try:
        graph_dot(x, name)
        graph_png(x, name)
    except ImportError as e:
        log.warning("%s; no .dot/.png written", e)
    return graph_ascii(x)


def inspect(x: Any) -> str:
    """Report ``x``'s children and its own event handlers.

    Returns:
        The text: a ``Components`` section (one ``repr`` per child), an empty
        line, then ``Event Handlers``: each event name with its handler count
        and the handlers (``reprhandler``). Global handlers are not shown.
    """
    from ..core.handlers import reprhandler

    lines = [f" Components: {len(x.components)}\n"]
    lines.extend(f"  {c!r}\n" for c in list(x.components))
    lines.append("\n")
    lines.append(f" Event Handlers: {len(x._handlers)}\n")
    for event, handlers in list(x._handlers.items()):
        lines.append(f"  {event}; {len(handlers)}\n")
        lines.extend(f"   {reprhandler(h)}\n" for h in list(handlers))
    return "".join(lines)


def deprecated(f: F) -> F:
    """Mark ``f`` as deprecated: each call warns, then calls it.

    The ``DeprecationWarning`` ("Call to deprecated function <name>") is
    attributed to the line where ``f`` is defined.
    """
    code = f.__code__

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        warnings.warn_explicit(
            f"Call to deprecated function {f.__name__}",
            category=DeprecationWarning,
            filename=code.co_filename,
            lineno=code.co_firstlineno,
        )
        return f(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
