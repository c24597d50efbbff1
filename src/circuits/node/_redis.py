"""`RedisTransport`: node messages over a Redis server (``redis://host:port/db``).

The three delivery modes of `Target` map onto Redis like this::

    Target.broadcast(ch)  PUBLISH  circuits:bcast:<ch>     PSUBSCRIBE/SUBSCRIBE per `channels`
    Target.group(g)       XADD     circuits:group:<g>      XREADGROUP, consumer group <g>,
                                   (field p = payload)     consumer <node name>
    Target.node(n)        PUBLISH  circuits:node:<n>       SUBSCRIBE to its own channel

Theory of operation. The `redis.asyncio` client (hiredis parses replies
when it is installed) runs on one asyncio loop per transport: its own, in a
daemon thread, or under ``run_async`` the application's (loop mode, see
`AsyncioTransport`). The loop runs *sessions*: connect, subscribe, make sure each
consumer group exists, report ``"connected"``, then run concurrently

* the sender, which takes queued messages and acknowledgements in batches
  and writes each batch on its own connection (not the pool's): the
  commands packed by redis-py (``pack_commands``), one write, then one
  reply read per command;
* the pub/sub reader, a blocking read of the raw replies (no per-message
  timeout or message dict), delivering broadcast and node messages;
* one reader per group: first this consumer's own pending entries (id
  ``0``: what a previous run of the same node received but never acked),
  then new ones (``>``), blocking at most `READ_BLOCK_MS` per call;
* housekeeping: a PING that notices a silent server, and XAUTOCLAIM, which
  takes over entries another member left unacked for ``claim_idle`` seconds
  (that member crashed or hangs) and delivers them here.

What the readers get during one pass of the loop is handed to the
Node as one batch (`DeliveryBatch`, ``deliver_many``). The sender's and the
pub/sub connection have no socket timeout (an idle subscriber must wait
forever): a server that stops answering is noticed by housekeeping's PING,
whose failure ends the session like any other error.

Any error in any of them ends the session: everything is torn down, the
state goes ``"disconnected"`` and the next session starts after
``backoff.next_delay()``. `send` never blocks and never touches the
network: it appends to a deque under a lock and, only when the sender sleeps,
wakes it (``call_soon_threadsafe`` from another thread, ``Event.set`` on the
loop's own), so a burst of sends costs one wake-up.

Guarantees. Order: messages from one transport are written in `send` order,
including those kept while disconnected. A pipeline that fails midway is
written again on the next session, so a message sent around a connection loss
may arrive twice (never zero times while the buffer holds). Broadcast and node
messages are fire-and-forget (pub/sub keeps nothing for a node that is not
subscribed at that moment). Group messages are at-least-once: an entry stays
pending until ``Delivery.ack()``; unacked entries return to their consumer
when it restarts, or to any live member after ``claim_idle``.

Payloads are bytes in, the same bytes out: nothing is decoded or unpickled.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import SplitResult

from ._asyncio_transport import AsyncioTransport, describe
from ._transport import BUFFER_LIMIT, Backoff, Delivery, Target, TransportError, missing_extra

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub
    from redis.asyncio.connection import AbstractConnection

__all__ = ["RedisTransport"]

log = logging.getLogger(__name__)

BCAST_PREFIX = "circuits:bcast:"
GROUP_PREFIX = "circuits:group:"
NODE_PREFIX = "circuits:node:"
PAYLOAD_FIELD = b"p"

# XADD ... MAXLEN ~ N: a group stream with no consumer must not grow without
# bound. 100 000 entries of a few hundred bytes is tens of MB; a group that
# falls further behind than that loses its oldest entries (Redis trims whole
# macro nodes, so "~" keeps a little more, never less).
GROUP_STREAM_MAXLEN = 100_000
# XREADGROUP BLOCK: short enough that a group reader is never stuck in one
# call for long, well under SOCKET_TIMEOUT_S so the read does not time out.
READ_BLOCK_MS = 1_000
# Entries per XREADGROUP / XAUTOCLAIM reply and messages per pipeline:
# large enough to amortise round trips, small enough to keep replies short.
READ_COUNT = 100
SEND_BATCH = 500
# Default idle time after which another member takes over a pending entry.
CLAIM_IDLE_S = 30.0
# Housekeeping period (PING + XAUTOCLAIM), shortened for a short claim_idle.
HOUSEKEEPING_S = 1.0
CONNECT_TIMEOUT_S = 2.0
SOCKET_TIMEOUT_S = 5.0
# stop(): how long queued messages may take to drain, then the thread join.
STOP_FLUSH_S = 1.0
# Ending a session: how long cancelled tasks get before their connections are closed.
UNWIND_S = 0.2
JOIN_TIMEOUT_S = 5.0

# Pub/sub channels whose Target is remembered (a reader sees few distinct ones).
TARGET_CACHE_SIZE = 1_024

_Kind = Literal["publish", "xadd"]
_Ack = tuple[str, str, bytes]  # stream, group, entry id


class RedisTransport(AsyncioTransport[tuple[_Kind, str, bytes]]):
    """Carries node messages through Redis pub/sub (broadcast, node) and Streams (group).

    Args:
        url: ``redis://[user:password@]host[:port][/db]``; ``rediss://`` for
            TLS, ``unix:///path?db=N`` for a Unix socket (all as redis-py's
            ``from_url`` reads them).
        name: this node's name; also its consumer name in each group.
        deliver: called with each `Delivery`, from the transport's thread.
        groups: groups this node consumes from (``Target.group``).
        channels: broadcast channels; ``"*"`` means all, entries with
            ``*``, ``?`` or ``[`` are glob patterns, the rest literal names.
        on_state: called with ``("connected", None)`` or ``("disconnected", error)``.
        buffer_limit: messages kept while disconnected before `BufferFull`.
        backoff: the reconnection schedule.
        claim_idle: seconds an entry may stay unacked by its consumer before
            another member of the group claims it.

    Raises:
        ImportError: redis-py is not installed (``pip install 'circuits[redis]'``).
        TransportError: the URL scheme is not one Redis speaks.
    """

    scheme = "redis"
    schemes = ("redis", "rediss", "unix")

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
        claim_idle: float = CLAIM_IDLE_S,
        deliver_many: Callable[[list[Delivery]], None] | None = None,
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401  (only to fail early, here)
        except ImportError:
            raise missing_extra("redis", "redis") from None
        if url.scheme not in self.schemes:
            raise TransportError(
                f"expected a redis://, rediss:// or unix:// URL, not {url.geturl()!r}"
            )
        if claim_idle <= 0:
            raise ValueError(f"claim_idle must be > 0 seconds, not {claim_idle!r}")
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
        self.claim_idle = claim_idle
        # host:port/db for log lines: never the password.
        self._where = _where(url)
        self._acks: list[_Ack] = []
        self._draining = False
        self._stopping = asyncio.Event()
        self._epoch = 0  # bumped when a session ends; see _session_alive
        self._targets: dict[bytes, Target] = {}

    # -- public API ------------------------------------------------------------------

    def start(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start connecting (and reconnecting) on a worker thread, or as a task on ``loop``.

        Args:
            loop: the running asyncio loop of the caller, to run on it instead
                of in a worker thread (the Node passes it under ``run_async``).
        """
        with self._lock:
            if not self._stopped and (self._thread is not None or self._task is not None):
                return
            self._stopped = False
            if loop is not None:
                thread = None
            else:
                self._reset()
                thread = self._spawn()
        if thread is None:
            assert loop is not None
            self._start_here(loop)  # (its task resets, once a previous run has closed)
        else:
            thread.start()

    def _reset(self) -> None:
        self._draining = False
        self._idle = False
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop receiving, send what is queued (for up to `STOP_FLUSH_S`), close, join.

        In loop mode, called on the loop, it cannot wait: the task ends
        within about `STOP_FLUSH_S`; await `closing`.
        """
        with self._lock:
            thread, loop = self._thread, self._loop
            self._stopped = True
        if self._task is not None:
            running = not self._task.done()
            self._stop_task(lambda: self._stopping.set())
            if running and self._on_loop_thread():
                # The worker reports this before stop() returns (while the app
                # still runs); the task would only after run_async() ended.
                self._report("disconnected", None)
            return
        if thread is None or loop is None:
            return
        self._call_on_loop(self._stopping.set)
        thread.join(JOIN_TIMEOUT_S)
        if thread.is_alive():
            log.warning("redis transport %r: worker thread did not stop in time", self.name)
        with self._lock:
            self._thread = self._loop = None
        self._warn_unsent()

    def _warn_unsent(self) -> None:
        with self._lock:
            left = len(self._outbox)
        if left:
            log.warning("redis transport %r: stopped with %d messages unsent", self.name, left)

    def send(self, payload: bytes, target: Target) -> None:
        """Queue ``payload`` for ``target``; returns at once.

        Raises:
            BufferFull: disconnected with ``buffer_limit`` messages waiting.
            TransportError: unknown target mode, or the transport was stopped.
        """
        if target.mode == "broadcast":
            item: tuple[_Kind, str, bytes] = ("publish", BCAST_PREFIX + target.name, payload)
        elif target.mode == "node":
            item = ("publish", NODE_PREFIX + target.name, payload)
        elif target.mode == "group":
            item = ("xadd", GROUP_PREFIX + target.name, payload)
        else:
            raise TransportError(f"expected a broadcast, group or node target, not {target!r}")
        self._enqueue(item, len(payload))

    def _ack(self, stream: str, group: str, entry_id: bytes) -> None:
        with self._lock:
            self._acks.append((stream, group, entry_id))
            self._wake_sender()

    # -- on the transport's loop (worker thread or the app's) ---------------------------

    async def _main(self) -> None:
        try:
            await self._sessions()
        except asyncio.CancelledError:
            # Loop mode: the app's loop ends without a stop(). _session's
            # `finally` has closed the connections.
            self._stopping.set()
            self._report("disconnected", None)
            raise
        if self._task is not None:
            self._warn_unsent()  # (the worker's stop() does it after the join)

    async def _sessions(self) -> None:
        while not self._stopping.is_set():
            error: BaseException | None = None
            try:
                await self._session()
            except Exception as exc:
                error = exc
            if self._stopping.is_set():
                self._report("disconnected", None)
                return
            self._report("disconnected", error)
            delay = self.backoff.next_delay()
            log.debug("redis transport %r: reconnecting in %.2f s", self.name, delay)
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def _session(self) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries inside redis-py: a failure must end the session, so the
        # state is reported and the pipeline requeued exactly once.
        client: Redis = Redis.from_url(
            self.url.geturl(),
            decode_responses=False,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
            client_name=f"circuits:{self.name}",
        )
        pool = client.connection_pool
        publisher = pool.connection_class(**{**pool.connection_kwargs, "socket_timeout": None})
        tasks: list[asyncio.Task[None]] = []
        stopping = asyncio.ensure_future(self._stopping.wait())
        # Setting up may hang until a timeout; stop() must not wait for it.
        setup = asyncio.ensure_future(self._setup(client, publisher))
        try:
            await asyncio.wait([setup, stopping], return_when=asyncio.FIRST_COMPLETED)
            if not setup.done():
                return
            pubsub = setup.result()
            self._set_connected(True)
            self.backoff.reset()
            self._report("connected", None)
            epoch = self._epoch
            tasks = [
                asyncio.ensure_future(self._send_loop(publisher, epoch)),
                asyncio.ensure_future(self._pubsub_loop(pubsub, epoch)),
                asyncio.ensure_future(self._housekeeping(client, epoch)),
                *(asyncio.ensure_future(self._group_loop(client, g, epoch)) for g in self.groups),
            ]
            done, _ = await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
            if self._stopping.is_set():  # (a loop may notice it before `stopping` does)
                await self._drain(tasks)
                return
            for ended in done:
                exc = ended.exception()
                raise exc if exc is not None else RuntimeError(f"{ended!r} ended")
        finally:
            self._set_connected(False)
            self._epoch += 1
            everything: list[asyncio.Future[Any]] = [setup, stopping, *tasks]
            for future in everything:
                future.cancel()
            # Most tasks unwind at once. One whose cancellation was swallowed
            # (see _session_alive) fails as soon as its connection is closed.
            await asyncio.wait(everything, timeout=UNWIND_S)
            closing: list[Any] = [client]
            if setup.done() and not setup.cancelled() and setup.exception() is None:
                closing.insert(0, setup.result())
            for resource in closing:
                try:
                    await resource.aclose()
                except Exception as exc:
                    log.debug("redis transport %r: close: %r", self.name, exc)
            try:
                await publisher.disconnect(nowait=True)
            except Exception as exc:
                log.debug("redis transport %r: close: %r", self.name, exc)
            await asyncio.gather(*everything, return_exceptions=True)

    async def _setup(self, client: Redis, publisher: AbstractConnection) -> PubSub:
        await client.ping()
        await publisher.connect()  # type: ignore[no-untyped-call]
        pubsub = await self._subscribe(client)
        for group in self.groups:
            await self._ensure_group(client, group)
        return pubsub

    async def _drain(self, tasks: list[asyncio.Task[None]]) -> None:
        # Stop receiving first, then let the sender empty the queue (acks
        # included) for at most STOP_FLUSH_S.
        sender, readers = tasks[0], tasks[1:]
        for task in readers:
            task.cancel()
        await asyncio.wait(readers, timeout=UNWIND_S)
        with self._lock:
            self._draining = True
        self._wakeup.set()
        await asyncio.wait([sender], timeout=STOP_FLUSH_S)
        error = sender.exception() if sender.done() and not sender.cancelled() else None
        if error is not None:
            log.info("redis transport %r: flush before stop failed: %s", self.name, describe(error))

    def _session_alive(self, epoch: int) -> bool:
        # Python < 3.12: asyncio.wait_for() (which redis-py uses to write)
        # returns normally when it is cancelled just as its inner future
        # finishes, so Task.cancel() alone cannot be trusted to end a loop.
        # Every loop also checks that its session is still the current one.
        return self._epoch == epoch

    # -- sending ---------------------------------------------------------------------

    async def _send_loop(self, conn: AbstractConnection, epoch: int) -> None:
        while self._session_alive(epoch):
            self._wakeup.clear()
            with self._lock:
                n = min(len(self._outbox), SEND_BATCH)
                batch = [self._outbox.popleft() for _ in range(n)]
                acks, self._acks = self._acks, []
                if not batch and not acks:
                    if self._draining:
                        return
                    self._idle = True
            if not batch and not acks:
                await self._wakeup.wait()
                continue
            try:
                await self._write(conn, batch, acks)
            except BaseException:
                # Unknown how much of the pipeline arrived: send it all again
                # (at-least-once), ahead of anything queued meanwhile.
                with self._lock:
                    self._outbox.extendleft(reversed(batch))
                    self._acks[:0] = acks
                raise

    async def _write(
        self, conn: AbstractConnection, batch: list[tuple[_Kind, str, bytes]], acks: list[_Ack]
    ) -> None:
        from redis.exceptions import ResponseError

        commands: list[tuple[Any, ...]] = []
        append = commands.append
        for kind, key, payload in batch:
            if kind == "publish":
                append(("PUBLISH", key, payload))
            else:  # as redis-py's xadd(key, {p: payload}, maxlen=...) writes it
                maxlen = ("MAXLEN", "~", GROUP_STREAM_MAXLEN)
                append(("XADD", key, *maxlen, "*", PAYLOAD_FIELD, payload))
        by_group: dict[tuple[str, str], list[bytes]] = {}
        for stream, group, entry_id in acks:
            by_group.setdefault((stream, group), []).append(entry_id)
        for (stream, group), ids in by_group.items():
            append(("XACK", stream, group, *ids))
        await conn.send_packed_command(conn.pack_commands(commands), check_health=False)
        # Every reply is read, so the next batch starts on a clean connection.
        # A command the server refuses (a key of the wrong type, say) is
        # logged and dropped instead of retried forever; connection errors raise.
        for _ in commands:
            try:
                await conn.read_response()
            except ResponseError as exc:
                log.error("redis transport %r: server refused a command: %s", self.name, exc)

    # -- receiving: pub/sub ----------------------------------------------------------

    def _subscriptions(self) -> tuple[list[str], list[str]]:
        patterns: list[str] = []
        literals = [NODE_PREFIX + self.name]
        # "*" already matches every channel: other entries would deliver twice.
        channels = ["*"] if "*" in self.channels else self.channels
        for channel in dict.fromkeys(channels):
            if any(c in channel for c in "*?["):
                patterns.append(BCAST_PREFIX + channel)
            else:
                literals.append(BCAST_PREFIX + channel)
        return patterns, literals

    async def _subscribe(self, client: Redis) -> PubSub:
        pubsub = client.pubsub()
        patterns, literals = self._subscriptions()
        if patterns:
            await pubsub.psubscribe(*patterns)
        await pubsub.subscribe(*literals)
        # Wait for every confirmation: only then does a PUBLISH from another
        # connection reach us, and only then do we report "connected".
        waiting = len(patterns) + len(literals)
        while waiting:
            message = await pubsub.get_message(timeout=SOCKET_TIMEOUT_S)
            if message is None:
                raise TimeoutError(f"redis at {self._where} did not confirm SUBSCRIBE")
            if message["type"] in ("subscribe", "psubscribe"):
                waiting -= 1
            else:
                self._on_pubsub(message)
        return pubsub

    async def _pubsub_loop(self, pubsub: PubSub, epoch: int) -> None:
        # The raw replies, read as they come (math.inf: no timeout, see the
        # module docstring; push_request: as PubSub reads them, since hiredis
        # returns them as push notifications): [b"message", channel, data] or
        # [b"pmessage", pattern, channel, data]. The loop is cancelled to stop.
        conn = pubsub.connection
        assert conn is not None
        read = conn.read_response
        batch = self._batch
        assert batch is not None
        targets = self._targets
        while self._session_alive(epoch):
            reply = await read(timeout=math.inf, push_request=True)
            if not isinstance(reply, list) or len(reply) < 3:
                continue
            kind = reply[0]
            if kind == b"message":
                channel, data = reply[1], reply[2]
            elif kind == b"pmessage" and len(reply) == 4:
                channel, data = reply[2], reply[3]
            else:
                continue  # (un)subscribe confirmations, pong
            target = targets.get(channel)
            if target is None:
                target = self._target(channel)
            batch.add(Delivery(data, target))

    def _target(self, channel: bytes) -> Target:
        name = channel.decode("utf-8", "replace")
        if name.startswith(NODE_PREFIX):
            target = Target.node(name[len(NODE_PREFIX) :])
        else:
            target = Target.broadcast(name[len(BCAST_PREFIX) :])
        if len(self._targets) >= TARGET_CACHE_SIZE:
            self._targets.clear()
        self._targets[channel] = target
        return target

    def _on_pubsub(self, message: dict[str, Any]) -> None:
        if message["type"] not in ("message", "pmessage"):
            return
        self._deliver(Delivery(message["data"], self._target(message["channel"])))

    # -- receiving: groups -----------------------------------------------------------

    async def _ensure_group(self, client: Redis, group: str) -> None:
        from redis.exceptions import ResponseError

        # Created at id 0, not "$": messages sent before the first member
        # joined are still delivered.
        try:
            await client.xgroup_create(GROUP_PREFIX + group, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _group_loop(self, client: Redis, group: str, epoch: int) -> None:
        from redis.exceptions import ResponseError

        stream = GROUP_PREFIX + group
        # Own pending entries first (a previous run received them, never acked).
        last: bytes | str = b"0"
        while self._session_alive(epoch) and not self._stopping.is_set():
            fresh = last == ">"
            try:
                reply = await client.xreadgroup(
                    group,
                    self.name,
                    {stream: last},
                    count=READ_COUNT,
                    block=READ_BLOCK_MS if fresh else None,
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # The stream (or group) was deleted under us: start over.
                await self._ensure_group(client, group)
                last = b"0"
                continue
            entries = _entries(reply)
            if not fresh:
                if not entries:
                    last = ">"
                    continue
                last = entries[-1][0]
            self._deliver_entries(stream, group, entries)

    async def _housekeeping(self, client: Redis, epoch: int) -> None:
        period = min(HOUSEKEEPING_S, max(self.claim_idle / 2, 0.05))
        idle_ms = max(1, int(self.claim_idle * 1000))
        while self._session_alive(epoch) and not self._stopping.is_set():
            await asyncio.sleep(period)
            await client.ping()  # a server that went silent ends the session
            for group in self.groups:
                stream, cursor = GROUP_PREFIX + group, b"0-0"
                while True:
                    reply = await client.xautoclaim(
                        stream, group, self.name, idle_ms, start_id=cursor, count=READ_COUNT
                    )
                    cursor, claimed = reply[0], reply[1]
                    if claimed:
                        log.info(
                            "redis transport %r: claimed %d idle entries of group %r",
                            self.name,
                            len(claimed),
                            group,
                        )
                        self._deliver_entries(stream, group, claimed)
                    if cursor in (b"0-0", "0-0"):
                        break

    def _deliver_entries(self, stream: str, group: str, entries: list[tuple[Any, Any]]) -> None:
        target = Target.group(group)
        for entry_id, fields in entries:
            payload = fields.get(PAYLOAD_FIELD) if fields else None
            if payload is None:
                # Trimmed away (MAXLEN) or not ours: nothing to deliver, so
                # take it off the pending list.
                self._ack(stream, group, entry_id)
                continue
            ack = functools.partial(self._ack, stream, group, entry_id)
            self._deliver(Delivery(payload, target, ack))


def _entries(reply: Any) -> list[tuple[Any, Any]]:
    # XREADGROUP for one stream: [[stream, [(id, {field: value}), ...]]]
    # (RESP2) or {stream: [[(id, fields), ...]]} (RESP3).
    if not reply:
        return []
    if isinstance(reply, dict):
        (value,) = reply.values()
        return list(value[0]) if value and isinstance(value[0], list) else list(value)
    return list(reply[0][1])


def _where(url: SplitResult) -> str:
    if url.scheme == "unix":
        return url.path
    return f"{url.hostname}:{url.port or 6379}{url.path or ''}"
