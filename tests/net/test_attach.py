"""Poller users and a poller that leaves the tree (``circuits.net._attach``).

A ``TCPServer`` registered where there is no poller creates one as its own
child, and every later socket of the tree adopts it. When that server's
subtree is unregistered, the poller goes with it: a socket registered while
the subtree is still leaving must not adopt it, and sockets that stay must
move to another poller, or nobody watches their descriptors again.
"""

from __future__ import annotations

import socket
import threading

import pytest

from circuits import BaseComponent, Event, handler
from circuits.core.pollers import BasePoller, Poller, Select
from circuits.core.utils import findtype
from circuits.net.events import connect, write
from circuits.net.sockets import TCPClient, TCPServer

DEADLINE_S = 5.0


class Node(BaseComponent):
    """A subtree holding a TCP server on ``channel`` (like a circuits.node node).

    It closes its server when it is unregistered: a server that leaves the
    tree stops hearing ``stopped`` and would leave its socket to the GC.
    """

    def __init__(self, channel):
        super().__init__(channel=channel)
        self.server = TCPServer(("127.0.0.1", 0), channel=channel).register(self)

    @handler("prepare_unregister", channel="*")
    def _on_prepare_unregister(self, event, component):
        if event.in_subtree(self):
            self.server.close()


class sync(Event):
    """Dispatched after every event queued before it."""


def has_left(m, rec, node):
    """Wait until the tree has handled ``node``'s ``unregistered`` event."""
    rec.wait_for("unregistered", node.channel)
    # Fired now, it is dispatched after the unregistered event's handlers ran.
    m.fire(sync(node))
    rec.wait_until(lambda: any(e.args[0] is node for e in rec.find("sync")), DEADLINE_S, "sync")


class swap(Event):
    """Replace the ``old`` subtree by ``new``, in the order ``how`` says."""


class Swapper(BaseComponent):
    @handler("swap")
    def _on_swap(self, old, new, how):
        if how == "unregister first":
            old.unregister()
            new.register(self.root)
        else:
            new.register(self.root)
            old.unregister()


class hold(Event):
    """Blocks the loop thread until the test thread releases it."""


class Holder(BaseComponent):
    def init(self):
        self.holding = threading.Event()
        self.release = threading.Event()

    @handler("hold")
    def _on_hold(self):
        self.holding.set()
        assert self.release.wait(DEADLINE_S), "the test never released the loop"


def serves(rec, server, channel):
    """A real client connects to ``server`` and what it sends is read."""
    connects = len(rec.find("connect", channel))
    received = len(rec.data(channel))
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE_S) as peer:
        rec.wait_for("connect", channel, count=connects + 1, timeout=DEADLINE_S)
        peer.sendall(b"ping")
        data = rec.wait_for_data(channel, received + 4, timeout=DEADLINE_S)
        assert data[received:] == b"ping"


def running_old_node(app, root_poller):
    m, rec, start = app
    if root_poller:
        Poller().register(m)
    Swapper().register(m)
    old = Node("old").register(m)
    start()
    rec.wait_for("ready", "old")
    assert (old.server._poller.parent is old.server) is not root_poller
    return m, rec, old


@pytest.mark.parametrize("how", ["unregister first", "register first"])
@pytest.mark.parametrize("root_poller", [False, True], ids=["poller-in-old", "poller-at-root"])
def test_a_server_registered_while_another_subtree_leaves_is_polled(app, how, root_poller):
    m, rec, old = running_old_node(app, root_poller)
    new = Node("new")
    m.fire(swap(old, new, how))
    rec.wait_for("ready", "new")
    serves(rec, new.server, "new")
    has_left(m, rec, old)
    assert new.server._poller.root is m
    serves(rec, new.server, "new")  # and still after the old node has left


@pytest.mark.parametrize("how", ["unregister first", "register first"])
def test_a_swap_from_another_thread_is_polled(app, how):
    m, rec, old = running_old_node(app, root_poller=False)
    holder = Holder().register(m)
    m.fire(hold())
    assert holder.holding.wait(DEADLINE_S)
    # The loop is blocked: both calls land in the same next batch.
    new = Node("new")
    if how == "unregister first":
        old.unregister()
        new.register(m)
    else:
        new.register(m)
        old.unregister()
    holder.release.set()
    rec.wait_for("ready", "new")
    serves(rec, new.server, "new")
    has_left(m, rec, old)
    serves(rec, new.server, "new")


def test_a_client_that_stays_moves_off_a_leaving_poller(app):
    m, rec, old = running_old_node(app, root_poller=False)
    listener = socket.create_server(("127.0.0.1", 0))
    client = TCPClient(channel="client").register(m)
    try:
        rec.wait_for("ready", "client")
        assert client._poller is old.server._poller  # adopted from the old subtree
        old.unregister()
        has_left(m, rec, old)
        assert client._poller.root is m

        m.fire(connect("127.0.0.1", listener.getsockname()[1]), "client")
        peer, _ = listener.accept()
        with peer:
            rec.wait_for("connected", "client")
            m.fire(write(b"pong"), "client")
            peer.settimeout(DEADLINE_S)
            assert peer.recv(4) == b"pong"
            peer.sendall(b"ping")
            assert rec.wait_for_data("client", 4) == b"ping"
    finally:
        listener.close()


def test_a_leaving_poller_hands_over_only_its_sources_descriptors():
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    old, new = Select(), Select()
    user, other = BaseComponent(channel="user"), BaseComponent(channel="other")
    try:
        old.addReader(user, a)
        old.addWriter(user, a)
        old.addWriter(user, b)
        old.addReader(other, c)
        old._hand_over(user, new)
        interest = [(p.isReading(fd), p.isWriting(fd)) for p in (old, new) for fd in (a, b, c)]
        assert interest == [
            *[(False, False), (False, False), (True, False)],  # old: only other's c is left
            *[(True, True), (False, True), (False, False)],  # new: user's a and b, as they were
        ]
        assert new.getTarget(a) == "user"
        assert old._sources == {c: other}
    finally:
        for s in (a, b, c, d):
            s.close()


def test_one_poller_remains_in_the_tree(app):
    m, rec, old = running_old_node(app, root_poller=False)
    new = Node("new")
    m.fire(swap(old, new, "register first"))
    rec.wait_for("ready", "new")
    has_left(m, rec, old)
    assert findtype(m, BasePoller, all=True) == [new.server._poller]
