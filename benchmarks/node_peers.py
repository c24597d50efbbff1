"""The processes `node.py` measures: one sender and one receiver per transport.

Run by `node.py` as ``python node_peers.py ROLE [options]``; not meant to be
run by hand. Each peer speaks JSON lines with its parent: it prints
``{"ready": ...}`` once connected (and subscribed), a sender then runs
commands read from stdin, and both exit when stdin closes.

* ``{"cmd": "events", "n": N}``: the sender publishes N messages of the
  payload, then an end marker carrying N; it prints ``{"t0", "t1"}``
  (``time.monotonic()`` before the first and after the last send). The
  receiver counts messages and prints ``{"got", "end"}`` when the marker
  arrives. ``time.monotonic()`` is CLOCK_MONOTONIC on Linux, one clock for
  every process of the machine, so ``end - t0`` spans both processes.
* ``{"cmd": "calls", "seconds": S}``: the sender makes sequential request/
  reply round trips (the receiver echoes the payload) for S seconds and
  prints ``{"calls", "elapsed"}``.

Roles, by implementation:

* ``circuits-recv``/``circuits-send``: a circuits `Node` (``--url``
  ``redis://``, ``nats://``, or ``tcp`` for the 3.2.5 TCP node: the receiver
  listens with ``Node(port=0)``, the sender ``add()``s it). Events are
  ``broadcast(ping(payload))``: PUBLISH on Redis, a publish on a NATS subject,
  a fire-and-forget packet on TCP. Calls are
  ``yield self.call(remote(echo(payload), "recv"))``.
* ``redis-recv``/``redis-send``: redis-py's sync client (hiredis parser):
  PUBLISH/SUBSCRIBE; ``--pipeline K`` publishes in pipelines of K instead of
  one ``publish()`` call per message. Calls: PUBLISH on ``req``, the
  receiver PUBLISHes the payload back on ``rep``.
* ``nats-recv``/``nats-send``: nats-py: ``publish``/``subscribe``; calls are
  ``nc.request()`` answered with ``msg.respond()``.
* ``tcp-recv``/``tcp-send``: asyncio streams, one line per message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import Any

CHANNEL = "bench"
END = b"END "  # raw peers: the end marker, followed by the count
PIPELINE_DEFAULT = 0
# circuits sender: broadcasts fired per loop tick, so the queue stays short.
FIRE_BATCH = 100
# asyncio stream line limit: large payloads are one line each.
LINE_LIMIT = 1 << 24
# Round trips that take longer than this mean a lost message.
CALL_TIMEOUT_S = 10.0


def say(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def read_commands(on_command: Callable[[dict[str, Any]], None], on_eof: Callable[[], None]) -> None:
    """Feed stdin's JSON lines to ``on_command`` from a daemon thread; ``on_eof`` at the end."""

    def run() -> None:
        for line in sys.stdin:
            if line.strip():
                on_command(json.loads(line))
        on_eof()

    threading.Thread(target=run, name="commands", daemon=True).start()


def command_queue() -> asyncio.Queue[dict[str, Any] | None]:
    """`read_commands` into a queue of the running asyncio loop; ``None`` at EOF."""
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    read_commands(
        lambda cmd: loop.call_soon_threadsafe(commands.put_nowait, cmd),
        lambda: loop.call_soon_threadsafe(commands.put_nowait, None),
    )
    return commands


async def timed_calls(seconds: float, call: Callable[[], Awaitable[None]]) -> None:
    """Await ``call()`` back to back for ``seconds``; report how many and how long."""
    calls = 0
    t0 = monotonic()
    deadline = t0 + seconds
    while True:
        await call()
        calls += 1
        now = monotonic()
        if now >= deadline:
            break
    say(calls=calls, elapsed=now - t0)


# -- circuits ------------------------------------------------------------------------------


def circuits_peer(
    role: str, url: str, port: int | None, payload_bytes: int, loop: str = "run"
) -> None:
    from circuits import Component, Event, Manager, handler, run_async
    from circuits.node import Node, broadcast, remote

    class ping(Event):
        pass

    class done(Event):
        pass

    class echo(Event):
        pass

    class run_events(Event):
        pass

    class run_calls(Event):
        pass

    class send_batch(Event):
        pass

    class sent_all(Event):
        pass

    class Receiver(Component):
        channel = CHANNEL

        def init(self) -> None:
            self.count = 0

        def ping(self, data: str) -> None:
            self.count += 1

        def done(self, n: int) -> None:
            say(got=self.count, sent=n, end=monotonic())
            self.count = 0

        def echo(self, data: str) -> str:
            return data

        @handler("ready", channel="node")
        def _listening(self, server: Any, bind: Any) -> None:
            say(ready=True, port=bind[1])

        @handler("connected_to", channel="node")
        def _connected(self, *args: Any) -> None:
            say(ready=True)

    class Sender(Component):
        channel = CHANNEL

        @handler("connected_to", channel="node")
        def _connected(self, *args: Any) -> None:
            say(ready=True)

        @handler("run_events")
        def _run_events(self, n: int) -> None:
            self.t0 = monotonic()
            self.fire(send_batch(n, n))

        @handler("send_batch")
        def _send_batch(self, n: int, left: int) -> None:
            # A chain of events, each sending FIRE_BATCH: the loop dispatches
            # (sends) one batch before the next is made. (A task that does
            # ``yield`` between batches would be stepped at 3.2.5's polling
            # cadence, 0.1 s, whenever the loop has nothing else queued.)
            k = min(FIRE_BATCH, left)
            payload = "x" * payload_bytes
            for _ in range(k):
                self.fire(broadcast(ping(payload)))
            if left > k:
                self.fire(send_batch(n, left - k))
            else:
                self.fire(broadcast(done(n)))
                self.fire(sent_all())

        @handler("sent_all")
        def _sent_all(self) -> None:
            say(t0=self.t0, t1=monotonic())

        @handler("run_calls")
        def _run_calls(self, seconds: float) -> Any:
            payload = "x" * payload_bytes
            calls = 0
            t0 = monotonic()
            deadline = t0 + seconds
            while True:
                value = yield self.call(remote(echo(payload), "recv", timeout=CALL_TIMEOUT_S))
                if value.errors or value.value != payload:
                    say(error=repr(value.value))
                    return
                calls += 1
                now = monotonic()
                if now >= deadline:
                    break
            say(calls=calls, elapsed=now - t0)

    # A transport stopped on purpose reports "disconnected", which the Node
    # logs as a lost link (a warning) at every exit: keep stderr for errors.
    logging.getLogger("circuits.node").setLevel(logging.ERROR)
    m = Manager()
    if role == "circuits-recv":
        Receiver().register(m)
        if url == "tcp":
            Node(port=0, server_ip="127.0.0.1").register(m)
        else:
            Node(url=url, name="recv", channels=(CHANNEL,)).register(m)
    else:
        Sender().register(m)
        if url == "tcp":
            assert port is not None
            node = Node().register(m)
            node.add("recv", "127.0.0.1", port, reconnect_delay=0.1)
        else:
            # channels=(): the sender does not hear (and drop) its own broadcasts.
            Node(url=url, name="send", channels=()).register(m)

    def command(cmd: dict[str, Any]) -> None:
        if cmd["cmd"] == "events":
            m.fire(run_events(cmd["n"]), CHANNEL)
        elif cmd["cmd"] == "calls":
            m.fire(run_calls(cmd["seconds"]), CHANNEL)

    read_commands(command, m.stop)
    if loop == "run_async":  # the Node's transport runs on this asyncio loop (no thread)
        run_async(m)
    else:
        m.run()


# -- redis-py ------------------------------------------------------------------------------


def redis_peer(role: str, url: str, payload_bytes: int, pipeline: int) -> None:
    import redis

    r = redis.Redis.from_url(url)
    ps = r.pubsub()
    ps.subscribe(*([CHANNEL, "req"] if role == "redis-recv" else ["rep"]))
    confirmations = 2 if role == "redis-recv" else 1
    while confirmations:
        message = ps.get_message(timeout=5.0)
        assert message is not None, "redis did not confirm SUBSCRIBE"
        confirmations -= message["type"] == "subscribe"
    say(ready=True)

    if role == "redis-recv":
        read_commands(lambda cmd: None, lambda: os._exit(0))
        count = 0
        for message in ps.listen():
            if message["type"] != "message":
                continue
            data = message["data"]
            if message["channel"] == b"req":
                r.publish("rep", data)
            elif data.startswith(END):
                say(got=count, sent=int(data[len(END) :]), end=monotonic())
                count = 0
            else:
                count += 1
        return

    payload = b"x" * payload_bytes

    def events(n: int) -> None:
        t0 = monotonic()
        if pipeline:
            pipe = r.pipeline(transaction=False)
            for i in range(n):
                pipe.publish(CHANNEL, payload)
                if (i + 1) % pipeline == 0:
                    pipe.execute()
            pipe.publish(CHANNEL, END + b"%d" % n)
            pipe.execute()
        else:
            for _ in range(n):
                r.publish(CHANNEL, payload)
            r.publish(CHANNEL, END + b"%d" % n)
        say(t0=t0, t1=monotonic())

    def calls(seconds: float) -> None:
        calls = 0
        t0 = monotonic()
        deadline = t0 + seconds
        while True:
            r.publish("req", payload)
            message = None
            while message is None or message["type"] != "message":
                message = ps.get_message(timeout=CALL_TIMEOUT_S)
                assert message is not None, "no reply on 'rep'"
            calls += 1
            now = monotonic()
            if now >= deadline:
                break
        say(calls=calls, elapsed=now - t0)

    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "events":
            events(cmd["n"])
        elif cmd["cmd"] == "calls":
            calls(cmd["seconds"])


# -- nats-py -------------------------------------------------------------------------------


async def nats_peer(role: str, url: str, payload_bytes: int) -> None:
    import nats

    nc = await nats.connect(url)
    commands = command_queue()

    if role == "nats-recv":
        count = 0

        async def on_bench(msg: Any) -> None:
            nonlocal count
            if msg.data.startswith(END):
                say(got=count, sent=int(msg.data[len(END) :]), end=monotonic())
                count = 0
            else:
                count += 1

        async def on_req(msg: Any) -> None:
            await msg.respond(msg.data)

        # Generous limits: a burst must queue here, not be dropped as a slow consumer.
        big = {"pending_msgs_limit": 10_000_000, "pending_bytes_limit": 1 << 31}
        await nc.subscribe(CHANNEL, cb=on_bench, **big)
        await nc.subscribe("req", cb=on_req, **big)
        await nc.flush()
        say(ready=True)
        await commands.get()  # None at EOF
        await nc.close()
        return

    payload = b"x" * payload_bytes
    await nc.flush()
    say(ready=True)
    while (cmd := await commands.get()) is not None:
        if cmd["cmd"] == "events":
            n = cmd["n"]
            t0 = monotonic()
            for _ in range(n):
                await nc.publish(CHANNEL, payload)
            await nc.publish(CHANNEL, END + b"%d" % n)
            await nc.flush()
            say(t0=t0, t1=monotonic())
        elif cmd["cmd"] == "calls":

            async def call() -> None:
                reply = await nc.request("req", payload, timeout=CALL_TIMEOUT_S)
                assert reply.data == payload

            await timed_calls(cmd["seconds"], call)
    await nc.close()


# -- asyncio streams (the TCP reference) --------------------------------------------------


async def tcp_peer(role: str, port: int | None, payload_bytes: int) -> None:
    commands = command_queue()

    if role == "tcp-recv":

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            count = 0
            while line := await reader.readline():
                kind = line[:1]
                if kind == b"M":
                    count += 1
                elif kind == b"R":
                    writer.write(line)
                elif line.startswith(END):
                    say(got=count, sent=int(line[len(END) :]), end=monotonic())
                    count = 0
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, limit=LINE_LIMIT)
        say(ready=True, port=server.sockets[0].getsockname()[1])
        await commands.get()
        server.close()
        return

    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=LINE_LIMIT)
    message = b"M" + b"x" * payload_bytes + b"\n"
    request = b"R" + b"x" * payload_bytes + b"\n"
    say(ready=True)
    while (cmd := await commands.get()) is not None:
        if cmd["cmd"] == "events":
            n = cmd["n"]
            t0 = monotonic()
            for _ in range(n):
                writer.write(message)
                await writer.drain()
            writer.write(END + b"%d\n" % n)
            await writer.drain()
            say(t0=t0, t1=monotonic())
        elif cmd["cmd"] == "calls":

            async def call() -> None:
                writer.write(request)
                assert await reader.readline() == request

            await timed_calls(cmd["seconds"], call)
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role")
    parser.add_argument("--url", default="tcp")
    parser.add_argument("--port", type=int)
    parser.add_argument("--payload-bytes", type=int, default=128)
    parser.add_argument("--pipeline", type=int, default=PIPELINE_DEFAULT)
    parser.add_argument(
        "--loop", choices=("run", "run_async"), default="run", help="circuits roles: how to run"
    )
    args = parser.parse_args()
    impl = args.role.split("-")[0]
    if impl == "circuits":
        circuits_peer(args.role, args.url, args.port, args.payload_bytes, args.loop)
    elif impl == "redis":
        redis_peer(args.role, args.url, args.payload_bytes, args.pipeline)
    elif impl == "nats":
        asyncio.run(nats_peer(args.role, args.url, args.payload_bytes))
    elif impl == "tcp":
        asyncio.run(tcp_peer(args.role, args.port, args.payload_bytes))
    else:
        parser.error(f"unknown role {args.role!r}")


if __name__ == "__main__":
    main()
