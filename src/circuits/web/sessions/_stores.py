"""Session stores that outlive the process: `FileStore` (a directory) and `RedisStore`.

Neither exists in 3.2.5. Both keep each session as one JSON object, so
values must be JSON types (checked when assigned, see `Session`), and both
forget a session left unused for ``timeout`` seconds: reading one counts
as use.

`FileStore` writes each session to a temporary file in the same directory
and renames it over the old one (``os.replace`` is atomic on POSIX and
Windows), so a reader or a crash never sees half a session. The files are
created mode 0600 in a directory created mode 0700: a session id is a
credential.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from ._session import DEFAULT_TIMEOUT_S, Session, Store, check_json, is_sid

__all__ = ["FileStore", "RedisStore"]

log = logging.getLogger(__name__)

_SUFFIX = ".json"
_TEMP_PREFIX = ".tmp-"
# How often FileStore looks for expired files while saving; the files of
# clients that never came back are removed at most this late.
_PURGE_INTERVAL_S = 3600.0


def _encode(sid: str, data: dict[str, Any]) -> bytes:
    try:
        return json.dumps(data, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):
        for key, value in data.items():  # name the offending key
            check_json(sid, key, value)
        raise


def _decode(raw: bytes, where: str) -> dict[str, Any]:
    # A damaged session is not the request's fault: it starts afresh, empty.
    try:
        data = json.loads(raw)
    except ValueError as exc:
        log.warning("%s is unreadable, starting afresh: %s", where, exc)
        return {}
    if not isinstance(data, dict):
        log.warning("%s holds no JSON object, starting afresh", where)
        return {}
    return data


class FileStore(Store):
    """One JSON file per session in ``directory``; survives restarts.

    Args:
        directory: where the files live (created if missing).
        timeout: forget a session unused for this many seconds (two weeks by
            default); ``None`` keeps sessions until they are expired.
    """

    json_only = True

    def __init__(
        self, directory: str | os.PathLike[str], timeout: float | None = DEFAULT_TIMEOUT_S
    ) -> None:
        self.path = Path(directory)
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.timeout = timeout
        self._purged = time.time()

    def _file(self, sid: str) -> Path | None:
        # Only our id shape reaches the file system: no "/", "..", NUL or the like.
        return self.path / (sid + _SUFFIX) if is_sid(sid) else None

    def _stale(self, mtime: float) -> bool:
        return self.timeout is not None and time.time() - mtime > self.timeout

    def exists(self, sid: str) -> bool:
        """Whether a live session ``sid`` is stored."""
        file = self._file(sid)
        if file is None:
            return False
        try:
            mtime = file.stat().st_mtime
        except OSError:
            return False
        if self._stale(mtime):
            self.delete(sid)
            return False
        return True

    def load(self, sid: str) -> Session:
        """The session ``sid`` (empty if unknown, expired or unreadable); marks it used."""
        file = self._file(sid)
        data: dict[str, Any] = {}
        if file is not None and self.exists(sid):
            try:
                raw = file.read_bytes()
                os.utime(file)  # used now: the idle timeout starts again
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("session file %s is unreadable, starting afresh: %s", file, exc)
            else:
                data = _decode(raw, f"session file {file}")
        return Session(sid, data, self)

    def save(self, sid: str, data: dict[str, Any]) -> None:
        """Write ``data`` as the session ``sid`` (atomically: temp file + rename).

        Raises:
            ValueError: ``sid`` is not a session id.
            TypeError: ``data`` is not JSON-serialisable.
        """
        file = self._file(sid)
        if file is None:
            raise ValueError(f"not a session id: {sid!r}")
        payload = _encode(sid, data)
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_SUFFIX, dir=self.path)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.replace(temp, file)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        now = time.time()
        if self.timeout is not None and now - self._purged > _PURGE_INTERVAL_S:
            self._purged = now
            self.purge()

    def delete(self, sid: str) -> None:
        """Remove the session ``sid``'s file, if any."""
        file = self._file(sid)
        if file is not None:
            try:
                file.unlink()
            except FileNotFoundError:
                pass

    def purge(self) -> int:
        """Remove the files of sessions idle past the timeout, and stray temporary files.

        Returns:
            How many files were removed.
        """
        removed = 0
        for entry in os.scandir(self.path):
            name = entry.name
            if not name.endswith(_SUFFIX):
                continue
            try:
                mtime = entry.stat().st_mtime
            except OSError:
                continue
            # A temporary file older than a minute belongs to a crashed writer.
            if (name.startswith(_TEMP_PREFIX) and time.time() - mtime > 60) or (
                not name.startswith(_TEMP_PREFIX) and self._stale(mtime)
            ):
                try:
                    os.unlink(entry.path)
                    removed += 1
                except OSError:
                    pass
        return removed


class RedisStore(Store):
    """Sessions in Redis, one JSON string per session with an expiry (needs redis-py).

    Install with ``pip install 'circuits[redis]'``. Calls are synchronous:
    each request with a session makes one or two round trips to Redis.

    Args:
        url: the server, as ``redis.Redis.from_url`` takes it.
        prefix: put before the session id to make the key.
        timeout: forget a session unused for this many seconds (two weeks by
            default); ``None`` keeps sessions until they are expired.
        client: a ready ``redis.Redis`` to use instead of connecting to ``url``.

    Raises:
        ImportError: redis-py is not installed.
    """

    json_only = True

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        prefix: str = "circuits:session:",
        timeout: float | None = DEFAULT_TIMEOUT_S,
        client: Any = None,
    ) -> None:
        if client is None:
            try:
                import redis
            except ImportError:
                raise ImportError(
                    "RedisStore needs the redis package: pip install 'circuits[redis]'"
                ) from None
            client = redis.Redis.from_url(url)
        self.client = client
        self.prefix = prefix
        self.timeout = None if timeout is None else max(1, int(timeout))

    def _key(self, sid: str) -> str | None:
        return self.prefix + sid if is_sid(sid) else None

    def exists(self, sid: str) -> bool:
        """Whether Redis holds the session ``sid``."""
        key = self._key(sid)
        return key is not None and bool(self.client.exists(key))

    def load(self, sid: str) -> Session:
        """The session ``sid`` (empty if unknown); restarts its idle timeout."""
        key = self._key(sid)
        data: dict[str, Any] = {}
        if key is not None:
            pipe = self.client.pipeline()
            pipe.get(key)
            if self.timeout is not None:
                pipe.expire(key, self.timeout)
            raw = pipe.execute()[0]
            if raw is not None:
                data = _decode(raw, f"session {sid[:8]}... in Redis")
        return Session(sid, data, self)

    def save(self, sid: str, data: dict[str, Any]) -> None:
        """Store ``data`` as the session ``sid``, with the timeout as its expiry.

        Raises:
            ValueError: ``sid`` is not a session id.
            TypeError: ``data`` is not JSON-serialisable.
        """
        key = self._key(sid)
        if key is None:
            raise ValueError(f"not a session id: {sid!r}")
        self.client.set(key, _encode(sid, data), ex=self.timeout)

    def delete(self, sid: str) -> None:
        """Delete the session ``sid``."""
        key = self._key(sid)
        if key is not None:
            self.client.delete(key)
