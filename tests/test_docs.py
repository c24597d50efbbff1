"""The code in docs/ runs and does what the page says it does.

Every page directly in docs/ is checked (docs/reference/ is generated from
docstrings and holds no examples), except those in `NOT_HERE`. The fence
language of a block says how it is checked:

``python``
    A program. It runs in a fresh interpreter (``-W error``) in an empty
    temporary directory, bounded by a timeout; it must exit 0 and leave
    nothing on stderr (but a web server's ready banner). The ```text
    block that must follow it is its exact standard output (an empty
    ```text block for a program that prints nothing).
``python-redis``
    The same, with a real redis-server on an ephemeral port (started as
    tests/node/ does, skipped where there is none) whose URL is in the
    environment variable ``CIRCUITS_NODE_URL``.
``python-pytest``
    A test file that must pass: written to a temporary directory and run
    with ``python -m pytest`` (the circuits.testing plugin gives it its
    fixtures). No output block.
``python-app``
    A module served by the ``circuits.web`` command in the ```text block
    that follows it: the module is written where ``--app MODULE:NAME``
    finds it (``myapp.web`` is ``myapp/web.py``), the command runs with
    ``-b 127.0.0.1:0`` instead of its address, ``GET /`` must answer 200,
    and SIGTERM must end it with status 0.
``python-compile``
    Code that needs a server the test machine cannot have, only compiled:
    the STOMP client of networking.md needs a STOMP broker (ActiveMQ,
    RabbitMQ), which is neither a Python package nor installed in CI.
    Rare on purpose (`test_compile_only_is_rare`).

Blocks of any other language (``text``, ``ini``, ``nginx``) are not code.
A ``python*`` block of a kind not listed here fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import urllib.request
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Pages whose code is checked by a test of their own.
NOT_HERE = {
    # Its listings are excerpts of examples/chat/, which tests/test_tutorial.py
    # compares with the files and runs.
    "tutorial.md": "tests/test_tutorial.py",
}
PAGES = sorted(p.name for p in DOCS.glob("*.md") if p.name not in NOT_HERE)
TIMEOUT_S = 30
READY_TIMEOUT_S = 15.0

BANNER = re.compile(r"^circuits\.web/\S+ ready! Listening on: (\S+)\n", re.M)
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.M | re.S)
# Kinds whose next block is their ```text: output (python, python-redis) or command (python-app).
PAIRED = {"python", "python-redis", "python-app"}
KINDS = PAIRED | {"python-pytest", "python-compile"}


def blocks(page: str) -> list[tuple[str, str, int]]:
    """``(language, code, line)`` of each fenced block of ``page``."""
    text = (DOCS / page).read_text()
    return [
        (m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)
    ]


def examples(page: str) -> list[tuple[str, int, str, str]]:
    """``(kind, line, code, text after it)`` for each python block of ``page``."""
    found = []
    for (lang, code, line), (next_lang, after, _) in pairwise([*blocks(page), ("", "", 0)]):
        if not lang.startswith("python"):
            continue
        assert lang in KINDS, f"{page}:{line}: unknown kind {lang!r}; expected one of {KINDS}"
        if lang in PAIRED:
            assert next_lang == "text", f"{page}:{line}: a {lang} block needs a text block after it"
        found.append((lang, line, code, after if lang in PAIRED else ""))
    return found


CASES = [(page, *example) for page in PAGES for example in examples(page)]
IDS = [f"{page}:{line}" for page, _, line, _, _ in CASES]


def test_pages_are_found():
    assert {"design.md", "testing.md", "deploying.md"} <= set(PAGES)
    assert "tutorial.md" not in PAGES


@pytest.mark.parametrize("page", PAGES)
def test_blocks_are_known_kinds(page):
    examples(page)  # asserts on unknown kinds and missing output blocks


def test_every_kind_is_used():
    assert {kind for _, kind, _, _, _ in CASES} == KINDS


def run_program(code: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    # A circuits.web server announces itself on stderr when ready (web.md §3.1).
    assert BANNER.sub("", proc.stderr) == ""
    return proc.stdout


def run_redis(code: str, tmp_path: Path) -> str:
    from tests.node.brokers import redis_server

    with redis_server(tmp_path) as redis:
        return run_program(code, tmp_path, env=dict(os.environ, CIRCUITS_NODE_URL=redis.url))


def run_pytest(code: str, tmp_path: Path) -> None:
    (tmp_path / "test_example.py").write_text(code)
    if importlib.util.find_spec("pytest_asyncio") is not None:
        # What a project using pytest-asyncio sets, lest that plugin warn (an error here).
        (tmp_path / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout, proc.stdout
    assert "skipped" not in proc.stdout, proc.stdout


def serve_app(code: str, command: str, tmp_path: Path) -> None:
    argv = shlex.split(command.strip())
    assert argv[0] == "circuits.web", f"expected a circuits.web command, not {command!r}"
    argv = argv[1:]
    module = argv[argv.index("--app") + 1].partition(":")[0]
    path = tmp_path.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for package in path.relative_to(tmp_path).parents:
        if package != Path("."):
            (tmp_path / package / "__init__.py").touch()
    path.write_text(code)
    argv[argv.index("-b") + 1] = "127.0.0.1:0"  # an ephemeral port, announced in the banner
    proc = subprocess.Popen(
        [sys.executable, "-W", "error", "-m", "circuits.web", *argv],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _wait_for_banner(proc)
        with urllib.request.urlopen(url + "/", timeout=5) as response:
            assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=TIMEOUT_S)
        assert proc.returncode == 0, stderr
        assert BANNER.sub("", stderr) == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _wait_for_banner(proc: subprocess.Popen[str]) -> str:
    """The URL of the first ready banner on ``proc``'s stderr."""
    found: list[str] = []
    seen: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in iter(proc.stderr.readline, ""):
            seen.append(line)
            match = BANNER.match(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
                return
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(READY_TIMEOUT_S), f"no ready banner in {READY_TIMEOUT_S} s: {seen}"
    assert found, f"the server exited with {proc.wait()}: {''.join(seen)}"
    return found[0]


@pytest.mark.slow
@pytest.mark.parametrize(("page", "kind", "line", "code", "after"), CASES, ids=IDS)
def test_example(page, kind, line, code, after, tmp_path):
    if kind == "python":
        assert run_program(code, tmp_path) == after
    elif kind == "python-redis":
        assert run_redis(code, tmp_path) == after
    elif kind == "python-pytest":
        run_pytest(code, tmp_path)
    elif kind == "python-app":
        serve_app(code, after, tmp_path)
    else:
        compile(code, f"{page}:{line}", "exec")


def test_compile_only_is_rare():
    # Only code that needs a server the test machine cannot have is left unrun.
    compiled = [f"{page}:{line}" for page, kind, line, _, _ in CASES if kind == "python-compile"]
    assert len(compiled) <= 1, compiled
