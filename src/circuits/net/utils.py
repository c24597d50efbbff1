"""Network helpers: recognise a TLS/SSL handshake in the first bytes of a stream."""

from __future__ import annotations

__all__ = ["is_ssl_handshake"]

# A TLS record starts with content type 22 (handshake) and version 3.x
# (RFC 8446 §5.1: 0x0301 in a ClientHello record; SSLv3 0x0300 up to 0x0304).
_TLS_PREFIXES = tuple(bytes((0x16, 0x03, minor)) for minor in range(5))
# SSLv2 ClientHello: a 2-byte header with the high bit set, then a 15-bit
# record length; the smallest ClientHello body is 9 bytes.
_SSL2_MIN_LENGTH = 9


def is_ssl_handshake(buf: bytes | bytearray | memoryview | str) -> bool | None:
    """Whether ``buf`` starts like a TLS or SSLv2 ClientHello.

    3.2.5 only recognised TLS prefixes given as ``str``; ``bytes`` (what a
    socket delivers) are recognised here too.

    Args:
        buf: the first bytes of a connection (``str`` taken as latin-1 code points).

    Returns:
        ``True`` for a handshake, ``None`` otherwise (never ``False``, as in 3.2.5).
    """
    if isinstance(buf, str):
        if any(ord(c) > 0xFF for c in buf[:3]):
            return None
        head = buf[:3].encode("latin-1")
    else:
        head = bytes(buf[:3])
    if head[:3] in _TLS_PREFIXES:
        return True
    if len(head) >= 2 and head[0] & 0x80 and ((head[0] & 0x7F) << 8 | head[1]) > _SSL2_MIN_LENGTH:
        return True
    return None
