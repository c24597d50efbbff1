"""README's two commands and CI agree."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    assert text.startswith("```\n"), "README.md must open with a code block"
    block = text[4:].split("```", 1)[0]
    return block.strip("\n").split("\n")


def test_readme_opens_with_exactly_two_commands():
    lines = readme_commands()
    assert len(lines) == 2, lines
    assert "127.0.0.1" not in lines[1]


def test_ci_runs_exactly_readme_line_2():
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [s for s in script if s.strip() and not s.lstrip().startswith("#")]
    assert "set -euo pipefail" in commands
    assert commands[-1] == readme_commands()[1]


def test_readme_line_1_serves_the_example():
    line = readme_commands()[0]
    example = line.rsplit(" ", 1)[-1]
    assert (ROOT / example).is_file(), example


def test_readme_example_runs():
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.split("\n") == ["ping 1", "ping 2", "ping 3", ""]
    assert out.stderr == ""
