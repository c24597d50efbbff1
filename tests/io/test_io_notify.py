"""circuits.io.notify: inotify over ctypes on a temp dir, recursive watches."""

from __future__ import annotations

import os
import sys

import pytest
from io_support import running

if not sys.platform.startswith("linux"):
    pytest.skip("inotify is Linux only", allow_module_level=True)

import circuits.io
from circuits.io._inotify import IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO
from circuits.io.events import created, deleted, moved
from circuits.io.notify import EVENT_MAP, MASK, Notify

CHANGES = IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO


def named(name):
    return lambda n, *rest: n == name


@pytest.fixture
def watched(tmp_path):
    n = Notify()
    n.add_path(tmp_path, mask=CHANGES, recursive=True)
    with running(n) as (_m, rec):
        rec.wait_for("ready", "notify")
        yield n, rec, tmp_path
    n.close()


def test_exports():
    assert circuits.io.Notify is Notify
    assert Notify.channel == "notify"
    assert MASK == 0xFFF
    assert EVENT_MAP[IN_CREATE] is created
    assert EVENT_MAP[IN_DELETE] is deleted
    assert EVENT_MAP[IN_MOVED_TO] is moved


def test_create_modify_delete_a_file(watched):
    _n, rec, d = watched
    path = d / "f.txt"
    path.write_bytes(b"x")
    e = rec.wait_for("created", "notify", pred=named("f.txt"))
    assert e.args == ["f.txt", str(d), str(path), False]
    rec.wait_for("modified", "notify", pred=named("f.txt"))
    path.unlink()
    e = rec.wait_for("deleted", "notify", pred=named("f.txt"))
    assert e.args == ["f.txt", str(d), str(path), False]


def test_move_fires_moved_for_both_names(watched):
    _n, rec, d = watched
    (d / "a").write_bytes(b"")
    rec.wait_for("created", "notify", pred=named("a"))
    os.rename(d / "a", d / "b")
    rec.wait_for("moved", "notify", pred=named("a"))
    e = rec.wait_for("moved", "notify", pred=named("b"))
    assert e.args[2] == str(d / "b")


def test_new_subdirectory_is_watched(watched):
    n, rec, d = watched
    sub = d / "sub"
    sub.mkdir()
    e = rec.wait_for("created", "notify", pred=named("sub"))
    assert e.args[3] is True  # dir
    assert str(sub) in n.paths
    (sub / "inner.txt").write_bytes(b"1")
    e = rec.wait_for("created", "notify", pred=named("inner.txt"))
    assert e.args == ["inner.txt", str(sub), str(sub / "inner.txt"), False]


def test_files_made_in_a_new_directory_at_once_are_reported(watched):
    _n, rec, d = watched
    deep = d / "x" / "y"
    deep.mkdir(parents=True)
    (deep / "z.txt").write_bytes(b"")
    e = rec.wait_for("created", "notify", pred=named("z.txt"))
    assert e.args[1] == str(deep)


def test_existing_subdirectories_with_recursive(tmp_path):
    (tmp_path / "old").mkdir()
    n = Notify()
    n.add_path(str(tmp_path), mask=CHANGES, recursive=True)
    with running(n) as (_m, rec):
        rec.wait_for("ready", "notify")
        (tmp_path / "old" / "f").write_bytes(b"")
        e = rec.wait_for("created", "notify", pred=named("f"))
        assert e.args[1] == str(tmp_path / "old")
    n.close()


def test_not_recursive_and_no_auto_add(tmp_path):
    (tmp_path / "old").mkdir()
    n = Notify()
    n.add_path(str(tmp_path), mask=CHANGES)  # not recursive
    assert n.paths == [str(tmp_path)]
    n.add_path(str(tmp_path / "old"), mask=CHANGES, recursive=True, auto_add=False)
    with running(n) as (_m, rec):
        rec.wait_for("ready", "notify")
        (tmp_path / "old" / "new").mkdir()
        rec.wait_for("created", "notify", pred=named("new"))
        assert str(tmp_path / "old" / "new") not in n.paths
        (tmp_path / "marker").write_bytes(b"")
        rec.wait_for("created", "notify", pred=named("marker"))
    n.close()


def test_remove_path_stops_reports(tmp_path):
    (tmp_path / "quiet").mkdir()
    n = Notify()
    n.add_path(str(tmp_path), mask=CHANGES)
    n.add_path(str(tmp_path / "quiet"), mask=CHANGES)
    n.remove_path(str(tmp_path / "quiet"))
    n.remove_path(str(tmp_path / "never-watched"))  # ignored
    with running(n) as (_m, rec):
        rec.wait_for("ready", "notify")
        (tmp_path / "quiet" / "ignored").write_bytes(b"")
        (tmp_path / "marker").write_bytes(b"")
        rec.wait_for("created", "notify", pred=named("marker"))
        assert not rec.find("created", "notify", pred=named("ignored"))
    n.close()


def test_remove_path_recursive(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    n = Notify()
    n.add_path(str(tmp_path), mask=CHANGES, recursive=True)
    assert len(n.paths) == 3
    n.remove_path(str(tmp_path / "a"), recursive=True)
    assert n.paths == [str(tmp_path)]
    n.close()


def test_add_path_of_a_missing_directory_raises(tmp_path):
    n = Notify()
    with pytest.raises(FileNotFoundError):
        n.add_path(tmp_path / "missing")
    n.close()


def test_deleting_a_watched_subdirectory_drops_its_watch(watched):
    n, rec, d = watched
    sub = d / "gone"
    sub.mkdir()
    rec.wait_for("created", "notify", pred=named("gone"))
    sub.rmdir()
    rec.wait_for("deleted", "notify", pred=named("gone"))
    (d / "marker").write_bytes(b"")
    rec.wait_for("created", "notify", pred=named("marker"))
    assert str(sub) not in n.paths


def test_close_releases_the_descriptor(tmp_path):
    n = Notify()
    n.add_path(str(tmp_path))
    fd = n._fd
    n.close()
    assert n._fd == -1
    with pytest.raises(OSError):
        os.fstat(fd)
    n.close()  # twice is fine
