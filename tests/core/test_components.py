"""``circuits.core.components``: construction, inheritance, the tree (spec §6)."""

from __future__ import annotations

import pytest

from circuits import BaseComponent, Component, Event, Manager, handler
from circuits.core.components import prepare_unregister

from .support import Recorder, drain


class foo(Event):
    pass


# -- construction (§6.1) ------------------------------------------------------------


def test_default_channel_is_star():
    assert BaseComponent.channel == "*"
    assert BaseComponent().channel == "*"
    assert Component().channel == "*"


def test_channel_from_the_class_and_from_the_keyword():
    class App(Component):
        channel = "app"

    assert App().channel == "app"
    assert App(channel="other").channel == "other"
    assert App(channel=(1, 1)).channel == (1, 1)
    assert App.channel == "app"  # set on the instance only


@pytest.mark.parametrize("falsy", [None, "", 0, False])
def test_a_falsy_channel_becomes_star(falsy):
    class App(Component):
        channel = "app"

    assert App(channel=falsy).channel == "*"


def test_a_falsy_class_channel_becomes_star():
    class App(BaseComponent):
        channel = None

    assert App().channel == "*"


def test_init_receives_every_argument_including_channel():
    got = []

    class App(BaseComponent):
        def init(self, *args, **kwargs):
            got.append((args, kwargs))

    App(1, 2, x=3, channel="c")
    assert got == [((1, 2), {"x": 3, "channel": "c"})]


def test_init_runs_after_handlers_and_before_the_internal_handler():
    seen = {}

    class App(Component):
        def init(self, channel=None):  # channel= reaches init too (§21.18)
            seen["channel"] = self.channel
            seen["keys"] = set(self._handlers)

        def foo(self):
            pass

    app = App(channel="c")
    assert seen["channel"] == "c"
    # step 4 (handlers) ran before init, step 6 (internal handler) after it
    assert seen["keys"] == {"foo", "init"}
    assert set(app._handlers) == {"foo", "init", "prepare_unregister_complete"}


def test_overridden_init_calling_super_without_arguments():
    class App(Component):
        def __init__(self, x):
            super().__init__()
            self.x = x

        def foo(self):
            return self.x

    app = App(5)
    v = app.fire(foo())
    drain(app)
    assert v.value == 5


def test_inherited_aliases_exist_before_init():
    # §6.3 rule 2 happens in __new__, before Manager.__init__
    seen = []

    class A(Component):
        def foo(self):
            return "A"

    class B(A):
        def __init__(self):
            seen.append(hasattr(self, "A_foo"))
            super().__init__()

        def foo(self):
            return "B"

    B()
    assert seen == [True]


def test_one_method_component_has_two_handler_keys():
    class App(Component):
        def foo(self):
            pass

    app = App()
    assert set(app._handlers) == {"foo", "prepare_unregister_complete"}
    (internal,) = app._handlers["prepare_unregister_complete"]
    assert internal.channel is app  # targeted at the instance
    assert internal.names == ("prepare_unregister_complete",)


def test_handler_false_method_is_not_registered():
    class App(Component):
        @handler(False)
        def helper(self):
            return "plain"

        def foo(self):
            return self.helper()

    app = App()
    assert "helper" not in app._handlers
    assert app.helper() == "plain"
    v = app.fire(foo())
    app.fire(Event.create("helper"))
    drain(app)
    assert v.value == "plain"


def test_class_attribute_components_are_registered():
    class Child(Component):
        def foo(self):
            return "child"

    class App(Component):
        child = Child()

    app = App()
    assert App.child.parent is app
    assert App.child in app.components
    v = app.fire(foo())
    drain(app)
    assert v.value == "child"


def test_class_attribute_components_are_shared_between_instances():
    # quirk §6.1/§21.21: re-parented by each new instance
    class Child(Component):
        pass

    class App(Component):
        child = Child()

    first = App()
    second = App()
    assert App.child.parent is second
    assert App.child in second.components
    assert App.child in first.components  # never removed from the first


def test_a_component_instance_attribute_set_before_super_init_is_registered():
    class Child(Component):
        pass

    class App(Component):
        def __init__(self):
            self.child = Child()
            super().__init__()

    app = App()
    assert app.child.parent is app


# -- inheritance and override (§6.3) -----------------------------------------------------


class A(Component):
    def foo(self):
        return "A"


class B(A):
    def foo(self):
        return "B"


class C(B):
    def foo(self):
        return "C"


class D(B):
    pass


class E(A):
    @handler("foo", override=True)
    def foo(self):
        return "E"


class F(E):
    def foo(self):
        return "F"


class G(A):
    @handler("foo")
    def other(self):
        return "G.other"


class H(BaseComponent):
    @handler("foo")
    def foo(self):
        return "H"


class I(H):  # noqa: E742  (the spec's table names it I)
    def foo(self):  # plain method: not a handler in a BaseComponent
        return "I"


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (A, {"A"}),
        (B, {"B", "A"}),
        (C, {"C", "B"}),  # A's is lost: not a direct base
        (D, {"B"}),
        (E, {"E"}),
        (F, {"F", "E"}),
        (G, {"A", "G.other"}),
        (I, {"H"}),
    ],
)
def test_inherited_handlers(cls, expected):
    app = cls()
    v = app.fire(foo())
    drain(app)
    result = v.value if isinstance(v.value, list) else [v.value]
    assert sorted(result) == sorted(expected)
    assert len(result) == len(expected)  # each handler runs once


def test_inherited_handler_is_stored_as_a_base_alias():
    b = B()
    assert b.A_foo() == "A"
    assert b.foo() == "B"  # alphabetical registration: the subclass method wins
    assert b.A_foo in b._handlers["foo"]
    assert not hasattr(E(), "A_foo")  # overridden


def test_subclass_priority_orders_the_two_handlers():
    class Late(A):
        @handler("foo", priority=-1)
        def foo(self):
            return "Late"

    class Early(A):
        @handler("foo", priority=1)
        def foo(self):
            return "Early"

    for cls, expected in ((Late, ["A", "Late"]), (Early, ["Early", "A"])):
        app = cls()
        v = app.fire(foo())
        drain(app)
        assert v.value == expected


# -- introspection (§6.4) -------------------------------------------------------------------


class Intro(Component):
    def foo(self):
        pass

    @handler("a", "b")
    def _two(self):
        pass

    @handler("_private")
    def private_name(self):
        pass

    @handler()
    def everything(self, event):
        pass


class IntroSub(Intro):
    def bar(self):
        pass


def test_handlers_lists_the_handler_functions():
    hs = Intro.handlers()
    assert set(hs) == {Intro.foo, Intro._two, Intro.private_name, Intro.everything}
    assert len(hs) == 4


def test_events_lists_public_names():
    assert sorted(Intro.events()) == ["a", "b", "foo"]
    assert sorted(IntroSub.events()) == ["a", "b", "bar", "foo"]


def test_handles():
    assert Intro.handles("foo")
    assert Intro.handles("foo", "a", "b")
    assert not Intro.handles("foo", "bar")
    assert not Intro.handles("_private")
    assert Intro.handles()
    assert IntroSub.handles("foo", "bar")
    assert IntroSub().handles("foo", "bar")  # on instances too


def test_base_component_introspection():
    assert BaseComponent.handlers() == []
    assert BaseComponent.events() == []
    assert H.events() == ["foo"]


# -- register (§6.5) -----------------------------------------------------------------------


def test_register_links_the_tree_and_returns_self():
    m = Manager()
    c = Component()
    g = Component().register(c)
    assert c.register(m) is c
    assert c.parent is m
    assert c.root is m
    assert g.root is m  # the whole subtree
    assert m.components == {c}


def test_register_fires_registered_on_the_components_channel():
    got = []

    class Server(Component):
        channel = "server"

        def registered(self, component, manager):
            got.append(("own", component, manager))

    class App(Component):
        channel = "app"

        def registered(self, component, manager):
            got.append(("app", component))  # on "app": never hears "server"

        @handler("registered", channel="*")
        def _any(self, component, manager):
            got.append(("any", component))

    app = App()
    server = Server().register(app)
    assert len(app) == 1  # queued in the root, nothing ran yet
    drain(app)
    assert sorted(got, key=repr) == sorted([("own", server, app), ("any", server)], key=repr)


def test_registering_a_subtree_moves_its_queued_events_in_order():
    rec = Recorder()
    drain(rec)

    class X(Component):
        def init(self, tag):
            self.tag = tag

    a, b = X("a"), X("b")
    a.fire(Event.create("early"))  # a is its own root: queued in a
    sub = a + b  # b's registered goes to a's queue too
    assert len(a) == 2
    sub.register(rec)
    assert len(a) == 0
    drain(rec)
    events = [(e.name, e.args[0].tag if e.args else None) for e in rec.events]
    assert events == [("early", None), ("registered", "b"), ("registered", "a")]


def test_events_fired_in_init_reach_the_new_root():
    got = []

    class Child(Component):
        def init(self):
            self.fire(Event.create("hello"))

        def hello(self):
            got.append("hello")

    m = Manager()
    Child().register(m)
    drain(m)
    assert got == ["hello"]


def test_register_to_itself_fires_nothing():
    c = Component()
    assert c.register(c) is c
    assert c.parent is c
    assert len(c) == 0


def test_registering_elsewhere_without_unregistering():
    # quirk §6.5: the old parent keeps it in its components
    m1, m2 = Manager(), Manager()
    c = Component().register(m1)
    c.register(m2)
    assert c.parent is m2
    assert c in m1.components
    assert c in m2.components


# -- unregister (§6.6) -----------------------------------------------------------------------


class Member(Component):
    channel = "member"

    def init(self):
        self.heard = []

    def foo(self):
        self.heard.append("foo")

    def unregistered(self, component, manager):
        self.heard.append("unregistered")


def test_unregister_is_two_phase():
    rec = Recorder()
    member = Member().register(rec)
    child = Component().register(member)
    drain(rec)
    rec.events.clear()

    assert member.unregister() is member
    assert member.unregister_pending is True
    assert member._unregister_pending is True
    assert member.parent is rec  # still in the tree...
    rec.fire(foo(), "member")
    rec.flush()
    assert member.heard == ["foo"]  # ...and still gets events
    (pu,) = [e for e in rec.events if e.name == "prepare_unregister"]
    assert pu.args == [member]
    assert pu.channels == ("member",)  # the component's own channel
    assert pu.complete_channels == (member,)

    drain(rec)
    assert member.unregister_pending is False
    assert member.parent is member
    assert member.root is member
    assert child.root is member  # its subtree stays attached to it
    assert member not in rec.components
    names = rec.names()
    assert names.index("prepare_unregister") < names.index("prepare_unregister_complete")
    assert names.index("prepare_unregister_complete") < names.index("unregistered")
    (un,) = [e for e in rec.events if e.name == "unregistered"]
    assert un.args == [member, rec]
    assert un.channels == ("member",)
    # removed before its unregistered event is dispatched: it never sees it (§21.17)
    assert member.heard == ["foo"]


def test_the_remaining_tree_sees_unregistered():
    got = []

    class Watcher(Component):
        @handler("unregistered", channel="*")
        def _on(self, component, manager):
            got.append((component, manager))

    m = Manager()
    Watcher().register(m)
    member = Member().register(m)
    drain(m)
    member.unregister()
    drain(m)
    assert got == [(member, m)]


def test_unregister_needs_more_than_one_flush():
    m = Manager()
    member = Member().register(m)
    drain(m)
    member.unregister()
    m.flush()
    assert member.parent is m
    drain(m)
    assert member.parent is member


def test_unregister_when_pending_or_unregistered_is_a_no_op():
    m = Manager()
    member = Member().register(m)
    drain(m)
    member.unregister()
    assert len(m) == 1
    member.unregister()
    assert len(m) == 1  # no second prepare_unregister
    drain(m)
    assert member.unregister() is member
    assert len(m) == 0
    assert len(member) == 0
    lonely = Member()
    assert lonely.unregister() is lonely
    assert lonely.unregister_pending is False
    assert len(lonely) == 0


def test_unregister_waits_for_events_fired_by_prepare_unregister_handlers():
    log = []

    class Slow(Component):
        channel = "slow"

        def prepare_unregister(self, component):
            log.append("prepare")
            self.fire(Event.create("cleanup"))

        def cleanup(self):
            log.append(("cleanup", self.parent is not self))
            self.fire(Event.create("more"))

        def more(self):
            log.append(("more", self.parent is not self))

    m = Manager()
    slow = Slow().register(m)
    drain(m)
    slow.unregister()
    drain(m)
    assert log == ["prepare", ("cleanup", True), ("more", True)]
    assert slow.parent is slow


def test_unregistered_component_no_longer_gets_events():
    m = Manager()
    member = Member().register(m)
    drain(m)
    member.unregister()
    drain(m)
    m.fire(foo(), "*")
    drain(m)
    assert member.heard == []


def test_in_subtree():
    m = Manager()
    a = Component().register(m)
    b = Component().register(a)
    sibling = Component().register(m)
    e = prepare_unregister(a)
    assert e.in_subtree(a)
    assert e.in_subtree(b)
    assert not e.in_subtree(sibling)
    assert not e.in_subtree(m)


def test_prepare_unregister_class():
    assert prepare_unregister.complete is True
    assert prepare_unregister.name == "prepare_unregister"
    e = prepare_unregister(1, x=2)
    assert e.args == [1]
    assert e.kwargs == {"x": 2}


def test_holders_of_references_listen_on_star_and_use_in_subtree():
    class Holder(Component):
        def init(self, held):
            self.held = held

        @handler("prepare_unregister", channel="*")
        def _drop(self, event, component):
            if event.in_subtree(self.held):
                self.held = None

    m = Manager()
    outer = Member().register(m)
    inner = Component().register(outer)
    holder = Holder(inner).register(m)
    other = Holder(outer).register(m)
    drain(m)
    Component().register(m).unregister()  # unrelated: nothing dropped
    drain(m)
    assert holder.held is inner
    outer.unregister()
    drain(m)
    assert holder.held is None
    assert other.held is None


def test_update_root():
    a = Component()
    b = Component().register(a)
    m = Manager()
    a._updateRoot(m)
    assert a.root is m
    assert b.root is m
