"""``Bridge`` and ``ipc``: run events in another process over a stream socket.

There is one Bridge at each end of a connected stream (normally the two ends
of ``circuits.net.sockets.Pipe()``, which ``Manager.start(process=True,
link=manager)`` sets up). The Bridge owns its end as a child component and
shares its channel, so the socket's ``read`` events reach it.

Wire format (3.2.5's): every message is ``pickle.dumps((eid, obj)) + b"~~~"``.
``obj`` is an :class:`Event` (a request: run it here) or a :class:`Value`
(the reply to request ``eid``). Pickled bytes may themselves contain
``b"~~~"``, so a chunk ends at a delimiter only where a pickle that fills the
chunk exactly ends (the unpickler reports how far it read).

Flow: ``ipc(event)`` here sends ``(eid, event)`` and parks its handler on
``wait("<eid>_done")``. The peer fires the event; once it is done (all its
handlers, coroutines included, have finished; and nested Values it returned
are done too) the peer sends back ``(eid, value)`` - exactly once, even when
the event had no result or several. Here the result is copied into the
Value that the ``ipc`` event's own Value nests, and ``<eid>_done`` resumes
the handler. Handler errors travel back as ``(type, exception, frames)``
with the traceback converted by ``traceback.extract_tb`` (tracebacks cannot
be pickled), and ``errors`` set.
"""

from __future__ import annotations

import copy
import io
import logging
import pickle
import traceback
from collections.abc import Generator
from types import TracebackType
from typing import Any

from .components import BaseComponent
from .events import Event, exception
from .handlers import handler
from .values import Value

__all__ = ["BaseComponent", "Bridge", "Event", "Value", "exception", "handler", "ipc"]

log = logging.getLogger(__name__)

DELIMITER = b"~~~"


class ipc(Event):
    """Ask the Bridge to run ``event`` in the peer process.

    Args:
        event: the event to run remotely (must be picklable).
        channel: the channel to fire it on there (default: the ``ipc``
            event's own channels).
    """

    def __init__(self, event: Event, channel: Any = None) -> None:
        super().__init__(event, channel=channel)


class Bridge(BaseComponent):
    """Forward ``ipc`` events to the peer process and run the peer's here.

    ``Bridge(socket=None, channel="bridge")``: see ``init``.
    """

    channel = "bridge"

    def init(self, socket: Any = None, channel: Any = channel) -> None:
        """Take the constructor's arguments.

        Args:
            socket: a connected stream client component (a ``Pipe()`` end); it
                is registered as this Bridge's child. ``None`` for no socket.
            channel: the Bridge's channel; use the socket's channel.
        """
        self._socket = socket
        self._buffer = bytearray()
        self._scan_from = 0
        self._values: dict[int, Value] = {}  # our ipc requests, by eid
        self._remote: dict[Value, int] = {}  # the peer's requests we run, Value -> eid
        if socket is not None:
            socket.register(self)

    # -- sending -------------------------------------------------------------

    @handler("ipc")
    def _on_ipc(self, event: Event, ipc_event: Event, channel: Any = None) -> Generator[Any]:
        ipc_event.channels = (channel,) if channel is not None else event.channels
        value = Value(ipc_event, self)
        eid = hash(ipc_event)
        socket = self._socket
        if socket is None or not socket.connected:
            raise ConnectionError(f"{self!r} is not connected: cannot send {ipc_event!r}")
        self._send(eid, _detached(ipc_event))
        self._values[eid] = value
        ipc_event.value = value
        event.value.value = value  # the ipc event's Value nests the remote result
        yield self.waitEvent(f"{eid}_done")

    def _send(self, eid: int, obj: Any) -> None:
        self._socket.write(pickle.dumps((eid, obj)) + DELIMITER)

    # -- receiving -----------------------------------------------------------

    @handler("read")
    def _on_read(self, data: bytes) -> None:
        self._buffer += data
        for eid, obj in self._messages():
            if isinstance(obj, Event):
                self._process_request(eid, obj)
            elif isinstance(obj, Value):
                self._process_reply(eid, obj)
            else:
                log.warning("%r: ignoring a message that is neither Event nor Value", self)

    def _messages(self) -> list[tuple[int, Any]]:
        """Take the complete messages out of the buffer."""
        found: list[tuple[int, Any]] = []
        buf = self._buffer
        start = 0
        while True:
            end = buf.find(DELIMITER, max(start, self._scan_from))
            if end < 0:
                # Next time, search only new bytes (and a delimiter split by the read).
                self._scan_from = max(start, self._scan_from, len(buf) - len(DELIMITER) + 1)
                break
            chunk = io.BytesIO(memoryview(buf)[start:end])
            try:
                message = pickle.Unpickler(chunk).load()
            except (EOFError, pickle.UnpicklingError):
                message = None  # not a whole pickle: b"~~~" inside the data
            except Exception as exc:
                log.warning("%r: dropping a message that cannot be unpickled: %s", self, exc)
                start = self._scan_from = end + len(DELIMITER)
                continue
            if message is None or chunk.tell() != end - start:
                self._scan_from = end + 1
                continue
            start = self._scan_from = end + len(DELIMITER)
            if isinstance(message, tuple) and len(message) == 2:
                found.append(message)
            else:
                log.warning("%r: ignoring a malformed message %r", self, message)
        if start:
            del buf[:start]
            self._scan_from -= start
        return found

    def _process_request(self, eid: int, event: Event) -> None:
        event.remote = True  # type: ignore[attr-defined]
        event.notify = "value_changed"
        event.waitingHandlers = 0
        value = self.fire(event, *event.channels)
        self._remote[value] = eid
        value._when_done(self._reply)

    def _process_reply(self, eid: int, remote: Value) -> None:
        value = self._values.pop(eid, None)
        if value is None:
            return
        if remote.errors:
            value.errors = True
        if remote.result:
            result = remote.getValue(False)
            if isinstance(result, list):
                for item in result:
                    value.value = item
            else:
                value.value = result
        done = Event.create(f"{eid}_done")
        done.remote = True  # type: ignore[attr-defined]
        self.fire(done, self.channel)

    # -- replying ------------------------------------------------------------

    @handler("value_changed", channel="*")
    def _on_value_changed(self, value: Any) -> None:
        if isinstance(value, Value) and value in self._remote and value._done:
            self._reply(value)

    def _reply(self, value: Value) -> None:
        """Send the result of a request run here, once it (and what it nests) is done."""
        if value not in self._remote:
            return
        pending = [v for v in _nested(value) if not v._done]
        if pending:

            def retry(_done: Value) -> None:
                self._reply(value)

            for v in pending:
                v._when_done(retry)
            return
        eid = self._remote.pop(value)
        reply = _plain_copy(value)
        try:
            data = pickle.dumps((eid, reply))
        except Exception as exc:
            log.warning("%r: cannot send the result of %r back: %s", self, value.event, exc)
            err = TypeError(f"the result of {value.event!r} cannot be pickled: {exc}")
            reply = Value()
            reply.errors = reply.result = True
            reply._value = (TypeError, err, [])
            data = pickle.dumps((eid, reply))
        try:
            self._socket.write(data + DELIMITER)
        except Exception as exc:  # the socket is gone: nobody is waiting any more
            log.debug("%r: cannot send a reply: %s", self, exc)

    # -- the connection ends -------------------------------------------------

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        # Requests still waiting will never be answered: fail them.
        values, self._values = self._values, {}
        for eid, value in values.items():
            exc = ConnectionResetError(f"the peer of {self!r} disconnected")
            value.errors = True
            value.value = (ConnectionResetError, exc, [])
            done = Event.create(f"{eid}_done")
            self.fire(done, self.channel)
        self._remote.clear()


def _detached(event: Event) -> Event:
    """A shallow copy of ``event`` without its local Value, for pickling."""
    clone = copy.copy(event)
    vars(clone).pop("value", None)
    return clone


def _nested(value: Value) -> list[Value]:
    raw = value.getValue(False)
    items = raw if isinstance(raw, list) else [raw]
    return [v for v in items if isinstance(v, Value)]


def _plain(obj: Any) -> Any:
    if isinstance(obj, Value):
        obj = obj.value
    if (
        isinstance(obj, tuple)
        and len(obj) == 3
        and isinstance(obj[0], type)
        and issubclass(obj[0], BaseException)
        and isinstance(obj[2], TracebackType)
    ):
        return (obj[0], obj[1], traceback.extract_tb(obj[2]))
    return obj


def _plain_copy(value: Value) -> Value:
    """A detached, picklable copy of ``value``: nested Values read, tracebacks extracted."""
    raw = value.getValue(False)
    reply = Value()
    reply.result = value.result or any(v.result for v in _nested(value))
    reply.errors = value.errors or any(v.errors for v in _nested(value))
    reply._value = [_plain(v) for v in raw] if isinstance(raw, list) else _plain(raw)
    return reply
