"""A strict sans-I/O HTTP/1.1 engine (RFC 9110, RFC 9112) for clients and servers.

Bytes in, events out; events in, bytes out; no sockets, no threads::

    conn = Connection(SERVER)
    conn.receive_data(data)                 # b"" when the peer closed
    while (event := conn.next_event()) is not None:
        ...                                 # Request, Data, EndOfMessage, ...
    sock.sendall(conn.send(Response(200, [(b"content-length", b"2")])))

Modules: ``_abnf`` (the grammar), ``_events``, ``_headers`` (field rules),
``_readers`` / ``_writers`` (framing), ``_state`` (the per-side state
machine), ``_connection`` (the engine), ``_errors``, ``_limits``.
"""

from __future__ import annotations

from ._connection import Connection as Connection
from ._errors import (
    LocalProtocolError as LocalProtocolError,
    ProtocolError as ProtocolError,
    RemoteProtocolError as RemoteProtocolError,
)
from ._events import (
    ConnectionClosed as ConnectionClosed,
    Data as Data,
    EndOfMessage as EndOfMessage,
    Event as Event,
    Headers as Headers,
    InformationalResponse as InformationalResponse,
    Request as Request,
    Response as Response,
)
from ._limits import (
    MAX_BODY_BYTES as MAX_BODY_BYTES,
    MAX_CHUNK_LINE_BYTES as MAX_CHUNK_LINE_BYTES,
    MAX_HEAD_BYTES as MAX_HEAD_BYTES,
    MAX_HEADER_COUNT as MAX_HEADER_COUNT,
    MAX_REQUEST_LINE_BYTES as MAX_REQUEST_LINE_BYTES,
)
from ._state import CLIENT as CLIENT, SERVER as SERVER, Role as Role, State as State

__all__ = [
    "CLIENT",
    "MAX_BODY_BYTES",
    "MAX_CHUNK_LINE_BYTES",
    "MAX_HEADER_COUNT",
    "MAX_HEAD_BYTES",
    "MAX_REQUEST_LINE_BYTES",
    "SERVER",
    "Connection",
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "Headers",
    "InformationalResponse",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "Request",
    "Response",
    "Role",
    "State",
]
