"""The code in docs/ runs and prints what the page says it prints.

A page pairs each ```python block with the ```text block that follows it:
the program's exact standard output. Each program runs in a fresh
interpreter, bounded by a timeout, and must leave nothing on stderr
(but a web server's ready banner). Blocks
of any other language (```text alone, ```python-skip for code that needs
something the test machine lacks, such as a message broker) are not run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ["asyncio.md", "networking.md", "web.md", "scaling.md", "testing.md"]
TIMEOUT_S = 30

BANNER = re.compile(r"^circuits\.web/\S+ ready! Listening on: \S+\n", re.M)
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.M | re.S)


def examples(page: str) -> list[tuple[int, str, str]]:
    """``(line, code, expected output)`` for each python block of ``page``."""
    text = (DOCS / page).read_text()
    blocks = [
        (m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)
    ]
    blocks.append(("", "", 0))  # the end of the page
    found = []
    for (lang, code, line), (next_lang, output, _) in pairwise(blocks):
        if lang == "python":
            assert next_lang == "text", f"{page}:{line}: a python block needs its output after it"
            found.append((line, code, output))
    return found


CASES = [(page, *example) for page in PAGES for example in examples(page)]


@pytest.mark.parametrize("page", PAGES)
def test_page_has_examples(page):
    assert examples(page)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "line", "code", "expected"),
    CASES,
    ids=[f"{page}:{line}" for page, line, _, _ in CASES],
)
def test_example_prints_its_output(page, line, code, expected):
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # A circuits.web server announces itself on stderr when ready (web.md §3.1).
    assert BANNER.sub("", proc.stderr) == ""
    assert proc.stdout == expected
