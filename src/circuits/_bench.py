"""The ``circuits.bench`` command: measure raw event throughput of the core.

A plain ``Manager`` (never started, so there is no ``generate_events`` and no
idle wait) is driven by calling ``tick()`` in a loop. In ``speed`` mode two
handlers play ping-pong (``hello`` fires ``received``, which fires ``hello``)
and a catch-all monitor counts every dispatched event; the loop fires
``stop()`` once a limit (``-e`` events, ``-t`` seconds) is passed, ``stop``
fires ``term`` and ``term`` ends the loop.

The bench components are ``BaseComponent``s with explicitly named handlers:
in 3.2.5 they are ``Component``s whose ``stop`` method, being a handler, also
shadows ``Manager.stop`` (spec quirk 38). Naming the methods ``_on_stop``
etc. keeps the same events without shadowing anything.
"""

from __future__ import annotations

import json
import math
import optparse
import sys
import time
from typing import Any

from . import __version__
from .core import BaseComponent, Debugger, Event, Manager, handler

__all__ = ["main"]

MODES = ("sync", "speed", "latency")

# Pause between two round trips in latency mode (3.2.5 behaviour): it keeps the
# loop from measuring a queue that is never empty.
LATENCY_PAUSE_S = 1.0

# The benchmark's clock (a seam for tests).
_now = time.perf_counter


class hello(Event):
    """Sent by the sender; the receiver answers with ``received``."""


class received(Event):
    """The receiver's answer."""


class stop(Event):
    """Fired by the loop once a limit is passed."""


class term(Event):
    """Fired by ``stop``; ends the loop."""


class Monitor(BaseComponent):
    """Counts every dispatched event."""

    def init(self) -> None:
        self.count = 0

    @handler(priority=1000.0)
    def _on_event(self, *args: Any, **kwargs: Any) -> None:
        self.count += 1


class State(BaseComponent):
    """Turns ``stop`` into ``term``, and ``term`` into the done flag."""

    def init(self) -> None:
        self.done = False

    @handler("stop")
    def _on_stop(self) -> None:
        self.fire(term())

    @handler("term")
    def _on_term(self) -> None:
        self.done = True


class Speed(BaseComponent):
    """Endless ``hello`` / ``received`` ping-pong."""

    @handler("hello")
    def _on_hello(self, message: str) -> None:
        self.fire(received(message))

    @handler("received")
    def _on_received(self, message: str = "") -> None:
        self.fire(hello("hello"))


class Latency(BaseComponent):
    """Measures the round trip ``hello`` -> ``received``, once per second."""

    def init(self, report: bool = True) -> None:
        self.report = report
        self.sent = _now()
        self.latencies_us: list[float] = []

    @handler("hello")
    def _on_hello(self, message: str) -> None:
        self.fire(received(message))

    @handler("received")
    def _on_received(self, message: str = "") -> None:
        latency_us = (_now() - self.sent) * 1e6
        self.latencies_us.append(latency_us)
        if self.report:
            print(f"Latency: {latency_us:0.9f} us", flush=True)
        time.sleep(LATENCY_PAUSE_S)
        self.sent = _now()
        self.fire(hello("hello"))


def _parser() -> optparse.OptionParser:
    parser = optparse.OptionParser(
        prog="circuits.bench",
        usage="%prog [options]",
        version=f"%prog v{__version__}",
    )
    add = parser.add_option
    add("-t", "--time", action="store", type="int", default=0, dest="time",
        help="Stop after specified elapsed seconds (0 = no limit)")  # fmt: skip
    add("-e", "--events", action="store", type="int", default=0, dest="events",
        help="Stop after specified number of events (0 = no limit)")  # fmt: skip
    add("-p", "--profile", action="store_true", default=False, dest="profile",
        help="Profile the run (cProfile statistics on stderr)")  # fmt: skip
    add("-d", "--debug", action="store_true", default=False, dest="debug",
        help="Enable debug mode (print events on stderr)")  # fmt: skip
    add("-m", "--mode", action="store", type="choice", choices=MODES, default="speed",
        dest="mode", help="Operation mode: sync, speed or latency (default: speed)")  # fmt: skip
    add("-s", "--speed", action="store_true", default=False, dest="speed",
        help="Enable psyco (circuits 2 option; does nothing)")  # fmt: skip
    add("-q", "--quiet", action="store_false", default=True, dest="verbose",
        help="Suppress the progress messages")  # fmt: skip
    add("--json", action="store_true", default=False, dest="json",
        help="Print only one JSON object: events, seconds, rate, mode")  # fmt: skip
    return parser


def _run(manager: Manager, monitor: Monitor, state: State, opts: Any) -> float:
    """Drive the manager until ``term``; return the elapsed seconds."""
    manager.fire(hello("hello"))
    start = _now()
    while not state.done:
        try:
            manager.tick()
            if (opts.events > 0 and monitor.count > opts.events) or (
                opts.time > 0 and _now() - start > opts.time
            ):
                manager.fire(stop())
        except KeyboardInterrupt:
            manager.fire(stop())
    return _now() - start


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    Args:
        argv: the command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status (usage errors exit with status 2 through optparse).
    """
    opts, _ = _parser().parse_args(argv)
    verbose = opts.verbose and not opts.json

    def say(msg: str) -> None:
        if verbose:
            print(msg, flush=True)

    manager = Manager()
    monitor = Monitor().register(manager)
    state = State().register(manager)
    latency: Latency | None = None
    if opts.mode == "speed":
        say("Setting up Speed Test...")
        Speed().register(manager)
    elif opts.mode == "latency":
        say("Setting up Latency Test...")
        latency = Latency(report=not opts.json).register(manager)
    if opts.debug:
        Debugger().register(manager)
    say("Setting up Sender...")
    say("Setting up Receiver...")

    if opts.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        elapsed = profiler.runcall(_run, manager, monitor, state, opts)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    else:
        elapsed = _run(manager, monitor, state, opts)

    count = monitor.count
    rate = math.ceil(count / elapsed) if elapsed > 0 else 0
    if opts.json:
        figures: dict[str, Any] = {
            "events": count,
            "seconds": elapsed,
            "rate": rate,
            "mode": opts.mode,
        }
        if latency is not None:
            figures["latency_us"] = latency.latencies_us
        print(json.dumps(figures), flush=True)
        return 0
    say("")
    print(f"Total Events: {count} ({rate}/s after {elapsed:0.2f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
