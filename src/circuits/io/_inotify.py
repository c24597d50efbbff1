"""Linux inotify: the ``ctypes`` binding and a pure parser of its records.

The kernel API (inotify(7)): ``inotify_init1(flags)`` returns a descriptor;
``inotify_add_watch(fd, path, mask)`` returns a watch descriptor (``wd``; the
same one again for the same inode); ``inotify_rm_watch(fd, wd)`` removes it
and queues an ``IN_IGNORED`` record. Reading the descriptor yields whole
records, one or more per ``read()``::

    struct inotify_event {
        int      wd;      /* watch descriptor */
        uint32_t mask;    /* IN_* bits */
        uint32_t cookie;  /* pairs IN_MOVED_FROM with IN_MOVED_TO */
        uint32_t len;     /* size of name, NUL padded */
        char     name[];  /* only for entries inside a watched directory */
    };

in native byte order. ``InotifyParser`` reassembles records from arbitrary
chunks, so it is testable with crafted bytes and does not depend on the
kernel's framing. Importing this module raises ``ImportError`` where libc
has no inotify (non-Linux systems).
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from dataclasses import dataclass

__all__ = [
    "HEADER",
    "IN_ACCESS",
    "IN_ALL_EVENTS",
    "IN_ATTRIB",
    "IN_CLOSE_NOWRITE",
    "IN_CLOSE_WRITE",
    "IN_CREATE",
    "IN_DELETE",
    "IN_DELETE_SELF",
    "IN_IGNORED",
    "IN_ISDIR",
    "IN_MODIFY",
    "IN_MOVED_FROM",
    "IN_MOVED_TO",
    "IN_MOVE_SELF",
    "IN_OPEN",
    "IN_Q_OVERFLOW",
    "IN_UNMOUNT",
    "InotifyParser",
    "Record",
    "add_watch",
    "encode_record",
    "init",
    "parse_records",
    "rm_watch",
]

# Event bits, from <sys/inotify.h> (identical on every Linux architecture).
IN_ACCESS = 0x00000001
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_CLOSE_NOWRITE = 0x00000010
IN_OPEN = 0x00000020
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_ALL_EVENTS = 0x00000FFF
# Bits the kernel sets on its own.
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ISDIR = 0x40000000

# The fixed part of a record: wd, mask, cookie, len (native order and size).
HEADER = struct.Struct("=iIII")


@dataclass(frozen=True, slots=True)
class Record:
    """One ``struct inotify_event``; ``name`` without its NUL padding."""

    wd: int
    mask: int
    cookie: int
    name: bytes


def encode_record(record: Record, pad_to: int = 4) -> bytes:
    """The bytes the kernel would send for ``record`` (name NUL-padded).

    Args:
        record: the record to encode.
        pad_to: the name field is padded to a multiple of this (the kernel
            uses ``sizeof(struct inotify_event)`` = 16).

    Returns:
        The encoded record.
    """
    name = record.name
    if name:
        size = len(name) + 1
        size += -size % pad_to
        name = name.ljust(size, b"\0")
    return HEADER.pack(record.wd, record.mask, record.cookie, len(name)) + name


def parse_records(data: bytes) -> tuple[list[Record], bytes]:
    """Parse the complete records at the start of ``data``.

    Returns:
        The records, and the bytes of a trailing incomplete record.
    """
    records = []
    view = memoryview(data)
    pos = 0
    end = len(data)
    size = HEADER.size
    while end - pos >= size:
        wd, mask, cookie, length = HEADER.unpack_from(view, pos)
        if end - pos - size < length:
            break
        raw = bytes(view[pos + size : pos + size + length])
        records.append(Record(wd, mask, cookie, raw.split(b"\0", 1)[0]))
        pos += size + length
    return records, bytes(view[pos:])


class InotifyParser:
    """Reassembles inotify records from chunks of any size."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[Record]:
        """Add ``data``; returns the records it completed."""
        records, self._pending = parse_records(self._pending + data)
        return records

    @property
    def pending(self) -> int:
        """Bytes of an incomplete record held back."""
        return len(self._pending)


# -- the libc binding --------------------------------------------------------

if not sys.platform.startswith("linux"):
    raise ImportError(f"No inotify support available on {sys.platform!r} (Linux only)")

try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _init1 = _libc.inotify_init1
    _add = _libc.inotify_add_watch
    _rm = _libc.inotify_rm_watch
except (OSError, AttributeError) as _exc:
    raise ImportError(f"No inotify support available: {_exc}") from None
_init1.argtypes = [ctypes.c_int]
_init1.restype = ctypes.c_int
_add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
_add.restype = ctypes.c_int
_rm.argtypes = [ctypes.c_int, ctypes.c_int]
_rm.restype = ctypes.c_int


def _oserror(path: object = None) -> OSError:
    err = ctypes.get_errno()
    if path is None:
        return OSError(err, os.strerror(err))
    return OSError(err, os.strerror(err), path)


def init() -> int:
    """A new non-blocking, close-on-exec inotify descriptor.

    Raises:
        OSError: the kernel refused (e.g. ``EMFILE``: too many instances).
    """
    fd = int(_init1(os.O_NONBLOCK | os.O_CLOEXEC))
    if fd < 0:
        raise _oserror()
    return fd


def add_watch(fd: int, path: str | bytes, mask: int) -> int:
    """Watch ``path`` for the events in ``mask``; returns the watch descriptor.

    Raises:
        OSError: e.g. ``ENOENT`` for a missing path, ``ENOSPC`` past the
            ``max_user_watches`` limit.
    """
    wd = int(_add(fd, os.fsencode(path), mask))
    if wd < 0:
        raise _oserror(path)
    return wd


def rm_watch(fd: int, wd: int) -> None:
    """Remove a watch (``EINVAL`` for a watch the kernel already dropped is ignored)."""
    if _rm(fd, wd) < 0:
        err = ctypes.get_errno()
        if err != 22:  # EINVAL: removed already (its directory was deleted)
            raise OSError(err, os.strerror(err))
