"""Loader: import a module by name, instantiate its first component, register it."""

from __future__ import annotations

import sys
import textwrap
import uuid

import pytest

from circuits import Event, Loader, Manager
from circuits.core.components import BaseComponent

from .support import drain

MODULE = """
from circuits import Component
from circuits.core.debugger import Debugger  # imported, so not "defined here"


class Beta(Component):
    pass


class Alpha(Component):
    def init(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
"""


@pytest.fixture
def isolated(monkeypatch):
    """Undo the loader's sys.path edits and forget modules imported by the test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write_module(tmp_path, source):
    name = f"loadme_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    return name


def load(m, name, channel="loader"):
    value = m.fire(Event.create("load", name), channel)
    drain(m)
    return value.value


@pytest.mark.usefixtures("isolated")
def test_load_event_returns_registered_component(tmp_path):
    name = write_module(tmp_path, MODULE)
    m = Manager()
    loader = Loader(init_args=(1, 2), init_kwargs={"k": 3}, paths=[str(tmp_path)]).register(m)
    drain(m)

    component = load(m, name)
    assert type(component).__name__ == "Alpha"  # first in attribute-name order
    assert type(component).__module__ == name
    assert (component.args, component.kwargs) == ((1, 2), {"k": 3})
    assert component.parent is loader
    assert component in loader.components


@pytest.mark.usefixtures("isolated")
def test_defaults():
    loader = Loader()
    assert loader.channel == "loader"
    assert (loader._auto_register, loader._init_args, loader._init_kwargs) == (True, (), {})


@pytest.mark.usefixtures("isolated")
def test_paths_go_to_the_front(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    Loader(paths=[a, b])
    assert sys.path[:2] == [b, a]


@pytest.mark.usefixtures("isolated")
def test_no_auto_register(tmp_path):
    name = write_module(tmp_path, MODULE)
    loader = Loader(auto_register=False, paths=[str(tmp_path)])
    component = loader.load(name)
    assert isinstance(component, BaseComponent)
    assert component.parent is component


@pytest.mark.usefixtures("isolated")
def test_custom_channel(tmp_path):
    name = write_module(tmp_path, MODULE)
    m = Manager()
    Loader(paths=[str(tmp_path)], channel="plugins").register(m)
    drain(m)
    assert load(m, name, "loader") is None  # nobody listens there
    assert type(load(m, name, "plugins")).__name__ == "Alpha"


@pytest.mark.usefixtures("isolated")
def test_loading_again_reloads(tmp_path):
    name = write_module(tmp_path, MODULE)
    loader = Loader(paths=[str(tmp_path)])
    first = loader.load(name)
    second = loader.load(name)
    assert first is not second
    assert type(first) is not type(second)
    assert type(second).__name__ == "Alpha"


@pytest.mark.usefixtures("isolated")
def test_missing_module_gives_none():
    m = Manager()
    Loader().register(m)
    drain(m)
    assert load(m, f"no_such_module_{uuid.uuid4().hex}") is None


@pytest.mark.usefixtures("isolated")
def test_broken_module_gives_none_and_is_forgotten(tmp_path):
    name = write_module(tmp_path, "import os\nraise RuntimeError('broken')\n")
    loader = Loader(paths=[str(tmp_path)])
    assert loader.load(name) is None
    assert name not in sys.modules


@pytest.mark.usefixtures("isolated")
def test_module_without_components_gives_none(tmp_path):
    name = write_module(tmp_path, "from circuits import Component\nX = 1\n")
    loader = Loader(paths=[str(tmp_path)])
    assert loader.load(name) is None
    assert loader.components == set()
