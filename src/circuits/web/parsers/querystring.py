"""Query strings with nested keys: ``a[]=1&a[]=2&b.c=3`` -> ``{'a': ['1', '2'], 'b': {'c': '3'}}``.

Pairs are processed sorted by key. ``[`` ends an ARRAY name, ``.`` an
OBJECT name, ``]`` a list index (an int, or None: append); trailing text is
a plain key. Indices past the end of a list append, so ``a[5]=x`` on an
empty list gives ``['x']``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["MAX_FIELDS", "QueryStringParser", "QueryStringToken"]

# Fields per query string: Django's DATA_UPLOAD_MAX_NUMBER_FIELDS default
# (1000) bounds the work a hostile URL or form body can cause.
MAX_FIELDS = 1000

_Key = str | int | None


class QueryStringToken:
    """The kinds of token a nested key is split into."""

    ARRAY = "ARRAY"
    OBJECT = "OBJECT"
    KEY = "KEY"


class QueryStringParser:
    """Parse ``data`` into :attr:`result`, a dict of str values, lists and dicts.

    Args:
        data: a query string, a list of ``(key, value)`` pairs, or a
            (multi-)dict-like object.
        max_fields: more fields raise ``ValueError``.

    Raises:
        ValueError: more than ``max_fields`` fields.
    """

    def __init__(self, data: Any, max_fields: int = MAX_FIELDS) -> None:
        self.result: dict[str, Any] = {}
        pairs = list(self._pairs(data, max_fields))
        if len(pairs) > max_fields:
            raise ValueError(f"more than {max_fields} query string fields")
        for key, value in sorted(pairs, key=lambda pair: str(pair[0])):
            key = str(key)
            if "[" not in key and "." not in key:
                self.result[key] = value
            else:
                self.process(key, value)

    @staticmethod
    def _pairs(data: Any, max_fields: int) -> Iterable[tuple[Any, Any]]:
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        if isinstance(data, str):
            pairs = parse_qsl(data, keep_blank_values=True, max_num_fields=max_fields)
            return [(key.strip(), value.strip()) for key, value in pairs]
        if hasattr(data, "iterallitems"):
            return list(data.iterallitems())
        if hasattr(data, "items"):
            return list(data.items())
        return list(data)

    def tokens(self, key: str) -> Iterator[tuple[str, _Key]]:
        """Split a nested key into ``(type, name)`` tokens."""
        buf = ""
        for char in key:
            if char == "[":
                yield QueryStringToken.ARRAY, buf
                buf = ""
            elif char == ".":
                yield QueryStringToken.OBJECT, buf
                buf = ""
            elif char == "]":
                yield QueryStringToken.KEY, int(buf) if buf.isdecimal() and buf.isascii() else None
                buf = ""
            else:
                buf += char
        if buf:
            yield QueryStringToken.KEY, buf

    def process(self, key: str, value: Any) -> None:
        """Store ``value`` under the nested ``key`` in :attr:`result`."""
        tokens = list(self.tokens(key))
        parent: dict[str, Any] | list[Any] = self.result
        follows_key = False  # after "]", an empty ARRAY/OBJECT name is the element itself
        for i, (kind, name) in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if kind == QueryStringToken.KEY:
                if nxt is None:
                    _assign(parent, name, value)
                    return
                container = list if nxt[0] == QueryStringToken.ARRAY else dict
                parent = _child(parent, name, container)
                follows_key = True
                continue
            if follows_key and name == "":
                follows_key = False
                continue
            follows_key = False
            parent = _child(parent, name, list if kind == QueryStringToken.ARRAY else dict)
        if tokens and tokens[-1][0] != QueryStringToken.KEY:  # "a[" or "a.": a bare name
            _assign(parent, None, value)


def _child(parent: dict[str, Any] | list[Any], name: _Key, kind: type) -> Any:
    if isinstance(parent, dict):
        key = "" if name is None else str(name)
        if not isinstance(parent.get(key), kind):
            parent[key] = kind()
        return parent[key]
    if isinstance(name, int) and name < len(parent):
        if not isinstance(parent[name], kind):
            parent[name] = kind()
        return parent[name]
    parent.append(kind())
    return parent[-1]


def _assign(parent: dict[str, Any] | list[Any], name: _Key, value: Any) -> None:
    if isinstance(parent, dict):
        parent["" if name is None else str(name)] = value
    elif isinstance(name, int) and name < len(parent):
        parent[name] = value
    else:
        parent.append(value)
