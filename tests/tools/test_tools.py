"""circuits.tools: tree walking, kill, graphs, inspect, deprecated, imports."""

from __future__ import annotations

import os
import sys
import types
import warnings

import pytest

from circuits import BaseComponent, Component, Manager, handler
from circuits.tools import (
    deprecated,
    edges,
    findroot,
    getargspec,
    graph,
    graph_ascii,
    graph_dot,
    graph_png,
    inspect,
    kill,
    tryimport,
    walk,
)


class A(Component):
    channel = "a"


class B(Component):
    channel = "b"


class C(Component):
    channel = "c"


class Greeter(Component):
    def hello(self, name):
        pass

    @handler("bye", priority=2)
    def _bye(self):
        pass


def drain(m):
    for _ in range(100):
        if not len(m):
            return
        m.flush()
    raise AssertionError(f"queue of {m!r} never drained")


@pytest.fixture
def tree():
    """A -> B -> C (a chain, so the order of children is fixed)."""
    a, b, c = A(), B(), C()
    c.register(b)
    b.register(a)
    drain(a)
    return a, b, c


def test_walk(tree):
    a, b, c = tree
    assert list(walk(a, lambda d, x: (d, x))) == [(0, a), (1, b), (2, c)]
    assert list(walk(b, lambda d, x: (d, x), d=5)) == [(5, b), (6, c)]


def test_walk_visits_each_node_once():
    m = Manager()
    children = [BaseComponent().register(m) for _ in range(3)]
    drain(m)
    seen = list(walk(m, lambda d, x: x))
    assert seen[0] is m
    assert sorted(map(id, seen[1:])) == sorted(map(id, children))


def test_edges(tree):
    a, b, c = tree
    assert edges(a) == {(a, b, 1), (b, c, 2)}
    assert edges(c) == set()


def test_findroot(tree):
    a, _, c = tree
    assert findroot(c) is a
    assert findroot(a) is a


def test_kill_detaches_every_node(tree):
    a, b, c = tree
    assert kill(b) is None
    drain(a)
    assert a.components == set()
    for x in (b, c):
        assert x.parent is x
        assert x.root is x
        assert x.components == set()


def test_kill_root_detaches_children():
    m = Manager()
    children = [BaseComponent().register(m) for _ in range(2)]
    drain(m)
    kill(m)
    drain(m)
    assert m.components == set()
    assert all(x.parent is x for x in children)


def test_graph_ascii(tree):
    a, b, c = tree
    assert graph_ascii(a) == f"* {a!r}\n * {b!r}\n  * {c!r}"
    assert graph_ascii(c) == f"* {c!r}"


def test_graph_ascii_text():
    pid = os.getpid()
    a = A()
    B().register(a)
    drain(a)
    assert graph_ascii(a) == (
        f"* <A/a {pid}:MainThread (queued=0) [S]>\n * <B/b {pid}:MainThread (queued=0) [S]>"
    )


def test_inspect_exact_text():
    assert inspect(Greeter()) == (
        " Components: 0\n"
        "\n"
        " Event Handlers: 3\n"
        "  bye; 1\n"
        "   <handler[*][bye][2.00] (Greeter._bye)>\n"
        "  hello; 1\n"
        "   <handler[*][hello] (Greeter.hello)>\n"
        "  prepare_unregister_complete; 1\n"
        "   <handler[<instance of Greeter>][prepare_unregister_complete] "
        "(Greeter._on_prepare_unregister_complete)>\n"
    )


def test_inspect_lists_children_not_their_handlers(tree):
    a, b, _ = tree
    text = inspect(a)
    assert text.startswith(f" Components: 1\n  {b!r}\n\n Event Handlers: 1\n")
    assert "  prepare_unregister_complete; 1\n" in text


def test_inspect_bare_manager():
    assert inspect(Manager()) == " Components: 0\n\n Event Handlers: 0\n"


def graph_packages_missing():
    return any(tryimport(name) is None for name in ("networkx", "pygraphviz", "matplotlib"))


needs_missing = pytest.mark.skipif(
    not graph_packages_missing(), reason="networkx, pygraphviz and matplotlib are installed"
)


@needs_missing
@pytest.mark.parametrize("draw", [graph_dot, graph_png])
def test_graph_files_need_packages(tree, draw, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ImportError, match=r"needs networkx, pygraphviz, matplotlib; missing: "
    ) as e:
        draw(tree[0])
    assert "pip install" in str(e.value)
    assert list(tmp_path.iterdir()) == []


@needs_missing
def test_graph_logs_and_returns_ascii(tree, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = graph(tree[0])
    assert text == graph_ascii(tree[0])
    [record] = caplog.records
    assert record.name == "circuits.tools"
    assert record.levelname == "WARNING"
    assert "missing: " in record.getMessage()
    assert record.getMessage().endswith("; no .dot/.png written")
    assert list(tmp_path.iterdir()) == []


class FakeDiGraph:
    def __init__(self):
        self.edges = set()

    def add_edge(self, u, v, **attrs):
        self.edges.add((u, v, attrs["weight"]))


class FakeFigure:
    def __init__(self, figsize=None):
        self.axes = []

    def add_subplot(self):
        ax = types.SimpleNamespace(set_axis_off=lambda: None)
        self.axes.append(ax)
        return ax

    def savefig(self, path):
        with open(path, "w") as f:
            f.write("png")


@pytest.fixture
def fake_graph_packages(monkeypatch):
    """Stand-ins for networkx, pygraphviz and matplotlib recording what is drawn."""
    drawn = {}

    def write_dot(g, path):
        drawn["dot"] = g.edges
        with open(path, "w") as f:
            f.write("dot")

    def draw(g, pos, ax=None, **kwargs):
        drawn["png"] = g.edges
        assert ax is not None

    nx = types.ModuleType("networkx")
    nx.DiGraph = FakeDiGraph
    nx.draw = draw
    nx_drawing = types.ModuleType("networkx.drawing")
    nx_agraph = types.ModuleType("networkx.drawing.nx_agraph")
    nx_agraph.write_dot = write_dot
    nx_agraph.graphviz_layout = lambda g, prog=None: {}
    nx.drawing = nx_drawing
    nx_drawing.nx_agraph = nx_agraph
    mpl = types.ModuleType("matplotlib")
    mpl_figure = types.ModuleType("matplotlib.figure")
    mpl_figure.Figure = FakeFigure
    mpl.figure = mpl_figure
    modules = {
        "networkx": nx,
        "networkx.drawing": nx_drawing,
        "networkx.drawing.nx_agraph": nx_agraph,
        "pygraphviz": types.ModuleType("pygraphviz"),
        "matplotlib": mpl,
        "matplotlib.figure": mpl_figure,
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return drawn


def test_graph_writes_dot_and_png(tree, fake_graph_packages, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    text = graph(tree[0])
    assert text == graph_ascii(tree[0])
    assert caplog.records == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.dot", "A.png"]
    expected = {("A", "B", 1), ("B", "C", 2)}
    assert fake_graph_packages == {"dot": expected, "png": expected}


def test_graph_file_name(tree, fake_graph_packages, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    graph_dot(tree[1], name="mine")
    graph_png(tree[1], "mine")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.dot", "mine.png"]
    assert fake_graph_packages["dot"] == {("B", "C", 1)}


def test_deprecated():
    @deprecated
    def old(x):
        """Old docs."""
        return x + 1

    assert old.__name__ == "old"
    assert old.__doc__ == "Old docs."
    with pytest.warns(DeprecationWarning, match="^Call to deprecated function old$") as record:
        assert old(1) == 2
    assert record[0].filename == __file__
    assert record[0].lineno == old.__wrapped__.__code__.co_firstlineno


def test_tryimport():
    import os.path

    assert tryimport("os") is os
    assert tryimport("os.path") is os  # the top-level package, as __import__ gives
    assert tryimport(["no_such_module_x", "sys"]) is sys
    assert tryimport("os", "sep") == os.sep
    assert tryimport(["os", "sys"], "no_such_attr_x") is None
    assert tryimport("no_such_module_x") is None


def test_tryimport_warns_with_message():
    with pytest.warns(UserWarning, match="need it"):
        assert tryimport("no_such_module_x", message="need it") is None


def test_getargspec():
    def f(a, b=1, *args, **kwargs):
        pass

    assert getargspec(f) == (["a", "b"], "args", "kwargs", (1,))


def test_tools_does_not_import_core_at_top_level():
    import ast

    import circuits.tools

    with open(circuits.tools.__file__) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert "core" not in (node.module or ""), ast.dump(node)
