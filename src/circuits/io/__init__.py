"""I/O components: files, child processes, file-system watches, serial ports.

``File`` reads and writes files, pipes and terminals through the poller;
``Process`` runs a child with its pipes as ``File`` components; ``Notify``
(Linux inotify, through ``ctypes``) reports file-system changes and is only
present where inotify is available; ``Serial`` needs pyserial
(``pip install circuits[serial]``), but importing it does not.

``stdin``, ``stdout`` and ``stderr`` are ``File`` components (channels
``"stdin"``, ``"stdout"``, ``"stderr"``) wrapping the process's standard
streams; register one to use it. Opening one makes its descriptor
non-blocking.
"""

from __future__ import annotations

import sys
from typing import Any

from . import events as events, file as file, process as process, serial as serial
from .events import close as close, open as open, seek as seek, write as write
from .file import File as File
from .process import Process as Process
from .serial import Serial as Serial

__all__ = [
    "File",
    "Process",
    "Serial",
    "close",
    "events",
    "file",
    "open",
    "process",
    "seek",
    "serial",
    "stderr",
    "stdin",
    "stdout",
    "write",
]

try:
    from .notify import Notify as Notify
except ImportError:  # no inotify on this platform (net-io §1: then no Notify)
    pass
else:
    __all__ += ["Notify"]


def _std_file(stream: Any, channel: str) -> File | None:
    try:
        return File(stream, channel=channel)
    except Exception:  # creation errors are swallowed (net-io §5.4)
        return None


stdin = _std_file(sys.stdin, "stdin")
stdout = _std_file(sys.stdout, "stdout")
stderr = _std_file(sys.stderr, "stderr")
