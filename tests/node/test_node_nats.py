"""Nodes over a real nats-server: each Node in its own Manager (and thread, or process).

What only a ``nats://`` network does, end to end through the Node API: remote
calls and a queue group across node processes, and a broker restart. The
scenarios the same on every broker (fan-out, groups, remote calls, asyncio)
are in ``test_node_brokers.py``. NATS keeps nothing, so a killed consumer's
events are lost by design: that scenario is Redis-only.
"""

from __future__ import annotations

from collections import Counter

import pytest
from tests.node.brokers import nats_server, node_process, wait_until
from tests.node.node_support import (
    assert_buffer_full,
    boom,
    fire_all_and_wait,
    fire_and_wait,
    flush_after,
    hello,
    job,
    note,
    remote_error_of,
    restart_broker,
    start_member,
    stop_broker,
)

from circuits import TimeoutError
from circuits.node import broadcast, remote, to_group

pytestmark = pytest.mark.slow


@pytest.fixture
def server():
    with nats_server() as srv:
        yield srv


def test_remote_calls_and_group_across_processes(server, loops):
    a = start_member(loops, server.url, "a")
    with (
        node_process(server.url, "p1", "--group=jobs", "--block=99") as p1,
        node_process(server.url, "p2", "--group=jobs") as p2,
    ):
        value = fire_and_wait(a.manager, a.rec, remote(hello("there"), "p1", channel="app"))
        assert value.value == "p1: Hi there"
        failed = fire_and_wait(a.manager, a.rec, remote(boom(), "p2", channel="app"))
        error = remote_error_of(failed)
        assert (error.type_name, error.message, error.node) == ("ValueError", "no way", "p2")
        stuck = fire_and_wait(a.manager, a.rec, remote(job(99), "p1", channel="app", timeout=0.3))
        with pytest.raises(TimeoutError, match="'p1'"):
            stuck.outcome()

        a.manager.fire(broadcast(note("to all"), channel="app"))
        for proc in (p1, p2):
            proc.wait_until(lambda proc=proc: proc.words("note") == ["to_all"], "the broadcast")

        n = 30
        events = [to_group(job(i), "jobs", channel="app") for i in range(n)]
        values = fire_all_and_wait(a.manager, a.rec, events)
        assert [v.value for v in values] == list(range(n))

        def done():
            return [int(i) for proc in (p1, p2) for i in proc.words("done")]

        # (each process printed "done" before answering; its stdout may lag behind)
        wait_until(lambda: len(done()) >= n, "every job reported on stdout")
        assert Counter(done()) == Counter(range(n))  # one process each


def test_reconnect_after_the_broker_restarts(server, loops):
    b = start_member(loops, server.url, "b")
    a = start_member(loops, server.url, "a", buffer_limit=4)
    # Nothing is stored by NATS for a node that is not subscribed.
    flush_after(a, b)

    stop_broker(server, a, b)
    call = remote(hello("while down"), "b", channel="app", timeout=10)
    call.success = call.failure = True
    waiting = a.manager.fire(call)
    # The call is sent from a coroutine step after its batch: wait for it, so
    # that the next broadcast is the one the buffer refuses.
    wait_until(lambda: a.node._calls, "the call to be sent")
    assert_buffer_full(a, 4)

    restart_broker(server, a, b)
    a.rec.wait_until(lambda: waiting._done, what="the call made while down")
    assert waiting.value == "b: Hi while down"
    after = fire_and_wait(a.manager, a.rec, remote(hello("after"), "b", channel="app"))
    assert after.value == "b: Hi after"
