"""``circuits.core.manager``: firing, matching, dispatch order and the done step (spec §4).

The loop is driven by hand (``drain``) except in the few ``run()`` tests.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import threading
import traceback

import pytest

from circuits import BaseComponent, Component, Event, Manager, handler
from circuits.core.values import Value

from .support import Recorder, drain


class foo(Event):
    pass


class bar(Event):
    pass


class Tagged(BaseComponent):
    """Appends its tag to ``log`` for each event it handles."""

    def init(self, tag, log, names=("foo",), hchannel=None, priority=0, channel=None):
        self.tag = tag

        def on(this, *args, **kwargs):
            log.append(this.tag)
            return this.tag

        on.__name__ = f"on_{tag}"
        self.addHandler(handler(*names, channel=hchannel, priority=priority)(on))


def tree(*children, root=None):
    """A root (a bare Manager by default) with ``children`` registered under it."""
    root = Manager() if root is None else root
    for c in children:
        c.register(root)
    return root


def _append_to(log, tag):
    def f(self, *args, **kwargs):
        log.append(tag)

    f.__name__ = f"append_{tag}".replace("-", "_")
    return f


def _dispatch(root, *channels, event=None):
    e = foo() if event is None else event
    root.fire(e, *channels)
    drain(root)
    return e


def _derived(rec, name):
    return [e for e in rec.events if e.name == name]


def _expected_report(etype, evalue, tb_lines, handler_repr, fevent):
    return (
        f"ERROR {handler_repr} ({fevent!r}) ({etype!r}): {evalue!r}\n"
        "Traceback (most recent call last):\n"
        + "".join(tb_lines)
        + "".join(traceback.format_exception_only(etype, evalue))
        + "\n"
    )


@contextlib.contextmanager
def unconfigured_logging():
    """Nothing shows ``circuits.core`` records, as in a program that never set up logging.

    pytest attaches its capture handlers at the start of each test phase (to
    the root and to non-propagating loggers), so this runs inside the test.
    """
    log = logging.getLogger("circuits.core")
    propagate, handlers = log.propagate, log.handlers[:]
    log.propagate = False
    log.handlers[:] = [h for h in handlers if isinstance(h, logging.NullHandler)]
    try:
        yield
    finally:
        log.propagate = propagate
        log.handlers[:] = handlers


# -- the manager object (§4.1) -----------------------------------------------------------


def test_initial_state():
    m = Manager(1, x=2)  # arguments are accepted and ignored
    assert m.root is m
    assert m.parent is m
    assert m.components == set()
    assert m._handlers == {}
    assert m._globals == set()
    assert len(m._queue) == 0
    assert m.name == "Manager"
    assert m.running is False
    assert m.pid == os.getpid()
    assert not hasattr(m, "channel")  # a bare Manager has no channel (§4)


def test_repr():
    me = f"{os.getpid()}:{threading.current_thread().name}"
    m = Manager()
    assert repr(m) == f"<Manager/ {me} (queued=0) [S]>"

    class App(Component):
        pass

    app = App()
    app.fire(foo())
    assert repr(app) == f"<App/* {me} (queued=1) [S]>"
    assert repr(App(channel=(1, 1))) == f"<App/(1, 1) {me} (queued=0) [S]>"


def test_repr_counts_only_the_objects_own_queue():
    m = Manager()
    c = Tagged("c", []).register(m)
    c.fire(foo())
    assert repr(c).endswith("(queued=0) [S]>")
    assert "(queued=2)" in repr(m)  # registered + foo


def test_repr_shows_the_calling_threads_name():
    m = Manager()
    seen = []
    t = threading.Thread(target=lambda: seen.append(repr(m)), name="Caller")
    t.start()
    t.join()
    assert seen == [f"<Manager/ {os.getpid()}:Caller (queued=0) [S]>"]


def test_len_and_bool():
    m = Manager()
    assert len(m) == 0
    assert bool(m) is True  # even when empty
    m.fire(foo())
    m.fire(foo())
    assert len(m) == 2
    drain(m)
    assert len(m) == 0


def test_contains_children_and_their_exact_class():
    class A(BaseComponent):
        pass

    class B(A):
        pass

    m = Manager()
    a = A()
    assert a not in m
    a.register(m)
    assert a in m
    assert A in m
    assert B not in m  # exact class equality, not isinstance
    grandchild = A().register(a)
    assert grandchild not in m  # direct children only


def test_add_registers_and_returns_the_left_operand():
    class A(BaseComponent):
        pass

    a, b, c = A(), A(), A()
    result = a + b + c
    assert result is a
    assert b.parent is a
    assert c.parent is a
    assert a.components == {b, c}

    m = Manager()
    m += a
    assert a.parent is m
    assert a.root is m
    assert c.root is m


def test_sub_unregisters_and_returns_the_left_operand():
    m = Manager()
    c = Tagged("c", []).register(m)
    assert (m - c) is m
    assert c.unregister_pending
    drain(m)
    assert c not in m
    assert c.parent is c

    d = Tagged("d", []).register(m)
    drain(m)
    m -= d
    drain(m)
    assert d not in m


def test_sub_of_an_unregistered_component_does_nothing():
    m = Manager()
    c = Tagged("c", [])
    assert (m - c) is m
    assert not c.unregister_pending
    assert len(m) == 0
    assert len(c) == 0


# -- handler registry (§4.2) ---------------------------------------------------------------


def test_add_handler_binds_a_function_and_sets_the_attribute():
    m = Manager()

    @handler("foo")
    def on_foo(self):
        return self

    bound = m.addHandler(on_foo)
    assert bound.__self__ is m
    assert bound.__func__ is on_foo
    assert m.on_foo == bound
    assert m._handlers == {"foo": {bound}}
    v = m.fire(foo())
    drain(m)
    assert v.value is m


def test_add_handler_uses_a_bound_method_as_is():
    class A(BaseComponent):
        @handler("foo")
        def on_foo(self):
            return "A"

    a = A()
    m = Manager()
    bound = m.addHandler(a.on_foo)
    assert bound == a.on_foo
    assert bound.__self__ is a
    v = m.fire(foo())
    drain(m)
    assert v.value == "A"


def test_add_handler_storage():
    m = Manager()

    @handler(channel="*")
    def everything(self, event):
        pass

    @handler(channel="x")
    def everything_on_x(self, event):
        pass

    @handler("a", "b")
    def two_names(self):
        pass

    g = m.addHandler(everything)
    x = m.addHandler(everything_on_x)
    ab = m.addHandler(two_names)
    assert m._globals == {g}
    assert m._handlers == {"*": {x}, "a": {ab}, "b": {ab}}


def test_component_handlers_are_the_bound_methods():
    class A(Component):
        def foo(self):
            pass

    a = A()
    # one method foo: exactly foo and the internal handler (§6.1 step 6)
    assert set(a._handlers) == {"foo", "prepare_unregister_complete"}
    assert a.foo in a._handlers["foo"]
    assert a._handlers["foo"] == {a.foo}


def test_remove_handler_deletes_the_key_and_the_attribute():
    m = Manager()

    @handler("foo")
    def on_foo(self):
        pass

    h = m.addHandler(on_foo)
    m.removeHandler(h)
    assert m._handlers == {}
    assert not hasattr(m, "on_foo")


def test_remove_handler_keeps_the_attribute_while_the_name_has_handlers():
    m = Manager()

    @handler("foo")
    def first(self):
        pass

    @handler("foo")
    def second(self):
        pass

    h1 = m.addHandler(first)
    h2 = m.addHandler(second)
    m.removeHandler(h1)
    assert m._handlers == {"foo": {h2}}
    assert m.first == h1  # quirk §4.2: only an emptied set deletes the attribute


def test_remove_handler_deletes_the_attribute_when_a_set_empties():
    m = Manager()

    @handler("a", "b")
    def two_names(self):
        pass

    h = m.addHandler(two_names)
    m.removeHandler(h, "a")
    # quirk §4.2: "a" became empty, so the attribute is already gone
    assert "two_names" not in vars(m)
    assert m._handlers == {"b": {h}}


def test_remove_unknown_handler_raises_key_error():
    m = Manager()

    @handler("foo")
    def on_foo(self):
        pass

    with pytest.raises(KeyError):
        m.removeHandler(on_foo)
    h = m.addHandler(on_foo)
    with pytest.raises(KeyError):
        m.removeHandler(h, "other")
    m.removeHandler(h)
    with pytest.raises(KeyError):
        m.removeHandler(h)


def test_remove_handler_keeps_other_handlers_of_the_name():
    m = Manager()
    log = []

    @handler("foo")
    def first(self):
        log.append("first")

    @handler("foo")
    def second(self):
        log.append("second")

    h1 = m.addHandler(first)
    m.addHandler(second)
    m.removeHandler(h1)
    assert "foo" in m._handlers
    m.fire(foo())
    drain(m)
    assert log == ["second"]


def test_remove_handler_cannot_remove_globals():
    # quirk §21.23: it iterates the (empty) names of a catch-all handler
    m = Manager()

    @handler(channel="*")
    def everything(self, event):
        pass

    g = m.addHandler(everything)
    m.removeHandler(g)
    assert m._globals == {g}


def test_module_level_handler_add_then_remove():
    # the test-suite's conftest does this with channel=getattr(manager, "channel", None)
    m = Manager()
    log = []

    @handler("foo", channel=getattr(m, "channel", None))
    def on_foo(self):
        log.append("foo")

    h = m.addHandler(on_foo)
    m.fire(foo())
    drain(m)
    m.removeHandler(h)
    m.fire(foo())
    drain(m)
    assert log == ["foo"]
    assert m._handlers == {}


def test_get_handlers_covers_the_subtree_and_the_matching_rule():
    log = []
    m = Manager()
    a = Tagged("a", log, channel="a").register(m)
    b = Tagged("b", log, channel="b").register(a)
    star = Tagged("star", log, hchannel="*").register(b)
    rec = Recorder().register(m)
    e = foo()
    assert m.getHandlers(e, "a") == {a.on_a, star.on_star, rec._record}
    assert m.getHandlers(e, "b") == {b.on_b, star.on_star, rec._record}
    assert m.getHandlers(e, "*") == {a.on_a, b.on_b, star.on_star, rec._record}
    assert m.getHandlers(e, "a", exclude_globals=True) == {a.on_a, star.on_star}
    # from a subtree: only that subtree
    assert b.getHandlers(e, "*", exclude_globals=True) == {b.on_b, star.on_star}
    # fired at an instance: all of its handlers
    assert a.on_a in m.getHandlers(e, a)
    assert a._on_prepare_unregister_complete in m.getHandlers(
        Event.create("prepare_unregister_complete"), a
    )


# -- firing (§4.3) -----------------------------------------------------------------------


def test_fire_queues_and_returns_the_value():
    log = []
    m = tree(Tagged("a", log))
    drain(m)
    e = foo()
    v = m.fire(e)
    assert isinstance(v, Value)
    assert e.value is v
    assert v.event is e
    assert v.manager is m
    assert log == []  # nothing dispatched synchronously
    assert len(m) == 1
    m.flush()
    assert log == ["a"]


def test_value_manager_is_the_firing_object():
    m = Manager()
    c = Tagged("c", []).register(m)
    v = c.fire(foo())
    assert v.manager is c


def test_every_fire_makes_a_new_value():
    m = Manager()
    e = foo()
    v1 = m.fire(e)
    v2 = m.fire(e)
    assert v1 is not v2
    assert e.value is v2


def test_channels_from_explicit_arguments():
    m = Manager()
    e = foo()
    m.fire(e, "a", "b")
    assert e.channels == ("a", "b")


def test_channels_from_the_event():
    class chan_event(Event):
        channels = ("x",)

    m = Manager()
    e = chan_event()
    m.fire(e)
    assert e.channels == ("x",)
    e = foo()
    e.channels = ["y", "z"]
    m.fire(e)
    assert e.channels == ("y", "z")


def test_channels_from_the_firing_object():
    m = Manager()
    c = Tagged("c", [], channel="c").register(m)
    e = foo()
    c.fire(e)  # the *firing* object's channel, not the root's
    assert e.channels == ("c",)
    e = foo()
    m.fire(e)  # a bare Manager has no channel: "*"
    assert e.channels == ("*",)


def test_refire_reuses_the_resolved_channels():
    m = Manager()
    c = Tagged("c", [], channel="c").register(m)
    e = foo()
    c.fire(e)
    m.fire(e)
    assert e.channels == ("c",)


def test_fire_goes_to_the_roots_queue():
    m = Manager()
    c = Tagged("c", []).register(m)
    g = Tagged("g", []).register(c)
    drain(m)
    g.fire(foo())
    assert len(g) == 0
    assert len(c) == 0
    assert len(m) == 1


def test_fire_rejects_other_keywords():
    m = Manager()
    with pytest.raises(TypeError):
        m.fire(foo(), channel="x")


def test_fire_alias():
    assert Manager.fire is Manager.fireEvent
    assert Manager.flush is Manager.flushEvents


# -- channel matching (§4.2) ----------------------------------------------------------------


def test_handler_without_channel_uses_its_components_channel():
    log = []
    m = tree(Tagged("a", log, channel="a"))
    drain(m)
    for ch in ("a", "b", "*"):
        _dispatch(m, ch)
    assert log == ["a", "a"]  # heard "a" and "*", not "b"


def test_star_component_hears_every_channel():
    log = []
    m = tree(Tagged("s", log))
    drain(m)
    for ch in ("a", "b", 1, ("t", 1)):
        _dispatch(m, ch)
    assert log == ["s"] * 4


def test_fire_on_star_reaches_every_handler():
    log = []
    m = tree(
        Tagged("a", log, channel="a"),
        Tagged("b", log, channel="b", hchannel="c"),
        Tagged("n", log, channel=5),
    )
    drain(m)
    _dispatch(m, "*")
    assert sorted(log) == ["a", "b", "n"]


def test_explicit_handler_channel_overrides_the_components():
    # channel="b" on a component on "a" hears "b" and "*", not "a" (§4.2)
    log = []
    m = tree(Tagged("x", log, channel="a", hchannel="b"))
    drain(m)
    for ch in ("a", "b", "*"):
        _dispatch(m, ch)
    assert log == ["x", "x"]


def test_channels_compare_with_equality():
    log = []
    m = tree(Tagged("t", log, channel=("t", 1)), Tagged("n", log, channel=2))
    drain(m)
    _dispatch(m, ("t", 1))
    _dispatch(m, 2.0)
    assert log == ["t", "n"]


def test_instance_targeting():
    # fire(e, comp): all of comp's handlers, "*" handlers anywhere, and handlers
    # whose channel is that very instance (§4.2, §21.5)
    log = []
    m = Manager()
    target = Tagged("target", log, channel="a").register(m)
    Tagged("target-b", log, channel="b").register(m)  # another channel: silent
    Tagged("same-channel", log, channel="a").register(m)  # same channel: silent too
    Tagged("star", log, hchannel="*").register(m)
    Tagged("at-target", log, hchannel=target).register(m)
    Tagged("other-channel-handler", log, channel="a", hchannel="zz").register(target)
    drain(m)
    # a handler of the target declared on another channel is reached too
    target.addHandler(handler("foo", channel="elsewhere")(_append_to(log, "target-elsewhere")))
    _dispatch(m, target)
    assert sorted(log) == ["at-target", "star", "target", "target-elsewhere"]


def test_instance_targeting_reaches_a_bare_manager():
    m = Manager()
    log = []

    @handler("foo")
    def on_foo(self):
        log.append("m")

    m.addHandler(on_foo)
    _dispatch(m, m)
    _dispatch(m, "x")  # a Manager handler's channel is None: only "*" or m reach it
    _dispatch(m, "*")
    assert log == ["m", "m"]


def test_catch_all_handlers_follow_the_channel_rule():
    log = []
    m = Manager()
    on_a = Tagged("all-a", log, channel="a", names=()).register(m)
    Tagged("all-star", log, channel="a", names=(), hchannel="*").register(m)
    Tagged("named-star", log, channel="a", names=("*",)).register(m)
    drain(m)
    log.clear()
    _dispatch(m, "a")
    assert sorted(log) == ["all-a", "all-star", "named-star"]
    log.clear()
    _dispatch(m, "b")
    assert log == ["all-star"]
    log.clear()
    m.fire(bar(), on_a)
    drain(m)
    assert sorted(log) == ["all-a", "all-star"]


# -- priorities (§4.4, §4.6, §21.2) ---------------------------------------------------------------


def test_higher_handler_priority_runs_first():
    log = []
    m = tree(
        Tagged("low", log, priority=-1),
        Tagged("mid", log, priority=0.5),
        Tagged("high", log, priority=10),
        Tagged("zero", log),
    )
    drain(m)
    v = _dispatch(m, "*").value
    assert log == ["high", "mid", "zero", "low"]
    assert v.value == ["high", "mid", "zero", "low"]


def test_equal_priority_runs_in_registration_order():
    # 3.2.5 left this unspecified (set order); this engine is deterministic
    log = []
    tags = [f"h{i}" for i in range(8)]
    m = tree(*(Tagged(t, log) for t in tags))
    drain(m)
    _dispatch(m, "*")
    assert log == tags


def test_lower_fire_priority_is_dispatched_first():
    log = []

    @handler("foo")
    def on_foo(self, tag):
        log.append(tag)

    m = Manager()
    m.addHandler(on_foo)
    m.fire(foo("p0-first"))
    m.fire(foo("p5"), priority=5)
    m.fire(foo("p-1"), priority=-1)
    m.fire(foo("p0-second"))
    m.fire(foo("p5-second"), priority=5)
    m.fire(foo("p1.5"), priority=1.5)
    m.flush()
    assert log == ["p-1", "p0-first", "p0-second", "p1.5", "p5", "p5-second"]


def test_queue_and_handler_priority_directions_are_opposite():
    log = []

    class App(Component):
        @handler("foo", priority=1)
        def first(self, tag):
            log.append(("first", tag))

        @handler("foo", priority=2)
        def second(self, tag):
            log.append(("second", tag))

    app = App()
    app.fire(foo("late"), priority=2)
    app.fire(foo("early"), priority=1)
    drain(app)
    assert log == [
        ("second", "early"),
        ("first", "early"),
        ("second", "late"),
        ("first", "late"),
    ]


# -- batches (§4.4, §21.3) -----------------------------------------------------------


class Chain(Component):
    """foo fires bar; records both."""

    def init(self, log):
        self.log = log

    def foo(self):
        self.log.append("foo")
        self.fire(bar())

    def bar(self):
        self.log.append("bar")


def test_events_fired_by_handlers_wait_for_the_next_flush():
    log = []
    app = Chain(log)
    app.fire(foo())
    app.fire(foo())
    app.flush()
    assert log == ["foo", "foo"]
    assert len(app) == 2
    app.flush()
    assert log == ["foo", "foo", "bar", "bar"]
    assert len(app) == 0


def test_events_fired_between_flushes_join_the_next_batch_in_order():
    log = []

    @handler("foo")
    def on_foo(self, tag):
        log.append(tag)
        if tag == "a":
            self.fire(foo("from-a"))

    m = Manager()
    m.addHandler(on_foo)
    m.fire(foo("a"))
    m.flush()
    m.fire(foo("b"))
    m.flush()
    assert log == ["a", "from-a", "b"]


def test_nested_flush_continues_the_same_batch():
    log = []

    class App(Component):
        def foo(self, tag):
            log.append(tag)
            if tag == 1:
                self.flush()  # dispatches 2 and 3, not what is fired now
                log.append("back")
            self.fire(bar(tag))

        def bar(self, tag):
            log.append(f"bar{tag}")

    app = App()
    for i in (1, 2, 3):
        app.fire(foo(i))
    app.flush()
    assert log == [1, 2, 3, "back"]
    app.flush()
    assert log == [1, 2, 3, "back", "bar2", "bar3", "bar1"]
    assert len(app) == 0


def test_flush_of_a_child_flushes_the_root():
    log = []
    m = Manager()
    c = Chain(log).register(m)
    m.fire(foo())
    c.flush()
    assert log == ["foo"]


def test_flush_of_an_empty_queue_does_nothing():
    m = Manager()
    m.flush()
    assert len(m) == 0


# -- channel order and duplicates (§4.6 step 3, §21.4) ------------------------------------


@pytest.mark.parametrize(
    ("channels", "expected"),
    [(("a", "b"), ["A", "B"]), (("b", "a"), ["B", "A"])],
)
def test_equal_priority_handlers_follow_the_channel_order(channels, expected):
    log = []
    m = tree(Tagged("B", log, channel="b"), Tagged("A", log, channel="a"))
    drain(m)
    _dispatch(m, *channels)
    assert log == expected


def test_priority_beats_channel_order():
    log = []
    m = tree(Tagged("A", log, channel="a"), Tagged("B", log, channel="b", priority=1))
    drain(m)
    _dispatch(m, "a", "b")
    assert log == ["B", "A"]


def test_a_handler_matching_two_channels_runs_twice():
    log = []
    m = tree(Tagged("star", log), Tagged("A", log, channel="a"))
    drain(m)
    e = _dispatch(m, "a", "b")
    assert log == ["star", "A", "star"]
    assert e.value.value == ["star", "A", "star"]


def test_a_global_handler_runs_once_per_channel():
    rec = Recorder()
    _dispatch(rec, "a", "b", "c")
    assert rec.names() == ["foo"] * 3


# -- stop and cancel (§2.1, §4.6) ---------------------------------------------------------


def test_stop_skips_the_remaining_handlers():
    log = []

    class App(Component):
        @handler("foo", priority=2)
        def first(self, event):
            log.append("first")
            event.stop()
            return "first"

        @handler("foo", priority=1)
        def second(self):
            log.append("second")

    rec = Recorder()
    App().register(rec)
    e = foo()
    e.success = True
    rec.fire(e)
    drain(rec)
    assert log == ["first"]
    assert e.stopped is True
    assert e.value.value == "first"  # the stopping handler's result counts
    # stop() is not an error: the done step still runs (§4.6 step 6)
    assert len(_derived(rec, "foo_success")) == 1


def test_stop_before_dispatch_still_calls_the_first_handler():
    log = []
    m = tree(Tagged("a", log, priority=1), Tagged("b", log))
    drain(m)
    e = foo()
    e.stop()
    _dispatch(m, "*", event=e)
    assert log == ["a"]


def test_return_values_never_filter():
    log = []

    class App(Component):
        @handler("foo", priority=1)
        def first(self):
            log.append("first")
            return True

        @handler("foo")
        def second(self):
            log.append("second")

    _dispatch(App())
    assert log == ["first", "second"]


def test_cancelled_event_is_skipped_entirely():
    rec = Recorder()
    log = []
    Tagged("a", log).register(rec)
    drain(rec)
    rec.events.clear()
    e = foo()
    e.success = True
    e.complete = True
    e.alert_done = True
    v = rec.fire(e)
    e.cancel()
    drain(rec)
    assert log == []
    assert rec.events == []  # no handlers at all, no derived events
    assert v.result is False
    assert v.value is None


def test_cancel_from_an_earlier_handler():
    log = []

    class App(Component):
        def foo(self, victim):
            victim.cancel()

    app = App()
    Tagged("bar", log, names=("bar",)).register(app)
    victim = bar()
    app.fire(foo(victim))
    app.fire(victim)
    drain(app)
    assert log == []


# -- derived events (§2.2, §4.7) ------------------------------------------------------------


class Summer(Component):
    channel = "sum"

    def foo(self, x, y):
        return x + y


def test_success_event():
    rec = Recorder()
    Summer().register(rec)
    e = foo(1, 2)
    e.success = True
    rec.fire(e, "sum")
    drain(rec)
    (s,) = _derived(rec, "foo_success")
    assert s.args == [e, 3]
    assert s.channels == ("sum",)
    assert s.parent is e
    assert rec.names().index("foo") < rec.names().index("foo_success")


def test_success_channels():
    rec = Recorder()
    Summer().register(rec)
    e = foo(1, 2)
    e.success = True
    e.success_channels = ["there"]
    rec.fire(e, "sum")
    drain(rec)
    (s,) = _derived(rec, "foo_success")
    assert s.channels == ("there",)


def test_success_without_handlers():
    rec = Recorder()
    e = foo()
    e.success = True
    rec.fire(e, "nobody")
    drain(rec)
    (s,) = _derived(rec, "foo_success")
    assert s.args == [e, None]


def test_success_handler_receives_event_and_value():
    got = []

    class App(Component):
        def foo(self, x):
            return x * 2

        def foo_success(self, evt, value):
            got.append((evt, value))

    app = App()
    e = foo(21)
    e.success = True
    app.fire(e)
    drain(app)
    assert got == [(e, 42)]


class Failing(Component):
    channel = "f"

    @handler("foo", priority=1)
    def first(self):
        raise KeyError("first")

    @handler("foo")
    def second(self):
        raise ValueError("second")

    @handler("foo", priority=-1)
    def third(self):
        return "third"

    def exception(self, *args, **kwargs):
        pass


def test_failure_event_once_per_raising_handler():
    rec = Recorder()
    Failing().register(rec)
    e = foo()
    e.failure = True
    e.success = True
    e.success_channels = ("s",)  # failure has no failure_channels: not used
    v = rec.fire(e, "f")
    drain(rec)
    failures = _derived(rec, "foo_failure")
    assert [f.args[1][0] for f in failures] == [KeyError, ValueError]
    for f in failures:
        assert f.args[0] is e
        assert f.channels == ("f",)
        assert f.parent is e
        etype, evalue, tb = f.args[1]
        assert isinstance(evalue, etype)
        assert tb.tb_frame is not None  # a real traceback
    # a raising handler suppresses success; dispatch went on to the next one
    assert _derived(rec, "foo_success") == []
    assert v.errors is True
    assert v.value[-1] == "third"


def test_failure_is_fired_before_the_exception_event():
    rec = Recorder()
    Failing().register(rec)
    e = foo()
    e.failure = True
    rec.fire(e, "f")
    drain(rec)
    names = [n for n in rec.names() if n in ("foo_failure", "exception")]
    assert names == ["foo_failure", "exception", "foo_failure", "exception"]


def test_complete_event():
    rec = Recorder()
    Summer().register(rec)
    e = foo(1, 2)
    e.complete = True
    rec.fire(e, "sum")
    drain(rec)
    (c,) = _derived(rec, "foo_complete")
    assert c.args == [e, 3]
    assert c.channels == ("sum",)
    assert c.parent is e


def test_complete_channels_any_sequence():
    rec = Recorder()
    Summer().register(rec)
    e = foo(1, 2)
    e.complete = True
    e.complete_channels = [rec]  # the test-suite assigns a list (§2.1)
    rec.fire(e, "sum")
    drain(rec)
    (c,) = _derived(rec, "foo_complete")
    assert c.channels == (rec,)


def test_complete_is_fired_even_when_handlers_raise():
    rec = Recorder()
    Failing().register(rec)
    e = foo()
    e.complete = True
    e.success = True
    rec.fire(e, "f")
    drain(rec)
    assert len(_derived(rec, "foo_complete")) == 1
    assert _derived(rec, "foo_success") == []


def test_done_event():
    rec = Recorder()
    Summer().register(rec)
    e = foo(1, 2)
    e.alert_done = True
    rec.fire(e, "sum")
    drain(rec)
    (d,) = _derived(rec, "foo_done")
    assert d.args == [3]
    assert d.channels == ("sum",)
    assert d.parent is e


def test_derived_event_flags_are_off_by_default():
    rec = Recorder()
    Summer().register(rec)
    rec.fire(foo(1, 2), "sum")
    drain(rec)
    assert rec.names() == ["registered", "foo"]


def test_done_then_success_order():
    rec = Recorder()
    Summer().register(rec)
    e = foo(1, 2)
    e.alert_done = e.success = e.complete = True
    rec.fire(e, "sum")
    drain(rec)
    assert rec.names()[-3:] == ["foo_done", "foo_success", "foo_complete"]


# -- completion tracking (§4.8) ----------------------------------------------------------------


class Cascade(Component):
    """start fires step(2) twice; step(n) fires step(n - 1) until 0."""

    def init(self, log):
        self.log = log

    def start(self):
        self.log.append("start")
        self.fire(Event.create("step", 2, "l"))
        self.fire(Event.create("step", 2, "r"))

    def step(self, n, side):
        self.log.append(f"{side}{n}")
        if n:
            self.fire(Event.create("step", n - 1, side))

    def start_success(self, evt, value):
        self.log.append("success")

    def start_complete(self, evt, value):
        self.log.append("complete")


def test_complete_waits_for_every_effect():
    log = []
    app = Cascade(log)
    e = Event.create("start")
    e.success = True
    e.complete = True
    app.fire(e)
    drain(app)
    # success is queued after the events start fired itself (FIFO), before
    # their own effects; complete comes after all of them (§4.8)
    assert log == ["start", "l2", "r2", "success", "l1", "r1", "l0", "r0", "complete"]


def test_complete_tracks_effects_of_events_without_the_flag():
    log = []
    app = Cascade(log)
    outer = Event.create("outer")
    outer.complete = True

    @handler("outer")
    def on_outer(self):
        self.fire(Event.create("start"))  # start has no complete flag itself

    @handler("outer_complete")
    def on_outer_complete(self, evt, value):
        log.append("outer_complete")

    app.addHandler(on_outer)
    app.addHandler(on_outer_complete)
    app.fire(outer)
    drain(app)
    assert log[-1] == "outer_complete"
    assert "complete" not in log  # start's own complete was not asked for
    assert log.count("l0") == 1
    assert log.count("r0") == 1


def test_exception_events_are_effects():
    rec = Recorder()
    log = []

    class App(Component):
        def foo(self):
            raise KeyError("k")

        def exception(self, *args, **kwargs):
            log.append("exception")
            self.fire(bar())

        def bar(self):
            log.append("bar")

        def foo_complete(self, evt, value):
            log.append("complete")

    App().register(rec)
    e = foo()
    e.complete = True
    rec.fire(e)
    drain(rec)
    assert log == ["exception", "bar", "complete"]


def test_nested_complete_events():
    log = []

    class App(Component):
        def outer(self):
            inner = Event.create("inner")
            inner.complete = True
            self.fire(inner)

        def inner(self):
            self.fire(bar())

        def bar(self):
            log.append("bar")

        def inner_complete(self, evt, value):
            log.append("inner_complete")

        def outer_complete(self, evt, value):
            log.append("outer_complete")

    app = App()
    e = Event.create("outer")
    e.complete = True
    app.fire(e)
    drain(app)
    assert log == ["bar", "inner_complete", "outer_complete"]


def test_complete_handler_sees_the_final_state():
    class App(Component):
        def init(self):
            self.state = []
            self.seen_at_success = None
            self.seen_at_complete = None

        def start(self):
            self.fire(Event.create("relay", 1))
            self.fire(Event.create("relay", 2))

        def relay(self, x):
            self.fire(Event.create("add", x))

        def add(self, x):
            self.state.append(x)

        def start_success(self, evt, value):
            self.seen_at_success = list(self.state)

        def start_complete(self, evt, value):
            self.seen_at_complete = list(self.state)

    app = App()
    e = Event.create("start")
    e.complete = e.success = True
    app.fire(e)
    drain(app)
    assert app.seen_at_success == []
    assert app.seen_at_complete == [1, 2]


def test_events_fired_from_outside_a_flush_are_not_effects():
    log = []

    class App(Component):
        def start(self):
            log.append("start")

        def start_complete(self, evt, value):
            log.append("complete")

        def later(self):
            log.append("later")

    app = App()
    e = Event.create("start")
    e.complete = True
    app.fire(e)
    app.fire(Event.create("later"))  # fired by the test, before the flush
    drain(app)
    assert log == ["start", "later", "complete"]


# -- exceptions (§4.6, §12, §21.7-9) -----------------------------------------------------------


class Raiser(Component):
    def foo(self, *args, **kwargs):
        raise KeyError("k")


def test_exception_event_args():
    got = []

    class App(Raiser):
        def exception(self, etype, evalue, tb, handler=None, fevent=None):
            got.append((etype, evalue, tb, handler, fevent))

    app = App()
    e = foo(1, y=2)
    app.fire(e)
    drain(app)
    ((etype, evalue, tb, h, fevent),) = got
    assert etype is KeyError
    assert evalue.args == ("k",)
    assert isinstance(tb, list)
    assert "raise KeyError" in "".join(tb)
    assert h == app.foo  # the bound handler as registered
    assert fevent is e


def test_exception_event_goes_to_the_roots_channel():
    rec = Recorder(channel="app")
    Raiser(channel="elsewhere").register(rec)
    rec.fire(foo(), "elsewhere")
    drain(rec)
    (exc,) = _derived(rec, "exception")
    assert exc.channels == ("app",)

    m = Manager()  # a bare Manager root: "*"
    rec = Recorder().register(m)
    Raiser(channel="elsewhere").register(m)
    m.fire(foo(), "elsewhere")
    drain(m)
    (exc,) = _derived(rec, "exception")
    assert exc.channels == ("*",)


def test_argument_mismatch_is_a_handler_error():
    got = []

    class App(Component):
        def foo(self, x):
            pass

        def exception(self, etype, *args, **kwargs):
            got.append(etype)

    app = App()
    v = app.fire(foo(1, 2, 3))
    drain(app)
    assert got == [TypeError]
    assert v.errors is True


def test_dispatch_continues_after_an_error():
    log = []

    class App(Component):
        @handler("foo", priority=1)
        def bad(self):
            raise RuntimeError

        @handler("foo")
        def good(self):
            log.append("good")

        def exception(self, *args, **kwargs):
            log.append("exception")

    app = App()
    app.fire(foo())
    drain(app)
    assert log == ["good", "exception"]


def test_fallback_printer_writes_the_report_to_stderr(capsys):
    class App(Component):
        channel = "app"

        def foo(self, x, y):
            raise KeyError("k")

    app = App()
    with unconfigured_logging():
        app.fire(foo(1, y=2))
        drain(app)
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first == (
        "ERROR <handler[*][foo] (App.foo)> (<foo[app] (1 y=2)>) (<class 'KeyError'>): KeyError('k')"
    )
    assert err.startswith(first + "\nTraceback (most recent call last):\n")
    assert err.endswith("KeyError: 'k'\n\n")
    assert 'raise KeyError("k")' in err
    assert err.count("ERROR") == 1


def test_fallback_report_is_the_debuggers_format(capsys):
    class Spy(BaseComponent):
        # not on the root's channel: does not take the exception event
        @handler("exception", channel="other")
        def _spy(self, *args, **kwargs):
            seen.append(args)

    seen = []
    with unconfigured_logging():
        app = Raiser(channel="app")
        Spy().register(app)
        e = foo()
        v = app.fire(e)
        drain(app)
        err = capsys.readouterr().err
    assert seen == []
    etype, evalue, tb = v.value
    lines = traceback.format_tb(tb)
    assert err == _expected_report(etype, evalue, lines, "<handler[*][foo] (Raiser.foo)>", e)


def test_fallback_is_silent_when_any_handler_takes_the_exception(capsys):
    rec = Recorder()  # a catch-all counts as a handler (§4.6 step 4, §21.8)
    Raiser().register(rec)
    with unconfigured_logging():
        rec.fire(foo())
        drain(rec)
    assert capsys.readouterr().err == ""
    assert "exception" in rec.names()


def test_fallback_writes_to_the_current_stderr(monkeypatch):
    buf = io.StringIO()
    app = Raiser()
    monkeypatch.setattr(sys, "stderr", buf)  # replaced after the app was built
    with unconfigured_logging():
        app.fire(foo())
        drain(app)
    assert buf.getvalue().startswith("ERROR <handler[*][foo] (Raiser.foo)>")


def test_errors_go_through_logging_when_it_is_configured(caplog, capsys):
    caplog.set_level(logging.ERROR, logger="circuits.core")
    app = Raiser()
    app.fire(foo())
    drain(app)
    records = [r for r in caplog.records if r.name == "circuits.core"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].getMessage().startswith("ERROR <handler[*][foo] (Raiser.foo)>")
    assert "KeyError: 'k'" in records[0].getMessage()
    # a capturing handler does not print: the report is on stderr as well
    assert capsys.readouterr().err.startswith("ERROR <handler[*][foo] (Raiser.foo)>")


def test_errors_are_not_printed_twice_when_logging_prints_on_stderr(capsys):
    log = logging.getLogger("circuits.core")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("logged: %(message)s"))
    log.addHandler(handler)
    try:
        app = Raiser()
        app.fire(foo())
        drain(app)
    finally:
        log.removeHandler(handler)
    err = capsys.readouterr().err
    assert err.count("ERROR <handler[*][foo] (Raiser.foo)>") == 1
    assert err.startswith("logged: ERROR <handler")


def test_library_logger_has_a_null_handler():
    # nothing is printed by logging's last-resort handler; reports go to stderr
    loggers = [logging.getLogger("circuits"), logging.getLogger("circuits.core")]
    assert any(isinstance(h, logging.NullHandler) for lg in loggers for h in lg.handlers)


def test_an_exception_handler_that_raises_is_reported_once(capsys):
    # 3.2.5 looped forever here (each failure fired another exception event)
    calls = []

    class App(Raiser):
        def exception(self, etype, evalue, tb, handler=None, fevent=None):
            calls.append(etype)
            raise RuntimeError("in the exception handler")

    app = App()
    with unconfigured_logging():
        app.fire(foo())
        batches = drain(app)
    assert batches <= 3
    assert calls == [KeyError]
    err = capsys.readouterr().err
    assert err.count("ERROR ") == 1
    assert "RuntimeError('in the exception handler')" in err
    assert "(App.exception)" in err


def test_system_exit_outside_a_running_loop_is_swallowed():
    # quirk §4.10/§21.24: stop() is a no-op when nothing runs; dispatch goes on
    log = []

    class App(Component):
        @handler("foo", priority=2)
        def leave(self):
            raise SystemExit(3)

        @handler("foo", priority=1)
        def interrupt(self):
            raise KeyboardInterrupt

        @handler("foo")
        def after(self):
            log.append("after")

    rec = Recorder()
    App().register(rec)
    rec.fire(foo())
    drain(rec)
    assert log == ["after"]
    assert "exception" not in rec.names()
    assert "stopped" not in rec.names()


# -- cache invalidation (§4.5) ------------------------------------------------------------------


def test_added_and_removed_handlers_take_effect_at_once():
    log = []
    m = tree(Tagged("a", log))
    drain(m)
    _dispatch(m, "*")
    b = m.addHandler(handler("foo")(_append_to(log, "b")))
    _dispatch(m, "*")
    m.removeHandler(b)
    _dispatch(m, "*")
    assert log == ["a", "a", "b", "a"]


def test_registered_and_unregistered_components_take_effect():
    log = []
    m = tree(Tagged("a", log))
    drain(m)
    _dispatch(m, "*")
    b = Tagged("b", log).register(m)
    _dispatch(m, "*")
    b.unregister()
    drain(m)
    _dispatch(m, "*")
    assert log == ["a", "a", "b", "a"]


def test_handlers_added_to_a_deep_child_take_effect():
    log = []
    m = Manager()
    c = Tagged("c", log).register(m)
    g = Tagged("g", log, names=("bar",)).register(c)
    drain(m)
    _dispatch(m, "*")
    g.addHandler(handler("foo")(_append_to(log, "g")))
    _dispatch(m, "*")
    assert log == ["c", "c", "g"]


def test_a_channel_change_is_not_noticed_immediately():
    # quirk §4.5/§21.36: handler lists are cached
    log = []
    m = Manager()
    c = Tagged("c", log, channel="a").register(m)
    drain(m)
    _dispatch(m, "a")
    c.channel = "b"
    _dispatch(m, "a")
    assert log == ["c", "c"]


def test_instance_targets_are_cached_per_instance():
    log = []
    m = Manager()
    a = Tagged("a", log, channel="x").register(m)
    b = Tagged("b", log, channel="x").register(m)
    drain(m)
    for target in (a, b, a, b):
        _dispatch(m, target)
    assert log == ["a", "b", "a", "b"]


# -- tick and run (§4.10) ---------------------------------------------------------------------


def test_tick_flushes_one_batch_without_generate_events():
    rec = Recorder()
    Chain([]).register(rec)
    drain(rec)
    rec.events.clear()
    rec.fire(foo())
    rec.tick()
    assert rec.names() == ["foo"]
    rec.tick()
    assert rec.names() == ["foo", "bar"]  # not running: no generate_events


def test_stop_when_not_running_is_a_no_op():
    m = Manager()
    m.stop()
    m.stop(3)  # no SystemExit either
    assert len(m) == 0
    assert m.running is False


def test_run_fires_started_and_stopped_on_the_roots_channel():
    log = []

    class App(Component):
        channel = "app"

        def started(self, manager):
            log.append(("started", manager))
            self.stop()

        def stopped(self, manager):
            log.append(("stopped", manager))

    class Other(Component):
        channel = "other"

        def started(self, manager):
            log.append("other-started")  # not on "app": never called

        @handler("started", channel="*")
        def _any_started(self, manager):
            log.append("any-started")

    app = App()
    Other().register(app)
    app.run()
    assert log == [("started", app), "any-started", ("stopped", app)]
    assert app.running is False
    assert app._Manager__thread is None


def test_run_with_a_subclass_that_clears_running_in_tick():
    # §22: run() must re-check running and the queue, and call tick() on the instance
    class Once(Manager):
        def tick(self, timeout=-1):
            self._running = False
            super().tick(timeout)

    m = Once()
    log = []

    @handler("started")
    def on_started(self, manager):
        log.append("started")

    m.addHandler(on_started)
    m.run()
    assert log == ["started"]
    assert len(m) == 0


def test_removing_a_global_catch_all_keeps_it_working():
    # §4.2 quirk: removeHandler never removes _globals handlers; they keep running
    from circuits import handler as make_handler

    seen = []

    @make_handler(channel="*")
    def everything(self, event, *args, **kwargs):
        seen.append(event.name)

    m = Manager()
    h = m.addHandler(everything)
    m.removeHandler(h)
    assert h in m._globals
    m.fire(foo())
    while len(m):
        m.flush()
    assert seen == ["foo"]
