"""Redis and NATS transports on the application's asyncio loop (``run_async``).

Under ``run_async()`` a Node runs its transport as a task on the app's loop
(loop mode) instead of a loop in a worker thread. Each scenario runs on both
brokers, with a peer Node in a plain ``run()`` tree in a thread: no transport
thread, events and remote calls both ways, a broker restart, a stop that
flushes, closes and leaves no task behind.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import threading

import pytest
from tests.node.brokers import wait_until
from tests.node.node_support import (
    FAST_BACKOFF,
    AsyncApp,
    AsyncCaller,
    Recorder,
    fire_and_wait,
    flush_after,
    go,
    hello,
    note,
    start_member,
)

from circuits import Component, Manager
from circuits.node import Node, RemoteError, broadcast, remote
from circuits.node.node import _app_loop

pytestmark = pytest.mark.slow


class AsyncioApp:
    """A Node + `AsyncApp` + `AsyncCaller` run by ``asyncio.run(m.run_async())`` in a thread.

    What is left on the asyncio loop once ``run_async()`` returned is kept in
    ``leftover`` (tasks other than the main one) for the test to check.
    """

    def __init__(self, url: str, name: str, stop: bool = True) -> None:
        self.name = name
        self.manager = m = Manager()
        self.rec = Recorder().register(m)
        self.node = Node(url=url, name=name, backoff=copy.copy(FAST_BACKOFF)).register(m)
        self.app = AsyncApp(name).register(m)
        AsyncCaller().register(m)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.leftover: set[asyncio.Task[object]] | None = None
        self.transport_task: asyncio.Task[None] | None = None
        self._stop_at_end = stop
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), name="app-loop")

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        if self._stop_at_end:
            await self.manager.run_async()
        else:  # the asyncio program ends while the app still runs: cancelled
            running = asyncio.ensure_future(self.manager.run_async())
            await asyncio.sleep(0.2)
            assert not running.done()
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        self.transport_task = self.node.transport._task
        self.leftover = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    def start(self) -> AsyncioApp:
        self._thread.start()
        self.rec.wait_for("connected_to", channel="node")
        return self

    def call(self, target: str, timeout: float = 10.0) -> dict[str, object]:
        """Run `AsyncCaller.go` (three remote calls) on the app's loop; its results."""
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(self._go(target), self.loop)
        return future.result(timeout)

    async def _go(self, target: str) -> dict[str, object]:
        return await self.manager.fire(go(target), "caller")  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.manager.stop()
        self._thread.join(10)
        assert not self._thread.is_alive(), "run_async() did not return"


def transport_threads(name: str) -> list[str]:
    # The worker thread of a transport is called circuits-<scheme>-<node name>.
    return [t.name for t in threading.enumerate() if t.name.endswith(f"-{name}")]


def test_loop_mode_has_no_thread_and_calls_and_events_go_both_ways(server, loops):
    peer = start_member(loops, server.url, "peer")
    assert transport_threads("peer"), "a run() tree keeps its worker thread"
    before = {t.name for t in threading.enumerate()}
    aio = AsyncioApp(server.url, "aio").start()
    try:
        transport = aio.node.transport
        assert transport._thread is None
        assert transport._task is not None
        assert not transport._task.done()
        assert transport._loop is aio.loop
        assert {t.name for t in threading.enumerate()} - before == {"app-loop"}
        assert transport_threads("aio") == []

        results = aio.call("peer")  # from the loop-mode node to the peer
        assert results["value"] == "peer: Hi async"
        assert isinstance(results["error"], RemoteError)
        back = fire_and_wait(peer.manager, peer.rec, remote(hello(2), "aio", channel="app"))
        assert back.value == "aio: Hi 2"

        aio.manager.fire(broadcast(note("from aio"), channel="app"))
        peer.app.wait_until(lambda: peer.app.notes == ["from aio"], "the loop node's event")
        peer.manager.fire(broadcast(note("from peer"), channel="app"))
        aio.app.wait_until(lambda: aio.app.notes == ["from peer"], "the peer's event")
    finally:
        aio.stop()
    assert aio.leftover == set()


def test_loop_mode_reconnects_after_the_broker_restarts(server, loops):
    peer = start_member(loops, server.url, "peer")
    aio = AsyncioApp(server.url, "aio").start()
    try:
        server.stop()
        aio.rec.wait_for("disconnected_from", channel="node")
        peer.rec.wait_for("disconnected_from", channel="node")
        server.start()
        aio.rec.wait_for("connected_to", channel="node", count=2, timeout=10)
        peer.rec.wait_for("connected_to", channel="node", count=2, timeout=10)
        assert aio.node.transport._thread is None
        assert transport_threads("aio") == []

        assert aio.call("peer")["value"] == "peer: Hi async"
        back = fire_and_wait(peer.manager, peer.rec, remote(hello(3), "aio", channel="app"))
        assert back.value == "aio: Hi 3"
    finally:
        aio.stop()
    assert aio.leftover == set()


def test_loop_mode_keeps_messages_sent_while_the_broker_is_down(server, loops):
    peer = start_member(loops, server.url, "peer")
    aio = AsyncioApp(server.url, "aio").start()
    flush_after(aio, peer)  # fire-and-forget: flush once the peer listens again
    try:
        server.stop()
        aio.rec.wait_for("disconnected_from", channel="node")
        for k in range(3):
            aio.manager.fire(broadcast(note(f"while down {k}"), channel="app"))
        server.start()
        peer.app.wait_until(lambda: len(peer.app.notes) == 3, "the events kept while down")
        assert peer.app.notes == [f"while down {k}" for k in range(3)]
    finally:
        aio.stop()


def test_loop_mode_stop_flushes_closes_and_leaves_no_task(server, loops):
    peer = start_member(loops, server.url, "peer")
    aio = AsyncioApp(server.url, "aio").start()
    transport = aio.node.transport
    # Sent in the same batch as the stop: the transport's close sends it first.
    aio.manager.fire(broadcast(note("last words"), channel="app"))
    aio.stop()
    peer.app.wait_until(lambda: peer.app.notes == ["last words"], "the event sent before stop")
    assert aio.transport_task is not None
    assert aio.transport_task.done()
    assert not aio.transport_task.cancelled()
    assert aio.leftover == set()
    assert not transport.connected
    # As under run(): Redis reports the stop, NATS does not.
    closed = [e.args[0] for e in aio.rec.find("disconnected_from")]
    assert closed == (["redis"] if server.url.startswith("redis") else [])


def test_loop_mode_cancelled_app_still_closes_the_client(server):
    # asyncio.run() ends (cancelling every task) without app.stop(): the
    # transport's task is cancelled too, and closes its client on the way
    # out (a leaked socket would be a ResourceWarning, an error here).
    aio = AsyncioApp(server.url, "aio", stop=False)
    aio._thread.start()
    aio._thread.join(10)
    assert not aio._thread.is_alive()
    task = aio.node.transport._task
    assert task is not None
    assert task.done()
    wait_until(lambda: not aio.node.transport.connected, "the link to be down")
    gc.collect()  # a leaked socket warns now, inside this test


def test_run_outside_run_async_keeps_the_worker_thread():
    async def main():
        # A running loop is not enough: run() (or no run at all) keeps thread mode.
        assert _app_loop(Manager()) is None

    asyncio.run(main())

    seen = []

    class Probe(Component):
        def started(self, manager):
            seen.append(_app_loop(self.root) is asyncio.get_running_loop())
            self.stop()

    m = Manager()
    Probe().register(m)
    asyncio.run(m.run_async())
    assert seen == [True]
