"""A real ``Server`` on 127.0.0.1 port 0 in a thread, for the tools/Static/auth tests.

Not a ``conftest.py`` (see ``security/sec_harness.py`` for why); test files
import :func:`serving` by name. The server is up when ``ready`` has been
handled, and stopped and joined when the ``with`` block ends.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from circuits import BaseComponent, Manager, handler
from circuits.web import Server


class _Ready(BaseComponent):
    channel = "web"

    def init(self) -> None:
        self.event = threading.Event()

    @handler("ready", priority=-1)
    def _on_ready(self, server, bind):
        self.event.set()


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
    m = Manager()
    server = Server(("127.0.0.1", 0), display_banner=False).register(m)
    for component in components:
        component.register(m)
    ready = _Ready().register(m)
    thread, _ = m.start()
    try:
        assert ready.event.wait(5), "the server never became ready"
        yield Site(server)
    finally:
        m.stop()
        thread.join(10)
    assert not thread.is_alive()
