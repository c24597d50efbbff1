"""async/await handlers against generator handlers and plain asyncio, in one run (issue #5).

    python benchmarks/async_events.py [--rounds 3] [--min-time 0.5] [--cases ...] [--json]

Cases (each checks its own counts: a wrong count is an error, not a figure)

    async_chain_run     an ``async def`` handler fires the next event (as
                        events.py fire_chain does), under ``Manager.run()``
    async_chain_aio     the same under ``run_async()`` on an asyncio loop
    await_call_run      an async handler doing ``v = await self.call(sub(i))``
                        in a loop; rate = round trips per second; ``run()``
    await_call_aio      the same under ``run_async()``
    call_wait           reference: the same workload as a generator handler
                        (``v = yield self.call(sub(i))``), as events.py call_wait
    asyncio_chain       reference: plain asyncio, each task creates the next
                        one (one task per step, as one async handler per event)
    asyncio_roundtrip   reference: plain asyncio, one task puts a request and a
                        future on a queue and awaits the future, which a server
                        task resolves: the asyncio shape of one ``call``

Every case runs once per round, rounds interleaved so that all see the same
machine load, and the best rate of the rounds counts. The ratios printed at
the end are the figures to compare; absolute rates move with the load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from circuits import Component, Event, Manager, handler

Result = tuple[int, float]  # (count done, wall seconds)


class ping(Event):
    """The chain event."""


class sub(Event):
    """The event a caller waits for."""


class go(Event):
    """Starts a caller's loop."""


class BenchError(Exception):
    pass


def check(ok: bool, msg: str) -> None:
    if not ok:
        raise BenchError(msg)


def run_plain(app: Manager) -> float:
    t0 = time.perf_counter()
    app.run()
    return time.perf_counter() - t0


def run_aio(app: Manager) -> float:
    t0 = time.perf_counter()
    asyncio.run(app.run_async())
    return time.perf_counter() - t0


# --- async_chain -----------------------------------------------------------------
class AsyncChain(Component):
    channel = "bench"

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.count = 0

    @handler("ping")
    async def _ping(self) -> None:
        self.count += 1
        if self.count < self.n:
            self.fire(ping())
        else:
            self.root.stop()


def async_chain(run: Callable[[Manager], float]) -> Callable[[int], Result]:
    def case(n: int) -> Result:
        app = Manager()
        chain = AsyncChain(n).register(app)
        app.fire(ping(), "bench")
        secs = run(app)
        check(chain.count == n, f"chain handled {chain.count} of {n}")
        return n, secs

    return case


# --- await_call / call_wait ----------------------------------------------------------
class Callee(Component):
    channel = "bench"

    def __init__(self) -> None:
        super().__init__()
        self.done = 0
        self.ok = True

    @handler("sub")
    def _sub(self, i: int) -> int:
        return i


class AsyncCaller(Callee):
    @handler("go")
    async def _go(self, n: int) -> None:
        for i in range(n):
            v = await self.call(sub(i))
            if v.value != i:
                self.ok = False
            self.done += 1
        self.root.stop()


class GeneratorCaller(Callee):
    @handler("go")
    def _go(self, n: int) -> Any:
        for i in range(n):
            v = yield self.call(sub(i))
            if v.value != i:
                self.ok = False
            self.done += 1
        self.root.stop()


def calls(kind: type[Callee], run: Callable[[Manager], float]) -> Callable[[int], Result]:
    def case(n: int) -> Result:
        app = Manager()
        caller = kind().register(app)
        app.fire(go(n), "bench")
        secs = run(app)
        check(caller.done == n and caller.ok, f"{caller.done} of {n} calls (ok: {caller.ok})")
        return n, secs

    return case


# --- plain asyncio references --------------------------------------------------------
def case_asyncio_chain(n: int) -> Result:
    count = 0

    async def step(done: asyncio.Future[None]) -> None:
        nonlocal count
        count += 1
        if count < n:
            asyncio.get_running_loop().create_task(step(done))
        else:
            done.set_result(None)

    async def main() -> float:
        done = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        asyncio.get_running_loop().create_task(step(done))
        await done
        return time.perf_counter() - t0

    secs = asyncio.run(main())
    check(count == n, f"chain ran {count} of {n} steps")
    return n, secs


def case_asyncio_roundtrip(n: int) -> Result:
    async def server(queue: asyncio.Queue[tuple[int, asyncio.Future[int]]]) -> None:
        while True:
            i, fut = await queue.get()
            fut.set_result(i)

    async def main() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[int, asyncio.Future[int]]] = asyncio.Queue()
        serving = loop.create_task(server(queue))
        done = 0
        t0 = time.perf_counter()
        for i in range(n):
            fut: asyncio.Future[int] = loop.create_future()
            queue.put_nowait((i, fut))
            if await fut == i:
                done += 1
        secs = time.perf_counter() - t0
        serving.cancel()
        return done, secs

    done, secs = asyncio.run(main())
    check(done == n, f"{done} of {n} round trips")
    return n, secs


CASES: dict[str, tuple[Callable[[int], Result], int]] = {
    "async_chain_run": (async_chain(run_plain), 20_000),
    "async_chain_aio": (async_chain(run_aio), 20_000),
    "await_call_run": (calls(AsyncCaller, run_plain), 10_000),
    "await_call_aio": (calls(AsyncCaller, run_aio), 10_000),
    "call_wait": (calls(GeneratorCaller, run_plain), 10_000),
    "asyncio_chain": (case_asyncio_chain, 50_000),
    "asyncio_roundtrip": (case_asyncio_roundtrip, 50_000),
}

# (case, reference case, target ratio or None, label)
RATIOS: list[tuple[str, str, float | None, str]] = [
    ("await_call_aio", "asyncio_roundtrip", 1 / 3, "await_call (run_async) / asyncio round trip"),
    ("await_call_run", "call_wait", None, "await_call (run) / generator call_wait"),
    ("await_call_aio", "call_wait", None, "await_call (run_async) / generator call_wait"),
    ("async_chain_run", "asyncio_chain", None, "async_chain (run) / asyncio task chain"),
    ("async_chain_aio", "asyncio_chain", None, "async_chain (run_async) / asyncio task chain"),
]


def timed(fn: Callable[[int], Result], n0: int, min_time: float) -> tuple[int, float, float]:
    """A probe run on n0 // 50, then reruns scaled to last about min_time (as events.py)."""
    n = max(10, n0 // 50)
    for _ in range(4):
        gc.collect()
        c0 = time.process_time()
        done, secs = fn(n)
        cpu = time.process_time() - c0
        if secs >= min_time:
            break
        n = int(n * min_time / max(secs, 1e-4) * 1.2)
    return done, secs, cpu


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cases", default=",".join(CASES), help="comma list (default: all)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per timed run, at least")
    ap.add_argument("--rounds", type=int, default=3, help="best of this many interleaved rounds")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    a = ap.parse_args()
    names = a.cases.split(",")
    unknown = [name for name in names if name not in CASES]
    if unknown:
        ap.error(f"unknown cases {unknown!r}; expected some of {list(CASES)!r}")
    best: dict[str, dict[str, Any]] = {}
    for _ in range(a.rounds):
        for name in names:
            fn, n0 = CASES[name]
            done, secs, cpu = timed(fn, n0, a.min_time)
            row = {"case": name, "n": done, "seconds": round(secs, 4), "cpu_s": round(cpu, 4)}
            row["rate"] = round(done / secs, 1)
            if name not in best or row["rate"] > best[name]["rate"]:
                best[name] = row
    checks = []
    for case, ref, target, label in RATIOS:
        if case in best and ref in best:
            ratio = best[case]["rate"] / best[ref]["rate"]
            met = None if target is None else ratio >= target
            goal = None if target is None else round(target, 3)
            checks.append({"check": label, "ratio": round(ratio, 3), "target": goal, "met": met})
    if a.json:
        for row in [*best.values(), *checks]:
            print(json.dumps(row))
        return 0
    for name, row in best.items():
        print(f"{name:<18}{row['rate']:>12,.0f} /s  (n={row['n']}, {row['cpu_s']:.2f} s cpu)")
    print()
    for c in checks:
        if c["target"] is None:
            print(f"     {c['check']:<46} ratio {c['ratio']:>6.3f}")
        else:
            mark = "ok  " if c["met"] else "MISS"
            goal = f"(target >= {c['target']:.3f})"
            print(f"{mark} {c['check']:<46} ratio {c['ratio']:>6.3f}  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
