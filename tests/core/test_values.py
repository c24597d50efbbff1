"""``circuits.core.values.Value``: results, nesting, notification (spec §5)."""

from __future__ import annotations

import pickle
import sys

import pytest

from circuits import Component, Event, Manager, handler
from circuits.core.values import Value

from .support import Recorder, drain


class foo(Event):
    pass


class other(Event):
    pass


def _excinfo():
    try:
        raise ValueError("boom")
    except ValueError:
        return sys.exc_info()


# -- a Value on its own ----------------------------------------------------------


def test_initial_state():
    e = foo()
    m = Manager()
    v = Value(e, m)
    assert v.event is e
    assert v.manager is m
    assert v.notify is False
    assert v.promise is False
    assert v.result is False
    assert v.errors is False
    assert v.parent is v
    assert v.handled is False
    assert v.value is None
    assert v.getValue(False) is None


def test_defaults_without_arguments():
    v = Value()
    assert v.event is None
    assert v.manager is None
    assert repr(v) == "<Value () result=False; errors=False; for None>"


def test_a_single_result_is_not_wrapped():
    v = Value()
    v.value = 1
    assert v.value == 1
    assert v.result is True


def test_later_results_make_a_list():
    v = Value()
    v.value = 1
    v.value = 2
    assert v.value == [1, 2]
    v.value = 3
    assert v.value == [1, 2, 3]


def test_a_returned_list_absorbs_later_results():
    # quirk §5 / §21.13
    v = Value()
    returned = [1, 2]
    v.value = returned
    v.value = 3
    assert v.value == [1, 2, 3]
    assert returned == [1, 2, 3]


def test_none_is_stored_but_does_not_count_as_a_result():
    v = Value()
    v.value = None
    assert v.result is False
    v.value = 5
    assert v.value == 5  # replaced, not appended: result was still False


def test_get_value_reads_through_nested_values():
    inner = Value()
    inner.value = "x"
    outer = Value()
    outer.value = inner
    assert inner.parent is outer
    assert outer.value == "x"
    assert outer.getValue() == "x"
    assert outer.getValue(False) is inner
    # lists are not descended into
    holder = Value()
    holder.value = [inner]
    assert holder.value == [inner]


def test_nested_value_copies_flags_into_the_outer_one():
    inner = Value()
    outer = Value()
    outer.value = inner
    assert outer.result is False  # inner unresolved
    inner.value = "x"
    assert outer.result is True
    assert outer.value == "x"


def test_nested_errors_propagate_to_all_parents():
    inner = Value()
    middle = Value()
    outer = Value()
    middle.value = inner
    outer.value = middle
    inner.errors = True
    inner.value = "e"
    assert (middle.errors, middle.result) == (True, True)
    assert (outer.errors, outer.result) == (True, True)
    assert outer.value == "e"


def test_unresolved_nested_value_makes_the_next_result_replace():
    # quirk §5: storing an unresolved Value copies result=False outwards
    v = Value()
    v.value = 1
    v.value = Value()
    v.value = ["a", "b"]
    assert v.value == ["a", "b"]


# -- container protocol ---------------------------------------------------------------


def test_contains():
    v = Value()
    v.value = [1, 2]
    assert 1 in v
    assert 3 not in v
    w = Value()
    w.value = "abc"
    assert "abc" in w
    assert "a" not in w  # equality, not substring


def test_getitem_and_iter_unwrap_one_level():
    inner = Value()
    inner.value = 2
    v = Value()
    v.value = [1, inner]
    # storing inner in a list does not reparent it; read it through the item
    assert v[0] == 1
    assert v[1] == 2
    assert list(v) == [1, 2]


def test_iterating_a_string_value_yields_characters():
    v = Value()
    v.value = "ab"
    assert list(v) == ["a", "b"]


def test_str():
    v = Value()
    assert str(v) == "None"
    v.value = "pong"
    assert str(v) == "pong"


def test_repr():
    e = foo(1)
    e.channels = ("*",)
    v = Value(e)
    assert repr(v) == "<Value () result=False; errors=False; for <foo[*] (1 )>>"
    ping = Event.create("ping")
    ping.channels = ("*",)
    v = Value(ping)
    v.value = "pong"
    assert repr(v) == "<Value ('pong') result=True; errors=False; for <ping[*] ( )>>"


def test_pickling_drops_the_manager():
    v = Value(None, Manager())
    v.value = 1
    assert "manager" not in v.__getstate__()
    clone = pickle.loads(pickle.dumps(v))
    assert clone.value == 1
    assert clone.result is True
    assert clone.manager is None


def test_error_triple_unpacks():
    v = Value()
    v.value = _excinfo()
    etype, evalue, tb = v
    assert etype is ValueError
    assert str(evalue) == "boom"
    assert tb is not None


# -- values filled in by dispatch (§4.6, §5) ---------------------------------------------


class Results(Component):
    def init(self, results):
        self.results = results
        for i, r in enumerate(results):
            # priorities make the order of the results explicit
            self.addHandler(handler("foo", priority=-i)(_returning(r)))


def _returning(r):
    def f(self):
        return r() if callable(r) else r

    f.__name__ = f"returns_{id(r)}"
    return f


def test_fire_returns_an_empty_value_at_once():
    app = Results([1])
    v = app.fire(foo())
    assert isinstance(v, Value)
    assert v.result is False
    assert v.value is None
    drain(app)
    assert v.value == 1
    assert v.result is True
    assert v.errors is False


def test_two_handlers_two_results():
    app = Results([1, 2])
    v = app.fire(foo())
    drain(app)
    assert v.value == [1, 2]


def test_none_results_are_ignored():
    app = Results([None, 1, None])
    v = app.fire(foo())
    drain(app)
    assert v.value == 1


def test_returned_list_then_value():
    app = Results([[1, 2], 3])
    v = app.fire(foo())
    drain(app)
    assert v.value == [1, 2, 3]


def test_a_handler_returning_another_events_value():
    class App(Component):
        def foo(self):
            return self.fire(other())

        def other(self):
            return "done"

    app = App()
    v = app.fire(foo())
    app.flush()
    assert v.result is False  # the nested Value is not resolved yet
    assert v.value is None
    app.flush()  # nested values need two flushes (§21.3)
    assert v.result is True
    assert v.value == "done"


def test_unresolved_value_then_list_replaces():
    # handlers returning, in priority order, 1, fire(other()), ["a", "b"] (§5 quirk)
    class App(Component):
        @handler("foo", priority=2)
        def one(self):
            return 1

        @handler("foo", priority=1)
        def nested(self):
            return self.fire(other())

        @handler("foo")
        def ab(self):
            return ["a", "b"]

    app = App()
    v = app.fire(foo())
    drain(app)
    assert v.value == ["a", "b"]


def test_an_error_stores_the_exc_info_and_sets_errors():
    class App(Component):
        def foo(self):
            raise ValueError("bad")

        def exception(self, *args, **kwargs):
            pass  # keeps the fallback printer quiet

    app = App()
    v = app.fire(foo())
    drain(app)
    assert v.errors is True
    assert v.result is True
    etype, evalue, tb = v.value
    assert etype is ValueError
    assert evalue.args == ("bad",)
    assert tb.tb_frame is not None  # a real traceback object


# -- notification (§5 inform) -------------------------------------------------------------


def test_notify_fires_value_changed_at_the_firing_manager():
    rec = Recorder()
    Results([1, 2]).register(rec)
    app = next(iter(rec.components))
    e = foo()
    e.notify = True
    v = app.fire(e)
    drain(rec)
    changed = [x for x in rec.events if x.name == "foo_value_changed"]
    # one notification per stored synchronous result
    assert len(changed) == 2
    for x in changed:
        assert x.args == [v]
        assert x.channels == (app,)
        assert x.parent is e


def test_notify_string_names_the_event():
    got = []

    class App(Component):
        def foo(self):
            return "x"

        @handler("changed")
        def _changed(self, value):
            got.append(value)

    app = App()
    e = foo()
    e.notify = "changed"
    v = app.fire(e)
    drain(app)
    assert got == [v]


def test_value_notify_flag_also_notifies():
    rec = Recorder()
    Results([1]).register(rec)
    v = rec.fire(foo())
    v.notify = True
    drain(rec)
    assert rec.names().count("foo_value_changed") == 1


def test_no_notification_by_default():
    rec = Recorder()
    Results([1]).register(rec)
    rec.fire(foo())
    drain(rec)
    assert "foo_value_changed" not in rec.names()


def test_inform_is_suppressed_for_promises_unless_forced():
    m = Manager()
    e = foo()
    e.notify = True
    v = Value(e, m)
    v.promise = True
    v.inform()
    assert len(m) == 0
    v.inform(True)
    assert len(m) == 1


def test_inform_without_a_manager_does_nothing():
    e = foo()
    e.notify = True
    Value(e).inform(True)  # must not raise


def test_coroutine_handler_notifies_once_at_the_end():
    class App(Component):
        def foo(self):
            yield "a"
            yield "b"

    rec = Recorder()
    App().register(rec)
    e = foo()
    e.notify = True
    v = rec.fire(e)
    for _ in range(10):
        rec.tick()
    assert v.promise is True
    assert v.value == ["a", "b"]
    assert rec.names().count("foo_value_changed") == 1


@pytest.mark.parametrize("notify", [True, "changed"])
def test_class_level_notify(notify):
    class noisy(Event):
        pass

    noisy.notify = notify
    name = "noisy_value_changed" if notify is True else "changed"

    class App(Component):
        def noisy(self):
            return 1

    rec = Recorder()
    App().register(rec)
    rec.fire(noisy())
    drain(rec)
    assert rec.names().count(name) == 1


# -- an event and its Value stay linked for whoever holds either -----------------------


def _app_returning(result):
    from circuits import Component, handler

    class App(Component):
        @handler("foo")
        def _foo(self):
            return result

    return App()


def test_a_value_held_alone_keeps_its_event():
    app = _app_returning(1)
    value = app.fire(Event.create("foo"))
    while len(app):
        app.flush()
    assert value.event is not None
    assert value.event.name == "foo"
    assert value.value == 1


def test_an_event_held_alone_keeps_its_value():
    app = _app_returning(2)
    event = Event.create("foo")
    app.fire(event)
    while len(app):
        app.flush()
    assert event.value.value == 2
    assert event.value.event is event
