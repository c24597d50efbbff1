"""Fixtures for the socket tests: a recorder and a loop thread (circuits.testing), TLS files."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from circuits import Manager
from circuits.testing import Watcher, running


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


@pytest.fixture
def app() -> Iterator[tuple[Manager, Recorder, Callable[..., None]]]:
    """A manager with a recorder; ``start()`` runs it (``testing.running``) until teardown."""
    m = Manager()
    rec = Recorder().register(m)
    with ExitStack() as stack:
        yield m, rec, lambda: stack.enter_context(running(m))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1/localhost/::1 (made by trustme)."""
    trustme = pytest.importorskip("trustme", reason="TLS tests need the 'test' extra (trustme)")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    d = tmp_path_factory.mktemp("tls")
    ca_path = d / "ca.pem"
    cert_path = d / "server.pem"  # key and chain in one file
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    return {"ca": str(ca_path), "cert": str(cert_path), "ca_obj": ca}


def ipv6_loopback_or_skip():
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6 support")
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"cannot bind ::1: {exc}")
