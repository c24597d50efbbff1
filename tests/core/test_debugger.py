"""Debugger: event lines, prefix, trim, ignore lists, error reports, logger."""

from __future__ import annotations

import io
import signal

import pytest

from circuits import Component, Debugger, Event, Manager

from .support import drain


class foo(Event):
    pass


class App(Component):
    channel = "app"

    def foo(self, x, y=0):
        raise KeyError("k")

    def bar(self):
        return "ok"


class RecordingLogger:
    def __init__(self):
        self.debugs = []
        self.errors = []

    def debug(self, msg):
        self.debugs.append(msg)

    def error(self, msg):
        self.errors.append(msg)


@pytest.fixture(autouse=True)
def _restore_ignore_lists():
    # The ignore lists are class-level and extended in place (spec quirk 27).
    events, channels = list(Debugger.IgnoreEvents), list(Debugger.IgnoreChannels)
    yield
    Debugger.IgnoreEvents[:] = events
    Debugger.IgnoreChannels[:] = channels


def make(**kwargs):
    out = io.StringIO()
    app = App()
    debugger = Debugger(file=out, **kwargs).register(app)
    drain(app)
    out.seek(0)
    out.truncate()
    return app, debugger, out


def test_channel_is_always_star():
    assert Debugger().channel == "*"
    assert Debugger(channel="x").channel == "*"


def test_default_file_is_stderr():
    import sys

    assert Debugger().file is sys.stderr


def test_event_lines_in_dispatch_order():
    out = io.StringIO()
    app = App()
    Debugger(file=out).register(app)
    app.fire(Event.create("bar"))
    drain(app)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("<registered[*] (<Debugger/* ")
    assert lines[1:] == ["<bar[app] ( )>"]


def test_two_channels_print_twice():
    app, _, out = make()
    app.fire(Event.create("baz"), "a", "b")
    drain(app)
    assert out.getvalue() == "<baz[('a', 'b')] ( )>\n" * 2


def test_events_toggle():
    app, debugger, out = make()
    debugger._events = False
    app.fire(Event.create("bar"))
    drain(app)
    assert out.getvalue() == ""


def test_string_prefix():
    app, _, out = make(prefix="dbg")
    app.fire(Event.create("bar"))
    drain(app)
    assert out.getvalue() == "dbg: <bar[app] ( )>\n"


def test_callable_prefix_called_each_time():
    n = iter(range(10))
    app, _, out = make(prefix=lambda: f"#{next(n)}")
    app.fire(Event.create("bar"))
    app.fire(Event.create("bar"))
    drain(app)
    # The prefix was already called for the (discarded) "registered" line.
    assert out.getvalue() == "#1: <bar[app] ( )>\n#2: <bar[app] ( )>\n"


def test_trim_applies_after_prefix():
    app, _, out = make(prefix="p", trim=8)
    app.fire(Event.create("bar"))
    app.fire(Event.create("b"))
    drain(app)
    assert out.getvalue() == "p: <bar[ ...>\np: <b[ap ...>\n"


def test_trim_marks_short_lines_too():
    app, _, out = make(trim=100)
    app.fire(Event.create("bar"))
    drain(app)
    assert out.getvalue() == "<bar[app] ( )> ...>\n"


def test_ignore_events_is_class_level():
    app, _, out = make(IgnoreEvents=["bar"])
    assert "bar" in Debugger.IgnoreEvents
    assert Debugger().IgnoreEvents is Debugger.IgnoreEvents
    app.fire(Event.create("bar"))
    app.fire(Event.create("baz"))
    drain(app)
    assert out.getvalue() == "<baz[app] ( )>\n"


def test_ignore_channels_needs_every_channel():
    app, _, out = make(IgnoreChannels=["a"])
    app.fire(Event.create("one"), "a")
    app.fire(Event.create("two"), "a", "b")
    drain(app)
    assert out.getvalue() == "<two[('a', 'b')] ( )>\n" * 2


def test_generate_events_ignored_by_default():
    assert "generate_events" in Debugger.IgnoreEvents


def test_exception_report_format():
    app, _, out = make()
    app.fire(foo(1, y=2))
    drain(app)
    text = out.getvalue()
    lines = text.splitlines(keepends=True)
    assert lines[0] == "<foo[app] (1 y=2)>\n"
    assert lines[1].startswith("<exception[app] (<class 'KeyError'>, KeyError('k'), ")
    assert lines[2] == (
        "ERROR <handler[*][foo] (App.foo)> (<foo[app] (1 y=2)>) (<class 'KeyError'>): "
        "KeyError('k')\n"
    )
    assert lines[3] == "Traceback (most recent call last):\n"
    assert text.endswith("in foo\n    raise KeyError(\"k\")\nKeyError: 'k'\n\n")


def test_errors_toggle():
    app, debugger, out = make(events=False)
    debugger._errors = False
    app.fire(foo(1))
    drain(app)
    assert out.getvalue() == ""


def test_error_report_has_no_prefix():
    app, _, out = make(events=False, prefix="p")
    app.fire(foo(1))
    drain(app)
    assert out.getvalue().startswith("ERROR <handler[*][foo] (App.foo)>")


def test_error_report_without_handler():
    app, _, out = make(events=False)
    app.fire(Event.create("exception", ValueError, ValueError("v"), ["  tb\n"]))
    drain(app)
    assert out.getvalue() == (
        "ERROR  (None) (<class 'ValueError'>): ValueError('v')\n"
        "Traceback (most recent call last):\n"
        "  tb\n"
        "ValueError: v\n"
        "\n"
    )


def test_logger_replaces_file():
    logger = RecordingLogger()
    app, _, out = make(logger=logger, prefix="p")
    logger.debugs.clear()
    app.fire(Event.create("bar"))
    app.fire(foo(1, y=2))
    drain(app)
    assert out.getvalue() == ""
    assert logger.debugs[:2] == ["p: <bar[app] ( )>", "p: <foo[app] (1 y=2)>"]
    assert len(logger.errors) == 1
    assert logger.errors[0].startswith("ERROR <handler[*][foo] (App.foo)> (<foo[app] (1 y=2)>)")


def test_file_path_is_appended(tmp_path):
    path = tmp_path / "debug.log"
    path.write_text("old\n")
    m = Manager()
    debugger = Debugger(file=str(path)).register(m)
    m.fire(Event.create("bar"))
    drain(m)
    debugger.file.close()
    lines = path.read_text().splitlines()
    assert lines[0] == "old"
    assert lines[-1] == "<bar[*] ( )>"


def test_failing_write_is_reported_on_stderr(capsys):
    class Broken:
        def write(self, s):
            raise RuntimeError("boom")

        def flush(self):
            pass

    m = Manager()
    Debugger(file=Broken()).register(m)
    m.fire(Event.create("bar"))
    drain(m)
    err = capsys.readouterr().err
    assert "ERROR (Debugger): boom\n" in err
    assert "RuntimeError: boom" in err


@pytest.mark.parametrize("signo", [signal.SIGINT, signal.SIGTERM])
def test_signal_exits(signo):
    with pytest.raises(SystemExit) as info:
        Debugger()._on_signal(signo, None)
    assert info.value.code == 0


def test_other_signal_ignored():
    Debugger()._on_signal(signal.SIGHUP, None)
