"""Fixtures shared by the node tests: loop threads, and a broker per parameter."""

from __future__ import annotations

import pytest
from brokers import BROKERS, broker_server
from node_support import Loops


@pytest.fixture
def loops():
    """Start trees in loop threads (``loops.start(m)``); all stopped after the test."""
    running = Loops()
    yield running
    running.stop_all()


@pytest.fixture(params=BROKERS)
def server(request, tmp_path):
    """A real broker, Redis then NATS, on an ephemeral port (test files may override)."""
    with broker_server(request.param, tmp_path) as srv:
        yield srv
