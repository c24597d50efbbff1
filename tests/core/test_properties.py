"""Properties of dispatch order and delivery (spec §4.4, §4.6), checked with hypothesis."""

from __future__ import annotations

import itertools

from hypothesis import given

from circuits import BaseComponent, Event, Manager, handler
from tests.strategies import cascades, handler_specs, rounds

from .support import drain


def _recording_handler(log, i, priority):
    def f(self, *args, **kwargs):
        log.append(i)

    f.__name__ = f"h{i}"
    return handler("ev", channel="c", priority=priority)(f)


@given(handler_specs)
def test_handlers_run_by_priority_then_registration_order(specs):
    # (a) non-increasing priority; equal priorities in registration order
    # (deterministic here; unspecified in 3.2.5, §4.6 step 3)
    log = []
    m = Manager()
    for i, (owner, priority) in enumerate(specs):
        f = _recording_handler(log, i, priority)
        if owner == "root":
            m.addHandler(f)
        else:
            c = BaseComponent()
            c.addHandler(f)
            c.register(m)
    drain(m)
    m.fire(Event.create("ev"), "c")
    drain(m)
    expected = sorted(range(len(specs)), key=lambda i: -specs[i][1])
    assert log == expected
    got = [specs[i][1] for i in log]
    assert all(a >= b for a, b in itertools.pairwise(got))


@given(rounds)
def test_each_flush_dispatches_its_batch_in_priority_fifo_order(script):
    # (b) a flush takes the events queued when it starts, lowest fire priority
    # first, FIFO among equals; events fired meanwhile wait for the next flush
    log = []
    children_of = {}
    ids = itertools.count()

    @handler("ev")
    def on_ev(self, i):
        log.append(i)
        for priority in children_of[i]:
            child = next(ids)
            children_of[child] = []
            pending.append((priority, next(seq), child))
            self.fire(Event.create("ev", child), priority=priority)

    m = Manager()
    m.addHandler(on_ev)
    seq = itertools.count()
    pending = []  # the model of the queue: (priority, arrival, id)

    def flush_and_check():
        batch = [i for _, _, i in sorted(pending)]
        pending.clear()
        log.clear()
        m.flush()
        assert log == batch

    for events in script:
        for priority, children in events:
            i = next(ids)
            children_of[i] = children
            pending.append((priority, next(seq), i))
            m.fire(Event.create("ev", i), priority=priority)
        flush_and_check()
    while pending:
        flush_and_check()
    assert len(m) == 0


def _count(node):
    return 1 + sum(_count(child) for child in node[2])


@given(cascades)
def test_every_fired_event_is_handled_exactly_once(tree):
    # (c) across batches, nested flushes and priorities: no loss, no repeat
    handled = []
    specs = {}
    ids = itertools.count()

    def fire(manager, node):
        i = next(ids)
        specs[i] = node
        manager.fire(Event.create("ev", i), priority=node[0])

    @handler("ev")
    def on_ev(self, i):
        handled.append(i)
        _, nested_flush, children = specs[i]
        for child in children:
            fire(self, child)
        if nested_flush:
            self.flush()

    m = Manager()
    m.addHandler(on_ev)
    fire(m, tree)
    drain(m)
    assert sorted(handled) == list(range(_count(tree)))
