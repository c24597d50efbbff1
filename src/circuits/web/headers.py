"""HTTP header containers and header-value parsing (``Accept``-style elements with q-values).

``Headers`` is what requests and responses carry. Unlike 3.2.5 it refuses
values that would corrupt the message: CR, LF and NUL (response splitting,
RFC 9110 §5.5) and characters outside Latin-1 (the wire encoding of header
text here). Each refusal is a ``ValueError`` naming the header. The check runs
when a value is stored and again when headers are rendered, so a list value
mutated in place can never reach the wire either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "AcceptElement",
    "CaseInsensitiveDict",
    "HeaderElement",
    "Headers",
    "header_elements",
    "q_separator",
    "tspecials",
]

# Characters that force a parameter value into a quoted-string (RFC 2045 tspecials plus space).
tspecials = re.compile(r'[ \(\)<>@,;:\\"/\[\]\?=]')
# ";q=" in an Accept-style element, spaces allowed around "q" (RFC 9110 §12.4.2 weight).
q_separator = re.compile(r"; *q *=")

# RFC 9110 §7.6.1: connection-level fields belong to the server that frames
# the message, not to an application behind it (it would double the framing);
# the WSGI and ASGI gateways drop or refuse them.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_FORBIDDEN = re.compile(r"[\r\n\x00]")

# Normalised header names: a handful of names recur on every request.
_TITLES: dict[Any, str] = {}
_MAX_TITLES = 1024


def _title(key: object) -> str:
    """``str(key).title()``, remembered for str keys."""
    try:
        return _TITLES[key]
    except (KeyError, TypeError):
        title = str(key).title()
        if type(key) is str and len(_TITLES) < _MAX_TITLES:
            _TITLES[key] = title
        return title


class CaseInsensitiveDict(dict[str, Any]):
    """A dict whose keys are normalised with ``_title(key)`` on store and lookup.

    ``content-type`` and ``CONTENT-TYPE`` both become ``Content-Type`` (and
    ``etag`` becomes ``Etag``, as in 3.2.5). The constructor accepts what
    ``dict()`` accepts.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.update(*args, **kwargs)

    def __getitem__(self, key: object) -> Any:
        return super().__getitem__(_title(key))

    def __setitem__(self, key: object, value: Any) -> None:
        super().__setitem__(_title(key), value)

    def __delitem__(self, key: object) -> None:
        super().__delitem__(_title(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(_title(key))

    def __ior__(self, other: Any) -> CaseInsensitiveDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def get(self, key: object, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        return super().get(_title(key), default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Store every pair of a mapping (iterating its keys), an iterable of pairs, or kwargs."""
        if len(args) > 1:
            raise TypeError(f"update expected at most 1 positional argument, got {len(args)!r}")
        if args:
            other = args[0]
            if isinstance(other, Mapping) or hasattr(other, "keys"):
                for key in other.keys():  # noqa: SIM118 - the keys() protocol, as dict()
                    self[key] = other[key]
            else:
                for key, value in other:
                    self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    @classmethod
    def fromkeys(cls, seq: Iterable[Any], value: Any = None) -> Any:
        """A new instance with every key of ``seq`` set to ``value``."""
        new = cls()
        for key in seq:
            new[key] = value
        return new

    def setdefault(self, key: object, x: Any = None) -> Any:
        """The value under ``key``, storing ``x`` there first when absent."""
        key = _title(key)
        if key not in self:
            self[key] = x
        return self[key]

    def pop(self, key: object, default: Any = None) -> Any:
        """Remove ``key`` and return its value, or ``default``; never raises."""
        return super().pop(_title(key), default)

    def copy(self) -> Any:
        """A shallow copy of the same class."""
        return type(self)(super().items())


def _check(name: str, value: str) -> str:
    if _FORBIDDEN.search(name):
        raise ValueError(f"header name {name!r} contains CR, LF or NUL")
    if _FORBIDDEN.search(value):
        raise ValueError(f"header {name!r} value {value!r} contains CR, LF or NUL")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"header {name!r} value {value!r} is not Latin-1; encode it first "
            "(e.g. add_header parameters use RFC 8187)"
        ) from None
    return value


def _format_param(param: str, value: str | None) -> str:
    # Parameter values are always quoted (3.2.5's quote flag defaults on);
    # a value outside Latin-1 uses the RFC 8187 form  name*=UTF-8''percent-encoded.
    if not value:
        return param
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return f"{param}*=UTF-8''{quote(value, safe='')}"
    value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{param}="{value}"'


class Headers(CaseInsensitiveDict):
    """HTTP headers: a case-insensitive dict whose list values are repeated headers.

    ``str(h)`` renders ``"Name: value\\r\\n"`` per item and a final ``"\\r\\n"``;
    ``bytes(h)`` is that in Latin-1.

    Raises:
        ValueError: on storing a name or value containing CR, LF or NUL, or a
            value outside Latin-1.
    """

    def __setitem__(self, key: object, value: Any) -> None:
        name = _title(key)
        for item in value if isinstance(value, list) else (value,):
            _check(name, str(item))
        super().__setitem__(name, value)

    @classmethod
    def _from_wire(cls, fields: Iterable[tuple[bytes, bytes]]) -> Headers:
        """Headers from parsed field lines the HTTP engine has already validated.

        Repeated fields are joined as by `append` (``Set-Cookie`` kept apart).
        """
        headers = cls()
        store = dict.__setitem__
        for raw_name, raw_value in fields:
            name = raw_name.decode("latin-1").title()
            value = raw_value.decode("latin-1")
            if dict.__contains__(headers, name):
                headers.append(name, value)
            else:
                store(headers, name, [value] if name == "Set-Cookie" else value)
        return headers

    def items(self) -> Iterator[tuple[str, str]]:  # type: ignore[override]
        """Yield ``(name, value)`` as str, one pair per element of a list value."""
        for key, value in super().items():
            for item in value if isinstance(value, list) else (value,):
                yield key, _check(key, str(item))

    def __str__(self) -> str:
        return "".join(f"{key}: {value}\r\n" for key, value in self.items()) + "\r\n"

    def __bytes__(self) -> bytes:
        return str(self).encode("latin-1")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items())!r})"

    def elements(self, key: str) -> list[HeaderElement]:
        """The parsed elements of header ``key``, sorted as by `header_elements`."""
        return header_elements(key, self.get(key))

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``: a list value as is, else the value split on commas.

        Returns:
            The values, stripped; ``['']`` when the header is missing.
        """
        value = self.get(name, "")
        if isinstance(value, list):
            return value
        return [item.strip() for item in str(value).split(",")]

    def append(self, key: str, value: str) -> None:
        """Add a value: store it, extend a list value, or join as ``"old, new"``.

        A first ``Set-Cookie`` is stored as a one-item list, so cookies stay separate lines.

        Raises:
            ValueError: as for storing (CR, LF, NUL, non-Latin-1).
        """
        if key not in self:
            self[key] = [value] if _title(key) == "Set-Cookie" else value
            return
        current = self[key]
        if isinstance(current, list):
            _check(_title(key), str(value))
            current.append(value)
        else:
            self[key] = f"{current}, {value}"

    def add_header(self, _name: str, _value: str | None, **_params: str | None) -> None:
        """Append ``_value`` with parameters: ``"value; k1=\\"v1\\"; k2"``.

        Underscores in parameter names become dashes; a ``None`` value gives
        the bare key; values are quoted with ``\\`` and ``"`` escaped, and
        values outside Latin-1 use RFC 8187 (``filename*=UTF-8''...``).

        Example: ``h.add_header('Content-Disposition', 'attachment',
        filename='a.gif')`` gives ``attachment; filename="a.gif"``.

        Raises:
            ValueError: as for storing (CR, LF, NUL, non-Latin-1).
        """
        parts = [] if _value is None else [_value]
        for key, value in _params.items():
            parts.append(_format_param(key.replace("_", "-"), value))
        self.append(_name, "; ".join(parts))


class HeaderElement:
    """One element of a header value: ``value;k=v;k2=v2``.

    Args:
        value: the element's main value.
        params: its parameters.
    """

    def __init__(self, value: str, params: dict[str, Any] | None = None) -> None:
        self.value = value
        self.params: dict[str, Any] = {} if params is None else params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HeaderElement):
            return NotImplemented
        return self.value == other.value

    __hash__ = None  # type: ignore[assignment]

    def __lt__(self, other: HeaderElement) -> bool:
        return self.value < other.value

    def __str__(self) -> str:
        params = "".join(f";{key}={value}" for key, value in self.params.items())
        return f"{self.value}{params}"

    def __bytes__(self) -> bytes:
        return str(self).encode("latin-1")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r}, {self.params!r})"

    @staticmethod
    def parse(elementstr: str) -> tuple[str, dict[str, Any]]:
        """Split ``"value; k=v; k2"`` into ``(value, {k: v, k2: ''})``."""
        atoms = [atom.strip() for atom in elementstr.split(";") if atom.strip()]
        value = atoms.pop(0) if atoms else ""
        params: dict[str, Any] = {}
        for atom in atoms:
            key, _, val = atom.partition("=")
            params[key.strip()] = val.strip()
        return value, params

    @classmethod
    def from_str(cls, elementstr: str) -> HeaderElement:
        """Parse an element string into an instance of this class."""
        value, params = cls.parse(elementstr)
        return cls(value, params)


class AcceptElement(HeaderElement):
    """An element of ``Accept*`` or ``TE`` with a quality value in ``params['q']``.

    Ordering is by `qvalue`, ties broken by ``str()``; equality compares qvalues.
    """

    @classmethod
    def from_str(cls, elementstr: str) -> AcceptElement:
        """Parse ``"text/html;level=1;q=0.5"``; the q part becomes a `HeaderElement`."""
        atoms = q_separator.split(elementstr, maxsplit=1)
        value, params = cls.parse(atoms[0].strip())
        if len(atoms) > 1:
            params["q"] = HeaderElement.from_str(atoms[1].strip())
        return cls(value, params)

    @property
    def qvalue(self) -> float:
        """The quality value, 1.0 by default.

        A q that is not a number from 0 to 1 counts as 0.0 (not acceptable)
        rather than failing on client input as 3.2.5 did.
        """
        q = self.params.get("q", "1")
        if isinstance(q, HeaderElement):
            q = q.value
        try:
            result = float(q)
        except ValueError:
            return 0.0
        return result if 0.0 <= result <= 1.0 else 0.0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AcceptElement):
            return NotImplemented
        return self.qvalue == other.qvalue

    __hash__ = None

    def __lt__(self, other: HeaderElement) -> bool:
        if not isinstance(other, AcceptElement):
            return NotImplemented
        if self.qvalue == other.qvalue:
            return str(self) < str(other)
        return self.qvalue < other.qvalue


def header_elements(fieldname: str, fieldvalue: str | None) -> list[HeaderElement]:
    """Parse a comma-separated header value into elements, sorted in reverse.

    ``Accept*`` and ``TE`` fields (any capitalisation) give `AcceptElement`s,
    highest q first; others give `HeaderElement`s, reverse-alphabetical.

    Args:
        fieldname: the header name.
        fieldvalue: its value; empty or ``None`` gives ``[]``.

    Returns:
        The elements.
    """
    if not fieldvalue:
        return []
    name = str(fieldname).title()
    cls = AcceptElement if name.startswith("Accept") or name == "Te" else HeaderElement
    result = [cls.from_str(element) for element in str(fieldvalue).split(",")]
    # reversed, not sorted(reverse=True): equal elements come out in 3.2.5's order
    return sorted(result)[::-1]
