"""The pytest plugin, as a user meets it: a test file using only the documented fixtures.

The file runs in a pytest subprocess with no configuration at all, so the
fixtures must come from the ``pytest11`` entry point of the installed package.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

HAVE_ANYIO = importlib.util.find_spec("anyio") is not None
HAVE_PYTEST_ASYNCIO = importlib.util.find_spec("pytest_asyncio") is not None

USER_TESTS = """
import json

import httpx
import pytest
import requests

from circuits import Component, Event, Timer, TimeoutError as CircuitsTimeout, sleep
from circuits.net.events import write
from circuits.web import Controller
from circuits.web.websockets import WebSocketsDispatcher


class ping(Event):
    pass


class pong(Event):
    pass


class tick(Event):
    pass


class nap(Event):
    pass


class napped(Event):
    pass


class stuck(Event):
    pass


class ask(Event):
    pass


class gave_up(Event):
    pass


class Pinger(Component):
    def ping(self, n):
        self.fire(pong(n + 1))


class Sleepy(Component):
    def nap(self):
        yield sleep(60)
        self.fire(napped())

    def stuck(self):
        yield self.wait("never_fired")

    def ask(self):
        try:
            yield self.call(stuck(), timeout=30)
        except CircuitsTimeout:
            self.fire(gave_up())


class Root(Controller):
    def index(self):
        return "Hello World!"

    def echo(self):
        self.response.headers["Content-Type"] = "application/json"
        return json.dumps({"body": self.request.body.read().decode()})


class Echo(Component):
    channel = "wsserver"

    def read(self, sock, data):
        self.fire(write(sock, "echo: " + data))


def test_manager_and_watcher(manager, watcher):
    Pinger().register(manager)
    assert watcher.wait("registered")
    manager.fire(ping(1))
    assert watcher.wait("pong")
    watcher.clear()
    with pytest.raises(AssertionError, match="waiting for event 'pong'"):
        watcher.wait("pong", timeout=0.05)


def test_clock_drives_a_timer(manager, watcher, clock):
    Timer(5, tick()).register(manager)
    assert watcher.wait("registered")
    clock.advance(4)
    with pytest.raises(AssertionError):
        watcher.wait("tick", timeout=0.1)
    clock.advance(1)
    assert watcher.wait("tick")


def test_clock_drives_sleep_and_a_call_timeout(manager, watcher, clock):
    Sleepy().register(manager)
    assert watcher.wait("registered")
    manager.fire(nap())
    manager.fire(ask())
    assert watcher.wait("ask")
    clock.advance(30)
    assert watcher.wait("gave_up")
    clock.advance(30)
    assert watcher.wait("napped")


def test_web_server_with_real_clients(web_server):
    url = web_server(Root())
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(url, timeout=5).text == "Hello World!"
    assert httpx.post(url + "/echo", content=b"hi", timeout=5).json() == {"body": "hi"}


def test_web_client(web_client):
    client = web_client(Root(), WebSocketsDispatcher("/ws"), Echo())
    res = client.get("/")
    assert (res.status, res.text, res.body) == (200, "Hello World!", b"Hello World!")
    assert res.headers["content-type"].startswith("text/html")
    assert client.post("/echo", data=b"raw").json() == {"body": "raw"}
    assert client.post("/echo", json={"a": 1}).json() == {"body": '{"a": 1}'}
    assert client.get("/nowhere").status == 404
    with client.websocket("/ws") as ws:
        ws.send("hello")
        assert ws.receive() == "echo: hello"
"""

ASYNC_TESTS = """

@pytest.mark.anyio
async def test_async_under_anyio(manager, watcher, web_client):
    Pinger().register(manager)
    assert watcher.wait("registered")
    manager.fire(ping(41))
    assert watcher.wait("pong")
    assert web_client(Root()).get("/").text == "Hello World!"
"""


PYTEST_ASYNCIO_TESTS = """

@pytest.mark.asyncio
async def test_async_under_pytest_asyncio(manager, watcher, web_client):
    Pinger().register(manager)
    assert watcher.wait("registered")
    value = manager.fire(ping(41))
    assert await value is None  # a Value is awaitable from the test's asyncio loop
    assert watcher.wait("pong")
    assert web_client(Root()).get("/").text == "Hello World!"
"""


def test_the_entry_point_names_the_plugin():
    points = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert points.get("circuits") == "circuits.testing.plugin"


@pytest.mark.slow
def test_a_user_test_file_passes_with_no_configuration(pytester):
    source = USER_TESTS + (ASYNC_TESTS if HAVE_ANYIO else "")
    pytester.makepyfile(test_user=source)
    # pytest-asyncio, when installed, warns about its own unset option: this
    # file needs no configuration, so leave that plugin out here (see below).
    no_asyncio = ("-p", "no:asyncio") if HAVE_PYTEST_ASYNCIO else ()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", *no_asyncio, "-W", "error", "-v"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= (6 if HAVE_ANYIO else 5), result.stdout.str()
    assert set(outcomes) == {"passed"}, outcomes
    if HAVE_ANYIO:  # anyio runs it once per backend it finds (asyncio; trio if installed)
        result.stdout.fnmatch_lines(["*test_async_under_anyio*asyncio*PASSED*"])


@pytest.mark.slow
def test_async_tests_under_pytest_asyncio(pytester):
    pytest.importorskip("pytest_asyncio", reason="pytest-asyncio is not installed (test extra)")
    pytester.makepyfile(test_user=USER_TESTS + PYTEST_ASYNCIO_TESTS)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")  # its own
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error", "-v", "-k", "pytest_asyncio"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_async_under_pytest_asyncio PASSED*"])


@pytest.mark.slow
def test_a_failed_wait_fails_the_test_and_lists_the_events(pytester):
    pytester.makepyfile(
        test_fail="""
        def test_nothing_comes(manager, watcher):
            watcher.wait("never", timeout=0.05)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*waiting for event 'never'*", "*started(*"])


@pytest.mark.slow
def test_a_projects_own_fixture_wins(pytester):
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def manager():
            return "mine"
        """
    )
    pytester.makepyfile(test_own="def test_it(manager):\n    assert manager == 'mine'\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
