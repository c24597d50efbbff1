"""The `Sessions` component: a session per client, found through a cookie.

It listens on the web channel twice:

* ``request`` at priority 10 (before every dispatcher): the cookie's id is
  adopted only if it is well-formed *and* the store holds it, so an id the
  client made up (session fixation) or one that expired is replaced by a
  fresh one. ``request.session`` is set; controllers see ``self.session``.
* ``response`` at priority 1 (before the HTTP component, priority 0, writes
  the head): a modified session is saved, then the cookie is settled. A new
  session that stayed empty gets no cookie (and is not stored), an expired one
  gets a cookie that deletes it; any other gets ``Set-Cookie`` with
  ``HttpOnly; Path=/; SameSite=Lax`` and ``Secure`` over TLS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ...core import Component as Component, handler as handler
from ._session import MemoryStore, Session, Store, create_session, is_sid

__all__ = ["Sessions"]

log = logging.getLogger(__name__)


class Sessions(Component):
    """Give every request a `Session` (``request.session``), kept in a `Store`.

    Args:
        name: the cookie's name.
        store: a `Store` instance, or a class (or factory) called without
            arguments to make one; ``MemoryStore`` by default.
        channel: the web channel.
        path: the cookie's ``Path``.
        samesite: the cookie's ``SameSite`` (``"Lax"``, ``"Strict"``, ``"None"``), or
            ``None`` for no attribute.
        secure: send the cookie with ``Secure``; ``None`` (the default) does so
            when the request came over TLS.
        max_age: the cookie's ``Max-Age`` in seconds; ``None`` makes a cookie
            that the browser drops when it closes.
    """

    channel = "web"

    def __init__(
        self,
        name: str = "circuits",
        store: Store | Callable[[], Store] = MemoryStore,
        channel: str = channel,
        *,
        path: str = "/",
        samesite: str | None = "Lax",
        secure: bool | None = None,
        max_age: int | None = None,
    ) -> None:
        super().__init__(channel=channel)
        self._name = name
        self._store: Store = store if isinstance(store, Store) else store()
        self.cookie_path = path
        self.samesite = samesite
        self.secure = secure
        self.max_age = max_age

    @property
    def name(self) -> str:
        """The cookie's name."""
        return self._name

    @property
    def store(self) -> Store:
        """The store of the sessions."""
        return self._store

    @handler("request", priority=10)
    def request(self, request: Any, response: Any, *args: Any) -> None:
        """Load the client's session, or start one; set ``request.session``."""
        session: Session | None = None
        morsel = request.cookie.get(self._name)
        sid = None if morsel is None else morsel.value
        if sid is not None and is_sid(sid) and self._store.exists(sid):
            session = self._store.load(sid)
            session._stored = True
        if session is None:
            session = Session(create_session(request), {}, self._store)
        request.session = session
        # As 3.2.5: the id is in the cookie jar during the request. The jar is
        # the request's, so this also replaces an id the client made up.
        self._set_cookie(request, response, session.sid)

    @handler("response", priority=1)
    def _on_response(self, response: Any) -> None:
        request = response.request
        session = getattr(request, "session", None)
        if not isinstance(session, Session) or session._finished:
            return
        session._finished = True
        if session.modified and not session.expired:
            try:
                session.save()
            except Exception:
                log.exception(
                    "%s: could not save session %s...", request.remote.ip, session.sid[:8]
                )
        if session.expired:
            if session._stored:
                self._set_cookie(request, response, "", delete=True)
            else:
                response.cookie.pop(self._name, None)
        elif session._stored:
            self._set_cookie(request, response, session.sid)  # regenerate() may have changed it
        else:
            # A new session that holds nothing: no cookie, nothing stored.
            response.cookie.pop(self._name, None)

    def _set_cookie(self, request: Any, response: Any, value: str, delete: bool = False) -> None:
        jar = response.cookie
        jar[self._name] = value
        morsel = jar[self._name]
        morsel["path"] = self.cookie_path
        morsel["httponly"] = True
        if self.samesite is not None:
            morsel["samesite"] = self.samesite
        secure = request.scheme == "https" if self.secure is None else self.secure
        if secure:
            morsel["secure"] = True
        if delete:
            morsel["max-age"] = 0
            morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        elif self.max_age is not None:
            morsel["max-age"] = self.max_age
