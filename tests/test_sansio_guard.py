"""The sans-I/O engines import no I/O and nothing of the framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SANSIO = Path(__file__).resolve().parent.parent / "src" / "circuits" / "_sansio"
FORBIDDEN = {"socket", "ssl", "select", "selectors", "threading", "asyncio", "circuits.core"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against circuits._sansio
                base = ["circuits", "_sansio", *path.relative_to(SANSIO).parts[:-1]]
                base = base[: len(base) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(SANSIO.rglob("*.py")), ids=lambda p: p.name)
def test_engine_imports_no_io(path):
    bad = {
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
        or (name.startswith("circuits.") and not name.startswith("circuits._sansio"))
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_guard_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "engine.py"
    bad.write_text("import socket\nfrom circuits.core import Event\n")
    assert imported_modules(bad) >= {"socket", "circuits.core"}
