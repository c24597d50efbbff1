"""The public surface: every name exists, re-exports are one object, imports stay light.

The table below is the ``circuits`` and ``circuits.core*`` part of the spec's
``api-surface.tsv`` (module, name, kind).
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

import circuits

SURFACE = """
    circuits BaseComponent class
    circuits Bridge class
    circuits Component class
    circuits Debugger class
    circuits Event class
    circuits Loader class
    circuits Manager class
    circuits TimeoutError class
    circuits Timer class
    circuits Worker class
    circuits handler function
    circuits ipc class
    circuits reprhandler function
    circuits sleep function
    circuits task class
    circuits.core BaseComponent class
    circuits.core Bridge class
    circuits.core Component class
    circuits.core Debugger class
    circuits.core Event class
    circuits.core Loader class
    circuits.core Manager class
    circuits.core TimeoutError class
    circuits.core Timer class
    circuits.core Value class
    circuits.core Worker class
    circuits.core handler function
    circuits.core ipc class
    circuits.core reprhandler function
    circuits.core sleep function
    circuits.core task class
    circuits.core.bridge BaseComponent class
    circuits.core.bridge Bridge class
    circuits.core.bridge Event class
    circuits.core.bridge Value class
    circuits.core.bridge exception class
    circuits.core.bridge handler function
    circuits.core.bridge ipc class
    circuits.core.components BaseComponent class
    circuits.core.components Component class
    circuits.core.components Event class
    circuits.core.components HandlerMetaClass class
    circuits.core.components Manager class
    circuits.core.components handler function
    circuits.core.components prepare_unregister class
    circuits.core.components registered class
    circuits.core.components unregistered class
    circuits.core.debugger BaseComponent class
    circuits.core.debugger Debugger class
    circuits.core.debugger handler function
    circuits.core.debugger reprhandler function
    circuits.core.events Event class
    circuits.core.events exception class
    circuits.core.events generate_events class
    circuits.core.events registered class
    circuits.core.events signal class
    circuits.core.events started class
    circuits.core.events stopped class
    circuits.core.events unregistered class
    circuits.core.handlers HandlerMetaClass class
    circuits.core.handlers Unknown class
    circuits.core.handlers getargspec function
    circuits.core.handlers handler function
    circuits.core.handlers reprhandler function
    circuits.core.helpers BaseComponent class
    circuits.core.helpers FallBackExceptionHandler class
    circuits.core.helpers FallBackGenerator class
    circuits.core.helpers FallBackSignalHandler class
    circuits.core.helpers handler function
    circuits.core.helpers reprhandler function
    circuits.core.loader BaseComponent class
    circuits.core.loader Loader class
    circuits.core.loader handler function
    circuits.core.loader safeimport function
    circuits.core.manager CallValue class
    circuits.core.manager Event class
    circuits.core.manager ExceptionWrapper class
    circuits.core.manager Manager class
    circuits.core.manager Sleep class
    circuits.core.manager TIMEOUT value
    circuits.core.manager TimeoutError class
    circuits.core.manager UnregistrableError class
    circuits.core.manager Value class
    circuits.core.manager exception class
    circuits.core.manager generate_events class
    circuits.core.manager handler function
    circuits.core.manager signal class
    circuits.core.manager sleep function
    circuits.core.manager started class
    circuits.core.manager stopped class
    circuits.core.pollers BaseComponent class
    circuits.core.pollers BasePoller class
    circuits.core.pollers EPoll class
    circuits.core.pollers Event class
    circuits.core.pollers KQueue class
    circuits.core.pollers Poll class
    circuits.core.pollers Poller class
    circuits.core.pollers Select class
    circuits.core.pollers handler function
    circuits.core.timers BaseComponent class
    circuits.core.timers Timer class
    circuits.core.timers handler function
    circuits.core.utils findchannel function
    circuits.core.utils findcmp function
    circuits.core.utils findroot function
    circuits.core.utils findtype function
    circuits.core.utils flatten function
    circuits.core.utils safeimport function
    circuits.core.values Event class
    circuits.core.values Value class
    circuits.core.workers BaseComponent class
    circuits.core.workers DEFAULT_WORKERS value
    circuits.core.workers Event class
    circuits.core.workers Worker class
    circuits.core.workers handler function
    circuits.core.workers task class
"""

ROWS = [tuple(line.split()) for line in SURFACE.strip().splitlines()]
MODULES = sorted({module for module, _, _ in ROWS})
SRC = Path(circuits.__file__).resolve().parent


def test_the_table_is_complete():
    assert len(ROWS) == 116
    assert len(MODULES) == 15


@pytest.mark.parametrize(("module", "name", "kind"), ROWS, ids=lambda x: str(x))
def test_name_exists_with_its_kind(module, name, kind):
    obj = getattr(importlib.import_module(module), name)
    if kind == "class":
        assert isinstance(obj, type), f"{module}.{name} is {obj!r}, expected a class"
    elif kind == "function":
        assert callable(obj)
        assert not isinstance(obj, type)
    else:
        assert kind == "value"
        assert not callable(obj)


def _paths_by_name():
    paths = defaultdict(list)
    for module, name, _ in ROWS:
        paths[name].append(module)
    return {name: mods for name, mods in paths.items() if len(mods) > 1}


@pytest.mark.parametrize(("name", "modules"), sorted(_paths_by_name().items()))
def test_a_reexport_is_the_same_object_under_every_path(name, modules):
    objects = {id(getattr(importlib.import_module(m), name)) for m in modules}
    assert len(objects) == 1, f"{name} differs between {modules}"


def test_spec_identities():
    from circuits.core import components, events, manager, utils

    assert circuits.Event is circuits.core.Event is events.Event
    assert circuits.TimeoutError is manager.TimeoutError
    assert utils.findcmp is utils.findtype
    assert components.Component.__mro__[1] is components.BaseComponent


def test_timeout_error_is_circuits_own():
    from circuits.core.manager import TimeoutError as CircuitsTimeoutError

    assert CircuitsTimeoutError is not TimeoutError  # not the builtin
    assert CircuitsTimeoutError.__bases__ == (Exception,)


def test_value_is_not_exported_from_the_top_level():
    assert not hasattr(circuits, "Value")


def test_core_all():
    assert isinstance(circuits.core.__all__, tuple)
    assert set(circuits.core.__all__) == {
        "handler",
        "BaseComponent",
        "Component",
        "Event",
        "task",
        "Worker",
        "ipc",
        "Bridge",
        "Debugger",
        "Timer",
        "Manager",
        "TimeoutError",
    }


def test_pollers_all():
    from circuits.core import pollers

    assert set(pollers.__all__) == {"BasePoller", "EPoll", "KQueue", "Poll", "Poller", "Select"}


def test_constants():
    from circuits.core.manager import TIMEOUT
    from circuits.core.workers import DEFAULT_WORKERS

    assert TIMEOUT == 0.1
    assert DEFAULT_WORKERS == 10


def test_version_and_package_metadata():
    from circuits import version

    assert isinstance(circuits.__version__, str)
    assert circuits.__version__ == version.version == version.__version__
    assert version.version_tuple == version.__version_tuple__
    assert isinstance(version.version_tuple, tuple)
    assert version.commit_id == version.__commit_id__
    assert version.commit_id is None or isinstance(version.commit_id, str)
    assert set(version.__all__) == {
        "__version__",
        "__version_tuple__",
        "version",
        "version_tuple",
        "__commit_id__",
        "commit_id",
    }
    assert circuits.__author__ == "James Mills"
    assert isinstance(circuits.__date__, str)


# -- what importing costs (§17, STYLE §8 guard tests) ---------------------------------------

_PROBE = """
import json, sys
before = set(sys.modules)
import circuits
after = set(sys.modules)
for module in %r:
    __import__(module)
everything = set(sys.modules)
print(json.dumps({"import": sorted(after - before), "all": sorted(everything - before)}))
"""


@pytest.fixture(scope="module")
def imported():
    """Modules loaded by ``import circuits`` and by importing the whole core, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE % [*MODULES, "circuits.tools", "circuits.version"]],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_import_circuits_loads_no_network_web_or_app_module(imported):
    heavy = ("net", "io", "node", "protocols", "web", "app")
    loaded = [
        m for m in imported["import"] if m.startswith("circuits.") and m.split(".")[1] in heavy
    ]
    assert loaded == []
    assert "circuits.core" in imported["import"]
    assert "circuits.tools" in imported["import"]
    assert "circuits.version" in imported["import"]


def test_the_core_imports_only_the_standard_library(imported):
    top = {m.split(".")[0] for m in imported["all"]}
    # __mp_main__ is multiprocessing's alias of __main__, not a package
    foreign = sorted(top - set(sys.stdlib_module_names) - {"circuits", "__mp_main__"})
    assert foreign == []


def _module_level_imports(path):
    """Top-level names imported by a module outside functions and ``try`` blocks."""
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.If) and not (
            isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        ):
            todo.extend(node.body + node.orelse)
    return names


@pytest.mark.parametrize(
    "path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC.parent))
)
def test_every_module_imports_only_the_standard_library_at_load_time(path):
    # an extra's library is imported inside the function that needs it (STYLE §8)
    foreign = _module_level_imports(path) - set(sys.stdlib_module_names) - {"circuits"}
    assert foreign == set()
