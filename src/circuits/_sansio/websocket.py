"""RFC 6455 WebSocket framing, both sides, without I/O.

Used by ``circuits.protocols.websocket.WebSocketCodec`` (and through it by
``circuits.web``). The opening HTTP handshake is not handled here.

Theory of operation: received bytes go into one buffer. ``next_event`` parses
a frame only once its header *and* whole payload are buffered (a frame header
may arrive split over any number of reads), so the events do not depend on how
the stream was cut. Control frames may be interleaved with the fragments of a
data message (RFC 6455 §5.4) and never touch the pending message. Text is
validated incrementally, so invalid UTF-8 is caught in the fragment where it
appears, even when a code point is split across fragments.

Any violation raises ``WebSocketProtocolError`` carrying the close code to
send (1002 protocol error, 1007 invalid payload data, 1009 message too big);
after that the engine ignores further input. The caller sends
``send(CloseConnection(exc.code, exc.reason))`` and drops the connection
(RFC 6455 §7.1.7 "Fail the WebSocket Connection").
"""

from __future__ import annotations

import codecs
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum

__all__ = [
    "MAX_MESSAGE_BYTES",
    "BytesMessage",
    "CloseConnection",
    "CloseReason",
    "Event",
    "Opcode",
    "Ping",
    "Pong",
    "Role",
    "TextMessage",
    "WebSocketEngine",
    "WebSocketProtocolError",
    "encode_frame",
]

# Largest message accepted, all fragments together. The ``websockets`` library
# defaults to 1 MiB (``max_size=2**20``); browsers impose no limit of their own.
MAX_MESSAGE_BYTES = 2**20

# RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less".
MAX_CONTROL_PAYLOAD_BYTES = 125


class Role(Enum):
    """Which side of the connection this engine is."""

    CLIENT = "client"
    SERVER = "server"


class Opcode(IntEnum):
    """Frame opcodes (RFC 6455 §5.2)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseReason(IntEnum):
    """Close status codes (RFC 6455 §7.4.1)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005  # never on the wire: "the close frame had no code"
    ABNORMAL_CLOSURE = 1006  # never on the wire
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXT = 1010
    INTERNAL_ERROR = 1011
    TLS_HANDSHAKE = 1015  # never on the wire


# Codes that "MUST NOT be set as a status code in a Close control frame" (§7.4.1).
_LOCAL_ONLY_CODES = frozenset({1004, 1005, 1006, 1015})


def _valid_wire_code(code: int) -> bool:
    # §7.4.2: 1000-2999 are defined by the RFC or extensions (only the defined
    # ones are valid; 1012-1014 are registered at IANA), 3000-4999 are for
    # libraries and applications.
    if 3000 <= code <= 4999:
        return True
    return 1000 <= code <= 1014 and code not in _LOCAL_ONLY_CODES


class WebSocketProtocolError(Exception):
    """The peer violated RFC 6455; the connection must be failed.

    Attributes:
        code: the close code to send (1002, 1007 or 1009).
        reason: a short explanation, suitable as the close reason.
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason} (close code {code})")
        self.code = code
        self.reason = reason


# -- events (received and sent) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message."""

    data: str


@dataclass(frozen=True, slots=True)
class BytesMessage:
    """A complete binary message."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """A ping; answer it with ``Pong(payload)``."""

    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class Pong:
    """A pong."""

    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class CloseConnection:
    """A close frame. Received without a status code, ``code`` is 1005."""

    code: int = CloseReason.NORMAL_CLOSURE
    reason: str = ""


Event = TextMessage | BytesMessage | Ping | Pong | CloseConnection


# -- framing -------------------------------------------------------------------


def _mask(payload: bytes, key: bytes) -> bytes:
    # §5.3: octet i of the transformed data is octet i XOR key[i % 4]. One big
    # integer XOR is much faster than a Python loop over the bytes.
    if not payload:
        return b""
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask_key: bytes | None = None, rsv: int = 0
) -> bytes:
    """Serialise one frame (RFC 6455 §5.2), with the shortest length encoding.

    Args:
        opcode: the 4-bit opcode.
        payload: the (unmasked) payload.
        fin: the FIN bit.
        mask_key: 4 bytes to mask with (client frames), or ``None``.
        rsv: the three RSV bits (0 unless an extension was negotiated).

    Returns:
        The frame.
    """
    head = bytearray([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0x0F)])
    mask_bit = 0x80 if mask_key is not None else 0
    n = len(payload)
    if n <= 125:
        head.append(mask_bit | n)
    elif n <= 0xFFFF:
        head.append(mask_bit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", n)
    if mask_key is not None:
        if len(mask_key) != 4:
            raise ValueError(f"a masking key has 4 bytes, not {len(mask_key)}")
        return bytes(head) + mask_key + _mask(payload, mask_key)
    return bytes(head) + payload


@dataclass(frozen=True, slots=True)
class _Frame:
    fin: bool
    opcode: int
    payload: bytes


class WebSocketEngine:
    """One side of a WebSocket connection after the opening handshake.

    Args:
        role: ``Role.CLIENT`` masks what it sends and requires unmasked frames;
            ``Role.SERVER`` the reverse (RFC 6455 §5.1).
        max_message_bytes: the largest message (all fragments) accepted;
            larger ones fail the connection with 1009.
        mask_key: returns a fresh 4-byte masking key (client side); tests can
            make it deterministic.
    """

    def __init__(
        self,
        role: Role,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        mask_key: Callable[[], bytes] = lambda: os.urandom(4),
    ) -> None:
        if not isinstance(role, Role):
            raise TypeError(f"expected Role.CLIENT or Role.SERVER, not {role!r}")
        self.role = role
        self.max_message_bytes = max_message_bytes
        self._mask_key = mask_key
        self._buf = bytearray()
        self._pending_type: int | None = None  # opcode of the unfinished message
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._decoder: codecs.IncrementalDecoder | None = None
        self._text: list[str] = []
        self.close_sent = False
        self.close_received = False
        self.failed: WebSocketProtocolError | None = None

    # -- receiving -------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the peer; ignored once a close frame was received."""
        if not (self.close_received or self.failed):
            self._buf += data

    def next_event(self) -> Event | None:
        """The next message or control frame, or ``None`` if more data is needed.

        Raises:
            WebSocketProtocolError: the peer violated the protocol; the engine
                stops parsing (later calls return ``None``).
        """
        while not (self.close_received or self.failed):
            try:
                frame = self._parse_frame()
                if frame is None:
                    return None
                event = self._process(frame)
            except WebSocketProtocolError as exc:
                self.failed = exc
                self._buf.clear()
                raise
            if event is not None:
                return event
        return None

    def _parse_frame(self) -> _Frame | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        fin, rsv, opcode = bool(b0 & 0x80), b0 & 0x70, b0 & 0x0F
        masked, n = bool(b1 & 0x80), b1 & 0x7F
        if rsv:
            # §5.2: "MUST be 0 unless an extension is negotiated"; we offer none.
            raise WebSocketProtocolError(1002, "reserved bits set")
        if opcode not in Opcode.__members__.values():
            raise WebSocketProtocolError(1002, f"reserved opcode {opcode:#x}")
        if opcode >= 8:
            # §5.5: control frames are short and never fragmented.
            if not fin:
                raise WebSocketProtocolError(1002, "fragmented control frame")
            if n > MAX_CONTROL_PAYLOAD_BYTES:
                raise WebSocketProtocolError(1002, "control frame payload over 125 bytes")
        # §5.1: servers close on unmasked client frames, clients on masked ones.
        if masked != (self.role is Role.SERVER):
            side = "unmasked client" if self.role is Role.SERVER else "masked server"
            raise WebSocketProtocolError(1002, f"{side} frame")
        offset = 2
        if n == 126:
            if len(buf) < 4:
                return None
            (n,) = struct.unpack_from("!H", buf, 2)
            offset = 4
            if n < 126:  # §5.2: "the minimal number of bytes MUST be used"
                raise WebSocketProtocolError(1002, "non-minimal length encoding")
        elif n == 127:
            if len(buf) < 10:
                return None
            (n,) = struct.unpack_from("!Q", buf, 2)
            offset = 10
            if n >> 63:  # §5.2: "the most significant bit MUST be 0"
                raise WebSocketProtocolError(1002, "64-bit length with the high bit set")
            if n <= 0xFFFF:
                raise WebSocketProtocolError(1002, "non-minimal length encoding")
        if opcode < 8 and self._pending_size + n > self.max_message_bytes:
            # Checked on the header, before buffering the payload.
            raise WebSocketProtocolError(1009, f"message over {self.max_message_bytes} bytes")
        key = b""
        if masked:
            if len(buf) < offset + 4:
                return None
            key = bytes(buf[offset : offset + 4])
            offset += 4
        if len(buf) < offset + n:
            return None
        payload = bytes(buf[offset : offset + n])
        del buf[: offset + n]
        if masked:
            payload = _mask(payload, key)
        return _Frame(fin, opcode, payload)

    def _process(self, frame: _Frame) -> Event | None:
        op = frame.opcode
        if op == Opcode.CLOSE:
            return self._on_close(frame.payload)
        if op == Opcode.PING:
            return Ping(frame.payload)
        if op == Opcode.PONG:
            return Pong(frame.payload)
        # §5.4: a message is one start frame (text/binary) and continuations.
        if op == Opcode.CONTINUATION:
            if self._pending_type is None:
                raise WebSocketProtocolError(1002, "continuation frame without a message")
        elif self._pending_type is not None:
            raise WebSocketProtocolError(1002, "new message before the last one finished")
        else:
            self._pending_type = op
            if op == Opcode.TEXT:
                self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._pending_size += len(frame.payload)
        if self._decoder is not None:
            try:
                self._text.append(self._decoder.decode(frame.payload, final=frame.fin))
            except UnicodeDecodeError:
                raise WebSocketProtocolError(1007, "invalid UTF-8 in a text message") from None
        else:
            self._pending.append(frame.payload)
        if not frame.fin:
            return None
        event: Event
        if self._decoder is not None:
            event = TextMessage("".join(self._text))
        else:
            event = BytesMessage(b"".join(self._pending))
        self._pending_type = None
        self._decoder = None
        self._pending, self._text, self._pending_size = [], [], 0
        return event

    def _on_close(self, payload: bytes) -> CloseConnection:
        # §5.5.1: empty, or a 2-byte code followed by a UTF-8 reason.
        if not payload:
            self.close_received = True
            return CloseConnection(CloseReason.NO_STATUS_RCVD, "")
        if len(payload) == 1:
            raise WebSocketProtocolError(1002, "close frame with a 1-byte payload")
        (code,) = struct.unpack_from("!H", payload)
        if not _valid_wire_code(code):
            raise WebSocketProtocolError(1002, f"invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise WebSocketProtocolError(1007, "invalid UTF-8 in the close reason") from None
        self.close_received = True
        return CloseConnection(code, reason)

    # -- sending ---------------------------------------------------------------

    def send(self, event: Event) -> bytes:
        """Serialise an event into one frame (masked on the client side).

        Raises:
            ValueError: a data frame after our close frame, a control payload
                over 125 bytes, or an invalid close code.
            TypeError: not an event of this module.
        """
        if self.close_sent:
            raise ValueError(f"cannot send {type(event).__name__} after the close frame")
        if isinstance(event, TextMessage):
            return self._frame(Opcode.TEXT, event.data.encode("utf-8"))
        if isinstance(event, BytesMessage):
            return self._frame(Opcode.BINARY, bytes(event.data))
        if isinstance(event, Ping):
            return self._frame(Opcode.PING, bytes(event.payload))
        if isinstance(event, Pong):
            return self._frame(Opcode.PONG, bytes(event.payload))
        if isinstance(event, CloseConnection):
            payload = b""
            if event.code not in _LOCAL_ONLY_CODES:
                if not _valid_wire_code(event.code):
                    raise ValueError(f"invalid close code {event.code!r}")
                payload = struct.pack("!H", event.code) + event.reason.encode("utf-8")
            frame = self._frame(Opcode.CLOSE, payload)
            self.close_sent = True
            return frame
        raise TypeError(f"expected a websocket event, not {event!r}")

    def _frame(self, opcode: Opcode, payload: bytes) -> bytes:
        if opcode >= 8 and len(payload) > MAX_CONTROL_PAYLOAD_BYTES:
            raise ValueError(
                f"control frame payload of {len(payload)} bytes exceeds "
                f"{MAX_CONTROL_PAYLOAD_BYTES} bytes"
            )
        key = self._mask_key() if self.role is Role.CLIENT else None
        return encode_frame(opcode, payload, mask_key=key)
