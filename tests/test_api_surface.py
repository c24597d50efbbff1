"""Every public name of the 3.2.5 API surface exists, for the areas built so far.

``tests/data/api-surface.tsv`` is the project's copy of the list of public
names (module, name, kind). Areas join ``BUILT`` as their issue lands.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

ROWS = [
    line.split("\t")
    for line in (Path(__file__).parent / "data" / "api-surface.tsv").read_text().splitlines()
    if line.strip()
]
BUILT = (
    "circuits",
    "circuits.core",
    "circuits.app",
    "circuits.tools",
    "circuits.version",
    "circuits.net",
    "circuits.io",
    "circuits.protocols",
    "circuits.web",
    "circuits.node",
)
# Modules the spec makes conditional on the platform.
OPTIONAL = {"circuits.io.notify"}


def in_built_area(module: str) -> bool:
    if module == "circuits":
        return True
    return any(module == area or module.startswith(area + ".") for area in BUILT[1:])


# "optional-module" rows ("*") mark modules that need an optional library in
# 3.2.5; ours need none (inotify through ctypes, STOMP written natively).
CASES = [(m, n, k) for m, n, k in ROWS if in_built_area(m) and k != "optional-module"]


@pytest.mark.parametrize("module", [m for m, _, k in ROWS if k == "optional-module"])
def test_modules_optional_in_3_2_5_import_without_extras(module):
    if module == "circuits.io.notify" and not Path("/proc/sys/fs/inotify").exists():
        pytest.skip("no inotify on this platform")
    importlib.import_module(module)


def test_the_built_areas_have_rows():
    assert len(CASES) > 300


@pytest.mark.parametrize(("module", "name", "kind"), CASES, ids=[f"{m}.{n}" for m, n, _ in CASES])
def test_name_exists_with_its_kind(module, name, kind):
    try:
        mod = importlib.import_module(module)
    except ImportError:
        if module in OPTIONAL:
            pytest.skip(f"{module} is optional on this platform")
        raise
    assert hasattr(mod, name), f"{module}.{name} is missing"
    obj = getattr(mod, name)
    if kind == "class":
        assert inspect.isclass(obj), f"{module}.{name} is not a class"
    elif kind == "function":
        assert callable(obj), f"{module}.{name} is not callable"
        assert not inspect.isclass(obj), f"{module}.{name} is a class, not a function"
