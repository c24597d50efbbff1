"""`NatsTransport`: carries a `Node`'s messages over a NATS server (``nats://host:port``).

Subjects map the three delivery modes of `Target`:

* ``Target.broadcast(channel)`` → ``circuits.bcast.<channel>``. A node subscribes
  to ``circuits.bcast.<pattern>`` for each of its ``channels``, where the NATS
  wildcards work (``*`` one token, ``>`` the rest) and the channel ``"*"`` alone
  means every channel (``circuits.bcast.>``). Fire-and-forget: a node that is
  not connected when the message passes never sees it. A node hears its own
  broadcasts when it listens to their channel. A message goes to a concrete
  channel: ``Target.broadcast("orders.*")`` is a `TransportError`.
* ``Target.group(group)`` → ``circuits.group.<group>``. Members subscribe with
  the NATS queue group ``<group>``, so the server hands each message to exactly
  one connected member. **At-most-once**: nothing is stored, so a message sent
  while no member is connected, or lost with a member that dies while handling
  it, is gone (use the Redis transport for durable groups).
* ``Target.node(name)`` → ``circuits.node.<name>``; each node subscribes to its
  own subject. At-most-once as well.

Theory of operation: nats-py is an asyncio client, so each transport runs one
asyncio event loop in one daemon worker thread, or under ``run_async`` runs
on the application's loop (loop mode, see `AsyncioTransport`). `send` only
appends to a deque (under a lock, so `BufferFull` is decided synchronously in
the caller's thread) and, only when the pump sleeps, wakes it (with
``call_soon_threadsafe`` from another thread; a burst of sends costs one
wake-up); a single pump
task on the loop takes the deque in batches and publishes them in order while
the client is connected, so the messages of one transport leave in the order
they were sent (nats-py buffers the batch and writes it at once). Messages
received during one pass of the loop reach the Node as one batch
(`DeliveryBatch`, ``deliver_many``). While the link is
down they stay in the deque (at most ``buffer_limit`` of them) and the pump
resumes on reconnection.

The first connection is our own loop with `Backoff`, because a failed first
attempt would otherwise block inside nats-py's connect. Once connected, nats-py
reconnects by itself (``max_reconnect_attempts=-1``), replays the subscriptions
and keeps the bytes it had not yet written; we stretch its
``reconnect_time_wait`` with `Backoff` after each failed attempt so it backs off
exponentially too, and map its callbacks to ``on_state``.

Payloads are opaque bytes, passed through unchanged; nothing is unpickled.
Native NATS request/reply is not used: results of remote calls come back as
ordinary ``Target.node`` messages, as on every other transport.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import SplitResult

from ._asyncio_transport import AsyncioTransport
from ._transport import BUFFER_LIMIT, Backoff, Delivery, Target, TransportError, missing_extra

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg

__all__ = ["NatsTransport"]

log = logging.getLogger(__name__)

PREFIX_BROADCAST = "circuits.bcast."
PREFIX_GROUP = "circuits.group."
PREFIX_NODE = "circuits.node."

DEFAULT_PORT = 4222  # the port NATS servers listen on unless told otherwise
# One connection attempt must fail fast so the backoff loop stays in charge;
# nats-py's own default is 2 s as well.
CONNECT_TIMEOUT_S = 2
# stop() bounds the final flush + close so a dead server cannot hang shutdown.
STOP_TIMEOUT_S = 2.0
# Messages the pump takes from the queue per lock acquisition.
SEND_BATCH = 500


class NatsTransport(AsyncioTransport[tuple[str, bytes]]):
    """Moves a `Node`'s messages through a NATS server, with nats-py.

    Args:
        url: ``nats://host:port`` (``tls://`` for TLS with the system's CA
            store); user and password in the URL are passed on to NATS.
        name: this node's name; it listens on ``circuits.node.<name>``.
        deliver: called with each `Delivery`, from the transport's thread.
        groups: queue groups this node joins (``circuits.group.<group>``).
        channels: broadcast channel patterns; NATS wildcards ``*`` and ``>``
            are allowed, ``"*"`` alone means all channels.
        on_state: link state changes, from the transport's thread.
        buffer_limit: messages kept while disconnected.
        backoff: the (re)connection schedule.

    Raises:
        ImportError: nats-py is not installed (``pip install 'circuits[nats]'``).
        TransportError: the URL, the name, a group or a channel cannot be
            used as (part of) a NATS subject.
    """

    scheme = "nats"

    def __init__(
        self,
        url: SplitResult,
        name: str,
        deliver: Callable[[Delivery], None],
        *,
        groups: Sequence[str] = (),
        channels: Sequence[str] = ("*",),
        on_state: Callable[[str, BaseException | None], None] | None = None,
        buffer_limit: int = BUFFER_LIMIT,
        backoff: Backoff | None = None,
        deliver_many: Callable[[list[Delivery]], None] | None = None,
    ) -> None:
        try:
            import nats.aio.client
            import nats.errors
        except ImportError:
            raise missing_extra("nats", "nats-py") from None
        super().__init__(
            url,
            name,
            deliver,
            groups=groups,
            channels=channels,
            on_state=on_state,
            buffer_limit=buffer_limit,
            backoff=backoff,
            deliver_many=deliver_many,
        )
        self._client_class = nats.aio.client.Client
        self._nats_error = nats.errors.Error
        self._server = self._where = _server_url(url)
        _check_literal("node name", name)
        for group in self.groups:
            _check_literal("group", group)
        self._patterns = _broadcast_patterns(self.channels)

        self._max_payload = 0  # learnt from the server's INFO once connected
        self._last_error: BaseException | None = None
        self._stop_requested = asyncio.Event()
        self._nc: Client | None = None

    # -- the Transport API (any thread) ------------------------------------

    def start(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Spawn the worker thread (or a task on ``loop``), which connects and reconnects.

        Returns at once; an unreachable server is retried with `Backoff`.

        Args:
            loop: the running asyncio loop of the caller, to run on it instead
                of in a worker thread (the Node passes it under ``run_async``).
        """
        if self._thread is not None or self._task is not None:
            return
        if self._stopped:
            raise TransportError(f"nats transport {self.name!r} was stopped; make a new one")
        if loop is not None:
            self._start_here(loop)
        else:
            self._spawn().start()

    def stop(self) -> None:
        """Publish what is buffered if connected, close the link, join the thread.

        Bounded by about ``STOP_TIMEOUT_S``; messages still buffered because
        the server is unreachable are dropped (and logged). Idempotent. In
        loop mode, called on the loop, it cannot wait: await `closing`.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        if self._task is not None:
            self._stop_task(self._stop_requested.set)
            return
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._call_on_loop(self._stop_requested.set)
        if thread is not threading.current_thread():
            # _main spends at most STOP_TIMEOUT_S ending a connection attempt
            # and STOP_TIMEOUT_S closing
            thread.join(2 * STOP_TIMEOUT_S + 1.0)

    def send(self, payload: bytes, target: Target) -> None:
        """Queue ``payload`` for ``target``; thread-safe and non-blocking.

        Raises:
            BufferFull: disconnected and ``buffer_limit`` messages wait already.
            TransportError: the target's name cannot be a NATS subject, the
                payload exceeds the server's ``max_payload``, or the transport
                was stopped.
        """
        subject = _subject_for(target)
        self._enqueue((subject, bytes(payload)), len(payload))

    def _check_size(self, size: int) -> None:
        if self._max_payload and size > self._max_payload:
            raise TransportError(
                f"payload of {size} bytes exceeds the NATS server's "
                f"max_payload of {self._max_payload} bytes"
            )

    # -- on the transport's loop (worker thread or the app's) ---------------

    async def _main(self) -> None:
        pump = asyncio.create_task(self._pump())
        connect = asyncio.create_task(self._connect_first())
        connect.add_done_callback(self._log_crash)
        stop = asyncio.create_task(self._stop_requested.wait())
        cancelled = False
        try:
            await asyncio.wait({connect, stop}, return_when=asyncio.FIRST_COMPLETED)
            await self._end_connecting(connect)
            await stop
        except asyncio.CancelledError:
            # Loop mode: the app's loop ends without a stop(). Stop as
            # stop() would, then let the cancellation through.
            cancelled = True
            self._stop_requested.set()
            stop.cancel()
            await self._end_connecting(connect)
        # The pump first (it puts back what it holds), so _shutdown publishes
        # the rest in order.
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
        try:
            await asyncio.wait_for(self._shutdown(), STOP_TIMEOUT_S)
        except asyncio.TimeoutError:
            log.warning("nats transport %r: close took over %s s", self.name, STOP_TIMEOUT_S)
        connect.cancel()
        await asyncio.gather(pump, connect, stop, return_exceptions=True)
        with self._lock:
            self._connected = False
            dropped = len(self._outbox)
            self._outbox.clear()
        if dropped:
            log.warning(
                "nats transport %r: stopped with %d unsent messages for %s",
                self.name,
                dropped,
                self._server,
            )
        if cancelled:
            raise asyncio.CancelledError

    async def _end_connecting(self, connect: asyncio.Task[None]) -> None:
        if not connect.done():
            # nats-py may swallow a cancellation inside connect(); the
            # attempt loop also checks _stop_requested, so this ends soon.
            connect.cancel()
            await asyncio.wait({connect}, timeout=STOP_TIMEOUT_S)

    def _log_crash(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("nats transport %r: connecting failed", self.name, exc_info=exc)

    async def _connect_first(self) -> None:
        while True:
            nc = self._client_class()
            try:
                # Fail this attempt soon and let our backoff decide: nats-py
                # tries a server max_reconnect_attempts + 1 times before it
                # gives up (0 would mean forever). Unlimited reconnection is
                # turned on once connected, below.
                await nc.connect(
                    servers=[self._server],
                    name=self.name,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    closed_cb=self._on_closed,
                )
            except asyncio.CancelledError:
                await _close_quietly(nc)
                raise
            except (OSError, asyncio.TimeoutError, self._nats_error) as exc:
                await _close_quietly(nc)
                log.debug(
                    "nats transport %r: cannot connect to %s: %s", self.name, self._server, exc
                )
                self._report("disconnected", exc)
                if await self._stopping_within(self.backoff.next_delay()):
                    return
                continue
            self._nc = nc  # from here on, _shutdown closes it
            if self._stop_requested.is_set():
                return
            break
        nc.options["allow_reconnect"] = True
        nc.options["max_reconnect_attempts"] = -1  # never give up
        nc.options["reconnect_time_wait"] = self.backoff.initial
        try:
            await self._subscribe(nc)
            await nc.flush(timeout=CONNECT_TIMEOUT_S)  # the server has our SUBs
        except (OSError, asyncio.TimeoutError, self._nats_error) as exc:
            # Lost again already: nats-py replays the SUBs when it reconnects,
            # and _on_reconnected reports the link then.
            log.info("nats transport %r: subscribing failed: %r", self.name, exc)
            if not nc.is_connected:
                return
        self._link_up(nc)

    async def _stopping_within(self, delay: float) -> bool:
        try:
            await asyncio.wait_for(self._stop_requested.wait(), delay)
        except asyncio.TimeoutError:
            return False
        return True

    async def _subscribe(self, nc: Client) -> None:
        for pattern in self._patterns:
            await nc.subscribe(PREFIX_BROADCAST + pattern, cb=self._broadcast_handler(pattern))
        for group in self.groups:
            target = Target.group(group)
            await nc.subscribe(PREFIX_GROUP + group, queue=group, cb=self._handler(target))
        await nc.subscribe(PREFIX_NODE + self.name, cb=self._handler(Target.node(self.name)))

    def _handler(self, target: Target) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            self._deliver(Delivery(msg.data, target))

        return on_message

    def _broadcast_handler(self, pattern: str) -> Callable[[Msg], Awaitable[None]]:
        # NATS hands a message to *each* matching subscription, so a node
        # listening to both "orders.*" and "orders.>" would get it twice:
        # only the first of our patterns that matches the channel delivers it.
        async def on_message(msg: Msg) -> None:
            channel = msg.subject[len(PREFIX_BROADCAST) :]
            first = next(p for p in self._patterns if _matches(p, channel))
            if first == pattern:
                self._deliver(Delivery(msg.data, Target.broadcast(channel)))

        return on_message

    async def _pump(self) -> None:
        while True:
            await self._publish_queued()
            with self._lock:
                if self._outbox and (nc := self._nc) is not None and nc.is_connected:
                    continue  # sent meanwhile
                self._wakeup.clear()
                self._idle = True
            await self._wakeup.wait()

    async def _publish_queued(self) -> None:
        while (nc := self._nc) is not None and nc.is_connected:
            with self._lock:
                n = min(len(self._outbox), SEND_BATCH)
                if not n:
                    return
                batch = [self._outbox.popleft() for _ in range(n)]
            for index, (subject, payload) in enumerate(batch):
                try:
                    await nc.publish(subject, payload)
                except asyncio.CancelledError:
                    # (only while nats-py waits for its full buffer to drain:
                    # this message is in it) keep the rest, in order
                    with self._lock:
                        self._outbox.extendleft(reversed(batch[index + 1 :]))
                    raise
                except self._nats_error as exc:
                    if not nc.is_connected:
                        # keep the rest, in order; the reconnection wakes us again
                        with self._lock:
                            self._outbox.extendleft(reversed(batch[index:]))
                        return
                    log.warning(
                        "nats transport %r: dropped a %d-byte message for %r: %r",
                        self.name,
                        len(payload),
                        subject,
                        exc,
                    )

    async def _shutdown(self) -> None:
        nc = self._nc
        if nc is None:
            return
        if nc.is_connected:
            await self._publish_queued()
            try:
                await nc.flush(timeout=int(STOP_TIMEOUT_S))
            except (OSError, asyncio.TimeoutError, self._nats_error) as exc:
                log.info("nats transport %r: final flush failed: %r", self.name, exc)
        # close() waits up to reconnect_time_wait for a reconnection in
        # progress; there is nothing to wait for once we are stopping.
        nc.options["reconnect_time_wait"] = 0
        await nc.close()

    # -- nats-py callbacks (on the transport's loop) -------------------------

    def _link_up(self, nc: Client) -> None:
        self.backoff.reset()
        nc.options["reconnect_time_wait"] = self.backoff.initial
        with self._lock:
            self._connected = True
            self._max_payload = nc.max_payload
        if self._reported != "connected":
            self._last_error = None
        self._report("connected", None)
        self._wakeup.set()

    async def _on_error(self, exc: Exception) -> None:
        self._last_error = exc
        nc = self._nc
        if nc is not None and not nc.is_connected and not nc.is_closed:
            # a failed reconnection attempt: wait longer before the next one
            nc.options["reconnect_time_wait"] = self.backoff.next_delay()
        log.debug("nats transport %r: %r", self.name, exc)

    async def _on_disconnected(self) -> None:
        with self._lock:
            self._connected = False
        if self._nc is None or self._stop_requested.is_set():
            return  # a failed first attempt (reported by its loop), or stop()
        error = self._last_error or ConnectionError(f"lost the connection to {self._server}")
        self._report("disconnected", error)

    async def _on_reconnected(self) -> None:
        if self._nc is not None:
            self._link_up(self._nc)

    async def _on_closed(self) -> None:
        with self._lock:
            self._connected = False


async def _close_quietly(nc: Client) -> None:
    try:
        await nc.close()
    except Exception as exc:
        log.debug("closing a failed NATS connection: %r", exc)


def _server_url(url: SplitResult) -> str:
    if url.scheme not in ("nats", "tls"):
        raise TransportError(f"expected a nats:// or tls:// URL, not {url.geturl()!r}")
    try:
        port = url.port or DEFAULT_PORT
    except ValueError as exc:
        raise TransportError(f"bad port in NATS URL {url.geturl()!r}: {exc}") from None
    host = url.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    auth = url.netloc.rpartition("@")[0]
    return f"{url.scheme}://{auth + '@' if auth else ''}{host}:{port}"


def _subject_for(target: Target) -> str:
    if target.mode == "broadcast":
        _check_literal("broadcast channel", target.name)
        return PREFIX_BROADCAST + target.name
    if target.mode == "group":
        _check_literal("group", target.name)
        return PREFIX_GROUP + target.name
    if target.mode == "node":
        _check_literal("node name", target.name)
        return PREFIX_NODE + target.name
    raise TransportError(f"expected a broadcast, group or node target, not {target!r}")


def _bad_tokens(what: str, name: str) -> None:
    # NATS subjects: dot-separated non-empty tokens, no whitespace or control
    # characters (they would end the protocol line).
    if not name:
        raise TransportError(f"{what} must not be empty")
    bad = [c for c in name if c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F]
    if bad:
        raise TransportError(
            f"{what} {name!r} contains {bad[0]!r}: NATS subjects cannot hold "
            "whitespace or control characters"
        )
    if "" in name.split("."):
        raise TransportError(
            f"{what} {name!r} has an empty token: NATS subjects are non-empty "
            "tokens separated by single dots"
        )


def _check_literal(what: str, name: str) -> None:
    _bad_tokens(what, name)
    if "*" in name or ">" in name:
        raise TransportError(
            f"{what} {name!r} contains a wildcard: messages go to a concrete "
            "subject, only subscriptions (channels) may use '*' and '>'"
        )


def _broadcast_patterns(channels: Sequence[str]) -> list[str]:
    patterns: list[str] = []
    for channel in channels:
        pattern = ">" if channel == "*" else channel
        _bad_tokens("channel", channel)
        tokens = pattern.split(".")
        for index, token in enumerate(tokens):
            if token == ">" and index != len(tokens) - 1:
                raise TransportError(f"channel {channel!r}: '>' may only be the last token")
            if token not in ("*", ">") and ("*" in token or ">" in token):
                raise TransportError(
                    f"channel {channel!r}: wildcards '*' and '>' must be whole tokens"
                )
        if pattern not in patterns:
            patterns.append(pattern)
    if ">" in patterns:
        return [">"]  # everything; other patterns would only add duplicates
    return patterns


def _matches(pattern: str, channel: str) -> bool:
    """Whether NATS would deliver ``channel`` to a subscription on ``pattern``."""
    want, have = pattern.split("."), channel.split(".")
    for index, token in enumerate(want):
        if token == ">":
            return len(have) > index
        if index >= len(have) or (token != "*" and token != have[index]):
            return False
    return len(want) == len(have)
