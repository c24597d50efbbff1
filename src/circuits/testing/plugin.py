"""The circuits pytest plugin: fixtures for testing circuits applications.

Registered through the ``pytest11`` entry point (``circuits =
"circuits.testing.plugin"``), so pytest loads it once circuits is installed.
A project's own fixtures of the same names take precedence, as pytest's
fixture lookup goes from the test module outwards to plugins.

Fixtures:

- ``manager``: a `Manager` running in its own thread; stopped and joined
  after the test. Register components on it.
- ``watcher``: a `Watcher` on ``manager``, registered before the loop starts
  (so it sees ``started``); ``watcher.wait("name")``.
- ``clock``: a `FakeClock` installed as the core's clock (before ``manager``
  starts, when both are used); ``clock.advance(seconds)``.
- ``web_server``: ``url = web_server(*components)`` runs a ``Server`` on
  127.0.0.1, an ephemeral port, and returns ``"http://127.0.0.1:PORT"``.
- ``web_client``: ``client = web_client(*components)`` returns a running
  `WebClient` (in process, no port).

All fixtures are synchronous, so ``async def`` tests (pytest-asyncio, anyio)
use them as they are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

try:
    import pytest
except ImportError:  # pragma: no cover - pytest imports this module itself
    raise ImportError(
        "circuits.testing.plugin is a pytest plugin; install pytest (pip install 'circuits[test]')"
    ) from None

from circuits.core import _clock
from circuits.core.handlers import handler
from circuits.core.manager import Manager

from ._running import running
from ._watcher import Watcher
from ._web import WebClient

__all__ = ["clock", "manager", "watcher", "web_client", "web_server"]

# Where the clock fixture starts: a fixed, round time, so that tests see the
# same numbers on every run (far from 0, which code may take for "unset").
CLOCK_START_S = 1_000_000.0
# How long the web server may take to report ``ready``.
READY_TIMEOUT_S = 5.0

# The Watcher the ``manager`` fixture registered before starting, by manager.
_watchers: dict[int, Watcher] = {}


@pytest.fixture
def clock() -> Iterator[_clock.FakeClock]:
    """A `FakeClock` installed as the core's clock; the previous clock is restored after."""
    fake = _clock.FakeClock(CLOCK_START_S)
    previous = _clock.set_clock(fake)
    try:
        yield fake
    finally:
        _clock.set_clock(previous)


@pytest.fixture
def manager(request: pytest.FixtureRequest) -> Iterator[Manager]:
    """A `Manager` whose loop runs in its own thread; stopped and joined after the test."""
    if "clock" in request.fixturenames:
        request.getfixturevalue("clock")  # install the clock before the loop starts
    m = Manager()
    if "watcher" in request.fixturenames:
        _watchers[id(m)] = Watcher().register(m)  # before start: it sees ``started``
    try:
        with running(m):
            yield m
    finally:
        _watchers.pop(id(m), None)


@pytest.fixture
def watcher(manager: Manager) -> Watcher:
    """A `Watcher` recording every event dispatched on ``manager``."""
    found = _watchers.get(id(manager))
    if found is None:  # requested late (getfixturevalue): register on the running loop
        found = Watcher().register(manager)
    return found


@pytest.fixture
def web_server() -> Iterator[Callable[..., str]]:
    """``url = web_server(*components)``: a ``Server`` on 127.0.0.1:0 with the components."""
    from circuits.web import Server

    with ExitStack() as stack:

        def start(*components: Any) -> str:
            server = Server(("127.0.0.1", 0), display_banner=False)
            ready = threading.Event()

            @handler("ready", channel=server.channel, priority=-1e9)
            def _testing_ready(self: Any, component: Any, bind: Any = None) -> None:
                ready.set()

            server.addHandler(_testing_ready)
            for component in components:
                component.register(server)
            stack.enter_context(running(server))
            if not ready.wait(READY_TIMEOUT_S):
                raise AssertionError(f"the web server was not ready within {READY_TIMEOUT_S} s")
            return f"http://127.0.0.1:{server.port}"

        yield start


@pytest.fixture
def web_client() -> Iterator[Callable[..., WebClient]]:
    """``client = web_client(*components)``: a running in-process `WebClient`."""
    with ExitStack() as stack:

        def make(*components: Any, **kwargs: Any) -> WebClient:
            return stack.enter_context(WebClient(*components, **kwargs))

        yield make
