"""Application helpers: run as a Unix daemon, drop root privileges.

Not imported by ``import circuits``; import ``circuits.app`` explicitly.
"""

from __future__ import annotations

from .daemon import Daemon as Daemon
from .dropprivileges import DropPrivileges as DropPrivileges

__all__ = ("Daemon", "DropPrivileges")
