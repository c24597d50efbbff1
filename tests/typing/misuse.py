"""Mistakes a user's type checker must catch: each ``# E: <text>`` line must get an error
whose ``message  [code]`` contains ``<text>``; no other line may get one
(``tests/test_typing.py``)."""

from __future__ import annotations

from typing import Any

from circuits import Component, Event, Manager, Timer, handler
from circuits.core.events import signal, started
from circuits.testing import running
from circuits.web import Controller
from circuits.web.events import request, response


class hello(Event):
    def __init__(self, who: str) -> None:
        super().__init__(who)


class App(Component):
    def hello(self, who: str) -> str:
        return who


class Root(Controller):
    def index(self) -> str:
        return str(self.request.no_such_attribute)  # E: "Request" has no attribute "no_such


@handler("hello")
def on_hello(self: Any, who: str) -> str:
    return who


def mistakes(m: Manager) -> None:
    m.fire("hello")  # E: Argument 1 has incompatible type "str"; expected "Event"
    App().register("manager")  # E: "register" of "BaseComponent" has incompatible type "str"
    Timer("5", hello("x"))  # E: "Timer" has incompatible type "str"; expected "float | datetime"
    Timer(5)  # E: Missing positional argument "event" in call to "Timer"
    hello(42)  # E: Argument 1 to "hello" has incompatible type "int"; expected "str"
    on_hello(None, 42)  # E: Argument 2 to "on_hello" has incompatible type "int"
    started()  # E: Missing positional argument "manager" in call to "started"
    signal("SIGINT", None)  # E: Argument 1 to "signal" has incompatible type "str"
    text: str = m.fire(hello("x"))  # E: (expression has type "Value", variable has type "str")
    m += "component"  # E: "__iadd__" of "Manager" has incompatible type "str"
    app: App = Component().register(m)  # E: type "Component", variable has type "App")
    thread, _ = m.start()
    print(thread.exitcode)  # E: "Thread" has no attribute "exitcode"
    with running("app"):  # E: [type-var]
        pass
    del text, app


def web_mistakes(root: Root) -> None:
    response()  # E: Too few arguments for "response"
    request(root.request)  # E: No overload variant of "request" matches argument type "Request"
    root.redirect(301)  # E: "redirect" of "BaseController" has incompatible type "int"


async def async_mistakes(app: App) -> None:
    value = await app.call(hello("x"))
    print(value.no_such_attribute)  # E: "Value" has no attribute "no_such_attribute"
