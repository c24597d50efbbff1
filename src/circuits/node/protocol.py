"""``Protocol``: one node connection's calls, both ways (3.2.5 wire format).

Bytes from the socket go into `PacketReader` (``_wire``); event packets are
fired as events on their own channels and answered with a result packet
when done, result packets complete the calls this protocol sent. Writes are
``write(sock, data)`` (server mode) or ``write(data)`` (client mode) on the
protocol's channel.

Fixes over 3.2.5 (spec §7.3, §9.18): a packet split across reads is kept
until complete; only the protocol that received a call answers it (3.2.5
broadcast every answer through every protocol ever created); a handler that
raises is answered with ``errors: true`` and the formatted traceback (3.2.5
sent nothing, so the caller waited forever); pending calls fail when the
connection is lost; the tables are per instance.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from threading import get_ident
from typing import Any

from ..core.components import Component as Component
from ..core.events import Event
from ..core.handlers import handler as handler
from ..core.values import Value as Value
from ..net.events import write as write
from ._calls import answer_packet
from ._wire import DELIMITER as DELIMITER, EventPacket, PacketReader, write_packet
from .utils import (
    dump_event as dump_event,
    dump_value as dump_value,
    event_from_packet,
    load_event as load_event,
    load_value as load_value,
    result_packet,
    value_from_packet,
)

__all__ = [
    "DELIMITER",
    "Component",
    "Protocol",
    "Value",
    "dump_event",
    "dump_value",
    "handler",
    "load_event",
    "load_value",
    "write",
]

log = logging.getLogger("circuits.node")

Firewall = Callable[[Event, Any], Any]


class _node_call(Event):
    """Internal: run a received call on the loop thread: ``_node_call(protocol, event)``."""


@dataclass(slots=True)
class Outgoing:
    """A call this protocol sent and whose result it waits for."""

    event: Event
    on_result: Callable[[Outgoing], None] | None = None
    done: bool = False
    value: Any = None
    errors: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None  # the failure description of our peers
    lost: bool = False  # the connection closed first


class Protocol(Component):
    """The node protocol of one connection.

    Args:
        sock: the peer socket (server mode), else ``None``.
        server: anything not ``None`` selects server mode (writes name ``sock``).
        receive_event_firewall: ``f(event, sock)``; falsy refuses an incoming
            call (it is answered with an empty result).
        send_event_firewall: ``f(event, sock)``; falsy keeps ``send`` from
            sending (it yields an empty Value).
        channel: where events without channels are fired and writes go.
    """

    channel = "*"

    @handler(False)
    def init(
        self,
        sock: Any = None,
        server: Any = None,
        receive_event_firewall: Firewall | None = None,
        send_event_firewall: Firewall | None = None,
        channel: Any = "*",
        **kwargs: Any,
    ) -> None:
        self._sock = sock
        self._server = server
        self._receive_event_firewall = receive_event_firewall
        self._send_event_firewall = send_event_firewall
        self._reader = PacketReader()
        self._ids = itertools.count()
        self._outgoing: dict[Any, Outgoing] = {}  # sent calls by id
        self._incoming: dict[Any, Event] = {}  # received calls not answered yet

    # -- bytes in ----------------------------------------------------------

    @handler(False)
    def add_buffer(self, data: bytes) -> None:
        """Feed bytes read from the connection; complete packets are handled at once."""
        reader = self._reader
        reader.receive_data(data)
        while (packet := reader.next_packet()) is not None:
            try:
                if isinstance(packet, EventPacket):
                    self._event_packet(packet.data)
                else:
                    self._result_packet(packet.data)
            except (TypeError, ValueError, LookupError) as exc:
                log.info("%s: dropping a malformed node packet: %s", self._peer(), exc)

    def _event_packet(self, data: dict[str, Any]) -> None:
        event, id = event_from_packet(data)
        self._received_event(event, id)

    def _received_event(self, event: Event, id: Any) -> None:
        firewall = self._receive_event_firewall
        if firewall is not None and not firewall(event, self._sock):
            log.info("%s: firewall refused %r", self._peer(), event)
            self._write(write_packet(result_packet(id, False, None, {})))
            return
        event.success = True
        event.success_channels = ("node_result",)
        event.node_call_id = id  # type: ignore[attr-defined]
        event.node_sock = self._sock  # type: ignore[attr-defined]
        event.node_protocol = self  # type: ignore[attr-defined]
        self._incoming[id] = event
        if self.root._loop_ident == get_ident():
            self._run_call(self, event)
        else:
            # Fed from another thread (a test, a bridge): the done callback
            # must be attached before the loop can finish the event.
            self.fire(_node_call(self, event), self)

    @handler("_node_call")
    def _run_call(self, protocol: Protocol, call: Event) -> None:
        # On channel "*" every protocol hears every _node_call: only ours.
        if protocol is self:
            self.fire(call, *call.channels)._when_done(self._call_done)

    def _call_done(self, value: Value) -> None:
        event = value.event
        if event is not None:
            self._answer(event, value)

    def _result_packet(self, data: dict[str, Any]) -> None:
        value, id, errors, meta = value_from_packet(data)
        call = self._outgoing.pop(id, None)
        if call is None:
            log.debug("%s: result for unknown call id %r", self._peer(), id)
            return
        error = meta.pop("node_error", None)
        call.value, call.errors, call.meta = value, errors, meta
        call.error = error if isinstance(error, dict) else None
        self._finish(call)

    def _finish(self, call: Outgoing) -> None:
        # 3.2.5: the sent event gets a Value with the result, ``errors``,
        # ``remote_finish`` and the meta attributes of the remote event.
        event = call.event
        if event.value is None:
            event.value = Value(event, self)
        event.value.setValue(call.value)
        event.errors = call.errors  # type: ignore[attr-defined]
        event.remote_finish = True  # type: ignore[attr-defined]
        for k, v in call.meta.items():
            setattr(event, k, v)
        call.done = True
        if call.on_result is not None:
            call.on_result(call)

    # -- answering -----------------------------------------------------------

    @handler(channel="node_result", priority=100)
    def result_handler(self, event: Event, *args: Any, **kwargs: Any) -> None:
        """Answer ``<name>_success`` of a call this protocol received (if not answered yet)."""
        if not event.name.endswith("_success") or not args:
            return
        source = args[0]
        if getattr(source, "node_protocol", None) is self and source.value is not None:
            self._answer(source, source.value)

    def _answer(self, event: Event, value: Value) -> None:
        id = getattr(event, "node_call_id", None)
        if self._incoming.pop(id, None) is None:
            return  # answered already, or not ours
        value.node_call_id = id  # type: ignore[attr-defined]
        value.node_sock = self._sock  # type: ignore[attr-defined]
        text, failure = answer_packet(id, event, value)
        if failure is not None:
            log.info("%s: %r raised %s", self._peer(), event, failure["type"])
        self._write(write_packet(text))

    @handler(False)
    def send_result(self, id: Any, value: Value) -> None:
        """Send ``value`` as the result of call ``id`` (3.2.5)."""
        value.node_call_id = id  # type: ignore[attr-defined]
        value.node_sock = self._sock  # type: ignore[attr-defined]
        self._write(write_packet(dump_value(value)))

    # -- bytes out -----------------------------------------------------------

    @handler(False)
    def send(self, event: Event) -> Generator[Any, None, None]:
        """Send ``event`` as a call; a generator to ``yield`` from a handler.

        The first step writes the packet. Unless ``event.node_without_result``
        is set it then yields ``None`` until the result arrived, and finally
        the event's Value (holding the remote result). A refused event
        (send firewall) yields an empty Value and sends nothing.

        Raises:
            TypeError: an argument or attribute of ``event`` is not JSON.
        """
        firewall = self._send_event_firewall
        if firewall is not None and not firewall(event, self._sock):
            yield Value(event, self)
            return
        call = self.request(event, not getattr(event, "node_without_result", False))
        if call is None:
            return
        while not call.done:
            yield None
        yield event.value

    @handler(False)
    def request(
        self,
        event: Event,
        reply: bool = True,
        on_result: Callable[[Outgoing], None] | None = None,
    ) -> Outgoing | None:
        """Write ``event`` as a call now; return its pending record if ``reply``.

        ``on_result(call)`` runs (on the loop thread) when the result arrives
        or the connection is lost (``call.lost``). The send firewall applies:
        a refused event is not sent and its record is done at once.

        Raises:
            TypeError: an argument or attribute of ``event`` is not JSON.
        """
        firewall = self._send_event_firewall
        if firewall is not None and not firewall(event, self._sock):
            refused = Outgoing(event, on_result, done=True)
            if on_result is not None:
                on_result(refused)
            return refused
        id = next(self._ids)
        data = write_packet(dump_event(event, id))
        call: Outgoing | None = None
        if reply:
            call = self._outgoing[id] = Outgoing(event, on_result)
        self._write(data)
        return call

    @handler(False)
    def cancel(self, call: Outgoing) -> None:
        """Forget a pending call (its caller stopped waiting); a late result is ignored."""
        for id, pending in list(self._outgoing.items()):
            if pending is call:
                del self._outgoing[id]

    @handler(False)
    def connection_lost(self) -> None:
        """The connection closed: pending calls end with ``call.lost`` set."""
        pending, self._outgoing = self._outgoing, {}
        self._incoming.clear()
        self._reader = PacketReader()
        for call in pending.values():
            call.lost = True
            call.errors = True
            call.value = f"the connection to {self._peer()} was lost before the result arrived"
            self._finish(call)

    def _write(self, data: bytes) -> None:
        if self._server is not None:
            self.fire(write(self._sock, data))
        else:
            self.fire(write(data))

    def _peer(self) -> str:
        sock = self._sock
        if sock is None:
            return f"node client {self.channel!r}"
        try:
            host, port = sock.getpeername()[:2]
        except (OSError, ValueError, TypeError, AttributeError):
            return f"node peer {sock!r}"
        return f"node peer {host}:{port}"
