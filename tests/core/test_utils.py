"""``circuits.core.utils``: searching a tree and (re)importing modules (spec §14)."""

from __future__ import annotations

import sys
import textwrap
from types import SimpleNamespace

import pytest

from circuits import Component, Manager
from circuits.core.utils import findchannel, findcmp, findroot, findtype, flatten, safeimport


class A(Component):
    pass


class B(Component):
    channel = "b"


class SubA(A):
    pass


@pytest.fixture
def t():
    """The tree m -> (a -> (b -> sub), b2)."""
    m = Manager()
    a = A().register(m)
    b = B().register(a)
    sub = SubA(channel="sub").register(b)
    b2 = B(channel="b2").register(m)
    return SimpleNamespace(m=m, a=a, b=b, sub=sub, b2=b2)


def test_flatten_yields_root_then_every_descendant_once(t):
    nodes = list(flatten(t.m))
    assert nodes[0] is t.m
    assert sorted(map(id, nodes)) == sorted(map(id, [t.m, t.a, t.b, t.sub, t.b2]))
    # depth first: a subtree is contiguous
    i = nodes.index(t.a)
    assert nodes[i : i + 3] == [t.a, t.b, t.sub]


def test_flatten_of_a_leaf_and_of_a_subtree(t):
    assert list(flatten(t.sub)) == [t.sub]
    assert list(flatten(t.b)) == [t.b, t.sub]


def test_flatten_visits_a_node_once_even_if_listed_twice(t):
    # a component registered twice (§6.5 quirk) stays in both parents
    t.sub.register(t.b2)
    nodes = list(flatten(t.m))
    assert nodes.count(t.sub) == 1


def test_flatten_tolerates_changes_while_iterating(t):
    seen = []
    for node in flatten(t.m):
        seen.append(node)
        if node is t.a:
            t.m.components.discard(t.b2)  # m's children were copied first
    assert len(seen) == 5


def test_findchannel(t):
    assert findchannel(t.m, "b") is t.b
    assert findchannel(t.m, "b2") is t.b2
    assert findchannel(t.m, "nowhere") is None
    assert findchannel(t.m, "*") is t.a
    assert findchannel(t.m, "b", all=True) == [t.b]
    assert findchannel(t.m, "nowhere", all=True) == []


def test_findtype(t):
    assert findtype(t.m, SubA) is t.sub
    assert findtype(t.b, B) is t.b
    assert sorted(map(id, findtype(t.m, A, all=True))) == sorted(map(id, [t.a, t.sub]))
    assert sorted(map(id, findtype(t.m, B, all=True))) == sorted(map(id, [t.b, t.b2]))
    assert findtype(t.m, Manager, all=True)[0] is t.m
    assert findtype(t.sub, B) is None
    assert findtype(t.sub, B, all=True) == []


def test_findcmp_is_findtype():
    assert findcmp is findtype


def test_findroot(t):
    assert findroot(t.sub) is t.m
    assert findroot(t.m) is t.m
    assert findroot(Component()) is not t.m


# -- safeimport -----------------------------------------------------------------------


@pytest.fixture
def pkgdir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(relpath, text):
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    yield write
    for name in list(sys.modules):
        if name.startswith("ct_"):
            del sys.modules[name]


def test_safeimport_imports_a_module(pkgdir):
    pkgdir("ct_plain.py", "X = 1\n")
    mod = safeimport("ct_plain")
    assert mod is sys.modules["ct_plain"]
    assert mod.X == 1


def test_safeimport_returns_the_leaf_of_a_dotted_name(pkgdir):
    pkgdir("ct_pkg/__init__.py", "")
    pkgdir("ct_pkg/leaf.py", "Y = 2\n")
    mod = safeimport("ct_pkg.leaf")
    assert mod.__name__ == "ct_pkg.leaf"
    assert mod.Y == 2


def test_safeimport_reloads_an_imported_module(pkgdir):
    path = pkgdir("ct_reload.py", "X = 1\n")
    first = safeimport("ct_reload")
    path.write_text("X = 2\n")
    # make sure the changed source is not taken from a stale .pyc
    sys.dont_write_bytecode, old = True, sys.dont_write_bytecode
    try:
        import importlib

        importlib.invalidate_caches()
        second = safeimport("ct_reload")
    finally:
        sys.dont_write_bytecode = old
    assert second is first  # reload keeps the module object
    assert second.X == 2


def test_safeimport_failure_returns_none_and_cleans_up(pkgdir):
    pkgdir("ct_helper.py", "H = 1\n")
    pkgdir(
        "ct_broken/__init__.py",
        """
        import ct_helper
        from . import inner
        raise RuntimeError("broken on purpose")
        """,
    )
    pkgdir("ct_broken/inner.py", "")
    assert safeimport("ct_broken") is None
    for name in ("ct_broken", "ct_broken.inner", "ct_helper"):
        assert name not in sys.modules


def test_safeimport_of_a_missing_module_returns_none():
    before = set(sys.modules)
    assert safeimport("ct_does_not_exist_anywhere") is None
    assert set(sys.modules) == before


def test_safeimport_keeps_modules_imported_before(pkgdir):
    pkgdir("ct_kept.py", "")
    import ct_kept  # noqa: F401

    pkgdir("ct_bad.py", "import ct_kept\nraise ValueError\n")
    assert safeimport("ct_bad") is None
    assert "ct_kept" in sys.modules
    assert "ct_bad" not in sys.modules
