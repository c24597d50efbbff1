"""DropPrivileges: a no-op for non-root; as root, a forked child becomes nobody."""

from __future__ import annotations

import grp
import json
import os
import pwd

import pytest

from circuits import Component, Event, Manager
from circuits.app import DropPrivileges

root_only = pytest.mark.skipif(os.getuid() != 0, reason="needs root")


def drain(m):
    for _ in range(100):
        if not len(m):
            return
        m.flush()
    raise AssertionError(f"queue of {m!r} never drained")


def nobody_group():
    for name in ("nobody", "nogroup"):
        try:
            grp.getgrnam(name)
        except KeyError:
            continue
        return name
    pytest.skip("no nobody/nogroup group")


def in_child(fn):
    """Run ``fn()`` in a forked child; return what it returned (JSON) or its exit status."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 0
        try:
            os.close(r)
            result = fn()
            os.write(w, json.dumps(result).encode())
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
        except BaseException:
            status = 99
        finally:
            os._exit(status & 0xFF)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    return (json.loads(data) if data else None), os.waitstatus_to_exitcode(status)


def test_defaults():
    d = DropPrivileges()
    assert (d.user, d.group, d.umask) == ("nobody", "nobody", 0o077)
    assert d.channel == "*"
    d = DropPrivileges("u", "g", None, channel="web")
    assert (d.user, d.group, d.umask, d.channel) == ("u", "g", None, "web")


def test_non_root_is_a_no_op(monkeypatch):
    def forbidden(*args):
        raise AssertionError("must not change ids")

    monkeypatch.setattr(os, "getuid", lambda: 1000)
    for name in ("setuid", "setgid", "setgroups", "umask"):
        monkeypatch.setattr(os, name, forbidden)
    DropPrivileges(user="no-such-user-x").drop_privileges()


def test_ready_drops_then_unregisters(monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    m = Manager()
    dp = DropPrivileges().register(m)
    drain(m)
    m.fire(Event.create("ready", "server", ("127.0.0.1", 80)))
    drain(m)
    assert dp.parent is dp
    assert m.components == set()


def test_ready_with_one_argument_is_an_error(monkeypatch):
    # Quirk 32: only the two-argument server form of "ready" is expected.
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    errors = []

    class Catcher(Component):
        def exception(self, etype, evalue, tb, handler=None, fevent=None):
            errors.append(etype)

    m = Manager()
    Catcher().register(m)
    dp = DropPrivileges().register(m)
    drain(m)
    m.fire(Event.create("ready", "client"))
    drain(m)
    assert errors == [TypeError]
    assert dp.parent is m


@root_only
def test_unknown_user_exits(capsys):
    with pytest.raises(SystemExit) as info:
        DropPrivileges(user="no-such-user-x").drop_privileges()
    assert info.value.code == -1
    out = capsys.readouterr().out
    assert out.startswith("ERROR: Could not drop privileges ")
    assert "Traceback (most recent call last):" in out
    assert os.getuid() == 0


@root_only
def test_root_becomes_nobody():
    group = nobody_group()
    expected_uid = pwd.getpwnam("nobody").pw_uid
    expected_gid = grp.getgrnam(group).gr_gid

    def drop():
        DropPrivileges(group=group, umask=0o027).drop_privileges()
        return [os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), os.umask(0)]

    result, status = in_child(drop)
    assert status == 0
    assert result == [expected_uid, expected_uid, expected_gid, [], 0o027]
    assert os.getuid() == 0


@root_only
def test_root_ready_event_drops_and_unregisters():
    group = nobody_group()

    def drop():
        m = Manager()
        dp = DropPrivileges(group=group, umask=None).register(m)
        drain(m)
        m.fire(Event.create("ready", "server", ("0.0.0.0", 80)))
        drain(m)
        return [os.getuid(), dp.parent is dp]

    result, status = in_child(drop)
    assert status == 0
    assert result == [pwd.getpwnam("nobody").pw_uid, True]
