"""``Loader``: load components from modules by name at run time."""

from __future__ import annotations

import inspect
import sys
from typing import Any

from .components import BaseComponent
from .handlers import handler
from .utils import safeimport

__all__ = ["BaseComponent", "Loader", "handler", "safeimport"]


class Loader(BaseComponent):
    """Import a module and instantiate the first component class it defines.

    Args:
        auto_register: register loaded components under the loader.
        init_args: positional arguments for the component.
        init_kwargs: keyword arguments for the component.
        paths: directories put at the front of ``sys.path``.
        channel: the loader's channel (``"loader"``).
    """

    channel = "loader"

    def __init__(
        self,
        auto_register: bool = True,
        init_args: tuple[Any, ...] | None = None,
        init_kwargs: dict[str, Any] | None = None,
        paths: list[str] | None = None,
        channel: Any = channel,
    ) -> None:
        super().__init__(channel=channel)
        self._auto_register = auto_register
        self._init_args = init_args or ()
        self._init_kwargs = init_kwargs or {}
        for path in paths or ():
            sys.path.insert(0, path)

    @handler("load")
    def load(self, name: str) -> Any:
        """Load module ``name``: the new component, or ``None``."""
        module = safeimport(name)
        if module is None:
            return None

        def defined_here(x: Any) -> bool:
            return (
                inspect.isclass(x)
                and issubclass(x, BaseComponent)
                and getattr(x, "__module__", None) == module.__name__
            )

        classes = [cls for _, cls in inspect.getmembers(module, defined_here)]
        if not classes:
            return None
        component = classes[0](*self._init_args, **self._init_kwargs)
        if self._auto_register:
            component.register(self)
        return component
