"""A real circuits.web server for the attack battery, driven with raw sockets.

Not a ``conftest.py``: tests/net imports its own non-package ``conftest``
module by name, and a second one here would shadow it. Each test file makes
its ``sec`` fixture from :func:`running`.

``running`` starts a :class:`BaseServer` on 127.0.0.1 port 0 with a handler that
records every request it is asked to answer (method, path, body), so a probe
can assert the server never turned one connection into two requests. Starting
and stopping it is ``tests/web/web_harness.py``'s :func:`started`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.web.web_harness import started

from circuits import BaseComponent, handler
from circuits.web.errors import redirect
from circuits.web.servers import BaseServer

# path -> (header name, value) the handler tries to set; the server must refuse it.
HEADER_INJECTIONS = {
    "/inject-crlf": ("X-Evil", "a\r\nSet-Cookie: injected=1"),
    "/inject-lf": ("X-Evil", "a\nSet-Cookie: injected=1"),
    "/inject-cr": ("X-Evil", "a\rSet-Cookie: injected=1"),
    "/inject-name": ("X-Evil\r\nSet-Cookie", "injected=1"),
}


class Recorder(BaseComponent):
    """Answers on the web channel and records what it was asked."""

    channel = "web"

    def init(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()

    @handler("request")
    def _on_request(self, req, res):
        body = req.body.read()
        with self.lock:
            self.seen.append((req.method, req.path, body))
        path = req.path
        if path in HEADER_INJECTIONS:
            name, value = HEADER_INJECTIONS[path]
            res.headers[name] = value
            return "should not be sent"
        if path == "/boom":
            raise ValueError("secret detail <script>alert(1)</script>")
        if path == "/redirect-quote":
            return redirect(req, res, "http://example.com/a\"b'c<d>")
        if path == "/redirect-newline":
            return redirect(req, res, "http://example.com/a\r\nSet-Cookie: injected=1")
        if path == "/echo":
            return body
        return f"ok {req.method} {path} {len(body)}"


class Sec:
    """The running server, its recorder, and raw-socket helpers."""

    def __init__(self, server: BaseServer, recorder: Recorder) -> None:
        self.server = server
        self.recorder = recorder

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def seen(self) -> list[tuple[str, str, bytes]]:
        with self.recorder.lock:
            return list(self.recorder.seen)

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.settimeout(5)
        return s

    def exchange(self, data: bytes) -> tuple[bytes, bool]:
        """Send ``data``, read until the server closes; (bytes, closed_by_server).

        ``closed_by_server`` is False when the 5 s read timeout expired with
        the connection still open.
        """
        with self.connect() as s:
            s.sendall(data)
            chunks: list[bytes] = []
            try:
                while chunk := s.recv(65536):
                    chunks.append(chunk)
            except TimeoutError:
                return b"".join(chunks), False
            except ConnectionResetError:
                pass
            return b"".join(chunks), True

    @staticmethod
    def status_of(out: bytes) -> int:
        """The status code of the first response in ``out`` (0 if there is none)."""
        if not out.startswith(b"HTTP/1.1 "):
            return 0
        return int(out[9:12])

    @staticmethod
    def responses(out: bytes) -> int:
        """How many status lines ``out`` holds."""
        return out.count(b"HTTP/1.1 ")

    def settle(self) -> None:
        """Give the server a moment to dispatch anything it (wrongly) queued."""
        time.sleep(0.05)

    def assert_closed_without_dispatch(self, data: bytes, name: str = "") -> None:
        """Send ``data``: closed, at most one response (a 4xx), nothing dispatched."""
        out, closed = self.exchange(data)
        assert closed, name
        assert self.responses(out) <= 1, (name, out)
        if out:
            assert 400 <= self.status_of(out) < 500, (name, out[:200])
        self.settle()
        assert self.seen == [], (name, self.seen)

    def assert_one_request_or_refused(
        self, data: bytes, request: tuple[str, str, bytes], refusals: tuple[int, ...]
    ) -> None:
        """Send ``data``: one response, then closed.

        Either a 200 with ``request`` the only one dispatched, or a status in
        ``refusals`` with nothing dispatched.
        """
        out, closed = self.exchange(data)
        assert closed
        assert self.responses(out) == 1
        status = self.status_of(out)
        self.settle()
        if status == 200:
            assert self.seen == [request]
        else:
            assert status in refusals
            assert self.seen == []


@contextmanager
def running() -> Iterator[Sec]:
    server = BaseServer(("127.0.0.1", 0), display_banner=False)
    recorder = Recorder()
    with started(server, recorder):
        yield Sec(server, recorder)
