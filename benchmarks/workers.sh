#!/usr/bin/env bash
# Multi-process servers (issue #10): hello-world keep-alive req/s with wrk at 1 and 2
# worker processes, circuits.web's `--workers N` against uvicorn `--workers N` and
# gunicorn with aiohttp's worker, all in one run, with ratios from that run.
# usage: benchmarks/workers.sh [IMPL ...]
#   IMPL: circuits uvicorn uvicorn-uvloop gunicorn-aiohttp (default: all four), each
#         run with every worker count in WORKERS
#   circuits          python -m circuits.web --workers N --app circuits_app:Root DOCROOT
#                     (GET /hello with an empty DOCROOT: the figures in README were
#                     taken so; without a DOCROOT the command serves only the app)
#   uvicorn           uvicorn --workers N --http httptools --loop asyncio asgi_hello:app
#                     (as http.sh's uvicorn-httptools; with N > 1 uvicorn 0.54 binds the
#                     socket itself without IPPROTO_TCP, so asyncio leaves Nagle on and
#                     keep-alive responses wait ~40 ms for delayed ACKs: Kludex/uvicorn#3149)
#   uvicorn-uvloop    the same with --loop uvloop (uvicorn's default when uvloop is
#                     installed), which sets TCP_NODELAY itself
#   gunicorn-aiohttp  gunicorn -w N -k aiohttp.GunicornWebWorker aiohttp_app:app
# env: CIRCUITS_PYTHON ($repo/.venv/bin/python)  PEERS_PYTHON ($BENCH_HOME/peers/bin/python)
#      BENCH_HOME (~/.cache/circuits-bench)  DURATION (5s)  RUNS (3)  CONNS (100)
#      WARMUP (3s)  WORKERS ("1 2")  PORT (18081)  CLIENT_CPU (1; empty: wrk not pinned)
#      POLLER (select: the command's default; circuits.web --poller)
#      RESULTS ($BENCH_HOME/results/workers.jsonl)
# CPUs: the servers are NOT pinned (supervisor and workers may run on any CPU, as
# the kernel schedules them); wrk (-t1, one thread) is pinned to CPU $CLIENT_CPU.
# On a 2-core machine a 1-worker server thus gets CPU 0 mostly to itself, and 2
# workers share both CPUs with wrk: the 2-worker figure is "what a second worker
# adds when the load generator takes part of a core", not a clean 2x ceiling.
# Each server runs in its own session (setsid) and is stopped by SIGTERM to its
# PID, then SIGKILL to its process group (its workers) if anything is left after
# 10 s; nothing else is signalled. Each wrk run also records the CPU the server's
# process group used (utime+stime from /proc; server_cpu, in cores) and the busiest
# process's share of it (busiest: 0.5 = two workers sharing the load evenly).
# Every figure goes to $RESULTS as a JSON line tagged with this run's id; the
# summary (medians of RUNS) reads only this run's lines.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
apps="$here/http_apps"
home="${BENCH_HOME:-$HOME/.cache/circuits-bench}"
CIRCUITS_PYTHON="${CIRCUITS_PYTHON:-$repo/.venv/bin/python}"
PEERS_PYTHON="${PEERS_PYTHON:-$home/peers/bin/python}"
DURATION="${DURATION:-5s}"; RUNS="${RUNS:-3}"; CONNS="${CONNS:-100}"; WARMUP="${WARMUP:-3s}"
WORKERS="${WORKERS:-1 2}"; PORT="${PORT:-18081}"; POLLER="${POLLER:-select}"
RESULTS="${RESULTS:-$home/results/workers.jsonl}"
CLIENT_CPU="${CLIENT_CPU-1}"
RUN_ID="$(date +%Y%m%dT%H%M%S)-$$"
me=workers.sh; BENCH=workers
# shellcheck source=_bench_lib.sh source-path=SCRIPTDIR
. "$here/_bench_lib.sh"
SERVER_SESSION=1

impls=()
for a in "${@:-circuits uvicorn uvicorn-uvloop gunicorn-aiohttp}"; do
  for i in $a; do impls+=("$i"); done
done

bench_need_wrk
for i in "${impls[@]}"; do
  [ "$i" = circuits ] || { bench_need_peers; break; }
done
pin_s=()  # servers: not pinned (see the header)
pin_c=()
if [ -n "$CLIENT_CPU" ] && command -v taskset >/dev/null; then
  pin_c=(taskset -c "$CLIENT_CPU")
else
  echo "$me: wrk not pinned" >&2
fi
SUMPY="$CIRCUITS_PYTHON"; [ -x "$SUMPY" ] || SUMPY=python3
mkdir -p "$(dirname "$RESULTS")" "$home"
tmp="$(mktemp -d)"
docroot="$tmp/docroot"; mkdir -p "$docroot"  # empty: Static finds nothing, the app answers
cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

group_cpu() {  # {pid: CPU seconds (user+system) so far} of the processes of group $1, as JSON
  "$SUMPY" - "$1" <<'PYEOF'
import json, os, sys
pgid, hz, cpu = int(sys.argv[1]), os.sysconf("SC_CLK_TCK"), {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        continue
    if int(fields[2]) == pgid:  # fields[0] is field 3 (state): pgid 5, utime 14, stime 15
        cpu[pid] = (int(fields[11]) + int(fields[12])) / hz
print(json.dumps(cpu))
PYEOF
}

bench_one() {  # impl workers
  local name="$1" n="$2" path=/
  impl="$name-w$n"
  case "$name" in
    circuits)
      PY="$CIRCUITS_PYTHON"; path=/hello
      cmd=("$PY" -m circuits.web --workers "$n" --app circuits_app:Root --poller "$POLLER"
           -b "127.0.0.1:$PORT" --drain-timeout 2 "$docroot");;
    uvicorn|uvicorn-uvloop)
      PY="$PEERS_PYTHON"
      cmd=("$PY" -m uvicorn --host 127.0.0.1 --port "$PORT" --workers "$n" --http httptools
           --loop "$([ "$name" = uvicorn ] && echo asyncio || echo uvloop)"
           --no-access-log --log-level warning asgi_hello:app);;
    gunicorn-aiohttp)
      PY="$PEERS_PYTHON"
      cmd=("$PY" -m gunicorn -w "$n" -k aiohttp.GunicornWebWorker -b "127.0.0.1:$PORT"
           --graceful-timeout 2 --log-level warning aiohttp_app:app);;
    *) echo "$me: unknown IMPL $name" >&2; return 2;;
  esac
  echo "== $impl with $PY" >&2
  if [ ! -x "$PY" ]; then missing start "no interpreter $PY"; return 1; fi
  READY_PATH="$path"
  start_server || { missing start "did not start, log: $home/server-$impl.log"; return 1; }
  local url="http://127.0.0.1:$PORT$path" body
  body="$(curl -s --max-time 5 "$url")"
  if [ "$body" != "Hello, World!" ]; then
    missing start "answered '${body:0:80}' instead of Hello, World!"; stop_server; return 1
  fi
  record "{\"test\": \"start\", \"status\": \"ok\", \"workers\": $n}"
  # the warm-up also gives the other workers time to come up
  "${pin_c[@]}" wrk -t1 -c"$CONNS" -d"$WARMUP" "$url" >/dev/null 2>&1
  local c0 c1 r
  for r in $(seq 1 "$RUNS"); do
    c0="$(group_cpu "$srv_pid")"
    "${pin_c[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$url" >"$tmp/w" 2>&1
    c1="$(group_cpu "$srv_pid")"
    # server_cpu: cores the whole group used; busiest: the share of one process (a
    # worker that took every connection shows as ~1.0 with N = 2)
    emit ka "$r" "$tmp/w" "$CONNS" "$("$SUMPY" -c '
import json, sys
c0, c1, d, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
secs = float(d[:-1]) * {"s": 1, "m": 60, "h": 3600}[d[-1]] if d[-1] in "smh" else float(d)
used = [c1[p] - c0.get(p, 0.0) for p in c1]
total = sum(used) or 1.0
print(json.dumps({"workers": int(n), "procs": len(c1), "server_cpu": round(sum(used) / secs, 2),
                  "busiest": round(max(used, default=0.0) / total, 2)}))
' "$c0" "$c1" "$DURATION" "$n")"
  done
  stop_server
}

for n in $WORKERS; do
  for i in "${impls[@]}"; do
    bench_one "$i" "$n"
  done
done

# -- summary: this run's lines only -------------------------------------------------
"$SUMPY" - "$RESULTS" "$RUN_ID" "$WORKERS" "${impls[@]}" <<'PYEOF'
import json, statistics, sys

path, run_id, workers, *names = sys.argv[1:]
counts = [int(n) for n in workers.split()]
names = list(dict.fromkeys(names))
with open(path) as f:
    rows = [r for r in map(json.loads, filter(str.strip, f)) if r.get("run_id") == run_id]


def median(impl, key):
    vals = [r[key] for r in rows if r["impl"] == impl and r["test"] == "ka" and r.get(key)]
    return statistics.median(vals) if vals else None


def fmt(v, digits=0):
    return "missing" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return "missing" if a is None or b is None or not b else f"{a / b:.2f}"


rps = {(name, n): median(f"{name}-w{n}", "rps") for name in names for n in counts}
cpu = {(name, n): median(f"{name}-w{n}", "server_cpu") for name in names for n in counts}
top = {(name, n): median(f"{name}-w{n}", "busiest") for name in names for n in counts}
print()
print(f"== workers summary (run {run_id}; keep-alive, medians of runs; server CPU = cores"
      " used by the server's processes; top = the busiest process's share of that CPU)")
head = "".join(f"{f'{n}w req/s':>14}{f'{n}w CPU':>9}{f'{n}w top':>9}" for n in counts)
print(f"{'impl':<18}{head}")
for name in names:
    cells = "".join(
        f"{fmt(rps[name, n]):>14}{fmt(cpu[name, n], 2):>9}{fmt(top[name, n], 2):>9}"
        for n in counts
    )
    print(f"{name:<18}{cells}")
print()
print("ratios (same run):")
for ref in ("uvicorn", "uvicorn-uvloop", "gunicorn-aiohttp"):
    if "circuits" in names and ref in names:
        for n in counts:
            what = f"circuits/{ref}, {n} worker(s)"
            print(f"  {what:<40} {ratio(rps['circuits', n], rps[ref, n]):>8}")
if len(counts) > 1:
    lo, hi = min(counts), max(counts)
    for name in names:
        what = f"{name} scaling {hi}w/{lo}w"
        print(f"  {what:<40} {ratio(rps[name, hi], rps[name, lo]):>8}")
PYEOF
