"""``TcpTransport``: the `Transport` contract over the 3.2.5 TCP wire.

For programs that drive nodes through the transport interface (``tcp`` in
the registry). A `Node` given ``url="tcp://..."`` does not use it: it keeps
its node `Server` and peers in its own tree, as 3.2.5 did.

The transport runs its own `Manager` in a thread with a node `Server` on the
URL's address and a node `Client` per peer added with `add_peer`. Envelopes
from the Node become 3.2.5 packets on the wire and packets become envelopes
again, so the other end may be a 3.2.5 node:

* a call to ``Target.node(peer)`` is written as the envelope's event packet
  (with this connection's next packet id, and ``meta.node_sender`` = our
  name, which a 3.2.5 node ignores); its result packet comes back as a
  result envelope to the caller's call id;
* a packet arriving from a peer is delivered as a call envelope from the
  peer's name (``meta.node_sender``, else ``tcp:host:port``); the Node's
  result envelope is written back as a result packet with the packet's id;
* ``Target.broadcast`` writes to every connected peer, without results;
  ``Target.group`` raises `TransportError`: TCP nodes have no groups.

Peers added with `add_peer` are reconnected with ``backoff``; messages for a
disconnected peer wait in its outbox, up to ``buffer_limit`` in all.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult

from ..core.components import BaseComponent
from ..core.events import Event
from ..core.handlers import handler
from ..core.manager import Manager
from ..core.timers import Timer
from ..net.events import connect
from ._envelope import CallEnvelope, decode, encode_call, encode_result
from ._transport import BufferFull, Delivery, Target, Transport, TransportError
from ._wire import write_packet
from .client import Client
from .protocol import Protocol
from .server import Server

__all__ = ["TcpTransport"]

log = logging.getLogger("circuits.node")

# How long stop() waits for the transport's loop thread.
STOP_TIMEOUT_S = 5.0


class _tcp_send(Event):
    """Internal: write an envelope on the transport's loop: ``_tcp_send(envelope, target)``."""


class _RawProtocol(Protocol):
    """A `Protocol` that hands packets to the transport instead of firing them."""

    transport: TcpTransport
    peer_name: str = ""

    @handler(False)
    def init(self, *args: Any, **kwargs: Any) -> None:
        super().init(*args, **kwargs)
        self.calls: dict[int, int] = {}  # packet id -> the caller's envelope id

    def _event_packet(self, data: dict[str, Any]) -> None:
        self.transport._packet_in(self, data)

    def _result_packet(self, data: dict[str, Any]) -> None:
        self.transport._result_in(self, data)

    @handler(False)
    def connection_lost(self) -> None:
        super().connection_lost()
        self.transport._lost(self)

    @handler(False)
    def write_raw(self, packet: dict[str, Any]) -> None:
        self._write(write_packet(json.dumps(packet)))

    @handler(False)
    def next_id(self) -> int:
        id: int = next(self._ids)
        return id


class _Hub(BaseComponent):
    """The transport's components on its loop: sends, peers, reconnection."""

    channel = "node_tcp"

    def __init__(self, transport: TcpTransport) -> None:
        super().__init__(channel="node_tcp")
        self.transport = transport

    @handler("_tcp_send")
    def _on_send(self, envelope: Any, target: Target, held: bool) -> None:
        self.transport._send_in_loop(envelope, target, held)


class _Peer(BaseComponent):
    """One added peer: its client, outbox and reconnection timer."""

    def __init__(self, transport: TcpTransport, name: str, host: str, port: int) -> None:
        channel = f"node_tcp_peer_{name}"
        super().__init__(channel=channel)
        self.transport = transport
        self.peer_name = name
        self.host = host
        self.port = port
        self.outbox: deque[dict[str, Any]] = deque()
        client_class = type("_RawClient", (Client,), {"protocol_class": transport._protocol_class})
        self.client: Client = client_class(host, port, channel=channel).register(self)
        self.protocol: _RawProtocol = self.client.protocol
        self.protocol.peer_name = name

    @handler("connected")
    def _on_connected(self, host: Any, port: Any) -> None:
        self.transport.backoff.reset()
        self.transport._state_changed()
        while self.outbox and self.client.connected:
            self.transport._write_call(self.protocol, self.outbox.popleft())
            self.transport._held_changed(-1)

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        self.transport._state_changed()
        self._retry()

    @handler("unreachable")
    def _on_unreachable(self, host: Any, port: Any, error: Any = None) -> None:
        self._retry()

    def _retry(self) -> None:
        delay = self.transport.backoff.next_delay()
        log.debug("tcp transport: peer %r unreachable, retrying in %.2f s", self.peer_name, delay)
        Timer(delay, connect(self.host, self.port), self.channel).register(self)


class TcpTransport(Transport):
    """``tcp://host:port``: named TCP peers speaking the 3.2.5 node protocol.

    Args:
        url: where the node server listens (port 0: any free port; no port:
            no server, outgoing connections only).
        name: this node's name (sent to peers as ``meta.node_sender``).
        deliver: see `Transport`.
        peers: ``{name: (host, port)}`` to connect to (more with `add_peer`).
        **kwargs: ``groups``, ``channels``, ``on_state``, ``buffer_limit``,
            ``backoff`` (see `Transport`; groups are not supported on TCP).
    """

    scheme = "tcp"

    def __init__(
        self,
        url: SplitResult,
        name: str,
        deliver: Any,
        *,
        peers: Mapping[str, tuple[str, int]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, name, deliver, **kwargs)
        self._lock = threading.Lock()
        self._manager: Manager | None = None
        self._thread: threading.Thread | None = None
        self._hub: _Hub | None = None
        self.server: Server | None = None
        self._peers: dict[str, _Peer] = {}
        self._wanted: dict[str, tuple[str, int]] = dict(peers or {})
        self._routes: dict[str, _RawProtocol] = {}  # peer name -> its connection
        self._incoming: dict[int, tuple[_RawProtocol, Any]] = {}  # envelope id -> (conn, pid)
        self._ids = 0
        self._held = 0
        self._up = False
        # Protocols of this transport know it from their class.
        self._protocol_class: type[_RawProtocol] = type(
            "_RawProtocol", (_RawProtocol,), {"transport": self}
        )

    # -- Transport -----------------------------------------------------------

    def start(self) -> None:
        """Start the loop thread, the server and the peer connections."""
        with self._lock:
            if self._manager is not None:
                return
            manager = self._manager = Manager()
            hub = self._hub = _Hub(self).register(manager)
            if self.url.port is not None:
                server_class = type(
                    "_RawServer", (Server,), {"protocol_class": self._protocol_class}
                )
                self.server = server_class(
                    self.url.port, server_ip=self.url.hostname or "0.0.0.0", channel="node_tcp"
                ).register(hub)
            for name, (host, port) in self._wanted.items():
                self._peers[name] = _Peer(self, name, host, port).register(hub)
        self._thread, _ = manager.start()

    def stop(self) -> None:
        """Close every connection and stop the loop thread (idempotent)."""
        with self._lock:
            manager, self._manager = self._manager, None
            thread, self._thread = self._thread, None
        if manager is None:
            return
        manager.stop()
        if thread is not None:
            thread.join(STOP_TIMEOUT_S)
            if thread.is_alive():
                log.warning("tcp transport %r: loop thread did not stop in time", self.name)

    def send(self, payload: bytes, target: Target) -> None:
        """Queue ``payload`` (an envelope) for ``target``.

        Raises:
            TransportError: a group target, an unknown peer, or not an envelope.
            BufferFull: the peer is down and ``buffer_limit`` messages wait.
        """
        if target.mode == "group":
            raise TransportError(
                f"tcp:// nodes have no groups (target group {target.name!r}):"
                " use a redis:// or nats:// URL for group delivery"
            )
        try:
            envelope = decode(payload)
        except ValueError as exc:
            raise TransportError(f"tcp transport sends node envelopes only: {exc}") from None
        held = False
        with self._lock:
            manager = self._manager
            if manager is None:
                raise TransportError(f"tcp transport {self.name!r} is not started")
            if target.mode == "node" and isinstance(envelope, CallEnvelope):
                if target.name not in self._wanted and target.name not in self._routes:
                    raise TransportError(
                        f"no tcp peer named {target.name!r}: add it with add_peer(name, host, port)"
                    )
                peer = self._peers.get(target.name)
                if peer is not None and not peer.client.connected:
                    if self._held >= self.buffer_limit:
                        raise BufferFull(
                            f"tcp peer {target.name!r} is unreachable and {self._held}"
                            " messages wait already (buffer_limit)"
                        )
                    self._held += 1
                    held = True
        assert self._hub is not None
        manager.fire(_tcp_send(envelope, target, held), self._hub)

    @property
    def connected(self) -> bool:
        """Whether at least one peer connection is up."""
        return self._up

    # -- peers ---------------------------------------------------------------

    def add_peer(self, name: str, host: str, port: int) -> None:
        """Connect to the node server at ``host:port``, known as ``name``."""
        with self._lock:
            self._wanted[name] = (host, port)
            hub = self._hub
            if hub is None:
                return
        assert self._manager is not None
        self._manager._call_in_loop(self._add_in_loop, name, host, port)

    def _add_in_loop(self, name: str, host: str, port: int) -> None:
        assert self._hub is not None
        self._peers[name] = _Peer(self, name, host, port).register(self._hub)

    # -- on the loop thread ----------------------------------------------------

    def _send_in_loop(self, envelope: Any, target: Target, held: bool) -> None:
        if isinstance(envelope, CallEnvelope):
            packet = dict(envelope.packet)
            packet["meta"] = dict(packet.get("meta") or {}, node_sender=self.name)
            call = {"packet": packet, "reply": envelope.reply, "id": envelope.id}
            if target.mode == "broadcast":
                for each in self._connections():
                    self._write_call(each, dict(call, reply=False))
                return
            peer = self._peers.get(target.name)
            if peer is not None and not peer.client.connected:
                peer.outbox.append(call)  # flushed on "connected"
                if not held:
                    self._held_changed(1)
                return
            if held:
                self._held_changed(-1)
            conn: _RawProtocol | None = (
                peer.protocol if peer is not None else self._routes.get(target.name)
            )
            if conn is None:
                self._fail(call, target.name, "is not connected")
                return
            self._write_call(conn, call)
            return
        # a result: back to the connection and packet id the call came with
        route = self._incoming.pop(envelope.id, None)
        if route is None:
            log.debug("tcp transport: result %r for an unknown or closed call", envelope.id)
            return
        conn, pid = route
        packet = dict(envelope.packet, id=pid)
        if envelope.error is not None:
            meta = dict(packet.get("meta") or {})
            error = envelope.error
            meta["node_error"] = {"type": error.get("type"), "message": error.get("message")}
            packet["meta"] = meta
        conn.write_raw(packet)

    def _write_call(self, conn: Any, call: dict[str, Any]) -> None:
        pid = conn.next_id()
        if call["reply"]:
            conn.calls[pid] = call["id"]
        conn.write_raw(dict(call["packet"], id=pid))

    def _packet_in(self, conn: _RawProtocol, packet: dict[str, Any]) -> None:
        meta = packet.get("meta")
        sender = meta.get("node_sender") if isinstance(meta, dict) else None
        if not isinstance(sender, str):
            sender = conn.peer_name or _address(conn)
        self._routes[sender] = conn
        self._ids += 1
        self._incoming[self._ids] = (conn, packet.get("id"))
        self._deliver(encode_call(sender, self._ids, True, json.dumps(packet)), self.name)

    def _result_in(self, conn: _RawProtocol, packet: dict[str, Any]) -> None:
        caller = conn.calls.pop(packet.get("id"), None)  # type: ignore[arg-type]
        if caller is None:
            return
        meta = packet.get("meta") if isinstance(packet.get("meta"), dict) else {}
        info = meta.pop("node_error", None) if isinstance(meta, dict) else None
        error = None
        if packet.get("errors"):
            error = dict(info) if isinstance(info, dict) else {"type": "Exception", "message": ""}
            error["traceback"] = str(packet.get("value") or "")
        sender = conn.peer_name or _address(conn)
        text = json.dumps(dict(packet, id=caller))
        self._deliver(encode_result(sender, caller, text, error), self.name)

    def _lost(self, conn: _RawProtocol) -> None:
        sender = conn.peer_name or _address(conn)
        for name, routed in list(self._routes.items()):
            if routed is conn:
                del self._routes[name]
        for eid, (routed, _) in list(self._incoming.items()):
            if routed is conn:
                del self._incoming[eid]
        calls, conn.calls = conn.calls, {}
        for caller in calls.values():
            self._fail({"id": caller}, sender, "closed the connection before answering")

    def _fail(self, call: dict[str, Any], peer: str, why: str) -> None:
        message = f"tcp peer {peer!r} {why}"
        text = json.dumps({"id": call["id"], "errors": True, "value": message, "meta": {}})
        error = {"type": "ConnectionError", "message": message, "traceback": ""}
        self._deliver(encode_result(peer, call["id"], text, error), self.name)

    def _deliver(self, payload: bytes, name: str) -> None:
        try:
            self.deliver(Delivery(payload, Target.node(name)))
        except Exception:
            log.exception("tcp transport %r: the node failed to take a message", self.name)

    def _connections(self) -> list[Protocol]:
        conns: list[Protocol] = [p.protocol for p in self._peers.values() if p.client.connected]
        if self.server is not None:
            conns.extend(self.server._protocols.values())
        return conns

    def _held_changed(self, delta: int) -> None:
        with self._lock:
            self._held += delta

    def _state_changed(self) -> None:
        up = any(p.client.connected for p in self._peers.values())
        if up != self._up:
            self._up = up
            self.on_state("connected" if up else "disconnected", None)


def _address(conn: Protocol) -> str:
    sock = conn._sock
    try:
        host, port = sock.getpeername()[:2]
    except (OSError, AttributeError, ValueError, TypeError):
        return f"tcp:{id(conn):x}"
    return f"tcp:{host}:{port}"
