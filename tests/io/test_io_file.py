"""circuits.io.file: File read/write/append/seek/eof/close on real files."""

from __future__ import annotations

import io
import logging
import os

import pytest
from io_support import running

from circuits.core.pollers import Select
from circuits.io import File, close, seek, write
from circuits.io.events import read as read_event


def test_defaults():
    f = File("/nonexistent")
    assert f.channel == "file"
    assert f.closed
    assert f.filename == "/nonexistent"
    assert f.mode == "r"
    assert f._fd is None
    assert f._poller is None
    assert not f._buffer


def test_read_fires_chunks_then_eof_then_closed(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(b"Hello World!")
    f = File(str(path))
    with running(f) as (_m, rec):
        rec.wait_for("closed", "file")
        assert [e.args for e in rec.find("ready", "file")] == [[f]]
        assert rec.find("opened", "file")[0].args == [str(path), "r"]
        assert rec.data("file") == b"Hello World!"
        assert rec.find("read", "file")[0].notify is True
        names = [e.name for e in rec.events if "file" in e.channels]
        assert names.index("eof") < names.index("closed")
        assert f.closed


def test_read_in_bufsize_chunks(tmp_path):
    path = tmp_path / "big.bin"
    payload = os.urandom(10_000)
    path.write_bytes(payload)
    f = File(str(path), "rb", bufsize=4096)
    with running(f) as (_m, rec):
        rec.wait_for("closed", "file")
        assert [len(e.args[0]) for e in rec.find("read", "file")] == [4096, 4096, 1808]
        assert rec.data("file") == payload


def test_write_then_close_flushes(tmp_path):
    path = tmp_path / "out.txt"
    f = File(str(path), "w")
    with running(f) as (m, rec):
        rec.wait_for("opened", "file")
        m.fire(write("Hello "), "file")
        m.fire(write(b"World!"), "file")
        m.fire(close(), "file")
        rec.wait_for("closed", "file")
    assert path.read_bytes() == b"Hello World!"


def test_write_before_open_is_kept(tmp_path):
    path = tmp_path / "early.txt"
    f = File(str(path), "wb")
    m_fire = f.fire  # queued on the unregistered component, moved to the root
    m_fire(write(b"early"), "file")
    m_fire(close(), "file")
    with running(f) as (_m, rec):
        rec.wait_for("closed", "file")
    assert path.read_bytes() == b"early"


def test_append_mode_appends_and_stays_open_after_eof(tmp_path):
    path = tmp_path / "log.txt"
    path.write_bytes(b"one\n")
    f = File(str(path), "a+")
    with running(f) as (m, rec):
        rec.wait_for("eof", "file")
        assert not f.closed
        m.fire(write(b"two\n"), "file")
        m.fire(close(), "file")
        rec.wait_for("closed", "file")
    assert path.read_bytes() == b"one\ntwo\n"


@pytest.mark.parametrize(
    ("mode", "content", "to", "before", "after"),
    [
        # r+ starts at 0: all of it, then from offset 4 again
        ("r+b", b"0123456789", (4,), b"0123456789", b"456789"),
        # a+ starts at the end: eof first, then the last two bytes
        ("a+", b"abcdef", (-2, os.SEEK_END), b"", b"ef"),
    ],
    ids=["offset", "whence-end-append"],
)
def test_seek_rereads_from_the_new_position(tmp_path, mode, content, to, before, after):
    path = tmp_path / "seek.txt"
    path.write_bytes(content)
    f = File(str(path), mode)
    with running(f) as (m, rec):
        rec.wait_for("eof", "file")
        assert rec.data("file") == before
        m.fire(seek(*to), "file")
        rec.wait_for("eof", "file", count=2)
        assert rec.data("file") == before + after
        assert not f.closed


def test_seek_method_returns_the_position(tmp_path):
    path = tmp_path / "seek3.txt"
    path.write_bytes(b"abcdef")
    f = File(str(path), "rb")
    f._on_open()  # opened by hand: no loop, no poller
    try:
        assert f.seek(-2, os.SEEK_END) == 4
        assert os.read(f._fileno, 10) == b"ef"
    finally:
        f._close()
    assert f.closed
    assert f.seek(0) is None


def test_missing_file_fires_error_and_logs(tmp_path, caplog):
    f = File(str(tmp_path / "missing.txt"))
    with caplog.at_level(logging.WARNING, logger="circuits.io"), running(f) as (_m, rec):
        e = rec.wait_for("error", "file")
    assert isinstance(e.args[0], FileNotFoundError)
    assert not rec.find("opened", "file")
    assert any(r.name.startswith("circuits.io") for r in caplog.records)


def test_write_of_wrong_type_fires_error_and_the_loop_survives(tmp_path):
    path = tmp_path / "w.txt"
    f = File(str(path), "wb")
    with running(f) as (m, rec):
        rec.wait_for("opened", "file")
        m.fire(write(12345), "file")
        e = rec.wait_for("error", "file")
        assert isinstance(e.args[0], TypeError)
        m.fire(write(b"ok"), "file")
        m.fire(close(), "file")
        rec.wait_for("closed", "file")
    assert path.read_bytes() == b"ok"


def test_file_object_and_explicit_poller(tmp_path):
    path = tmp_path / "obj.txt"
    path.write_bytes(b"from an object")
    fobj = open(path)  # noqa: SIM115 - text mode; File closes it, data arrives as bytes
    f = File(fobj, channel="obj")
    poller = Select()
    with running(poller, f) as (_m, rec):
        rec.wait_for("closed", "obj")
        assert f._poller is poller
        assert rec.data("obj") == b"from an object"
        assert rec.find("opened", "obj")[0].args == [str(path), "r"]
    assert fobj.closed


def test_two_files_on_their_own_channels(tmp_path):
    (tmp_path / "a").write_bytes(b"A")
    (tmp_path / "b").write_bytes(b"B")
    fa = File(str(tmp_path / "a"), channel="fa")
    fb = File(str(tmp_path / "b"), channel="fb")
    with running(fa, fb) as (_m, rec):
        rec.wait_for("closed", "fa")
        rec.wait_for("closed", "fb")
        assert rec.data("fa") == b"A"
        assert rec.data("fb") == b"B"
        assert fa._poller is fb._poller


def test_pipe_read_end_gets_eof_when_the_writer_closes():
    r, w = os.pipe()
    reader = os.fdopen(r, "rb", buffering=0)
    f = File(reader, channel="pipe")
    with running(f) as (_m, rec):
        rec.wait_for("opened", "pipe")
        os.write(w, b"through a pipe")
        rec.wait_for("read", "pipe")
        os.close(w)
        rec.wait_for("closed", "pipe")
        assert rec.data("pipe") == b"through a pipe"
        assert rec.find("eof", "pipe")


def test_stop_closes_the_file(tmp_path):
    path = tmp_path / "stop.txt"
    f = File(str(path), "w")
    with running(f) as (_m, rec):
        rec.wait_for("opened", "file")
    assert f.closed
    assert rec.find("closed", "file")


def test_read_event_class_is_the_io_one():
    e = read_event(b"x")
    assert e.name == "read"
    assert isinstance(io.BytesIO().getvalue(), bytes)


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_str_is_encoded_with_the_encoding(tmp_path, mode):
    path = tmp_path / "enc.txt"
    f = File(str(path), mode, encoding="latin-1")
    with running(f) as (m, rec):
        rec.wait_for("opened", "file")
        m.fire(write("é"), "file")
        m.fire(close(), "file")
        rec.wait_for("closed", "file")
    assert path.read_bytes() == "é".encode("latin-1")
