"""The events of the I/O components (``circuits.io``).

``File`` and ``Serial`` consume ``write``/``seek``/``close`` and fire
``ready``, ``opened``, ``read``, ``eof``, ``error`` and ``closed``;
``Process`` fires ``started`` (and ``terminated``, defined in
``circuits.io.process``); ``Notify`` fires ``created``, ``deleted``,
``moved``, ``modified``, ``accessed``, ``opened``, ``closed`` and
``unmounted`` with ``(name, path, pathname, dir)``. ``open`` and
``stopped`` exist for compatibility and are never fired.

These are distinct classes from ``circuits.net.events`` of the same names;
circuits dispatches by name, so either works with any component.
"""

from __future__ import annotations

from ..core.events import Event

__all__ = [
    "Event",
    "accessed",
    "close",
    "closed",
    "created",
    "deleted",
    "eof",
    "error",
    "modified",
    "moved",
    "open",
    "opened",
    "read",
    "ready",
    "seek",
    "started",
    "stopped",
    "unmounted",
    "write",
]


class eof(Event):
    """The end of the file (or pipe) was read: ``eof()``."""


class seek(Event):
    """Request to move a file's position: ``seek(offset, whence=0)``."""


class read(Event):
    """Data arrived: ``read(data)`` with ``data`` always ``bytes``."""


class close(Event):
    """Request to close, once queued data is written: ``close()``."""


class write(Event):
    """Request to write: ``write(data)`` (``str`` is encoded with the component's encoding)."""


class error(Event):
    """An I/O error: ``error(exc)``."""


class open(Event):
    """Defined for compatibility; never fired."""


class opened(Event):
    """A file was opened: ``opened(filename, mode)`` (``Serial``: ``(port, baudrate)``).

    ``Notify`` fires it as ``opened(name, path, pathname, dir)``.
    """


class closed(Event):
    """A file was closed: ``closed()``; from ``Notify``: ``(name, path, pathname, dir)``."""


class ready(Event):
    """The component is attached to a poller: ``ready(component)``."""


class started(Event):
    """A ``Process`` spawned its child: ``started(process)``."""


class stopped(Event):
    """Defined for compatibility; never fired."""


class moved(Event):
    """``Notify``: an entry was moved: ``moved(name, path, pathname, dir)``."""


class created(Event):
    """``Notify``: an entry was created: ``created(name, path, pathname, dir)``."""


class deleted(Event):
    """``Notify``: an entry was deleted: ``deleted(name, path, pathname, dir)``."""


class accessed(Event):
    """``Notify``: a file was read: ``accessed(name, path, pathname, dir)``."""


class modified(Event):
    """``Notify``: contents or metadata changed: ``modified(name, path, pathname, dir)``."""


class unmounted(Event):
    """``Notify``: the watched file system was unmounted."""
