"""``Node``: run events on other processes and machines.

Two ways to reach other nodes, one API:

* TCP (3.2.5, and ``url="tcp://host:port"``): the node listens with a node
  `Server` and connects to named peers with ``add()``; the wire is 3.2.5's
  JSON packets, so old and new nodes talk to each other. Only ``remote`` and
  ``broadcast`` (every connected peer) exist here.
* a shared engine (``url="redis://..."``, ``"nats://..."``): a `Transport`
  from the registry (``_registry``) carries JSON envelopes (``_envelope``)
  between nodes by name; ``remote`` reaches any node by name, ``broadcast``
  every node, ``to_group`` one member of a group.

A remote call is a coroutine of the ``remote``/``to_group`` event: it sends,
parks on a private Value (``yield self.wait(value, timeout=...)``) that the
result resolves, then stores the remote value in the event's Value or
raises `RemoteError` (or ``circuits.TimeoutError``) there.

Ownership (3.2.5 let every Node of a tree send every ``remote``, so results
arrived twice): the first Node whose peer table has the name takes it
(priority 1), else the first Node with a transport (priority 0); a name
nobody knows fails with ``LookupError`` (priority -1). The Node marks the
``remote`` event it took, so exactly one sends.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ..core.components import BaseComponent as BaseComponent
from ..core.events import Event
from ..core.handlers import handler as handler
from ..core.manager import TimeoutError
from ..core.timers import Timer as Timer
from ..core.values import Value
from ..net.events import connect as connect
from ._asyncio_transport import AsyncioTransport
from ._calls import answer_packet, resolve
from ._envelope import (
    CallEnvelope,
    RemoteError,
    decode,
    encode_call,
    encode_result,
    remote_error,
)
from ._registry import transport_class
from ._transport import BUFFER_LIMIT, Backoff, BufferFull, Delivery, Target, TransportError
from .client import Client as Client
from .events import (
    connected_to as connected_to,
    disconnected_from as disconnected_from,
    remote as remote,
)
from .protocol import Firewall, Outgoing
from .server import Server as Server
from .utils import (
    _plain,
    event_from_packet,
    event_meta,
    event_packet,
    result_packet,
    value_from_packet,
)

__all__ = [
    "BaseComponent",
    "Client",
    "Node",
    "Server",
    "Timer",
    "connect",
    "connected_to",
    "disconnected_from",
    "handler",
    "remote",
]

log = logging.getLogger("circuits.node")

# 3.2.5's pause between reconnection attempts to a peer.
RECONNECT_DELAY_S = 10.0
# Attempts back off from ``reconnect_delay`` up to this (or reconnect_delay if larger).
RECONNECT_MAX_S = 60.0


class _node_delivery(Event):
    """Internal: a transport handed over a message: ``_node_delivery(node, delivery)``."""


class _node_deliveries(Event):
    """Internal: messages read together: ``_node_deliveries(node, [delivery, ...])``."""


class _node_state(Event):
    """Internal: the transport's link changed: ``_node_state(node, state, error)``."""


class _Pending:
    """A call waiting for its result: the coroutine waits on ``wakeup``."""

    __slots__ = ("call", "error", "event", "result", "send", "wakeup")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.wakeup = Value()
        self.result: Any = None
        self.error: BaseException | None = None
        self.call: Outgoing | None = None  # TCP: the protocol's record
        self.send: Callable[[], None] | None = None  # TCP: waiting in a peer's outbox


class Node(BaseComponent):
    """A node: runs events on other nodes and runs theirs here.

    Args:
        port: listen for TCP peers on this port (3.2.5); ``None``: no server.
        channel: this component's channel (and its server's).
        url: ``tcp://host:port`` (the same as ``port`` + ``server_ip``),
            ``redis://host:port/db`` or ``nats://host:port``.
        name: this node's name on a shared engine (default: host-pid-id).
        groups: groups this node serves ``to_group`` calls for.
        channels: broadcast channels this node listens to (``"*"``: all).
        buffer_limit: messages kept per peer (or by the transport) while
            the link is down; beyond it sending raises `BufferFull`.
        call_timeout: default seconds a remote call may take (``None``: no limit).
        backoff: the reconnection schedule of the transport.
        transport_options: more keyword arguments for the ``redis://`` or
            ``nats://`` transport, such as ``{"claim_idle": 5.0}`` (Redis:
            seconds before another group member takes over an unacked message).
        **kwargs: passed to the node `Server` (``server_ip``, firewalls,
            ``bufsize``, ...); ``receive_event_firewall`` and
            ``send_event_firewall`` also apply to transport messages
            (called with the peer node's name instead of a socket).
    """

    channel = "node"

    def __init__(
        self,
        port: int | None = None,
        channel: Any = channel,
        *,
        url: str | None = None,
        name: str | None = None,
        groups: tuple[str, ...] | list[str] = (),
        channels: tuple[str, ...] | list[str] = ("*",),
        buffer_limit: int = BUFFER_LIMIT,
        call_timeout: float | None = None,
        backoff: Backoff | None = None,
        transport_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(channel=channel)
        self.node_name = name or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.buffer_limit = buffer_limit
        self.call_timeout = call_timeout
        self.url: SplitResult | None = None
        self.server: Server | None = None
        self.transport: Any = None
        self._receive_event_firewall: Firewall | None = kwargs.get("receive_event_firewall")
        self._send_event_firewall: Firewall | None = kwargs.get("send_event_firewall")
        self._peers: dict[str, Client] = {}
        self._links: dict[str, _PeerLink] = {}
        self._calls: dict[int, _Pending] = {}
        self._ids = itertools.count()
        self._transport_started = False

        if url is not None:
            self.url = split = urlsplit(url)
            if split.scheme == "tcp":
                if transport_options:
                    raise TypeError(
                        f"transport_options={transport_options!r} apply to redis:// and"
                        f" nats:// nodes, not to {url!r}"
                    )
                if port is not None:
                    raise ValueError(f"give either port={port!r} or url={url!r}, not both")
                if split.port is None:
                    raise ValueError(f"a tcp:// node URL needs a port (0: any), not {url!r}")
                port = split.port
                kwargs.setdefault("server_ip", split.hostname or "0.0.0.0")
            else:
                for key in ("receive_event_firewall", "send_event_firewall"):
                    kwargs.pop(key, None)
                if kwargs:
                    raise TypeError(f"unexpected arguments for a {split.scheme}:// node: {kwargs}")
                cls = transport_class(split.scheme)
                self.transport = cls(
                    split,
                    self.node_name,
                    self._deliver,
                    groups=tuple(groups),
                    channels=tuple(channels),
                    on_state=self._transport_state,
                    buffer_limit=buffer_limit,
                    backoff=backoff,
                    **dict(transport_options or {}),
                )
                # Assigned, not passed: a registered transport whose __init__
                # does not take deliver_many still gets batches handed over.
                self.transport.deliver_many = self._deliver_many
        elif transport_options:
            raise TypeError(
                f"transport_options={transport_options!r} need a redis:// or nats:// url"
            )
        if port is not None:
            self.server = Server(port, channel=channel, **kwargs).register(self)

    # -- TCP peers (3.2.5) ------------------------------------------------------

    def add(self, connection_name: str, hostname: str, port: int, **kwargs: Any) -> Any:
        """Connect to the node server at ``hostname:port`` as peer ``connection_name``.

        Args:
            connection_name: the name ``remote()`` uses for this peer.
            hostname: the peer's host.
            port: the peer's node server port.
            **kwargs: ``channel`` (default ``"<node channel>_client_<name>"``),
                ``reconnect_delay`` (seconds before the first reconnection
                attempt, doubling up to 60 s; <= 0: never reconnect; default
                10), ``auto_remote_event`` (``{event name: [channels]}``: such
                events fired here also run on the peer), anything else goes
                to the node `Client` (firewalls, ``connect_timeout``).

        Returns:
            The client channel (``connected``, ``unreachable``, ... come there).
        """
        auto_remote_event = kwargs.pop("auto_remote_event", None) or {}
        channel = kwargs.pop("channel", f"{self.channel}_client_{connection_name}")
        reconnect_delay = float(kwargs.pop("reconnect_delay", RECONNECT_DELAY_S))
        client = Client(hostname, port, channel=channel, **kwargs)
        self._peers[connection_name] = client
        link = _PeerLink(self, connection_name, hostname, port, client, reconnect_delay)
        for event_name, event_channels in auto_remote_event.items():
            for event_channel in event_channels:
                link.forward(event_name, event_channel)
        # The link first: in a running tree the client starts connecting as
        # soon as it is registered, and the link must hear its `connected`.
        self._links[connection_name] = link.register(self)
        client.register(self)
        return channel

    def get_connection_names(self) -> list[str]:
        """The names of the peers added with ``add()``."""
        return list(self._peers)

    def get_peer(self, connection_name: str) -> Client | None:
        """The node `Client` of a peer, or ``None``."""
        return self._peers.get(connection_name)

    # -- remote, broadcast, to_group -----------------------------------------------

    @handler("remote", channel="*", priority=1)
    def _remote_to_peer(
        self,
        event: Event,
        remote_event: Event,
        connection_name: str,
        channel: Any = None,
        timeout: float | None = None,
    ) -> Any:
        if not _take(event, self, connection_name in self._peers):
            return None
        _address(remote_event, event, channel)
        return self._call_peer(connection_name, remote_event, self._timeout(timeout))

    @handler("remote", channel="*")
    def _remote_by_name(
        self,
        event: Event,
        remote_event: Event,
        connection_name: str,
        channel: Any = None,
        timeout: float | None = None,
    ) -> Any:
        if not _take(event, self, self.transport is not None):
            return None
        _address(remote_event, event, channel)
        target = Target.node(connection_name)
        return self._call_transport(target, remote_event, self._timeout(timeout))

    @handler("remote", channel="*", priority=-1)
    def _remote_unknown(
        self, event: Event, remote_event: Event, connection_name: str, **_: Any
    ) -> None:
        if not _take(event, self):
            return
        known = sorted(self._peers)
        raise LookupError(
            f"no node knows the peer {connection_name!r} (peers added with add(): {known!r};"
            " a redis:// or nats:// node reaches any node by name)"
        )

    @handler("to_group", channel="*")
    def _to_group(
        self,
        event: Event,
        remote_event: Event,
        group: str,
        channel: Any = None,
        timeout: float | None = None,
    ) -> Any:
        if not _take(event, self, self.transport is not None):
            return None
        _address(remote_event, event, channel)
        return self._call_transport(Target.group(group), remote_event, self._timeout(timeout))

    @handler("to_group", channel="*", priority=-1)
    def _to_group_without_groups(
        self, event: Event, remote_event: Event, group: str, **_: Any
    ) -> None:
        if not _take(event, self):
            return
        raise TransportError(
            f"cannot send {remote_event!r} to group {group!r}: tcp:// nodes have no groups"
            " (use a redis:// or nats:// node URL)"
        )

    @handler("broadcast", channel="*")
    def _broadcast(self, event: Event, remote_event: Any = None, channel: Any = None) -> int | None:
        if not isinstance(remote_event, Event):
            return None  # circuits.net's UDP broadcast(data, port) has the same name
        _address(remote_event, event, channel)
        if self.transport is not None:
            chans = remote_event.channels
            name = str(chans[0]) if len(chans) == 1 else "*"
            self._send_envelope(Target.broadcast(name), remote_event, None)
            return None
        sent = 0
        for link in self._links.values():
            try:
                link.send_or_hold(_sender(link.client, remote_event))
            except BufferFull as exc:
                log.warning("node: broadcast of %r skips a peer: %s", remote_event, exc)
                continue
            sent += 1
        if self.server is not None:
            socks = self.server.get_socks()
            self.server.send_to(remote_event, socks)
            sent += len(socks)
        return sent

    def _timeout(self, timeout: float | None) -> float | None:
        return self.call_timeout if timeout is None else timeout

    def _call_peer(
        self, name: str, remote_event: Event, timeout: float | None
    ) -> Generator[Any, Any, None]:
        link = self._links[name]
        pending = _Pending(remote_event)

        def send() -> None:
            pending.send = None
            pending.call = link.client.protocol.request(
                remote_event, True, lambda call: self._peer_result(pending, call, name)
            )

        pending.send = send
        link.send_or_hold(send)
        try:
            yield self.wait(pending.wakeup, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no result from peer {name!r} for {remote_event!r} within {timeout} s"
            ) from None
        finally:
            if pending.send is not None:
                link.discard(pending.send)
            if pending.call is not None and not pending.call.done:
                link.client.protocol.cancel(pending.call)
        yield from _outcome(pending)

    def _peer_result(self, pending: _Pending, call: Outgoing, name: str) -> None:
        if call.lost:
            pending.error = ConnectionError(
                f"the connection to peer {name!r} was lost before the result arrived"
            )
        elif call.errors:
            pending.error = remote_error(call.error, call.value, name)
        else:
            pending.result = call.value
        resolve(self, pending.wakeup)

    # -- transport (redis://, nats://) ------------------------------------------------

    def _send_envelope(self, target: Target, remote_event: Event, pending: _Pending | None) -> bool:
        firewall = self._send_event_firewall
        if firewall is not None and not firewall(remote_event, target.name):
            log.info("node %r: send firewall refused %r", self.node_name, remote_event)
            return False
        id = next(self._ids)
        packet = event_packet(remote_event, id)
        payload = encode_call(self.node_name, id, pending is not None, packet)
        if pending is not None:
            self._calls[id] = pending
        try:
            self.transport.send(payload, target)
        except BaseException:
            self._calls.pop(id, None)
            raise
        return True

    def _call_transport(
        self, target: Target, remote_event: Event, timeout: float | None
    ) -> Generator[Any, Any, None]:
        pending = _Pending(remote_event)
        if not self._send_envelope(target, remote_event, pending):
            return
        try:
            yield self.wait(pending.wakeup, timeout=timeout)
        except TimeoutError:
            where = f"node {target.name!r}" if target.mode == "node" else f"group {target.name!r}"
            raise TimeoutError(
                f"no result from {where} for {remote_event!r} within {timeout} s"
            ) from None
        finally:
            for id, p in list(self._calls.items()):
                if p is pending:
                    del self._calls[id]
        yield from _outcome(pending)

    def _deliver(self, delivery: Delivery) -> None:
        """The transport's callback (any thread): handled on the loop thread."""
        self.fire(_node_delivery(self, delivery), self)

    def _deliver_many(self, deliveries: list[Delivery]) -> None:
        """The transport's batch callback (any thread): one event, one loop wake-up."""
        self.fire(_node_deliveries(self, deliveries), self)

    @handler("_node_delivery")
    def _on_delivery(self, node: Node, delivery: Delivery) -> None:
        if node is self:  # a Node on channel "*" hears every node's deliveries
            self._handle_delivery(delivery)

    @handler("_node_deliveries")
    def _on_deliveries(self, node: Node, deliveries: list[Delivery]) -> None:
        if node is not self:
            return
        # In order; one failing message must not cost the rest of the batch
        # (the per-message event isolated them the same way).
        for delivery in deliveries:
            try:
                self._handle_delivery(delivery)
            except Exception:
                log.exception("node %r: handling %r failed", self.node_name, delivery.target)

    def _handle_delivery(self, delivery: Delivery) -> None:
        try:
            envelope = decode(delivery.payload)
        except ValueError as exc:
            log.warning(
                "node %r: dropping a message (%s): %s", self.node_name, delivery.target, exc
            )
            delivery.ack()
            return
        if isinstance(envelope, CallEnvelope):
            self._incoming_call(envelope, delivery)
            return
        delivery.ack()
        pending = self._calls.pop(envelope.id, None)
        if pending is None:
            log.debug("node %r: late or unknown result %r", self.node_name, envelope.id)
            return
        try:
            value, _, errors, meta = value_from_packet(envelope.packet)
        except (TypeError, ValueError, LookupError) as exc:
            pending.error = RemoteError(
                "ValueError", f"malformed result: {exc}", "", envelope.sender
            )
        else:
            meta.pop("node_error", None)
            for k, v in meta.items():
                setattr(pending.event, k, v)
            if errors:
                pending.error = remote_error(envelope.error, value, envelope.sender)
            else:
                pending.result = value
        resolve(self, pending.wakeup)

    def _incoming_call(self, envelope: CallEnvelope, delivery: Delivery) -> None:
        if envelope.sender == self.node_name and delivery.target.mode == "broadcast":
            delivery.ack()  # our own broadcast, echoed by the engine
            return
        try:
            event, _ = event_from_packet(envelope.packet)
        except (TypeError, ValueError, LookupError) as exc:
            log.warning(
                "node %r: dropping a malformed call from %r: %s",
                self.node_name,
                envelope.sender,
                exc,
            )
            delivery.ack()
            return
        firewall = self._receive_event_firewall
        if firewall is not None and not firewall(event, envelope.sender):
            log.info("node %r: firewall refused %r from %r", self.node_name, event, envelope.sender)
            self._reply(envelope, delivery, event, None)
            return
        event.node_call_id = envelope.id  # type: ignore[attr-defined]
        event.node_sender = envelope.sender  # type: ignore[attr-defined]
        value = self.fire(event, *event.channels)
        value._when_done(lambda v: self._reply(envelope, delivery, event, v))

    def _reply(
        self, envelope: CallEnvelope, delivery: Delivery, event: Event, value: Value | None
    ) -> None:
        delivery.ack()
        if not envelope.reply:
            return
        if value is None:
            payload = encode_result(
                self.node_name, envelope.id, result_packet(envelope.id, False, None, {}), None
            )
        else:
            payload = self._result_payload(envelope, event, value)
        try:
            self.transport.send(payload, Target.node(envelope.sender))
        except TransportError as exc:
            log.warning("node %r: cannot answer %r: %s", self.node_name, envelope.sender, exc)

    def _result_payload(self, envelope: CallEnvelope, event: Event, value: Value) -> bytes:
        if not value.errors:
            # The common case in one json.dumps; a value JSON cannot carry
            # takes the general path below, which answers with the failure.
            packet = {
                "id": envelope.id,
                "errors": False,
                "value": _plain(value._value),
                "meta": event_meta(event),
            }
            try:
                return encode_result(self.node_name, envelope.id, packet, None)
            except (TypeError, ValueError):
                pass
        text, error = answer_packet(envelope.id, event, value)
        return encode_result(self.node_name, envelope.id, text, error)

    def _transport_state(self, state: str, error: BaseException | None) -> None:
        """The transport's link callback (any thread)."""
        self.fire(_node_state(self, state, error), self)

    @handler("_node_state")
    def _on_transport_state(self, node: Node, state: str, error: BaseException | None) -> None:
        if node is not self:
            return
        url = self.url
        assert url is not None
        args = (url.scheme, url.hostname, url.port, self.channel, self.transport)
        if state == "connected":
            log.info("node %r: connected to %s://%s", self.node_name, url.scheme, url.netloc)
            self.fire(connected_to(*args))
        elif not self._transport_started:
            # The node stopped its transport (which may report that): no warning.
            log.debug("node %r: closed %s://%s", self.node_name, url.scheme, url.netloc)
            self.fire(disconnected_from(*args))
        else:
            log.warning(
                "node %r: lost %s://%s (%s); reconnecting, messages are kept meanwhile",
                self.node_name,
                url.scheme,
                url.netloc,
                error,
            )
            self.fire(disconnected_from(*args))

    # -- lifecycle -----------------------------------------------------------------

    @handler("started", channel="*")
    def _on_started(self, manager: Any) -> None:
        self._start_transport()

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self and self.root.running:
            self._start_transport()

    @handler("stopped", channel="*")
    def _on_stopped(self, manager: Any) -> Any:
        closing = self._stop_transport()
        if closing is not None:
            # Loop mode: the transport closes on the app's loop; an asyncio
            # task of this handler keeps run_async() from returning before.
            return _until_closed(closing)
        return None

    @handler("prepare_unregister", channel="*")
    def _on_prepare_unregister(self, event: Any, component: Any) -> None:
        if event.in_subtree(self):
            self._stop_transport()

    def _start_transport(self) -> None:
        transport = self.transport
        if transport is not None and not self._transport_started:
            self._transport_started = True
            loop = _app_loop(self.root) if isinstance(transport, AsyncioTransport) else None
            if loop is not None:
                transport.start(loop=loop)  # a task on the app's loop: no thread
            else:
                transport.start()

    def _stop_transport(self) -> asyncio.Task[None] | None:
        """Stop the transport; in loop mode, the task that is still closing it."""
        if self.transport is not None and self._transport_started:
            self._transport_started = False
            self.transport.stop()
            if isinstance(self.transport, AsyncioTransport):
                return self.transport.closing
        return None


class _PeerLink(BaseComponent):
    """One ``add()``-ed peer: lifecycle events, reconnection, the outbox, auto-forwarding."""

    def __init__(
        self,
        node: Node,
        name: str,
        hostname: str,
        port: int,
        client: Client,
        reconnect_delay: float,
    ) -> None:
        super().__init__(channel=client.channel)
        self.node = node
        self.peer_name = name
        self.hostname = hostname
        self.port = port
        self.client = client
        self.reconnect_delay = reconnect_delay
        self.backoff = Backoff(
            initial=max(reconnect_delay, 0.001), maximum=max(reconnect_delay, RECONNECT_MAX_S)
        )
        self.outbox: deque[Callable[[], Any]] = deque()
        self._failures = 0

    def send_or_hold(self, send: Callable[[], Any]) -> None:
        """Send now if connected, else keep ``send`` for when the peer is back."""
        if self.client.connected and not self.outbox:
            send()
            return
        if len(self.outbox) >= self.node.buffer_limit:
            raise BufferFull(
                f"peer {self.peer_name!r} at {self.hostname}:{self.port} is unreachable and"
                f" {len(self.outbox)} messages wait already (buffer_limit)"
            )
        self.outbox.append(send)

    def discard(self, send: Callable[[], Any]) -> None:
        try:
            self.outbox.remove(send)
        except ValueError:
            pass

    def forward(self, event_name: str, event_channel: Any) -> None:
        """Also run ``event_name`` events fired on ``event_channel`` on this peer."""
        link = self

        @handler(event_name, channel=event_channel)
        def _auto_remote(self: Any, event: Event, *args: Any, **kwargs: Any) -> None:
            if getattr(event, "node_call_id", None) is not None:
                return  # it came from a node: sending it on could ping-pong forever
            sent = copy.copy(event)
            sent.value = None
            chans = event.channels
            channel = chans[0] if len(chans) == 1 and chans[0] != "*" else event_channel
            link.fire(remote(sent, link.peer_name, channel=channel), link.node.channel)

        _auto_remote.__name__ = f"_auto_remote_{event_name}_{id(_auto_remote):x}"
        self.addHandler(_auto_remote)

    @handler("connected")
    def _on_connected(self, host: Any, port: Any) -> None:
        self.backoff.reset()
        self._failures = 0
        self.fire(
            connected_to(self.peer_name, host, port, self.channel, self.client), self.node.channel
        )
        while self.outbox and self.client.connected:
            send = self.outbox.popleft()
            try:
                send()
            except (TypeError, ValueError) as exc:  # not JSON: that call fails alone
                log.warning("node peer %r: dropping a held message: %s", self.peer_name, exc)

    @handler("disconnected")
    def _on_disconnected(self) -> None:
        self.fire(
            disconnected_from(self.peer_name, self.hostname, self.port, self.channel, self.client),
            self.node.channel,
        )
        self._reconnect(None)

    @handler("unreachable")
    def _on_unreachable(self, host: Any, port: Any, error: Any = None) -> None:
        self._reconnect(error)

    def _reconnect(self, error: Any) -> None:
        if not self.root.running:
            return  # the application is stopping: its sockets close on purpose
        if self.reconnect_delay <= 0:
            log.warning(
                "node peer %r at %s:%s is unreachable (%s); reconnect_delay <= 0: not retrying",
                self.peer_name,
                self.hostname,
                self.port,
                error,
            )
            return
        delay = self.backoff.next_delay()
        self._failures += 1
        level = logging.WARNING if self._failures == 1 else logging.DEBUG
        log.log(
            level,
            "node peer %r at %s:%s is unreachable (%s); retrying in %.1f s, %d messages kept",
            self.peer_name,
            self.hostname,
            self.port,
            error or "connection lost",
            delay,
            len(self.outbox),
        )
        Timer(delay, connect(self.hostname, self.port), self.channel).register(self)


def _app_loop(root: Any) -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, if ``root``'s tree runs on it (``run_async``), else ``None``.

    ``run()`` may be called from inside a coroutine (blocking its loop): a
    running loop alone says nothing, it must be the one that drives the tree.
    """
    driver = getattr(root, "_aio", None)  # (set by run_async() while it runs)
    if driver is None:
        return None
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop if loop is driver.loop else None


async def _until_closed(closing: asyncio.Task[None]) -> None:
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        # run_async() cancels handler tasks as it ends and gives them a few
        # seconds: let the (bounded) close finish, so no task outlives it.
        if not closing.done():
            await asyncio.wait({closing})
        raise


def _sender(client: Client, event: Event) -> Callable[[], Any]:
    return lambda: client.protocol.request(event, False)


def _take(event: Event, node: Node, able: bool = True) -> bool:
    """Claim ``event`` for ``node`` if ``able`` and no other node has; whether it did."""
    if not able or getattr(event, "_node_owner", None) is not None:
        return False
    event._node_owner = node  # type: ignore[attr-defined]
    return True


def _address(remote_event: Event, event: Event, channel: Any) -> None:
    """Where the event is fired remotely: ``channel``, else where ``event`` was fired."""
    remote_event.channels = (channel,) if channel is not None else tuple(event.channels)


def _outcome(pending: _Pending) -> Generator[Any, Any, None]:
    if pending.error is not None:
        raise pending.error
    if pending.result is not None:
        yield pending.result
