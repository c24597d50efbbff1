"""circuits.io.serial: the missing-extra error, and the component over a fake pyserial."""

from __future__ import annotations

import importlib
import socket
import sys
import types

import pytest
from io_support import running

import circuits.io
import circuits.io.serial as serial_mod
from circuits.io import Serial, close, write


@pytest.fixture
def no_pyserial(monkeypatch):
    """A fresh copy of circuits.io.serial imported as if pyserial were not installed.

    The original module object is put back afterwards, so class identity holds
    for the other tests.
    """
    monkeypatch.setitem(sys.modules, "serial", None)
    monkeypatch.delitem(sys.modules, "circuits.io.serial")
    monkeypatch.setattr(circuits.io, "serial", serial_mod)  # restored on undo
    return importlib.import_module("circuits.io.serial")


def test_module_imports_without_pyserial(no_pyserial):
    assert no_pyserial.serial is None
    assert no_pyserial.BUFSIZE == 4096
    assert no_pyserial.TIMEOUT == 0.2


def test_constructing_without_pyserial_names_the_install_command(no_pyserial):
    with pytest.raises(ImportError, match=r"pip install circuits\[serial\]") as info:
        no_pyserial.Serial("/dev/ttyUSB0")
    assert isinstance(info.value, RuntimeError)  # 3.2.5 raised RuntimeError
    assert "No serial support available" in str(info.value)


def test_circuits_io_still_exports_serial():
    assert circuits.io.Serial is serial_mod.Serial


class FakePort:
    """A pyserial ``Serial`` stand-in backed by one end of a socket pair."""

    instances: list[FakePort] = []

    def __init__(self, port, baudrate, timeout):
        self.port, self.baudrate, self.timeout = port, baudrate, timeout
        self.sock, self.peer = socket.socketpair()
        self.sock.setblocking(False)
        self.closed = False
        FakePort.instances.append(self)

    def fileno(self):
        return self.sock.fileno()

    def read(self, n):
        try:
            return self.sock.recv(n)
        except BlockingIOError:
            return b""

    def readline(self, n):
        return self.read(n)

    def write(self, data):
        return self.sock.send(data[:3])  # short writes: the rest is re-queued

    def close(self):
        self.closed = True
        self.sock.close()


@pytest.fixture
def fake_serial(monkeypatch):
    FakePort.instances.clear()
    fake = types.SimpleNamespace(Serial=FakePort, SerialTimeoutException=TimeoutError)
    monkeypatch.setattr(serial_mod, "serial", fake)
    yield FakePort.instances
    for port in FakePort.instances:
        port.peer.close()
        if not port.closed:
            port.sock.close()


def test_reads_writes_and_close_over_a_fake_port(fake_serial):
    s = Serial("/dev/fake0", baudrate=9600)
    with running(s) as (m, rec):
        assert rec.wait_for("opened", "serial").args == ["/dev/fake0", 9600]
        port = fake_serial[0]
        assert port.timeout == 0
        port.peer.sendall(b"ping")
        e = rec.wait_for("read", "serial")
        assert e.args == [b"ping"]
        assert e.notify is True
        m.fire(write("pong!"), "serial")
        m.fire(close(), "serial")  # completes once the queue is written (3.2.5 quirk fixed)
        rec.wait_for("closed", "serial")
        port.peer.settimeout(5)
        got = b""
        while len(got) < 5:
            got += port.peer.recv(10)
        assert got == b"pong!"
        assert port.closed
        assert s.closed


def test_open_failure_fires_error(monkeypatch):
    def refuse(**kwargs):
        raise OSError(2, "No such device", kwargs["port"])

    monkeypatch.setattr(serial_mod, "serial", types.SimpleNamespace(Serial=refuse))
    s = Serial("/dev/missing")
    with running(s) as (_m, rec):
        e = rec.wait_for("error", "serial")
        assert isinstance(e.args[0], OSError)
        assert not rec.find("opened", "serial")
