"""Event dispatch: circuits against plain Python, pyee, blinker and asyncio, in one run.

    python benchmarks/compare_events.py [--min-time 0.5] [--cases ...] [--json]

Runs ``events.py`` with this interpreter (circuits as installed here) and
``events_refs.py`` with the peers' interpreter (a venv made by
``setup_peers.sh`` on first use), interleaved per round so that both see the
same machine load, and prints each circuits rate as a ratio to its reference,
with the issue's target beside it. Absolute rates move from run to run on a
shared machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (our case, reference case or None for an absolute/self-relative target, target ratio, label)
TARGETS = [
    ("fire_chain", "asyncio_chain", 1.0, "fire_chain / asyncio call_soon chain"),
    ("fire_burst", "pyee_emit", 0.75, "fire_burst / pyee emit"),
    ("fanout10", "pyee_fan10", 1.0, "fanout10 / pyee fan-out 10"),
    ("call_wait", "fire_chain", 1 / 3, "call_wait round trips / our fire_chain"),
    ("timer100", "fire_burst", 0.5, "timer100 / our fire_burst"),
]


def peers_python() -> str:
    home = Path(os.environ.get("BENCH_HOME", Path.home() / ".cache" / "circuits-bench"))
    py = home / "peers" / "bin" / "python"
    if not py.exists():
        subprocess.run(["bash", str(HERE / "setup_peers.sh")], check=True)
    return str(py)


def run_json(cmd: list[str]) -> dict[str, dict[str, object]]:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {str(r["case"]): r for r in rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--min-time", default="0.5")
    ap.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--scale", action="store_true", help="also run scale_10 .. scale_10000")
    a = ap.parse_args()
    cases = "fire_chain,fire_burst,fanout10,call_wait,timer100,churn1000"
    if a.scale:
        cases += ",scale_10,scale_100,scale_1000,scale_10000"
    peers = peers_python()
    ours: dict[str, dict[str, object]] = {}
    refs: dict[str, dict[str, object]] = {}

    def keep_best(store: dict[str, dict[str, object]], new: dict[str, dict[str, object]]) -> None:
        for case, row in new.items():
            if "rate" in row and (case not in store or row["rate"] > store[case]["rate"]):  # type: ignore[operator]
                store[case] = row

    for _ in range(a.rounds):
        keep_best(
            ours,
            run_json(
                [
                    sys.executable,
                    str(HERE / "events.py"),
                    "--json",
                    "--min-time",
                    a.min_time,
                    "--cases",
                    cases,
                ]
            ),
        )
        keep_best(
            refs,
            run_json([peers, str(HERE / "events_refs.py"), "--json", "--min-time", a.min_time]),
        )

    def rate(store: dict[str, dict[str, object]], case: str) -> float:
        return float(store[case]["rate"])  # type: ignore[arg-type]

    results = []
    for case, ref, target, label in TARGETS:
        base = rate(ours, ref) if ref in ours and ref not in refs else rate(refs, ref)
        ratio = rate(ours, case) / base
        results.append(
            {
                "check": label,
                "ours": rate(ours, case),
                "reference": base,
                "ratio": round(ratio, 3),
                "target": round(target, 3),
                "met": ratio >= target,
            }
        )
    churn = rate(ours, "churn1000")
    results.append(
        {
            "check": "churn1000 components/s (absolute)",
            "ours": churn,
            "reference": 50000.0,
            "ratio": round(churn / 50000, 3),
            "target": 1.0,
            "met": churn >= 50000,
        }
    )
    if a.scale:
        r = rate(ours, "scale_10000") / rate(ours, "scale_10")
        results.append(
            {
                "check": "scale_10000 rate / scale_10 rate",
                "ours": rate(ours, "scale_10000"),
                "reference": rate(ours, "scale_10"),
                "ratio": round(r, 3),
                "target": round(1 / 1.2, 3),
                "met": r >= 1 / 1.2,
            }
        )
        per = {n: float(ours[f"scale_{n}"]["setup_s"]) / n for n in (100, 10000)}  # type: ignore[arg-type]
        r = per[100] / per[10000]
        results.append(
            {
                "check": "set-up per component at 100 / at 10000",
                "ours": per[10000],
                "reference": per[100],
                "ratio": round(r, 3),
                "target": 0.5,
                "met": r >= 0.5,
            }
        )
    if a.json:
        for row in results:
            print(json.dumps(row))
    else:
        print(f"{'case':<14}{'circuits /s':>14}   reference")
        for case, row in sorted(ours.items()):
            print(f"{case:<14}{float(row['rate']):>14,.0f}")  # type: ignore[arg-type]
        for case, row in sorted(refs.items()):
            print(f"{'':<14}{'':>14}   {case:<15}{float(row['rate']):>12,.0f}")  # type: ignore[arg-type]
        print()
        for row in results:
            mark = "ok " if row["met"] else "MISS"
            print(
                f"{mark} {row['check']:<42} ratio {row['ratio']:>6.3f}  (target >= {row['target']})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
