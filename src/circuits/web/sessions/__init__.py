"""Sessions: per-client data kept between requests, found through a cookie (web.md §17).

Register `Sessions` on the web channel; controllers read and write
``self.session``, a dict that is saved at the end of the request when it
changed (and at once by ``with self.session:``). Stores: `MemoryStore` (the
default), and, new here, `FileStore` (a directory of JSON files, survives
restarts) and `RedisStore` (``pip install 'circuits[redis]'``).

Differences from 3.2.5: ids are ``secrets.token_urlsafe(32)`` without the
``/<who>`` suffix, and a client's id is adopted only if the store holds it
(no session fixation); the cookie carries ``HttpOnly; Path=/;
SameSite=Lax`` (and ``Secure`` over TLS), is not sent for a new session that
stays empty, and is deleted by `Session.expire`; plain assignments persist.
"""

from __future__ import annotations

from ...core import Component as Component, handler as handler
from ._component import Sessions as Sessions
from ._session import (
    DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S,
    MemoryStore as MemoryStore,
    Session as Session,
    Store as Store,
    create_session as create_session,
    verify_session as verify_session,
    who as who,
)
from ._stores import FileStore as FileStore, RedisStore as RedisStore

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Component",
    "FileStore",
    "MemoryStore",
    "RedisStore",
    "Session",
    "Sessions",
    "Store",
    "create_session",
    "handler",
    "verify_session",
    "who",
]
