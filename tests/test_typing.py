"""Users' programs type-check under ``mypy --strict`` and get useful types.

``tests/typing/sample_*.py`` use the public API as applications do and pin
the types they rely on with ``assert_type``: they must check clean.
``tests/typing/misuse.py`` holds mistakes, each marked ``# E: <text>``: every
marked line must get an error containing the text, and no other line one.
Both are checked in one mypy run, as a user would: ``--strict``, the oldest
supported Python, the installed package (``py.typed``), none of our config.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
SAMPLES = HERE / "typing"
MISUSE = SAMPLES / "misuse.py"
# A cache of its own: the options differ from the project's mypy run.
CACHE_DIR = HERE.parent / ".mypy_cache" / "tests-typing"

_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<text>.*)$")
_EXPECTED = re.compile(r"\S  # E: (?P<text>.+?)\s*$")  # an inline comment after code


@pytest.fixture(scope="module")
def mypy_errors() -> dict[str, dict[int, list[str]]]:
    """Run mypy once on every file; errors by file name, then by line."""
    files = sorted(str(p) for p in SAMPLES.glob("*.py"))
    assert len(files) >= 5, files
    stdout, stderr, status = api.run(
        [
            "--config-file=",  # a user's settings, not the project's
            "--strict",
            "--python-version=3.10",
            f"--cache-dir={CACHE_DIR}",
            "--show-error-codes",
            "--no-error-summary",
            "--no-pretty",
            "--no-color-output",
            "--hide-error-context",
            *files,
        ]
    )
    assert status in (0, 1), f"mypy crashed (status {status}):\n{stderr}{stdout}"
    errors: dict[str, dict[int, list[str]]] = {}
    for line in stdout.splitlines():
        m = _ERROR.match(line)
        if m is not None:
            by_line = errors.setdefault(Path(m["path"]).name, {})
            by_line.setdefault(int(m["line"]), []).append(m["text"])
        else:
            assert ": note: " in line, f"unexpected mypy output: {line!r}"
    return errors


@pytest.mark.parametrize(
    "name", sorted(p.name for p in SAMPLES.glob("sample_*.py")), ids=lambda n: n[:-3]
)
def test_sample_checks_clean(mypy_errors: dict[str, dict[int, list[str]]], name: str) -> None:
    found = mypy_errors.get(name, {})
    report = [f"{name}:{n}: {t}" for n, texts in sorted(found.items()) for t in texts]
    assert not report, "\n".join(report)


def test_misuse_is_caught(mypy_errors: dict[str, dict[int, list[str]]]) -> None:
    expected = {
        n: m["text"]
        for n, line in enumerate(MISUSE.read_text().splitlines(), 1)
        if (m := _EXPECTED.search(line)) is not None
    }
    assert len(expected) >= 15, expected
    found = mypy_errors.get(MISUSE.name, {})
    problems = []
    for n, text in sorted(expected.items()):
        texts = found.get(n, [])
        if not any(text in t for t in texts):
            problems.append(f"line {n}: expected an error containing {text!r}, got {texts}")
    problems += [f"line {n}: unexpected {texts}" for n, texts in found.items() if n not in expected]
    assert not problems, "\n".join(problems)
