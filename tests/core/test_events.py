"""``circuits.core.events``: the Event class and the built-in events (spec §2)."""

from __future__ import annotations

import pickle
import sys
import threading

import pytest

from circuits import Component, Event, Manager
from circuits.core.events import (
    exception,
    generate_events,
    registered,
    signal,
    started,
    stopped,
    unregistered,
)

from .support import drain


class foo(Event):
    """A plain event used by several tests."""


class flagged(Event):
    success = True
    failure = True
    complete = True
    notify = True


class FooBar(Event):
    pass


class foo_bar(Event):
    pass


class renamed(Event):
    name = "xyz"


class renamed_child(renamed):
    pass


# -- naming (§2.1 "Event naming rule") -------------------------------------


@pytest.mark.parametrize(
    ("cls", "name"),
    [(Event, "Event"), (FooBar, "FooBar"), (foo_bar, "foo_bar"), (foo, "foo")],
)
def test_name_is_the_class_name_verbatim(cls, name):
    assert cls().name == name


def test_class_attribute_name_wins():
    assert renamed().name == "xyz"
    # a subclass inherits the name the user chose on its base
    assert renamed_child().name == "xyz"


def test_event_subclass_is_a_different_event_for_dispatch():
    # the class hierarchy is irrelevant: only the name string matches (§2.1)
    class mystarted(started):
        pass

    got = []

    class App(Component):
        def started(self, *args):
            got.append("started")

        def mystarted(self, *args):
            got.append("mystarted")

    app = App()
    app.fire(mystarted(app))
    drain(app)
    assert got == ["mystarted"]


# -- attributes ------------------------------------------------------------


def test_class_defaults():
    assert Event.channels == ()
    assert Event.parent is None
    assert Event.notify is False
    assert Event.success is False
    assert Event.failure is False
    assert Event.complete is False
    assert Event.alert_done is False
    assert Event.waitingHandlers == 0


def test_instance_attributes_from_the_constructor():
    e = foo(1, "x", y=2)
    assert e.args == [1, "x"]
    assert type(e.args) is list
    assert e.kwargs == {"y": 2}
    assert e.uid is None
    assert e.value is None
    assert e.handler is None
    assert e.stopped is False
    assert e.cancelled is False
    assert e.channels == ()


def test_dir_lists_exactly_the_public_attributes():
    # circuits.node builds an exclusion list from this set (§2.1)
    public = {n for n in dir(Event()) if not (n.startswith("__") and n.endswith("__"))}
    assert public == {
        "alert_done",
        "args",
        "cancel",
        "cancelled",
        "channels",
        "child",
        "complete",
        "create",
        "failure",
        "handler",
        "kwargs",
        "name",
        "notify",
        "parent",
        "stop",
        "stopped",
        "success",
        "uid",
        "value",
        "waitingHandlers",
    }


def test_flags_set_on_an_instance_do_not_leak_to_the_class():
    e = foo()
    e.success = True
    e.complete = True
    assert foo().success is False
    assert foo().complete is False


# -- create / child ----------------------------------------------------------


def test_create_builds_a_subclass_of_the_calling_class():
    e = Event.create("ping", 1, y=2)
    assert e.name == "ping"
    assert type(e).__name__ == "ping"
    assert type(e).__bases__ == (Event,)
    assert e.args == [1]
    assert e.kwargs == {"y": 2}


def test_create_inherits_the_flags_of_the_calling_class():
    e = flagged.create("other")
    assert isinstance(e, flagged)
    assert e.name == "other"
    assert (e.success, e.failure, e.complete, e.notify) == (True, True, True, True)


def test_create_passes_a_name_keyword_through():
    # the first parameter is called _name so that name= reaches the event (§2.1)
    e = Event.create("x", name="y")
    assert e.name == "x"
    assert e.kwargs == {"name": "y"}


def test_child_is_a_plain_event_with_a_parent():
    parent = flagged(1)
    c = parent.child("success", parent, 42)
    assert c.name == "flagged_success"
    assert c.parent is parent
    assert c.args == [parent, 42]
    # always created from plain Event: derived events never inherit flags (§21.35)
    assert not isinstance(c, flagged)
    assert (c.success, c.failure, c.complete, c.notify) == (False, False, False, False)


# -- stop / cancel -------------------------------------------------------------


def test_stop_and_cancel_set_flags():
    e = foo()
    e.stop()
    assert e.stopped is True
    assert e.cancelled is False
    e = foo()
    e.cancel()
    assert e.cancelled is True
    assert e.stopped is False


# -- item access and comparisons ------------------------------------------------


def test_getitem_reads_args_and_kwargs():
    e = foo(1, 2, y=3)
    assert e[0] == 1
    assert e[-1] == 2
    assert e["y"] == 3
    with pytest.raises(TypeError):
        e[1.5]  # type: ignore[index]
    with pytest.raises(IndexError):
        e[5]
    with pytest.raises(KeyError):
        e["z"]


def test_setitem_writes_args_and_kwargs():
    e = foo(1, 2, y=3)
    e[0] = "a"
    e["y"] = "b"
    e["z"] = "c"
    assert e.args == ["a", 2]
    assert e.kwargs == {"y": "b", "z": "c"}
    with pytest.raises(TypeError):
        e[None] = 1  # type: ignore[index]


def test_ordering_comparisons_are_always_false():
    a, b = foo(), foo()
    assert not (a <= b)
    assert not (a > b)
    assert not (a < a)  # reflected __gt__
    assert not (a >= a)  # reflected __le__


def test_identity_semantics():
    a, b = foo(1), foo(1)
    assert a == a
    assert a != b
    assert len({a, b}) == 2


# -- pickling ----------------------------------------------------------------------


def test_pickling_drops_the_handler():
    e = foo(1, y=2)
    e.handler = lambda: None  # not picklable: must not be in the state
    state = e.__getstate__()
    assert "handler" not in state
    assert "handler" in e.__dict__  # a copy was made
    clone = pickle.loads(pickle.dumps(e))
    assert type(clone) is foo
    assert clone.args == [1]
    assert clone.kwargs == {"y": 2}
    assert clone.handler is None


def test_setstate_updates_the_dict():
    e = foo()
    e.__setstate__({"args": [9], "stopped": True})
    assert e.args == [9]
    assert e.stopped is True


# -- repr (§2.1) -------------------------------------------------------------------


def _with_channels(e: Event, *channels) -> Event:
    e.channels = channels
    return e


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (Event.create("ping"), "<ping[] ( )>"),
        (_with_channels(Event.create("ping"), "*"), "<ping[*] ( )>"),
        (_with_channels(foo(1, "x"), "a"), "<foo[a] (1, 'x' )>"),
        (_with_channels(foo(y=2), "*"), "<foo[*] ( y=2)>"),
        (_with_channels(foo(1, y=2), "app"), "<foo[app] (1 y=2)>"),
        (_with_channels(foo(), "a", "b"), "<foo[('a', 'b')] ( )>"),
        (_with_channels(foo(x=1, y="z"), "a"), "<foo[a] ( x=1, y='z')>"),
    ],
)
def test_repr(event, text):
    assert repr(event) == text
    assert str(event) == text


def test_repr_after_fire_shows_the_resolved_channel():
    m = Manager()
    e = foo()
    m.fire(e)
    assert repr(e) == "<foo[*] ( )>"

    class App(Component):
        channel = "app"

    app = App()
    e = foo(1, y=2)
    app.fire(e)
    assert repr(e) == "<foo[app] (1 y=2)>"


def test_repr_of_a_component_channel_is_the_components_repr():
    m = Manager()
    e = foo()
    m.fire(e, m)
    assert repr(e) == f"<foo[{m!r}] ( )>"


# -- built-in events (§2.3) ------------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [started, stopped, signal, registered, unregistered, exception, generate_events]
)
def test_builtin_events_are_named_as_their_class(cls):
    assert issubclass(cls, Event)
    assert cls.name == cls.__name__


def _raise_and_catch():
    try:
        raise KeyError("k")
    except KeyError:
        return sys.exc_info()


def test_exception_event_formats_the_traceback():
    etype, evalue, tb = _raise_and_catch()
    h = object()
    fevent = foo()
    e = exception(etype, evalue, tb, handler=h, fevent=fevent)
    assert e.args[0] is KeyError
    assert e.args[1] is evalue
    assert isinstance(e.args[2], list)
    assert all(isinstance(line, str) for line in e.args[2])
    assert "_raise_and_catch" in "".join(e.args[2])
    assert e.kwargs == {"handler": h, "fevent": fevent}


def test_exception_event_defaults():
    e = exception(ValueError, ValueError("x"), None)
    assert e.kwargs == {"handler": None, "fevent": None}
    _, _, tb = _raise_and_catch()
    assert e.format_traceback(tb) == exception(KeyError, KeyError(), tb).args[2]


def test_generate_events_has_no_args():
    e = generate_events(threading.RLock(), 5)
    e.channels = ("*",)
    assert e.args == []
    assert e.kwargs == {}
    assert repr(e) == "<generate_events[*] ( )>"
    assert e.time_left == 5


def test_generate_events_lock_property():
    lock = threading.RLock()
    assert generate_events(lock, -1).lock is lock


@pytest.mark.parametrize(
    ("initial", "reduce_to", "expected"),
    [
        (5, 3, 3),  # shrinks
        (5, 7, 5),  # never grows
        (5, -1, 5),  # negative values are ignored
        (-1, 2, 2),  # unlimited becomes limited
        (-1, -3, -1),
        (5, 0, 0),
        (0, 1, 0),
    ],
)
def test_reduce_time_left_can_only_shrink(initial, reduce_to, expected):
    e = generate_events(threading.RLock(), initial)
    e.reduce_time_left(reduce_to)
    assert e.time_left == expected


def test_reduce_time_left_to_zero_resumes_the_handler_owner():
    resumed = []

    class Owner:
        def resume(self):
            resumed.append(True)

        def handle(self):
            pass

    e = generate_events(threading.RLock(), -1)
    e.reduce_time_left(0)  # no handler yet: nothing to resume
    assert resumed == []

    e = generate_events(threading.RLock(), -1)
    e.handler = Owner().handle
    e.reduce_time_left(1)
    assert resumed == []  # only reaching 0 wakes the owner
    e.reduce_time_left(0)
    assert resumed == [True]
    e.reduce_time_left(0)  # already 0: not reduced again
    assert resumed == [True]


def test_reduce_time_left_tolerates_an_owner_without_resume():
    e = generate_events(threading.RLock(), -1)
    e.handler = len  # a builtin's __self__ is the builtins module: no resume()
    e.reduce_time_left(0)
    assert e.time_left == 0
