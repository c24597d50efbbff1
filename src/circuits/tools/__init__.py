"""Tools for inspecting and managing component trees.

``getargspec`` and ``tryimport`` live here because the core imports them; the
core is therefore only imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import inspect as _inspect
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["getargspec", "tryimport"]


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
        import warnings

        warnings.warn(message, stacklevel=2)
    return None
