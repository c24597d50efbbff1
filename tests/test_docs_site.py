"""The documentation site (mkdocs.yml) builds with no warning and documents the API.

``mkdocs build --strict`` fails on any warning: a broken link or anchor
between pages, or a docstring of the reference pages (mkdocstrings) that
documents a parameter its signature lacks.

The reference pages (docs/reference/*.md) must document every public name
of ``tests/data/api-surface.tsv``. mkdocstrings gives each documented object
an HTML id equal to the path it is documented under
(``id="circuits.web.Server"``), so the built pages are searched for those ids.
The site is built once for both tests.
"""

from __future__ import annotations

import csv
import inspect
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SURFACE = Path(__file__).resolve().parent / "data" / "api-surface.tsv"
TIMEOUT_S = 50  # about 3 s; the pytest timeout of the suite is 60 s
PAGES = ("core", "web", "net", "node", "testing", "io", "protocols", "app", "tools")
_ID = re.compile(r'\bid="([^"]+)"')
_MISSING = object()
Built = tuple[subprocess.CompletedProcess[str], Path]


@pytest.fixture(scope="module")
def built_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (the dev extra)")
    pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (the dev extra)")
    site = tmp_path_factory.mktemp("docs") / "site"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return proc, site


@pytest.mark.slow
def test_site_builds_strict(built_site: Built) -> None:
    proc, site = built_site
    assert proc.returncode == 0, proc.stderr
    assert (site / "index.html").is_file()
    for page in PAGES:
        assert (site / "reference" / page / "index.html").is_file()


def _module(path: str, cache: dict[str, ModuleType | None]) -> ModuleType | None:
    """The module ``path``, or ``None`` when it is no (importable) module."""
    if path not in cache:
        try:
            cache[path] = import_module(path)
        except ImportError:
            cache[path] = None
    return cache[path]


def _undocumented(ids: set[str]) -> list[str]:
    """The rows of api-surface.tsv that no id of the built site documents."""
    parents: dict[str, list[str]] = {}  # name -> P of every id "P.name"
    for ident in ids:
        parent, dot, name = ident.rpartition(".")
        if dot and parent.startswith("circuits"):
            parents.setdefault(name, []).append(parent)
    cache: dict[str, ModuleType | None] = {}
    missing = []
    with SURFACE.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row:
                continue
            module, name, kind = row
            if kind.endswith("module"):
                # A submodule (``*``: the module itself) has its own section.
                path = module if name == "*" else f"{module}.{name}"
                if path not in ids:
                    missing.append(f"{module}\t{name}\t{kind}")
                continue
            mod = _module(module, cache)
            obj: Any = _MISSING if mod is None else getattr(mod, name, _MISSING)
            if obj is _MISSING:
                continue  # a missing name: test_api_surface.py reports it
            # A class or function counts wherever it is documented; a value
            # only under its module or a package above it that re-exports it.
            anywhere = inspect.isclass(obj) or inspect.isroutine(obj)
            if not any(
                (anywhere or parent == module or module.startswith(parent + "."))
                and (pmod := _module(parent, cache)) is not None
                and getattr(pmod, name, _MISSING) is obj
                for parent in parents.get(name, ())
            ):
                missing.append(f"{module}\t{name}\t{kind}")
    return missing


@pytest.mark.slow
def test_reference_documents_every_public_name(built_site: Built) -> None:
    proc, site = built_site
    assert proc.returncode == 0, proc.stderr
    ids: set[str] = set()
    for page in site.rglob("*.html"):
        ids.update(_ID.findall(page.read_text(encoding="utf-8")))
    missing = _undocumented(ids)
    assert not missing, f"{len(missing)} public names not in the reference:\n" + "\n".join(missing)
