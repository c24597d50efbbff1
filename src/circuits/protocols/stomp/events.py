"""The events of the STOMP client (``circuits.protocols.stomp``), channel ``"stomp"``.

Requests the client handles: ``connect``, ``disconnect``, ``send``,
``subscribe``, ``unsubscribe``, ``ack``, ``nack``, ``begin``, ``commit``,
``abort``. Reports it fires: ``connected``, ``connection_failed``,
``disconnected``, ``message``, ``receipt``, ``heartbeat_timeout``,
``on_stomp_error``. ``client_heartbeat``/``server_heartbeat`` come from its
timers. Every event sets ``success = True`` (so ``<name>_success`` follows).
"""

from __future__ import annotations

from typing import Any

from ...core.events import Event

__all__ = [
    "Event",
    "abort",
    "ack",
    "begin",
    "client_heartbeat",
    "commit",
    "connect",
    "connected",
    "connection_failed",
    "disconnect",
    "disconnected",
    "heartbeat_timeout",
    "message",
    "nack",
    "on_stomp_error",
    "receipt",
    "send",
    "server_heartbeat",
    "stomp_event",
    "subscribe",
    "unsubscribe",
]


class stomp_event(Event):
    """Base of the STOMP events: ``success`` set, and a short repr."""

    success = True

    def __repr__(self) -> str:
        channels = ",".join(str(c) for c in self.channels)
        return f"<{self.name}[{channels}] ()>"


class connect(stomp_event):
    """Open the connection and the STOMP session: ``connect(subscribe=False, host=None)``.

    ``host`` is the virtual host sent in CONNECT (default: the broker's host name).
    """

    def __init__(self, subscribe: bool = False, host: str | None = None) -> None:
        super().__init__(subscribe=subscribe, host=host)
        self.subscribe = subscribe


class connected(stomp_event):
    """The broker answered CONNECTED."""

    def __init__(self) -> None:
        super().__init__()


class connection_failed(stomp_event):
    """The connection or the STOMP handshake failed: ``connection_failed(uri, reason)``."""

    reconnect = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class disconnect(stomp_event):
    """Send DISCONNECT (with ``receipt``: wait for it) and close."""

    def __init__(self, receipt: str | None = None) -> None:
        super().__init__(receipt=receipt)


class disconnected(stomp_event):
    """The connection is closed; ``reconnect`` is False after our own ``disconnect``."""

    def __init__(self, reconnect: bool = True, receipt: str | None = None) -> None:
        super().__init__(reconnect, receipt=receipt)
        self.reconnect = reconnect


class message(stomp_event):
    """A MESSAGE frame: ``message(frame, headers=dict, message=body_bytes)``."""

    def __init__(self, frame: Any) -> None:
        super().__init__(frame, headers=frame.headers_dict(), message=frame.body)
        self.frame = frame


class receipt(stomp_event):
    """A RECEIPT frame: ``receipt(frame, receipt_id=...)``."""

    def __init__(self, frame: Any) -> None:
        super().__init__(frame, receipt_id=frame.get("receipt-id"))
        self.frame = frame


class send(stomp_event):
    """SEND: ``send(destination=..., body=..., headers=None, receipt=None, transaction=None)``."""

    def __init__(
        self, headers: Any = None, body: Any = b"", destination: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(headers=headers, body=body, destination=destination, **kwargs)


class subscribe(stomp_event):
    """SUBSCRIBE: ``subscribe(destination, ack='client-individual', receipt=None)``."""

    def __init__(self, destination: str, **kwargs: Any) -> None:
        super().__init__(destination, **kwargs)


class unsubscribe(stomp_event):
    """UNSUBSCRIBE from ``destination`` (ignored when not subscribed)."""

    def __init__(self, destination: str, **kwargs: Any) -> None:
        super().__init__(destination, **kwargs)


class ack(stomp_event):
    """ACK the message ``frame`` (from a ``message`` event)."""

    def __init__(self, frame: Any, **kwargs: Any) -> None:
        super().__init__(frame, **kwargs)


class nack(stomp_event):
    """NACK the message ``frame`` (from a ``message`` event)."""

    def __init__(self, frame: Any, **kwargs: Any) -> None:
        super().__init__(frame, **kwargs)


class begin(stomp_event):
    """BEGIN ``transaction``."""

    def __init__(self, transaction: str, **kwargs: Any) -> None:
        super().__init__(transaction, **kwargs)


class commit(stomp_event):
    """COMMIT ``transaction``."""

    def __init__(self, transaction: str, **kwargs: Any) -> None:
        super().__init__(transaction, **kwargs)


class abort(stomp_event):
    """ABORT ``transaction``."""

    def __init__(self, transaction: str, **kwargs: Any) -> None:
        super().__init__(transaction, **kwargs)


class client_heartbeat(stomp_event):
    """Timer: time to send a heart-beat."""

    def __init__(self) -> None:
        super().__init__()


class server_heartbeat(stomp_event):
    """Timer: time to check that the server is still beating."""

    def __init__(self) -> None:
        super().__init__()


class heartbeat_timeout(stomp_event):
    """The server sent nothing for longer than its heart-beat allows."""

    def __init__(self) -> None:
        super().__init__()


class on_stomp_error(stomp_event):
    """A STOMP error: ``on_stomp_error(frame_or_None, err, headers=, message=, error=)``.

    ``frame`` is the ERROR frame when the broker sent one; ``err`` the exception.
    """

    def __init__(self, frame: Any, err: BaseException) -> None:
        headers = frame.headers_dict() if frame is not None else {}
        body = frame.body if frame is not None else b""
        super().__init__(frame, err, headers=headers, message=body, error=err)
        self.frame = frame
