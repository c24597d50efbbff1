"""Size limits of the HTTP/1.1 engine, and where their numbers come from.

A server must bound everything a client can make it buffer (RFC 9112 §2.3:
"a server that receives a request-line longer than it wishes to parse MUST
respond with 414"; RFC 6585 §5: 431 for header fields that are too large;
RFC 9110 §15.5.14: 413 for content larger than it is willing to process).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CHUNK_LINE_BYTES",
    "MAX_HEADER_COUNT",
    "MAX_HEAD_BYTES",
    "MAX_REQUEST_LINE_BYTES",
    "Limits",
]

# RFC 9112 §3: "It is RECOMMENDED that all HTTP senders and recipients support,
# at a minimum, request-line lengths of 8000 octets." 8 KiB covers that; it is
# also Apache's LimitRequestLine (8190) and nginx's large_client_header_buffers
# line size (8k). Longer request lines get 414.
MAX_REQUEST_LINE_BYTES = 8 * 1024
# A whole head (request/status line + fields, and a chunked trailer section).
# nginx accepts 4 x 8 KiB buffers = 32 KiB, node 16 KiB, Apache 100 x 8190;
# 64 KiB accepts what those accept (large cookies) and still bounds memory.
# Larger heads get 431.
MAX_HEAD_BYTES = 64 * 1024
# Apache's LimitRequestFields defaults to 100 fields; browsers send 10-20.
# More fields get 431.
MAX_HEADER_COUNT = 100
# Received body bytes per message (413 beyond). nginx defaults to 1 MiB
# (client_max_body_size), Apache to 1 GiB (LimitRequestBody since 2.4.54).
# 16 MiB admits ordinary form and file uploads while bounding what a naive
# handler that collects the body can be made to hold; a server streaming
# uploads raises it, or passes ``None`` for no limit.
MAX_BODY_BYTES = 16 * 1024 * 1024
# A chunk-size line: at most 16 hex digits plus extensions (RFC 9112 §7.1.1;
# no registered extension is in common use, and we ignore them). 4 KiB leaves
# room for any real one while bounding what a hostile peer can make us buffer;
# longer lines get 400.
MAX_CHUNK_LINE_BYTES = 4 * 1024
# Chunk sizes and Content-Length values that do not fit 64 bits are refused
# (RFC 9112 §7.1: "recipients MUST anticipate potentially large hexadecimal
# numerals and prevent parsing errors due to integer conversion overflows").
MAX_CHUNK_SIZE_DIGITS = 16
MAX_CONTENT_LENGTH_DIGITS = 19


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits one :class:`~circuits._sansio.http1.Connection` enforces on what it receives."""

    max_request_line_bytes: int = MAX_REQUEST_LINE_BYTES
    max_head_bytes: int = MAX_HEAD_BYTES
    max_header_count: int = MAX_HEADER_COUNT
    max_body_bytes: int | None = MAX_BODY_BYTES
    max_chunk_line_bytes: int = MAX_CHUNK_LINE_BYTES
