"""Session ids, the `Session` mapping and the `Store` interface with its in-memory store.

A `Session` is the dict a controller sees as ``self.session``. It remembers
what it looked like when it was loaded, so the `Sessions` component saves it
at the end of the request only when it changed, and never after `expire`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "SID_BYTES",
    "MemoryStore",
    "Session",
    "Store",
    "create_session",
    "is_sid",
    "verify_session",
    "who",
]

# 32 random bytes (256 bits): twice the 128 bits OWASP asks of a session id.
SID_BYTES = 32
# What `create_session` makes (43 URL-safe base64 characters) and the only
# shape of id a store ever turns into a key or a file name. The lower bound
# lets a custom store use shorter ids of at least 128 bits.
_SID_RE = re.compile(r"[A-Za-z0-9_-]{22,128}\Z")
# Two weeks of inactivity: Django's SESSION_COOKIE_AGE. Used by the stores
# that outlive the process (FileStore, RedisStore).
DEFAULT_TIMEOUT_S = 14 * 24 * 3600
# How often MemoryStore looks for idle sessions, when it has a timeout.
_PURGE_INTERVAL_S = 60.0


def who(request: Any, encoding: str = "utf-8") -> str:
    """The SHA-1 hex digest of the client's address and ``User-Agent``.

    Args:
        request: a `circuits.web.wrappers.Request`.
        encoding: used to encode the text hashed.

    Returns:
        40 hex digits.
    """
    agent = request.headers.get("User-Agent", "")
    text = f"{request.remote.ip}{agent}"
    return hashlib.sha1(text.encode(encoding), usedforsecurity=False).hexdigest()


def create_session(request: Any) -> str:
    """A new, unguessable session id (``secrets.token_urlsafe(32)``).

    Args:
        request: the request the session is for (unused; 3.2.5 mixed in `who`).

    Returns:
        43 URL-safe characters: they need no quoting in a cookie.
    """
    return secrets.token_urlsafe(SID_BYTES)


def is_sid(sid: object) -> bool:
    """Whether ``sid`` has the shape of a session id (and so is safe as a key or file name)."""
    return isinstance(sid, str) and _SID_RE.match(sid) is not None


def verify_session(request: Any, sid: str) -> str:
    """``sid`` if it is well-formed, else a new id.

    Whether the id belongs to a live session is for the store to say: the
    `Sessions` component adopts a client's id only if its store knows it.

    Args:
        request: the request.
        sid: the id the client sent.

    Returns:
        ``sid`` or a fresh id from `create_session`.
    """
    return sid if is_sid(sid) else create_session(request)


def check_json(sid: str, key: object, value: object) -> None:
    """Raise ``TypeError`` unless ``{key: value}`` survives a JSON round trip as it is."""
    if not isinstance(key, str):
        raise TypeError(
            f"session {sid[:8]}...: key {key!r} is a {type(key).__name__}; "
            "this store keeps JSON objects, whose keys are str"
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"session {sid[:8]}...: the value of {key!r} ({type(value).__name__}) is not "
            f"JSON-serialisable ({exc}); this store keeps dict, list, str, int, float, "
            "bool and None only"
        ) from None


def _snapshot(data: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return copy.deepcopy(data)
    except Exception:  # an object that cannot be copied: rely on the set/del flag
        return None


class Session(dict[str, Any]):
    """The data of one client's session; a dict with an id and a store.

    Changes are saved by the `Sessions` component at the end of the request
    (when the dict differs from what was loaded), or at once by ``with
    session:`` / `save`. With a store that keeps JSON (File, Redis), values
    must be JSON-serialisable; assigning another value raises ``TypeError``.

    Args:
        sid: the session id.
        data: the initial contents (copied).
        store: the store that loads and saves it.
    """

    def __init__(self, sid: str, data: Mapping[str, Any], store: Store) -> None:
        super().__init__(data)
        self._sid = sid
        self._store = store
        self._json = bool(getattr(store, "json_only", False))
        self._expired = False
        self._changed = False
        # Whether the store holds this id (loaded from it, or saved to it).
        self._stored = False
        self._finished = False
        self._loaded = _snapshot(self) if self else {}

    @property
    def sid(self) -> str:
        """The session id (the cookie's value)."""
        return self._sid

    @property
    def store(self) -> Store:
        """The store this session is loaded from and saved to."""
        return self._store

    @property
    def expired(self) -> bool:
        """Whether `expire` was called (the session is then never saved again)."""
        return self._expired

    @property
    def modified(self) -> bool:
        """Whether the contents changed since the session was loaded or last saved."""
        return self._changed or (self._loaded is not None and self != self._loaded)

    def save(self) -> None:
        """Save the contents to the store now; nothing happens after `expire`.

        Raises:
            TypeError: a value is not JSON-serialisable and the store keeps JSON.
        """
        if self._expired:
            return
        self._store.save(self._sid, dict(self))
        self._stored = True
        self._changed = False
        self._loaded = _snapshot(self)

    def expire(self) -> None:
        """Delete the session from the store; the client's cookie is cleared.

        The dict keeps its keys for the rest of the request but is never saved.
        """
        self._store.delete(self._sid)
        self._expired = True

    def regenerate(self) -> None:
        """Move the data to a new id (call it on login: the old id stops working).

        The data is saved under the new id at the end of the request.
        """
        if self._stored:
            self._store.delete(self._sid)
            self._stored = False
        self._sid = create_session(None)
        self._expired = False
        self._changed = True

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.save()

    # Mutators: check values for JSON stores and note the change.

    def __setitem__(self, key: str, value: Any) -> None:
        if self._json:
            check_json(self._sid, key, value)
        super().__setitem__(key, value)
        self._changed = True

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed = True

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> Session:  # type: ignore[override,misc]
        self.update(other)
        return self

    def pop(self, key: str, *default: Any) -> Any:
        self._changed = self._changed or key in self
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._changed = True
        return item

    def clear(self) -> None:
        self._changed = self._changed or bool(self)
        super().clear()

    def __repr__(self) -> str:
        return f"<Session {self._sid[:8]}... {dict.__repr__(self)}>"


class Store(ABC):
    """Where sessions live between requests.

    Subclasses implement `load`, `save` and `delete`; `exists` has a default.

    Attributes:
        json_only: values must be JSON-serialisable (checked on assignment).
    """

    json_only = False

    @abstractmethod
    def delete(self, sid: str) -> None:
        """Forget the session ``sid`` (no error if unknown)."""

    @abstractmethod
    def load(self, sid: str) -> Session:
        """The session ``sid``: its stored data, or empty if unknown."""

    @abstractmethod
    def save(self, sid: str, data: dict[str, Any]) -> None:
        """Store ``data`` as the session ``sid``."""

    def exists(self, sid: str) -> bool:
        """Whether the store holds the session ``sid`` (default: it loads non-empty)."""
        return bool(self.load(sid))


class MemoryStore(Store):
    """Sessions in a dict of this process; lost on restart.

    Args:
        timeout: forget a session unused for this many seconds; ``None``
            (the default, as 3.2.5) keeps them for the life of the process.
    """

    def __init__(self, timeout: float | None = None) -> None:
        self._data: defaultdict[str, dict[str, Any]] = defaultdict(dict)
        self._used: dict[str, float] = {}
        self.timeout = timeout
        self._purged = time.monotonic()

    @property
    def data(self) -> defaultdict[str, dict[str, Any]]:
        """sid -> stored dict."""
        return self._data

    def _live(self, sid: str) -> bool:
        if sid not in self._data:
            return False
        if self.timeout is not None:
            now = time.monotonic()
            if now - self._used.get(sid, now) > self.timeout:
                self.delete(sid)
                return False
            self._used[sid] = now
        return True

    def exists(self, sid: str) -> bool:
        """Whether ``sid`` is stored (and not idle past the timeout)."""
        return self._live(sid)

    def load(self, sid: str) -> Session:
        """A copy of the stored data as a `Session` (empty if unknown)."""
        data = self._data[sid] if self._live(sid) else {}
        return Session(sid, data, self)

    def save(self, sid: str, data: dict[str, Any]) -> None:
        """Store a copy of ``data``."""
        self._data[sid] = dict(data)
        if self.timeout is not None:
            now = self._used[sid] = time.monotonic()
            if now - self._purged > _PURGE_INTERVAL_S:
                self._purged = now
                self.purge()

    def delete(self, sid: str) -> None:
        """Forget ``sid``."""
        self._data.pop(sid, None)
        self._used.pop(sid, None)

    def purge(self) -> None:
        """Forget every session idle for longer than the timeout."""
        if self.timeout is None:
            return
        limit = time.monotonic() - self.timeout
        stale: Iterable[str] = [sid for sid, used in self._used.items() if used < limit]
        for sid in stale:
            self.delete(sid)
