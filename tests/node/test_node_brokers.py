"""Node scenarios that are the same on every real broker: each runs on redis and on nats.

What issue #9 asks of both networks, end to end through the Node API:
broadcast fan-out, group delivery (each event to exactly one member), remote
calls by name, a caller running on asyncio (``run_async``) and a quiet stop.
What only one broker does (Redis redelivering a killed consumer's events, each
broker's restart, nodes in other processes) stays in ``test_node_redis.py``
and ``test_node_nats.py``.
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from tests.node.brokers import RedisServer, wait_until
from tests.node.node_support import (
    boom,
    fire_all_and_wait,
    fire_and_wait,
    hello,
    job,
    note,
    own_broadcasts,
    remote_error_of,
    run_async_caller,
    start_async_member,
    start_member,
)

from circuits import TimeoutError
from circuits.node import RemoteError, broadcast, remote, to_group

pytestmark = pytest.mark.slow


def test_broadcast_fans_out_to_three_nodes(server, loops):
    others = [start_member(loops, server.url, name) for name in ("b", "c", "d")]
    sender = start_member(loops, server.url, "a")
    sender.manager.fire(broadcast(note("all"), channel="app"))
    for other in others:
        other.app.wait_until(lambda app=other.app: app.notes == ["all"], "the broadcast")

    # The broker echoes the broadcast to its sender, whose Node drops it.
    wait_until(lambda: own_broadcasts(sender), "the echo of the sender's broadcast")
    fire_and_wait(sender.manager, sender.rec, hello("probe"))  # FIFO: after the echo's effects
    assert sender.app.notes == []
    assert all(other.app.notes == ["all"] for other in others)


def test_group_gives_each_event_to_exactly_one_member(server, loops):
    workers = [start_member(loops, server.url, f"w{i}", groups=("workers",)) for i in range(3)]
    caller = start_member(loops, server.url, "caller")
    n = 90
    events = [to_group(job(i), "workers", channel="app") for i in range(n)]
    values = fire_all_and_wait(caller.manager, caller.rec, events)

    assert [v.value for v in values] == list(range(n))
    got = Counter(i for w in workers for i in w.app.jobs)
    assert got == Counter(range(n))  # each event once, on one member
    assert caller.app.jobs == []
    if isinstance(server, RedisServer):  # only Redis keeps group messages until acked
        wait_until(lambda: server.pending("workers") == 0, "every group message acked")


def test_remote_call_value_error_and_timeout(server, loops):
    start_member(loops, server.url, "b")
    a = start_member(loops, server.url, "a")
    assert fire_and_wait(a.manager, a.rec, remote(hello(1), "b", channel="app")).value == "b: Hi 1"

    failed = fire_and_wait(a.manager, a.rec, remote(boom(), "b", channel="app"))
    error = remote_error_of(failed)
    assert (error.type_name, error.message, error.node) == ("ValueError", "no way", "b")
    assert "Traceback" in error.traceback

    late = fire_and_wait(a.manager, a.rec, remote(hello(2), "ghost", channel="app", timeout=0.2))
    with pytest.raises(TimeoutError, match="'ghost'"):
        late.outcome()


@pytest.mark.parametrize("target_loop", ["run", "run_async"])
def test_remote_call_from_an_asyncio_application(server, loops, target_loop):
    start = start_member if target_loop == "run" else start_async_member
    start(loops, server.url, "b")
    results = run_async_caller(server.url, "b")
    assert results["value"] == "b: Hi async"
    error = results["error"]
    assert isinstance(error, RemoteError)
    assert (error.type_name, error.message, error.node) == ("ValueError", "no way", "b")
    assert isinstance(results["timeout"], TimeoutError)


def test_stopping_a_node_warns_of_nothing(server, loops, caplog):
    start_member(loops, server.url, "a")
    loops.stop_all()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
