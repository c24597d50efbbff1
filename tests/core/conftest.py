"""Fixtures shared by the core tests, built on the circuits.testing kit.

The fake clock is the plugin's ``clock`` fixture (``circuits.testing.plugin``);
tests read its start from ``clock.time()`` rather than assuming a number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from circuits import Manager
from circuits.testing import running as run_in_thread


@pytest.fixture
def running() -> Iterator[Callable[[Manager], Manager]]:
    """``app = running(App())``: run apps in loop threads (``circuits.testing.running``).

    Each app is started at once (the call returns when ``started`` was
    handled); all are stopped and joined in teardown, the last started first.
    """
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(run_in_thread(app))
