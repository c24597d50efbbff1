"""circuits.io: every api-surface name, one object under every path."""

from __future__ import annotations

import importlib
import sys

import pytest

import circuits.io
from circuits.core.events import Event
from circuits.io import File, events

SURFACE = {
    "circuits.io": "File Process Serial close open seek write stdin stdout stderr "
    "events file process serial",
    "circuits.io.events": "Event accessed close closed created deleted eof error modified "
    "moved open opened read ready seek started stopped unmounted write",
    "circuits.io.file": "BUFSIZE BasePoller Component Event File Poller TIMEOUT close closed "
    "eof error findcmp handler opened read ready tryimport",
    "circuits.io.process": "BaseComponent Event File Process close handler started "
    "terminated write",
    "circuits.io.serial": "BUFSIZE BasePoller Component Event Poller Serial TIMEOUT close "
    "closed error findcmp handler opened read ready serial tryimport",
}


@pytest.mark.parametrize(("module", "names"), SURFACE.items())
def test_surface(module, names):
    mod = importlib.import_module(module)
    for name in names.split():
        assert hasattr(mod, name), f"{module}.{name}"


def test_events_are_shared_and_distinct_from_net():
    from circuits.net import events as net_events

    for name in ("close", "open", "seek", "write"):
        assert getattr(circuits.io, name) is getattr(events, name)
    assert circuits.io.file.read is events.read
    assert circuits.io.process.write is events.write
    assert circuits.io.write is not net_events.write
    assert circuits.io.write("x").name == net_events.write("x").name == "write"
    assert events.Event is Event


def test_constants():
    assert circuits.io.file.BUFSIZE == 4096
    assert circuits.io.file.TIMEOUT == 0.2


def test_std_streams_are_unregistered_files():
    for name in ("stdin", "stdout", "stderr"):
        f = getattr(circuits.io, name)
        assert isinstance(f, File)
        assert f.channel == name
        assert f.parent is f
        assert f.closed


def test_file_is_a_component_with_method_handlers():
    from circuits import Component

    assert isinstance(File("x"), Component)
    assert File.handles("close", "seek", "write")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")
def test_notify_is_exported_on_linux():
    assert "Notify" in circuits.io.__all__
