"""``circuits.core.handlers``: the decorator, reprhandler and the metaclass (spec §3)."""

from __future__ import annotations

import pytest

from circuits import BaseComponent, Component, Event, Manager, handler, reprhandler
from circuits.core.handlers import HandlerMetaClass, Unknown, getargspec
from circuits.tools import getargspec as tools_getargspec

from .support import drain

# -- the decorator (§3.1) -------------------------------------------------------


def test_decorator_returns_the_same_function_with_attributes():
    def f(self, x):
        pass

    g = handler("a", "b", priority=2.5, channel="c", override=True)(f)
    assert g is f
    assert f.handler is True
    assert f.names == ("a", "b")
    assert f.priority == 2.5
    assert f.channel == "c"
    assert f.override is True
    assert f.event is False


def test_decorator_defaults():
    @handler()
    def f():
        pass

    assert f.handler is True
    assert f.names == ()
    assert f.priority == 0
    assert f.channel is None
    assert f.override is False


def test_unknown_keyword_arguments_are_ignored():
    # the 2.x filter=True is accepted; in 3.x return values never filter (§3.1)
    @handler("x", filter=True)
    def f():
        pass

    assert f.names == ("x",)
    assert not hasattr(f, "filter")


def f_self_event(self, event, x):
    pass


def f_event(event):
    pass


def f_varargs(self, *args):
    pass


def f_e(self, e):
    pass


def f_this_event(this, event):
    pass


def f_event_only_after_self(self):
    pass


def f_event_second(self, x, event):
    pass


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (f_self_event, True),
        (f_event, True),
        (f_varargs, False),
        (f_e, False),
        (f_this_event, False),  # only a leading "self" is skipped
        (f_event_only_after_self, False),
        (f_event_second, False),
    ],
)
def test_event_parameter_detection(func, expected):
    assert handler("x")(func).event is expected


def test_an_existing_event_attribute_is_kept():
    def g(self, event):
        pass

    g.event = "kept"  # type: ignore[attr-defined]
    assert handler("x")(g).event == "kept"


def test_handler_false_marks_a_non_handler():
    def f(self):
        pass

    assert handler(False)(f) is f
    assert f.handler is False
    assert not hasattr(f, "names")


def test_getargspec_is_the_tools_one():
    assert getargspec is tools_getargspec
    assert getargspec(f_self_event)[0] == ["self", "event", "x"]


def test_event_parameter_receives_the_event():
    got = []

    class App(Component):
        def foo(self, event, x, y=0):
            got.append((event, x, y))

    app = App()
    e = Event.create("foo", 1, y=2)
    app.fire(e)
    drain(app)
    assert got == [(e, 1, 2)]


# -- reprhandler (§3.2) ------------------------------------------------------------


class A(BaseComponent):
    @handler("foo")
    def foo(self):
        pass

    @handler("x", "y", channel="z", priority=2.5)
    def _xy(self):
        pass

    @handler(priority=-1)
    def _all(self, event):
        pass


def test_reprhandler_examples():
    a = A()
    assert reprhandler(a.foo) == "<handler[*][foo] (A.foo)>"
    assert reprhandler(a._xy) == "<handler[z][x,y][2.50] (A._xy)>"
    assert reprhandler(a._all) == "<handler[*][][-1.00] (A._all)>"
    assert (
        reprhandler(a._on_prepare_unregister_complete)
        == "<handler[<instance of A>][prepare_unregister_complete] "
        "(A._on_prepare_unregister_complete)>"
    )


def test_reprhandler_shows_the_raw_channel_not_the_owners():
    a = A(channel="app")
    # channel None is shown as "*", not resolved to "app" (§3.2)
    assert reprhandler(a.foo) == "<handler[*][foo] (A.foo)>"


def test_reprhandler_of_an_unbound_function_names_unknown():
    @handler("foo", channel=("a", 1))
    def f():
        pass

    assert reprhandler(f) == "<handler[('a', 1)][foo] (Unknown.f)>"
    assert Unknown.__name__ == "Unknown"


def test_reprhandler_uses_the_function_name_not_the_attribute():
    class B(BaseComponent):
        @handler("foo")
        def the_function(self):
            pass

        alias = the_function

    b = B()
    assert reprhandler(b.alias) == "<handler[*][foo] (B.the_function)>"


def test_reprhandler_channel_of_a_manager_instance():
    m = Manager()

    @handler("foo", channel=m)
    def f():
        pass

    assert reprhandler(f) == "<handler[<instance of Manager>][foo] (Unknown.f)>"


def test_reprhandler_of_a_non_handler_raises_attribute_error():
    with pytest.raises(AttributeError):
        reprhandler(lambda: None)


# -- HandlerMetaClass (§3.4) ---------------------------------------------------------


def test_component_is_built_with_the_metaclass():
    assert type(Component) is HandlerMetaClass
    assert issubclass(Component, BaseComponent)
    assert Component.__name__ == "Component"


def test_public_functions_become_handlers_named_as_the_attribute():
    class App(Component):
        def foo(self, x):
            pass

        bar = lambda self: None  # noqa: E731  (lambdas are converted too)

        def _private(self):
            pass

    assert App.foo.handler is True
    assert App.foo.names == ("foo",)
    assert App.foo.priority == 0
    assert App.foo.channel is None
    assert App.bar.handler is True
    assert App.bar.names == ("bar",)
    assert not hasattr(App._private, "handler")


def test_decorated_methods_are_left_alone():
    class App(Component):
        @handler("other", priority=3)
        def foo(self):
            pass

        @handler(False)
        def helper(self):
            pass

    assert App.foo.names == ("other",)
    assert App.foo.priority == 3
    assert App.helper.handler is False
    assert App.handles("other")
    assert not App.handles("helper")
    assert not App.handles("foo")


def test_the_metaclass_applies_to_subclasses():
    class Base(Component):
        pass

    class Sub(Base):
        def foo(self):
            pass

    assert Sub.foo.handler is True
    assert Sub.foo.names == ("foo",)


def test_base_component_methods_are_not_handlers():
    class Plain(BaseComponent):
        def foo(self):
            pass

    assert not hasattr(Plain.foo, "handler")
    assert not Plain.handles("foo")
    assert set(Plain()._handlers) == {"prepare_unregister_complete"}


def test_init_of_a_component_is_a_handler_for_init():
    # quirk §3.4: init is public, so it also handles an event named "init"
    got = []

    class App(Component):
        def init(self, *args, **kwargs):
            got.append((args, kwargs))

    assert App.init.names == ("init",)
    app = App(1, x=2)
    assert got == [((1,), {"x": 2})]
    app.fire(Event.create("init", 3))
    drain(app)
    assert got == [((1,), {"x": 2}), ((3,), {})]
