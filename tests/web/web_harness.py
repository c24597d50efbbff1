"""Real circuits.web servers on 127.0.0.1 port 0 in a thread, for the web tests.

Not a ``conftest.py`` (see ``security/sec_harness.py`` for why); test files
import what they need by name (``security/sec_harness.py`` imports this module
as ``tests.web.web_harness``, its own directory being the one on ``sys.path``).

:func:`started` is the one place that starts a tree in a thread, waits for
the ``ready`` of each server in it, and stops and joins it afterwards (a thin
layer over ``circuits.testing.running`` and ``Watcher``); :func:`serving` is
the common case of a ``Server`` with some components. Tests that need no
socket use the plugin's ``web_client`` fixture instead.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from circuits import Manager
from circuits.testing import Watcher, running
from circuits.web import Controller, Server
from circuits.web.servers import BaseServer

TIMEOUT_S = 5.0


class Root(Controller):
    """``/`` answers ``Hello World!``."""

    def index(self):
        return "Hello World!"


@contextmanager
def started(*components: Any, watcher: Watcher | None = None) -> Iterator[Manager]:
    """Run ``components`` in a thread; yield their Manager once every server among them is ready.

    Components are registered in the order given. The loop runs under
    ``circuits.testing.running`` (stopped and joined on leaving); a
    ``Watcher`` waits for each server's ``ready``. Pass ``watcher`` to keep
    it recording for the test; the default one stops once the servers are
    ready (so long tests do not record every read and write).
    """
    m = Manager()
    watch = (watcher or Watcher()).register(m)  # before the loop starts: it sees every ``ready``
    for component in components:
        component.register(m)
    with running(m):
        for c in components:
            if isinstance(c, BaseServer):
                watch.wait("ready", channel=c.channel, timeout=TIMEOUT_S)
        if watcher is None:
            watch.unregister()
        yield m


def make_tls_files(tmp_path_factory: Any) -> dict[str, str]:
    """A CA (``"ca"``) and a server certificate for 127.0.0.1 and localhost (``"cert"``).

    Skips the test when trustme (the 'test' extra) is missing.
    """
    trustme = pytest.importorskip("trustme", reason="TLS tests need the 'test' extra (trustme)")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    d = tmp_path_factory.mktemp("tls")
    ca_path, cert_path = d / "ca.pem", d / "server.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    return {"ca": str(ca_path), "cert": str(cert_path)}


class Site:
    """The running server and small real-client helpers."""

    def __init__(self, server: Server) -> None:
        self.server = server

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request with ``http.client`` (path sent verbatim): status, headers, body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path, headers=headers or {})
            res = conn.getresponse()
            return res.status, res.headers, res.read()
        finally:
            conn.close()

    def raw(self, data: bytes) -> bytes:
        """Send ``data`` (it should ask for ``Connection: close``) and read until closed."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(data)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)


@contextmanager
def serving(*components: Any) -> Iterator[Site]:
    """Run ``Server(('127.0.0.1', 0))`` with ``components`` registered beside it."""
    server = Server(("127.0.0.1", 0), display_banner=False)
    with started(server, *components):
        yield Site(server)


def kill_group(proc: subprocess.Popen[Any], timeout: float) -> None:
    """SIGKILL the process group ``proc`` leads (started with ``start_new_session``); reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it and its children had exited
    proc.wait(timeout=timeout)
