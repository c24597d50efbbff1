"""The node wire engine (sans-I/O): bytes in, packets out.

3.2.5 frames packets with ``b"~~~"`` and nothing else: no length prefix, no
escaping (a JSON string holding ``~~~`` splits a packet; that is the wire
format and stays). This engine only splits and classifies; building events
from packets is ``utils.load_event``'s job.

Theory of operation: every piece before a delimiter is a packet (or garbage,
skipped). The piece after the last delimiter is tried too, because 3.2.5
peers and tests send a last packet without its delimiter and expect it to
run at once; if it does not parse it is kept, since it is most likely the
first part of a packet split across two reads (3.2.5 lost those).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["DELIMITER", "MAX_BUFFER_BYTES", "EventPacket", "PacketReader", "ResultPacket"]

log = logging.getLogger("circuits.node")

DELIMITER = b"~~~"

# An unterminated, unparsable tail may grow up to this before it is dropped
# (3.2.5 kept nothing, so nothing bounded it). 64 MiB leaves room for any
# packet a node sends in practice and bounds what one peer can pin in memory.
MAX_BUFFER_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class EventPacket:
    """An event call: ``data`` is the decoded packet (``name``, ``args``, ...)."""

    id: Any
    data: dict[str, Any]
    text: str


@dataclass(frozen=True, slots=True)
class ResultPacket:
    """A result: ``data`` is the decoded packet (``value``, ``errors``, ``meta``)."""

    id: Any
    data: dict[str, Any]
    text: str


Packet = EventPacket | ResultPacket


def parse_packet(piece: bytes) -> Packet:
    """Decode and classify one packet.

    A packet with a ``name`` is an event call; one with ``value`` and no
    ``name`` is a result. (3.2.5 looked for the text ``"value":`` anywhere,
    so an event with a keyword argument ``value`` was taken for a result.)

    Raises:
        ValueError: not UTF-8 JSON, not an object, or neither kind.
    """
    text = piece.decode("utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"a packet is a JSON object, not {type(data).__name__}")
    if "name" in data:
        return EventPacket(data.get("id"), data, text)
    if "value" in data:
        return ResultPacket(data.get("id"), data, text)
    raise ValueError(f"neither an event nor a result packet: keys {sorted(data)!r}")


class PacketReader:
    """Splits a byte stream into packets; malformed pieces are logged and skipped."""

    def __init__(self, max_buffer_bytes: int = MAX_BUFFER_BYTES) -> None:
        self._buffer = b""
        self._ready: deque[Packet] = deque()
        self._max = max_buffer_bytes

    @property
    def pending_bytes(self) -> int:
        """Bytes of an incomplete packet kept for the next read."""
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        """Feed bytes as they arrive; complete packets become available at once."""
        buffer = self._buffer + data if self._buffer else bytes(data)
        if DELIMITER in buffer[-len(data) - 2 :]:
            *pieces, tail = buffer.split(DELIMITER)
            for piece in pieces:
                self._take(piece)
        else:
            tail = buffer  # a large packet arriving in many reads: no re-split
        self._buffer = b""
        if tail:
            try:
                # Only a piece ending in "}" can be a whole packet: skip the
                # (linear) parse attempt for the other pieces of a long one.
                if not tail.rstrip().endswith(b"}"):
                    raise ValueError("incomplete")
                packet = parse_packet(tail)
            except ValueError:
                if len(tail) > self._max:
                    log.warning(
                        "dropping %d bytes without a packet delimiter (limit %d)",
                        len(tail),
                        self._max,
                    )
                else:
                    self._buffer = tail
            else:
                self._ready.append(packet)

    def next_packet(self) -> Packet | None:
        """The next complete packet, or ``None``."""
        return self._ready.popleft() if self._ready else None

    def _take(self, piece: bytes) -> None:
        if not piece.strip():
            return
        try:
            self._ready.append(parse_packet(piece))
        except ValueError as exc:
            log.info("dropping a malformed node packet (%d bytes): %s", len(piece), exc)


def write_packet(text: str) -> bytes:
    """A packet's bytes on the wire: UTF-8 text and the delimiter."""
    return text.encode("utf-8") + DELIMITER
