"""``circuits.web --reload`` (circuits.web._reload): edits of the app's source reload the workers.

The servers run as in test_workers (subprocesses in their own process group,
killed in teardown); waits poll with deadlines.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest
import test_workers as tw

from circuits.web import _reload
from circuits.web._reload import PollingWatcher, make_watcher, source_roots
from circuits.web.main import parse_options

BROKEN = "def broken(:\n"  # a syntax error


def serves(srv: tw.Running, version: str) -> bool:
    response = srv.get("/version")
    assert response.status_code == 200, response.text
    return bool(response.text == version)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX processes and signals")
@pytest.mark.parametrize(
    ("poll", "workers"), [("0", []), ("1", ["--workers", "2"])], ids=["inotify", "polling"]
)
def test_an_edit_reloads_a_syntax_error_keeps_the_old_workers(app_dir, monkeypatch, poll, workers):
    monkeypatch.setenv(_reload.POLL_ENV, poll)
    with tw.launch(tw.command("--app", "wapp:Root", "--reload", *workers), app_dir) as srv:
        count = 2 if workers else 1  # --reload alone: one worker
        srv.wait_line(lambda line: f"supervisor started, {count} worker(s)" in line, "the start")
        kind = "polling" if poll == "1" else "inotify"
        srv.wait_line(lambda line: f"({kind})" in line and "reload: watching" in line, kind)
        assert serves(srv, "v1")

        tw.write_app(app_dir, "version-two")
        # Every new worker imported it (a later edit could reach one still starting).
        srv.wait_line(lambda line: "reload done" in line, "the reload")
        assert serves(srv, "version-two")
        assert srv.count("changed: wapp.py") == 1

        (app_dir / "wapp.py").write_text(BROKEN)
        srv.wait_line(lambda line: "reload abandoned" in line, "the failed reload")
        with srv.changed:
            assert any("invalid syntax" in line for line in srv.err), srv.err
        assert serves(srv, "version-two")  # the old workers still serve

        tw.write_app(app_dir, "version-3")
        tw.wait_until(lambda: tw.reloaded(srv, 2), "the second reload")
        assert serves(srv, "version-3")

        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(timeout=tw.STOP_TIMEOUT_S) == 0
        tw.assert_group_gone(srv.proc.pid)


def test_reload_needs_app(capsys, tmp_path):
    with pytest.raises(SystemExit) as raised:
        parse_options(["--reload", str(tmp_path)])
    assert raised.value.code == 2
    assert "--reload watches the --app module's source" in capsys.readouterr().err


def test_reload_implies_one_worker(tmp_path):
    assert parse_options(["--reload", "--app", "m:App", str(tmp_path)]).workers == 1
    assert parse_options(["--reload", "--app", "m:App", "-j", "3", str(tmp_path)]).workers == 3
    assert parse_options([str(tmp_path)]).reload is False


def test_source_roots_of_a_module_and_of_a_package(tmp_path, monkeypatch):
    (tmp_path / "solo.py").write_text("")
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    (package / "sub" / "views.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert source_roots("solo") == [(str(tmp_path), False)]
    assert source_roots("pkg.sub.views") == [(str(package), True)]
    with pytest.raises(ValueError, match="cannot find module 'nonesuch'"):
        source_roots("nonesuch.x")


def test_polling_watcher_reports_changed_added_and_removed_files(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("1")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("")
    watcher = PollingWatcher([(str(tmp_path), True)], interval=0)
    assert watcher.files == [str(tmp_path / "a.py"), str(tmp_path / "sub" / "b.py")]
    assert watcher.changed() == []
    (tmp_path / "a.py").write_text("22")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "sub" / "b.py").unlink()
    (tmp_path / "c.py").write_text("")
    assert watcher.changed() == [
        str(tmp_path / "a.py"),
        str(tmp_path / "c.py"),
        str(tmp_path / "sub" / "b.py"),
    ]
    assert watcher.changed() == []
    monkeypatch.setenv(_reload.POLL_ENV, "1")
    assert make_watcher([(str(tmp_path), False)]).kind == "polling"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_inotify_watcher_reports_python_files_only(tmp_path, monkeypatch):
    monkeypatch.delenv(_reload.POLL_ENV, raising=False)
    watcher = make_watcher([(str(tmp_path), False)])
    try:
        assert watcher.kind == "inotify"
        (tmp_path / "notes.txt").write_text("")
        (tmp_path / "app.py").write_text("")
        seen: set[str] = set()

        def changed() -> bool:
            seen.update(watcher.changed())
            return bool(seen)

        tw.wait_until(changed, "a change")
        assert seen == {str(tmp_path / "app.py")}
    finally:
        watcher.close()


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "static").mkdir()
    tw.write_app(tmp_path, "v1")
    return tmp_path
