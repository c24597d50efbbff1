"""The smallest application runs and stops."""

from __future__ import annotations

from circuits import Component, Event


class hello(Event):
    success = True


class App(Component):
    def init(self):
        self.got = []

    def started(self, manager):
        self.fire(hello("x"))

    def hello(self, x):
        self.got.append(x)
        return x * 2

    def hello_success(self, evt, value):
        self.got.append(value)
        self.stop()


def test_run_until_stop():
    app = App()
    app.run()
    assert app.got == ["x", "xx"]
