"""What the test kit costs a test: requests per second through its fixtures' two ways.

    .venv/bin/python benchmarks/testing_kit.py [--seconds S] [--rounds N]

The same controller is asked ``GET /`` over and over:

- ``web_client``: `circuits.testing.WebClient`, in process over memory
  transports (no port, no socket);
- ``web_server`` + requests: a real `Server` on 127.0.0.1 and a
  ``requests.Session`` (keep-alive), what a test of the ``web_server``
  fixture does;
- ``web_server`` + http.client: the same server, the standard library's
  client on one keep-alive connection (the reference: the least a real
  socket client costs).

Each way runs for ``--seconds`` per round, best of ``--rounds``; the ratios
are to the http.client reference of the same run. Also timed: starting
and stopping each (what a test pays once).
"""

from __future__ import annotations

import argparse
import http.client
import time
from collections.abc import Callable
from contextlib import ExitStack

import requests

from circuits.testing import WebClient, running
from circuits.web import Controller, Server


class Root(Controller):
    def index(self) -> str:
        return "Hello World!"


def rate(ask: Callable[[], None], seconds: float) -> float:
    """Requests per second of ``ask`` for about ``seconds``."""
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(50):
            ask()
        n += 50
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def timed(f: Callable[[], object]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def one_round(seconds: float) -> tuple[dict[str, float], dict[str, float]]:
    """Requests per second of each way, and each way's start-up time in seconds."""
    rates: dict[str, float] = {}
    setup: dict[str, float] = {}
    with ExitStack() as stack:
        t0 = time.perf_counter()
        client = stack.enter_context(WebClient(Root()))
        assert client.get("/").text == "Hello World!"
        setup["web_client"] = time.perf_counter() - t0
        rates["web_client"] = rate(lambda: client.get("/"), seconds)

    with ExitStack() as stack:
        t0 = time.perf_counter()
        server = Server(("127.0.0.1", 0), display_banner=False)
        Root().register(server)
        stack.enter_context(running(server))
        port = int(server.port)
        session = stack.enter_context(requests.Session())
        url = f"http://127.0.0.1:{port}/"
        assert session.get(url).text == "Hello World!"
        setup["web_server"] = time.perf_counter() - t0
        rates["web_server + requests"] = rate(lambda: session.get(url).raise_for_status(), seconds)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        stack.callback(conn.close)

        def ask() -> None:
            conn.request("GET", "/")
            conn.getresponse().read()

        rates["web_server + http.client"] = rate(ask, seconds)
    return rates, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()

    best: dict[str, float] = {}
    setup: dict[str, float] = {}
    for _ in range(opts.rounds):
        rates, startup = one_round(opts.seconds)
        for name, value in rates.items():
            best[name] = max(best.get(name, 0.0), value)
        for name, value in startup.items():
            setup[name] = min(setup.get(name, value), value)

    reference = best["web_server + http.client"]
    print(f"{'way':<28} {'req/s':>9} {'ratio':>7}")
    for name, value in best.items():
        print(f"{name:<28} {value:>9,.0f} {value / reference:>7.2f}")
    print()
    for name, seconds in setup.items():
        print(f"start + first request, {name}: {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
