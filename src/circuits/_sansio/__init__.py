"""Sans-I/O protocol engines: bytes in, events out, bytes out.

Each engine (HTTP/1.1, WebSocket, line, IRC, STOMP, multipart, node wire
format) is pure standard-library Python with no sockets, selectors, ssl,
threads and no dependency on ``circuits.core``, so that it can be tested and
fuzzed without I/O. Components in ``circuits.net``, ``circuits.protocols``,
``circuits.node`` and ``circuits.web`` wrap them. ``tests/test_sansio_guard.py``
enforces the rule.
"""

from __future__ import annotations
