"""The documentation site (mkdocs.yml) builds with no warning.

``mkdocs build --strict`` fails on any warning: a broken link or anchor
between pages, or a docstring of the reference pages (mkdocstrings) that
documents a parameter its signature lacks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 50  # about 2 s; the pytest timeout of the suite is 60 s


@pytest.mark.slow
def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (the dev extra)")
    pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (the dev extra)")
    site = tmp_path / "site"
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
    assert proc.returncode == 0, proc.stderr
    assert (site / "index.html").is_file()
    for page in ("core", "web", "net", "node", "testing", "io", "protocols", "app", "tools"):
        assert (site / "reference" / page / "index.html").is_file()
