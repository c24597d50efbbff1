"""The circuits.web request path without sockets: ``read`` events in, ``write`` events out.

Feeds keep-alive GET requests for 50 fake connections into the real `HTTP`
component, `Dispatcher` and a hello-world `Controller`, and counts the
responses written. It measures the Python work per request (parsing,
request/response objects, events, dispatch), without syscalls or the poller.

    .venv/bin/python benchmarks/http_inproc.py              # CPU us per request
    .venv/bin/python benchmarks/http_inproc.py --profile    # + cProfile, top 30
    N=500 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/http_inproc.py --once   # instructions (run
        # with N=500 and N=2500; the difference / 2000 is per request)
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

from circuits import BaseComponent, Manager, handler
from circuits.net.events import connect, read
from circuits.web import Controller
from circuits.web.dispatchers import Dispatcher
from circuits.web.http import HTTP

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"
CONNECTIONS = 50


class FakeSock:
    """What HTTP asks of a client socket."""

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 5555)

    def fileno(self) -> int:
        return -1


class FakeServer(BaseComponent):
    """Stands where the socket server would: counts the writes."""

    channel = "web"
    host = "127.0.0.1"
    port = 8080
    secure = False
    display_banner = True
    debug = False

    def init(self) -> None:
        self.written = 0
        self.http = HTTP(self, channel="web").register(self)
        Dispatcher(channel="web").register(self)

    @handler("write")
    def _on_write(self, sock: FakeSock, data: bytes) -> None:
        self.written += 1


class Root(Controller):
    def index(self) -> str:
        return "Hello, World!"


def build() -> tuple[Manager, FakeServer, list[FakeSock]]:
    m = Manager()
    server = FakeServer().register(m)
    Root().register(m)
    while len(m):
        m.flush()
    socks = [FakeSock() for _ in range(CONNECTIONS)]
    for sock in socks:
        m.fire(connect(sock, "127.0.0.1", 5555))
    m.flush()
    return m, server, socks


def run(m: Manager, socks: list[FakeSock], n: int) -> float:
    """Serve ``n`` requests; return the CPU seconds it took."""
    start = time.process_time()
    for _ in range(max(1, n // len(socks))):
        for sock in socks:
            m.fire(read(sock, REQUEST))
        while len(m):
            m.flush()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=int(os.environ.get("N", "20000")))
    parser.add_argument("--once", action="store_true", help="one run of n, no report")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    m, server, socks = build()
    if args.once:
        run(m, socks, args.n)
        return
    run(m, socks, 2000)  # warm-up
    best = min(run(m, socks, args.n) for _ in range(3))
    assert server.written >= args.n, server.written
    print(f"{best / args.n * 1e6:.2f} us of CPU per request ({args.n / best:,.0f} req/s)")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(run, m, socks, args.n)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
