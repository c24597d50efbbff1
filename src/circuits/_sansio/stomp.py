"""STOMP 1.2 without I/O: a frame codec and a client connection state machine.

Bytes go in with ``receive_data``, events come out of ``next_event``, and
``send(event)`` turns a client request into the bytes to write. Nothing here
touches a socket or a clock: heart-beat *intervals* are negotiated here, the
component that owns the socket does the timing.

Theory of operation (STOMP 1.2, https://stomp.github.io/stomp-specification-1.2.html,
"Augmented BNF"):

    frame   = command EOL *( header EOL ) EOL *OCTET NULL *( EOL )
    EOL     = [CR] LF
    header  = header-name ":" header-value

* An EOL where a command could start is a heart-beat; the EOLs that may
  follow a frame's NUL are read the same way, since nothing distinguishes them.
* The header block ends at the first empty line. Header names and values are
  UTF-8 with the escapes ``\\r`` ``\\n`` ``\\c`` ``\\\\``; any other escape is a
  protocol error ("Undefined escape sequences ... MUST be treated as a fatal
  protocol error"). CONNECT and CONNECTED frames are not escaped.
* When a header appears twice, the first value counts ("only the first header
  entry SHOULD be used").
* A ``content-length`` header says how many body octets precede the NUL (the
  body may then contain NULs); without it the body runs to the first NUL.

A peer breaking these rules raises :class:`RemoteProtocolError`, after which
the parser stays broken (every later call raises again). Misuse by our own
side (a SEND before CONNECTED, an unknown ack mode) raises
:class:`LocalProtocolError` and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "ACK_MODES",
    "CLIENT_COMMANDS",
    "MAX_FRAME_BYTES",
    "MAX_HEADER_BYTES",
    "SERVER_COMMANDS",
    "Abort",
    "Ack",
    "Begin",
    "ClientConnection",
    "Commit",
    "Connect",
    "Connected",
    "Disconnect",
    "Error",
    "Frame",
    "FrameParser",
    "Heartbeat",
    "LocalProtocolError",
    "Message",
    "Nack",
    "ProtocolError",
    "Receipt",
    "RemoteProtocolError",
    "Send",
    "State",
    "Subscribe",
    "Unsubscribe",
    "negotiate_heartbeat",
    "serialize_frame",
]

# The command line plus headers must fit in this many bytes before the blank
# line is seen. Real brokers send a few hundred bytes of headers; 64 KiB is
# h11's bound for an HTTP header block, and the same reasoning applies: big
# enough for anything legitimate, small enough that a peer cannot make us
# buffer without end while we look for the end of the headers.
MAX_HEADER_BYTES = 64 * 1024
# A whole frame (headers + body). 16 MiB leaves room for large messages and
# still bounds memory per connection; brokers have similar configurable caps.
MAX_FRAME_BYTES = 16 * 1024 * 1024

CLIENT_COMMANDS = frozenset(
    {
        "CONNECT",
        "STOMP",
        "SEND",
        "SUBSCRIBE",
        "UNSUBSCRIBE",
        "ACK",
        "NACK",
        "BEGIN",
        "COMMIT",
        "ABORT",
        "DISCONNECT",
    }
)
SERVER_COMMANDS = frozenset({"CONNECTED", "MESSAGE", "RECEIPT", "ERROR"})
# The frames whose headers are not escaped (spec "Value Encoding"; STOMP is
# CONNECT under another name).
_UNESCAPED_COMMANDS = frozenset({"CONNECT", "STOMP", "CONNECTED"})
ACK_MODES = ("auto", "client", "client-individual")

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_UNESCAPE = {"r": "\r", "n": "\n", "c": ":", "\\": "\\"}
_ESCAPE = str.maketrans({"\\": "\\\\", "\r": "\\r", "\n": "\\n", ":": "\\c"})


class ProtocolError(Exception):
    """The STOMP conversation cannot go on."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break STOMP 1.2 (or our limits)."""


class LocalProtocolError(ProtocolError):
    """We were asked to send something the protocol or our state forbids."""


# ---------------------------------------------------------------------------
# Frames


@dataclass(frozen=True, slots=True)
class Frame:
    """One STOMP frame.

    Args:
        command: the command, e.g. ``"SEND"``.
        headers: ``(name, value)`` pairs in wire order; repeats are kept.
        body: the body octets.
    """

    command: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (STOMP's repeated-header rule)."""
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def headers_dict(self) -> dict[str, str]:
        """The headers as a dict, first occurrence winning."""
        result: dict[str, str] = {}
        for key, value in self.headers:
            result.setdefault(key, value)
        return result


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """An EOL between frames: the peer is alive (also sent by us)."""


def serialize_frame(frame: Frame) -> bytes:
    """Encode ``frame``, adding ``content-length`` when there is a body.

    Raises:
        LocalProtocolError: unknown command, empty header name, a header of an
            unescaped frame (CONNECT/CONNECTED) that cannot be written, or a
            ``content-length`` that does not match the body.
    """
    if frame.command not in CLIENT_COMMANDS | SERVER_COMMANDS:
        raise LocalProtocolError(f"unknown STOMP command {frame.command!r}")
    escape = frame.command not in _UNESCAPED_COMMANDS
    lines = [frame.command]
    has_length = False
    for name, value in frame.headers:
        if not name:
            raise LocalProtocolError(f"empty header name in {frame.command} frame")
        if name == "content-length":
            if has_length:
                continue  # only the first counts; never send a contradiction
            has_length = True
            if value != str(len(frame.body)):
                raise LocalProtocolError(
                    f"content-length {value!r} does not match a body of {len(frame.body)} bytes"
                )
        if escape:
            lines.append(f"{name.translate(_ESCAPE)}:{value.translate(_ESCAPE)}")
        else:
            if ":" in name or _has_eol(name) or _has_eol(value):
                raise LocalProtocolError(
                    f"{frame.command} headers are not escaped; cannot send {name!r}: {value!r}"
                )
            lines.append(f"{name}:{value}")
    if frame.body and not has_length:
        lines.append(f"content-length:{len(frame.body)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + frame.body + b"\x00"


def _has_eol(text: str) -> bool:
    return "\r" in text or "\n" in text


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        nxt = next(chars, "")
        if nxt not in _UNESCAPE:
            sequence = "\\" + nxt
            raise RemoteProtocolError(f"undefined escape sequence {sequence!r} in {text!r}")
        out.append(_UNESCAPE[nxt])
    return "".join(out)


class FrameParser:
    """Incremental STOMP frame parser: bytes in, :class:`Frame`/:class:`Heartbeat` out.

    Args:
        max_header_bytes: limit for the command line and headers.
        max_frame_bytes: limit for a whole frame, body included.
    """

    def __init__(
        self, max_header_bytes: int = MAX_HEADER_BYTES, max_frame_bytes: int = MAX_FRAME_BYTES
    ) -> None:
        self.max_header_bytes = max_header_bytes
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._error: RemoteProtocolError | None = None
        # Set once a header block is parsed and we wait for the body.
        self._pending: tuple[str, tuple[tuple[str, str], ...], int, int | None] | None = None

    def receive_data(self, data: bytes) -> None:
        """Add received bytes (``b""`` is ignored: closing is the transport's business)."""
        self._buffer += data

    def next_event(self) -> Frame | Heartbeat | None:
        """The next complete frame or heart-beat, or ``None`` until more bytes arrive.

        Raises:
            RemoteProtocolError: the bytes are not STOMP 1.2 or exceed a limit.
        """
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except RemoteProtocolError as exc:
            self._error = exc
            raise

    def _next(self) -> Frame | Heartbeat | None:
        buf = self._buffer
        if self._pending is None:
            if not buf:
                return None
            if buf[0] == 0x0A:
                del buf[:1]
                return Heartbeat()
            if buf[0] == 0x0D:
                if len(buf) < 2:
                    return None
                if buf[1] != 0x0A:
                    raise RemoteProtocolError("a CR not followed by LF between frames")
                del buf[:2]
                return Heartbeat()
            match = _HEADER_END.search(buf)
            if match is None:
                if len(buf) > self.max_header_bytes:
                    raise RemoteProtocolError(
                        f"no end of headers within {self.max_header_bytes} bytes"
                    )
                return None
            if match.start() > self.max_header_bytes:
                raise RemoteProtocolError(
                    f"header block of {match.start()} bytes exceeds {self.max_header_bytes}"
                )
            command, headers = _parse_head(bytes(buf[: match.start()]))
            length_text = dict(reversed(headers)).get("content-length")
            length: int | None = None
            if length_text is not None:
                if not length_text.isascii() or not length_text.isdigit():
                    raise RemoteProtocolError(f"bad content-length {length_text!r}")
                length = int(length_text)
            self._pending = (command, headers, match.end(), length)
        command, headers, start, length = self._pending
        if length is not None:
            if start + length + 1 > self.max_frame_bytes:
                raise RemoteProtocolError(
                    f"frame of {start + length + 1} bytes exceeds {self.max_frame_bytes}"
                )
            if len(buf) < start + length + 1:
                return None
            if buf[start + length] != 0:
                raise RemoteProtocolError(
                    f"no NUL after the {length} body bytes given by content-length"
                )
            end = start + length
        else:
            found = buf.find(b"\x00", start)
            if found < 0:
                if len(buf) + 1 > self.max_frame_bytes:
                    raise RemoteProtocolError(f"frame exceeds {self.max_frame_bytes} bytes")
                return None
            end = found
            if end + 1 > self.max_frame_bytes:
                raise RemoteProtocolError(
                    f"frame of {end + 1} bytes exceeds {self.max_frame_bytes}"
                )
        body = bytes(buf[start:end])
        del buf[: end + 1]
        self._pending = None
        return Frame(command, headers, body)


def _parse_head(head: bytes) -> tuple[str, tuple[tuple[str, str], ...]]:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(f"frame head is not UTF-8: {exc}") from None
    lines = text.split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    command = lines[0]
    if command not in CLIENT_COMMANDS | SERVER_COMMANDS:
        raise RemoteProtocolError(f"unknown STOMP command {command[:40]!r}")
    escaped = command not in _UNESCAPED_COMMANDS
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if "\r" in line:
            raise RemoteProtocolError(f"bare CR in header line {line[:80]!r}")
        name, colon, value = line.partition(":")
        if not colon or not name:
            raise RemoteProtocolError(f"header line {line[:80]!r} is not name:value")
        if escaped:
            name, value = _unescape(name), _unescape(value)
        headers.append((name, value))
    return command, tuple(headers)


# ---------------------------------------------------------------------------
# Client requests (passed to ClientConnection.send)


@dataclass(frozen=True, slots=True)
class Connect:
    """CONNECT (or STOMP) with version and heart-beat negotiation.

    ``heartbeat`` is ``(cx, cy)`` in ms: we can send every ``cx``, we want to
    receive every ``cy`` (0 = not at all).
    """

    host: str
    login: str | None = None
    passcode: str | None = None
    heartbeat: tuple[int, int] = (0, 0)
    accept_version: str = "1.2"
    headers: tuple[tuple[str, str], ...] = ()
    command: str = "CONNECT"


@dataclass(frozen=True, slots=True)
class Send:
    """SEND ``body`` to ``destination``."""

    destination: str
    body: bytes = b""
    content_type: str | None = None
    transaction: str | None = None
    receipt: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Subscribe:
    """SUBSCRIBE to ``destination`` under subscription ``id``."""

    destination: str
    id: str
    ack: str = "auto"
    receipt: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """UNSUBSCRIBE subscription ``id``."""

    id: str
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """ACK a message; ``id`` is the MESSAGE's ``ack`` header."""

    id: str
    transaction: str | None = None
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class Nack:
    """NACK a message; ``id`` is the MESSAGE's ``ack`` header."""

    id: str
    transaction: str | None = None
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class Begin:
    """BEGIN ``transaction``."""

    transaction: str
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class Commit:
    """COMMIT ``transaction``."""

    transaction: str
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class Abort:
    """ABORT ``transaction``."""

    transaction: str
    receipt: str | None = None


@dataclass(frozen=True, slots=True)
class Disconnect:
    """DISCONNECT; with ``receipt`` the server confirms it has seen every frame."""

    receipt: str | None = None


# ---------------------------------------------------------------------------
# Server events (returned by ClientConnection.next_event)


@dataclass(frozen=True, slots=True)
class Connected:
    """CONNECTED: the session is open.

    ``heartbeat`` is the negotiated ``(send_ms, receive_ms)``: send a
    heart-beat every ``send_ms``; expect one from the server every ``receive_ms``.
    """

    version: str
    heartbeat: tuple[int, int]
    server: str | None
    session: str | None
    frame: Frame = field(repr=False)


@dataclass(frozen=True, slots=True)
class Message:
    """MESSAGE from a subscription; ``ack`` is the id to ACK/NACK it with."""

    destination: str | None
    subscription: str | None
    message_id: str | None
    ack: str | None
    body: bytes
    frame: Frame = field(repr=False)


@dataclass(frozen=True, slots=True)
class Receipt:
    """RECEIPT for a frame that asked for one."""

    receipt_id: str
    frame: Frame = field(repr=False)


@dataclass(frozen=True, slots=True)
class Error:
    """ERROR from the server; the server closes the connection after it."""

    message: str | None
    body: bytes
    receipt_id: str | None
    frame: Frame = field(repr=False)


ClientRequest = (
    Connect | Send | Subscribe | Unsubscribe | Ack | Nack | Begin | Commit | Abort | Disconnect
)
ServerEvent = Connected | Message | Receipt | Error | Heartbeat


class State(Enum):
    """Where a client connection is."""

    IDLE = "IDLE"  # nothing sent yet
    CONNECTING = "CONNECTING"  # CONNECT sent, waiting for CONNECTED
    CONNECTED = "CONNECTED"
    DISCONNECTING = "DISCONNECTING"  # DISCONNECT with receipt sent, waiting for it
    CLOSED = "CLOSED"  # DISCONNECT done (or ERROR received): no more frames
    ERROR = "ERROR"  # the peer broke the protocol


def negotiate_heartbeat(ours: tuple[int, int], theirs: tuple[int, int]) -> tuple[int, int]:
    """The ``(send_ms, receive_ms)`` intervals agreed by CONNECT and CONNECTED.

    Spec "Heart-beating": with our ``cx,cy`` and the server's ``sx,sy``, we
    send every ``max(cx, sy)`` unless either is 0, and the server sends every
    ``max(sx, cy)`` unless either is 0.
    """
    cx, cy = ours
    sx, sy = theirs
    send = 0 if cx == 0 or sy == 0 else max(cx, sy)
    receive = 0 if sx == 0 or cy == 0 else max(sx, cy)
    return send, receive


def _parse_heartbeat(value: str | None) -> tuple[int, int]:
    if value is None:
        return (0, 0)
    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
        raise RemoteProtocolError(f"bad heart-beat header {value!r}, expected 'sx,sy'")
    return int(parts[0]), int(parts[1])


class ClientConnection:
    """The client side of one STOMP 1.2 session.

    Args:
        max_header_bytes: parser limit for a frame's head.
        max_frame_bytes: parser limit for a whole frame.
    """

    def __init__(
        self, max_header_bytes: int = MAX_HEADER_BYTES, max_frame_bytes: int = MAX_FRAME_BYTES
    ) -> None:
        self._parser = FrameParser(max_header_bytes, max_frame_bytes)
        self.state = State.IDLE
        self.version: str | None = None
        self.heartbeat: tuple[int, int] = (0, 0)
        self._requested_heartbeat: tuple[int, int] = (0, 0)
        self.subscriptions: dict[str, tuple[str, str]] = {}  # id -> (destination, ack)
        self.transactions: set[str] = set()
        self._disconnect_receipt: str | None = None

    # -- outbound ----------------------------------------------------------

    def send(self, event: ClientRequest | Heartbeat) -> bytes:
        """The bytes for ``event``; updates the state.

        Raises:
            LocalProtocolError: the request is not allowed now or is malformed.
        """
        if isinstance(event, Connect):
            return self._send_connect(event)
        if self.state is not State.CONNECTED:
            raise LocalProtocolError(
                f"cannot send {type(event).__name__} in state {self.state.value}; "
                "expected CONNECTED"
            )
        if isinstance(event, Heartbeat):
            return b"\n"
        frame = self._frame_for(event)
        data = serialize_frame(frame)
        self._commit(event)
        return data

    def _send_connect(self, event: Connect) -> bytes:
        if self.state is not State.IDLE:
            raise LocalProtocolError(f"CONNECT in state {self.state.value}; expected IDLE")
        if event.command not in ("CONNECT", "STOMP"):
            raise LocalProtocolError(f"expected CONNECT or STOMP, not {event.command!r}")
        cx, cy = event.heartbeat
        if cx < 0 or cy < 0:
            raise LocalProtocolError(f"heart-beat intervals must be >= 0, not {event.heartbeat!r}")
        headers = [("accept-version", event.accept_version), ("host", event.host)]
        if event.login is not None:
            headers.append(("login", event.login))
        if event.passcode is not None:
            headers.append(("passcode", event.passcode))
        headers.append(("heart-beat", f"{cx},{cy}"))
        headers.extend(event.headers)
        data = serialize_frame(Frame(event.command, tuple(headers)))
        self._requested_heartbeat = (cx, cy)
        self.state = State.CONNECTING
        return data

    def _frame_for(self, event: ClientRequest) -> Frame:
        headers: list[tuple[str, str]] = []

        def opt(name: str, value: str | None) -> None:
            if value is not None:
                headers.append((name, value))

        if isinstance(event, Send):
            headers.append(("destination", event.destination))
            opt("content-type", event.content_type)
            opt("transaction", event.transaction)
            self._check_transaction(event.transaction)
            opt("receipt", event.receipt)
            headers.extend(event.headers)
            return Frame("SEND", tuple(headers), event.body)
        if isinstance(event, Subscribe):
            if event.ack not in ACK_MODES:
                raise LocalProtocolError(f"ack mode {event.ack!r} is not one of {ACK_MODES}")
            if event.id in self.subscriptions:
                raise LocalProtocolError(f"subscription id {event.id!r} is already in use")
            headers += [("destination", event.destination), ("id", event.id), ("ack", event.ack)]
            opt("receipt", event.receipt)
            headers.extend(event.headers)
            return Frame("SUBSCRIBE", tuple(headers))
        if isinstance(event, Unsubscribe):
            if event.id not in self.subscriptions:
                raise LocalProtocolError(f"no subscription with id {event.id!r}")
            headers.append(("id", event.id))
            opt("receipt", event.receipt)
            return Frame("UNSUBSCRIBE", tuple(headers))
        if isinstance(event, Ack | Nack):
            headers.append(("id", event.id))
            opt("transaction", event.transaction)
            self._check_transaction(event.transaction)
            opt("receipt", event.receipt)
            return Frame("ACK" if isinstance(event, Ack) else "NACK", tuple(headers))
        if isinstance(event, Begin | Commit | Abort):
            open_ = event.transaction in self.transactions
            if isinstance(event, Begin) == open_:
                raise LocalProtocolError(
                    f"transaction {event.transaction!r} is {'already' if open_ else 'not'} open"
                )
            headers.append(("transaction", event.transaction))
            opt("receipt", event.receipt)
            return Frame(type(event).__name__.upper(), tuple(headers))
        if isinstance(event, Disconnect):
            opt("receipt", event.receipt)
            return Frame("DISCONNECT", tuple(headers))
        raise LocalProtocolError(f"cannot send {event!r}")  # pragma: no cover

    def _check_transaction(self, transaction: str | None) -> None:
        if transaction is not None and transaction not in self.transactions:
            raise LocalProtocolError(f"transaction {transaction!r} is not open")

    def _commit(self, event: ClientRequest) -> None:
        if isinstance(event, Subscribe):
            self.subscriptions[event.id] = (event.destination, event.ack)
        elif isinstance(event, Unsubscribe):
            del self.subscriptions[event.id]
        elif isinstance(event, Begin):
            self.transactions.add(event.transaction)
        elif isinstance(event, Commit | Abort):
            self.transactions.discard(event.transaction)
        elif isinstance(event, Disconnect):
            self._disconnect_receipt = event.receipt
            self.state = State.CLOSED if event.receipt is None else State.DISCONNECTING

    # -- inbound -----------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes received from the server."""
        self._parser.receive_data(data)

    def next_event(self) -> ServerEvent | None:
        """The next server event, or ``None`` until more bytes arrive.

        Raises:
            RemoteProtocolError: the server broke the protocol; the state is ERROR.
        """
        if self.state is State.ERROR:
            raise RemoteProtocolError("the connection already failed")
        try:
            item = self._parser.next_event()
            if item is None or isinstance(item, Heartbeat):
                return item
            return self._dispatch(item)
        except RemoteProtocolError:
            self.state = State.ERROR
            raise

    def _dispatch(self, frame: Frame) -> ServerEvent:
        command = frame.command
        if command not in SERVER_COMMANDS:
            raise RemoteProtocolError(f"a server does not send {command!r} frames")
        if command == "ERROR":
            self.state = State.CLOSED
            return Error(frame.get("message"), frame.body, frame.get("receipt-id"), frame)
        if self.state is State.CONNECTING:
            if command != "CONNECTED":
                raise RemoteProtocolError(f"expected CONNECTED or ERROR, got {command}")
            version = frame.get("version", "1.0") or "1.0"
            if version != "1.2":
                raise RemoteProtocolError(f"server chose STOMP {version!r}; we speak 1.2")
            theirs = _parse_heartbeat(frame.get("heart-beat"))
            self.heartbeat = negotiate_heartbeat(self._requested_heartbeat, theirs)
            self.version = version
            self.state = State.CONNECTED
            return Connected(
                version, self.heartbeat, frame.get("server"), frame.get("session"), frame
            )
        if self.state not in (State.CONNECTED, State.DISCONNECTING):
            raise RemoteProtocolError(f"unexpected {command} in state {self.state.value}")
        if command == "CONNECTED":
            raise RemoteProtocolError("a second CONNECTED frame")
        if command == "RECEIPT":
            receipt_id = frame.get("receipt-id")
            if receipt_id is None:
                raise RemoteProtocolError("RECEIPT without a receipt-id header")
            if self.state is State.DISCONNECTING and receipt_id == self._disconnect_receipt:
                self.state = State.CLOSED
            return Receipt(receipt_id, frame)
        return Message(
            frame.get("destination"),
            frame.get("subscription"),
            frame.get("message-id"),
            frame.get("ack"),
            frame.body,
            frame,
        )
