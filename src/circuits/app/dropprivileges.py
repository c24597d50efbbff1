"""``DropPrivileges``: switch from root to an unprivileged user once a server is bound.

A server binds its (possibly privileged) port as root and fires
``ready(server, bind)``; ``DropPrivileges`` then changes the process' user,
group and umask and unregisters itself.
"""

from __future__ import annotations

import os
import traceback
from typing import Any, NoReturn

from ..core import BaseComponent, handler

__all__ = ["BaseComponent", "DropPrivileges", "handler"]


class DropPrivileges(BaseComponent):
    """Drop root privileges when a server is ready.

    Constructor arguments (see ``init``):
        user: the user to become.
        group: the group to become.
        umask: the new umask, or ``None`` to keep it.
        **kwargs: ``channel=`` (default ``"*"``).
    """

    def init(
        self, user: str = "nobody", group: str = "nobody", umask: int | None = 0o077, **kwargs: Any
    ) -> None:
        self.user = user
        self.group = group
        self.umask = umask

    def drop_privileges(self) -> None:
        """Become ``user``/``group`` (no-op unless running as root).

        On failure an error and its traceback are printed on standard output,
        as circuits 3.2.5 does.

        Raises:
            SystemExit: (status -1) if the user or group is unknown or the switch fails.
        """
        if os.getuid() > 0:
            return

        import grp
        import pwd

        try:
            uid = pwd.getpwnam(self.user).pw_uid
            gid = grp.getgrnam(self.group).gr_gid
        except Exception as e:
            _fail(e)

        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            if self.umask is not None:
                os.umask(self.umask)
        except Exception as e:
            _fail(e)

    @handler("ready", channel="*")
    def on_ready(self, server: Any, bind: Any) -> None:
        """Drop privileges, then leave the tree (whatever happened)."""
        try:
            self.drop_privileges()
        finally:
            self.unregister()


def _fail(e: Exception) -> NoReturn:
    print(f"ERROR: Could not drop privileges {e}")
    print(traceback.format_exc())
    raise SystemExit(-1)
