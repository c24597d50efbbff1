"""Helpers of the socket tests (conftest.py holds the fixtures; import helpers from here)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from circuits.testing import Watcher


class Recorder(Watcher):
    """A ``circuits.testing.Watcher`` with the socket tests' helpers.

    ``wait_for`` waits for the ``count``-th event and returns it; ``data``
    joins the bytes read on a channel; ``wait_until`` takes a predicate of
    no arguments (it may call ``find``: the watcher's lock is reentrant).
    """

    def names(self, channel: Any = None) -> list[str]:
        """The names of the recorded events (fired on ``channel``, if given)."""
        return [e.name for e in self.find_all(channel)]

    def find_all(self, channel: Any = None) -> list[Any]:
        with self._cond:
            return [e for e in self.events if channel is None or channel in (e.channels or ())]

    def wait_until(self, predicate, timeout=5.0, what="condition"):
        return super().wait_until(lambda events: predicate(), timeout, what)

    def wait_for(self, name, channel=None, count=1, timeout=5.0):
        self.wait_until(
            lambda: len(self.find(name, channel)) >= count, timeout, f"{name!r} on {channel!r}"
        )
        return self.find(name, channel)[count - 1]

    def data(self, channel, peer=None):
        """Bytes read on ``channel`` (server side: only from ``peer`` if given)."""
        chunks = []
        for e in self.find("read", channel):
            if len(e.args) == 1:
                chunks.append(e.args[0])
            elif peer is None or e.args[0] is peer:
                chunks.append(e.args[1])
        return b"".join(chunks)

    def wait_for_data(self, channel, size, peer=None, timeout=5.0):
        self.wait_until(
            lambda: len(self.data(channel, peer)) >= size,
            timeout,
            f"{size} bytes on {channel!r}",
        )
        return self.data(channel, peer)


def ipv6_loopback_or_skip():
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"cannot bind ::1: {exc}")
