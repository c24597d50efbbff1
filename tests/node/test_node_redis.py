"""Nodes over a real redis-server: each Node in its own Manager (and thread, or process).

What only a ``redis://`` network does, end to end through the Node API:
redelivery when a consumer process is killed, remote calls to a node process,
and a restart that keeps calls and group jobs. The scenarios the same on every
broker (fan-out, exactly-once groups, remote calls, asyncio) are in
``test_node_brokers.py``.
"""

from __future__ import annotations

from collections import Counter

import pytest
from tests.node.brokers import node_process, redis_server, wait_until
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
from circuits.node import Node, broadcast, remote, to_group
from circuits.node._redis import RedisTransport

pytestmark = pytest.mark.slow

# Another member takes over a message its consumer left unacked this long (a
# survivor stalling this long before its ack would make it claimed twice).
CLAIM_IDLE_S = 1.0


@pytest.fixture
def server(tmp_path):
    with redis_server(tmp_path) as srv:
        yield srv


def test_transport_options_reach_the_transport():
    node = Node(url="redis://127.0.0.1:1/0", name="n", transport_options={"claim_idle": 2.5})
    assert isinstance(node.transport, RedisTransport)
    assert node.transport.claim_idle == 2.5
    with pytest.raises(TypeError, match="unexpected keyword argument 'no_such_option'"):
        Node(url="redis://127.0.0.1:1/0", transport_options={"no_such_option": 1})
    with pytest.raises(TypeError, match="transport_options"):
        Node(url="tcp://127.0.0.1:0", transport_options={"claim_idle": 1})


def test_killed_consumer_process_events_are_redelivered(server, loops):
    n, blocked = 12, [2, 5, 9]
    caller = start_member(loops, server.url, "caller")
    block = [f"--block={i}" for i in blocked]
    with node_process(server.url, "doomed", "--group=work", *block) as doomed:
        calls = [to_group(job(i), "work", channel="app", timeout=10) for i in range(n)]
        for call in calls:
            call.success = call.failure = True
            caller.manager.fire(call)
        doomed.wait_until(lambda: len(doomed.words("got")) == n, "every job to start")
        unblocked = [c for i, c in enumerate(calls) if i not in blocked]
        caller.rec.wait_until(
            lambda: all(c.value._done for c in unblocked), what="the unblocked results"
        )
        # Acked, except the jobs still running: they stay pending under "doomed".
        wait_until(lambda: server.pending("work") == len(blocked), "the acks of finished jobs")
        finished = n - len(blocked)
        doomed.wait_until(lambda: len(doomed.words("done")) == finished, "its stdout")
        assert sorted(int(i) for i in doomed.words("done")) == sorted(set(range(n)) - {*blocked})
        doomed.kill()

    survivors = [
        start_member(
            loops,
            server.url,
            f"survivor{k}",
            groups=("work",),
            transport_options={"claim_idle": CLAIM_IDLE_S},
        )
        for k in range(2)
    ]
    # The stream goes on: new jobs reach the survivors along with the claimed ones.
    more = [to_group(job(i), "work", channel="app", timeout=10) for i in range(n, 2 * n)]
    fire_all_and_wait(caller.manager, caller.rec, more, timeout=10)
    caller.rec.wait_until(lambda: all(c.value._done for c in calls), what="every result")
    assert [c.value.value for c in calls + more] == list(range(2 * n))  # nothing lost
    redone = Counter(i for s in survivors for i in s.app.jobs)
    assert redone == Counter([*blocked, *range(n, 2 * n)])  # each once
    wait_until(lambda: server.pending("work") == 0, "the redelivered jobs acked")


def test_remote_call_and_broadcast_to_a_node_process(server, loops):
    a = start_member(loops, server.url, "a")
    with node_process(server.url, "proc", "--block=7") as proc:
        value = fire_and_wait(a.manager, a.rec, remote(hello("there"), "proc", channel="app"))
        assert value.value == "proc: Hi there"
        failed = fire_and_wait(a.manager, a.rec, remote(boom(), "proc", channel="app"))
        error = remote_error_of(failed)
        assert (error.type_name, error.message) == ("ValueError", "no way")
        stuck = fire_and_wait(a.manager, a.rec, remote(job(7), "proc", channel="app", timeout=0.3))
        with pytest.raises(TimeoutError, match="'proc'"):
            stuck.outcome()
        proc.wait_until(lambda: proc.words("got") == ["7"], "job 7 to have started")
        a.manager.fire(broadcast(note("to all"), channel="app"))
        proc.wait_until(lambda: proc.words("note") == ["to_all"], "the broadcast")


def test_reconnect_after_the_broker_restarts(server, loops):
    b = start_member(loops, server.url, "b", groups=("g",))
    a = start_member(loops, server.url, "a", buffer_limit=5)
    # Pub/sub keeps nothing for a node that is not subscribed.
    flush_after(a, b)

    stop_broker(server, a, b)  # no RDB/AOF: it comes back empty, without streams or groups
    calls = [
        remote(hello("while down"), "b", channel="app", timeout=10),
        to_group(job(42), "g", channel="app", timeout=10),
    ]
    for call in calls:
        call.success = call.failure = True
        a.manager.fire(call)
    # Calls are sent from a coroutine step after their batch: wait for them,
    # so that the next broadcast is the one the buffer refuses.
    wait_until(lambda: len(a.node._calls) == 2, "the calls to be sent")
    assert_buffer_full(a, 5)

    restart_broker(server, a, b)
    a.rec.wait_until(lambda: all(c.value._done for c in calls), what="the calls made while down")
    assert [c.value.value for c in calls] == ["b: Hi while down", 42]
    after = fire_and_wait(a.manager, a.rec, remote(hello("after"), "b", channel="app"))
    assert after.value == "b: Hi after"
    assert fire_and_wait(a.manager, a.rec, to_group(job(43), "g", channel="app")).value == 43
    assert b.app.jobs == [42, 43]
