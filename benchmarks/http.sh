#!/usr/bin/env bash
# HTTP benchmark with wrk on 127.0.0.1 (loopback only): circuits.web against its
# peers, measured in one run, with a summary of ratios at the end.
#
# Adapted from shared/bench/http.sh (ours to reuse); its apps are copied into
# benchmarks/http_apps/ and idle_conns.py into benchmarks/. Changes: several
# implementations per run with a summary of ratios, wrk and the peers' venv
# set up when missing, our interpreter found relative to the repo, and an
# implementation that fails to start is reported as "missing".
#
# usage: benchmarks/http.sh [IMPL ...]
#   IMPL    circuits             circuits.web Controller returning "Hello, World!" (+ Static)
#           circuits-wsgi        circuits.web Server + wsgi.Gateway hosting a WSGI app
#           aiohttp tornado cheroot waitress gunicorn
#           uvicorn-httptools uvicorn-h11   (raw ASGI app, asyncio loop)
#           uvicorn-uvloop                  (httptools + uvloop, uvicorn's default)
#           asyncio-raw asyncio-raw-uvloop  (asyncio Protocol writing a fixed response)
#           peers                all of the above but circuits and circuits-wsgi
#           all                  circuits, circuits-wsgi and peers
#   default: circuits circuits-wsgi aiohttp asyncio-raw uvicorn-httptools
# env: CIRCUITS_PYTHON ($repo/.venv/bin/python)  PEERS_PYTHON ($BENCH_HOME/peers/bin/python)
#      BENCH_HOME (~/.cache/circuits-bench)  DURATION (5s)  RUNS (3)  CONNS (50)
#      TESTS ("ka close static mem")  STATIC_CONNS (10)  MEM_CONNS (1000)  PORT (18080)
#      RESULTS ($BENCH_HOME/results/http.jsonl)  SERVER_CPU (0)  CLIENT_CPU (1)
# Tests: ka      wrk -t1 -c$CONNS -d$DURATION keep-alive, RUNS runs
#        close   same with "Connection: close" (a new connection per request), 1 run
#        static  GET of a 1 MiB file, -c$STATIC_CONNS, RUNS runs (servers with a
#                static-file handler: circuits, aiohttp, tornado, uvicorn-* via starlette)
#        mem     server RSS before and while holding MEM_CONNS idle keep-alive connections
# Each figure is appended as one JSON line (tagged with this run's id) to $RESULTS;
# the summary (medians of runs) only reads this run's lines.
# The server is pinned to CPU $SERVER_CPU and wrk to CPU $CLIENT_CPU with taskset.
# Only processes this script starts are stopped, by PID.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
apps="$here/http_apps"
home="${BENCH_HOME:-$HOME/.cache/circuits-bench}"
CIRCUITS_PYTHON="${CIRCUITS_PYTHON:-$repo/.venv/bin/python}"
PEERS_PYTHON="${PEERS_PYTHON:-$home/peers/bin/python}"
DURATION="${DURATION:-5s}"; RUNS="${RUNS:-3}"; CONNS="${CONNS:-50}"
TESTS="${TESTS:-ka close static mem}"; STATIC_CONNS="${STATIC_CONNS:-10}"
MEM_CONNS="${MEM_CONNS:-1000}"; PORT="${PORT:-18080}"
RESULTS="${RESULTS:-$home/results/http.jsonl}"
SERVER_CPU="${SERVER_CPU:-0}"; CLIENT_CPU="${CLIENT_CPU:-1}"
RUN_ID="$(date +%Y%m%dT%H%M%S)-$$"
me=http.sh; BENCH=http
# shellcheck source=_bench_lib.sh source-path=SCRIPTDIR
. "$here/_bench_lib.sh"
PEERS="aiohttp tornado cheroot waitress gunicorn uvicorn-httptools uvicorn-h11 uvicorn-uvloop
       asyncio-raw asyncio-raw-uvloop"

impls=()
for a in "${@:-circuits circuits-wsgi aiohttp asyncio-raw uvicorn-httptools}"; do
  for i in $a; do
    case "$i" in
      peers) impls+=($PEERS);;
      all)   impls+=(circuits circuits-wsgi $PEERS);;
      *)     impls+=("$i");;
    esac
  done
done

# -- set-up: wrk, the peers' venv, the static file --------------------------------
bench_need_wrk
for i in "${impls[@]}"; do
  case "$i" in circuits*) continue;; esac
  bench_need_peers
  break
done
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_s=(taskset -c "$SERVER_CPU"); pin_c=(taskset -c "$CLIENT_CPU")
else
  pin_s=(); pin_c=(); echo "http.sh: not pinning (taskset missing or 1 CPU)" >&2
fi
# python for the bookkeeping (JSON lines, summary): ours, else any python3
SUMPY="$CIRCUITS_PYTHON"; [ -x "$SUMPY" ] || SUMPY=python3
mkdir -p "$(dirname "$RESULTS")" "$home"
static_dir="$home/static"
if [ ! -f "$static_dir/blob.bin" ]; then
  mkdir -p "$static_dir"
  head -c 1048576 /dev/urandom > "$static_dir/blob.bin.tmp" && mv "$static_dir/blob.bin.tmp" "$static_dir/blob.bin"
fi
tmp="$(mktemp -d)"

# -- the server under test: start_server, stop_server, record, missing, emit ----------
cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_one() {  # impl: start it, run $TESTS, stop it
  impl="$1"
  case "$impl" in
    circuits*) PY="$CIRCUITS_PYTHON";;
    *)         PY="$PEERS_PYTHON";;
  esac
  local has_static=0 proto loop
  case "$impl" in
    circuits)      cmd=("$PY" "$apps/circuits_hello.py" "$PORT" "$static_dir"); has_static=1;;
    circuits-wsgi) cmd=("$PY" "$apps/circuits_wsgi.py" "$PORT");;
    aiohttp)       cmd=("$PY" "$apps/aiohttp_hello.py" "$PORT" "$static_dir"); has_static=1;;
    tornado)       cmd=("$PY" "$apps/tornado_hello.py" "$PORT" "$static_dir"); has_static=1;;
    cheroot)       cmd=("$PY" "$apps/cheroot_hello.py" "$PORT");;
    waitress)      cmd=("$PY" -m waitress --listen="127.0.0.1:$PORT" --connection-limit=2000 wsgi_hello:app);;
    gunicorn)      cmd=("$PY" -m gunicorn -w 1 -k sync -b "127.0.0.1:$PORT" --log-level warning wsgi_hello:app);;
    uvicorn-httptools|uvicorn-h11|uvicorn-uvloop)
                   proto=httptools; loop=asyncio
                   [ "$impl" = uvicorn-h11 ] && proto=h11
                   [ "$impl" = uvicorn-uvloop ] && loop=uvloop
                   cmd=("$PY" -m uvicorn --host 127.0.0.1 --port "$PORT" --http "$proto" --loop "$loop"
                        --no-access-log --log-level warning asgi_hello:app); has_static=1;;
    asyncio-raw)        cmd=("$PY" "$apps/asyncio_raw.py" "$PORT");;
    asyncio-raw-uvloop) cmd=("$PY" "$apps/asyncio_raw.py" "$PORT" uvloop);;
    *) echo "http.sh: unknown IMPL $impl" >&2; return 2;;
  esac
  echo "== $impl with $PY" >&2
  if [ ! -x "$PY" ]; then missing start "no interpreter $PY"; return 1; fi
  start_server || { missing start "did not start, log: $home/server-$impl.log"; return 1; }
  local body
  body="$(curl -s --max-time 5 "http://127.0.0.1:$PORT/")"
  if [ "$body" != "Hello, World!" ]; then
    missing start "answered '${body:0:80}' instead of Hello, World!"; stop_server; return 1
  fi
  record '{"test": "start", "status": "ok"}'
  for t in $TESTS; do
    case "$t" in
      ka)
        "${pin_c[@]}" wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$PORT/" >/dev/null 2>&1  # warm-up
        for r in $(seq 1 "$RUNS"); do
          "${pin_c[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/" >"$tmp/w" 2>&1
          emit ka "$r" "$tmp/w" "$CONNS"
        done;;
      close)
        "${pin_c[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -H "Connection: close" \
          "http://127.0.0.1:$PORT/" >"$tmp/w" 2>&1
        emit close 1 "$tmp/w" "$CONNS"
        sleep 1;;
      static)
        [ "$has_static" = 1 ] || continue
        local url="http://127.0.0.1:$PORT/static/blob.bin" size save
        if [ "${impl#uvicorn}" != "$impl" ]; then
          # restart uvicorn on the starlette StaticFiles app for this test
          stop_server
          save=("${cmd[@]}"); cmd=("${cmd[@]/asgi_hello:app/asgi_hello:static_app}")
          export STATIC_DIR="$static_dir"
          if ! start_server; then cmd=("${save[@]}"); missing static "no starlette app"; start_server || return 1; continue; fi
          cmd=("${save[@]}")
        fi
        size="$(curl -s -o /dev/null -w '%{size_download} %{http_code}' --max-time 10 "$url")"
        if [ "$size" != "1048576 200" ]; then
          missing static "download gave '$size'"
        else
          "${pin_c[@]}" wrk -t1 -c"$STATIC_CONNS" -d2s "$url" >/dev/null 2>&1
          for r in $(seq 1 "$RUNS"); do
            "${pin_c[@]}" wrk -t1 -c"$STATIC_CONNS" -d"$DURATION" --latency "$url" >"$tmp/w" 2>&1
            emit static "$r" "$tmp/w" "$STATIC_CONNS"
          done
        fi
        if [ "${impl#uvicorn}" != "$impl" ]; then stop_server; start_server || return 1; fi;;
      mem)
        # fresh server so earlier load does not inflate the figure
        stop_server; start_server || { missing mem "did not restart"; return 1; }; sleep 0.5
        local m
        m="$("${pin_c[@]}" "$SUMPY" "$here/idle_conns.py" "$PORT" "$srv_pid" "$MEM_CONNS" 2)"
        echo "  mem      $m" >&2
        record "$("$SUMPY" -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(test="mem", conns=int(sys.argv[2])); print(json.dumps(r))' "$m" "$MEM_CONNS")";;
      *) echo "http.sh: unknown test $t" >&2;;
    esac
  done
  stop_server
}

for i in "${impls[@]}"; do
  bench_one "$i"
done

# -- summary: this run's lines only -------------------------------------------------
"$SUMPY" - "$RESULTS" "$RUN_ID" "$MEM_CONNS" "$TESTS" "${impls[@]}" <<'PYEOF'
import json, statistics, sys

path, run_id, mem_conns, tests, *impls = sys.argv[1:]
tests = tests.split()
impls = list(dict.fromkeys(impls))
STATIC = {"circuits", "aiohttp", "tornado", "uvicorn-httptools", "uvicorn-h11", "uvicorn-uvloop"}
rows = []
with open(path) as f:
    for line in f:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("run_id") == run_id:
            rows.append(r)


def median(impl, test, key):
    vals = [r[key] for r in rows if r["impl"] == impl and r["test"] == test and r.get(key)]
    return statistics.median(vals) if vals else None


def started(impl):
    return any(r["impl"] == impl and r["test"] == "start" and r.get("status") == "ok" for r in rows)


# impl -> figure -> value; None = missing (run, no figure); "n/a" = not run
table = {}
for impl in impls:
    ok = started(impl)
    m = next((r for r in rows if r["impl"] == impl and r["test"] == "mem"
              and "per_conn_kib" in r), None)
    t = table[impl] = {
        "ka": median(impl, "ka", "rps") if ok else None,
        "close": median(impl, "close", "rps") if ok else None,
        "static": median(impl, "static", "MBps") if ok else None,
        "kib": m and m["per_conn_kib"],
        "added": m and (m["rss_held_kib"] - m["rss_before_kib"]) / 1024,
        "held": m and m["rss_held_kib"] / 1024,
    }
    for key, test in (("ka", "ka"), ("close", "close"), ("static", "static"),
                      ("kib", "mem"), ("added", "mem"), ("held", "mem")):
        if test not in tests or (test == "static" and impl not in STATIC):
            t[key] = "n/a"


def cell(v, width, digits):
    text = v if isinstance(v, str) else "missing" if v is None else f"{v:.{digits}f}"
    return text.rjust(width)


def ratio(a, b, key):
    x, y = table.get(a, {}).get(key, "n/a"), table.get(b, {}).get(key, "n/a")
    if x == "n/a" or y == "n/a" or b not in table:
        return "n/a"
    if x is None or y is None or not y:
        return "missing"
    return f"{x / y:.2f}"


cols = [("ka req/s", "ka", 0), ("close req/s", "close", 0), ("static MB/s", "static", 1),
        ("KiB/conn", "kib", 1), (f"MiB +{mem_conns}", "added", 1), ("MiB held", "held", 1)]
print()
print(f"== HTTP summary (run {run_id}; medians of runs; mem: {mem_conns} idle connections,"
      " MiB added = RSS growth, MiB held = server RSS while holding them)")
print(f"{'impl':<20}" + "".join(f"{name:>13}" for name, _, _ in cols))
for impl in impls:
    print(f"{impl:<20}" + "".join(cell(table[impl][key], 13, d) for _, key, d in cols))
print()
print("ratios (same run):")
for ours in ("circuits", "circuits-wsgi"):
    if ours not in impls:
        continue
    lines = [
        ("keep-alive req/s", "aiohttp", "ka"),
        ("keep-alive req/s", "asyncio-raw", "ka"),
        ("keep-alive req/s", "uvicorn-httptools", "ka"),
        ("close req/s", "aiohttp", "close"),
        ("static MB/s", "aiohttp", "static"),
        ("KiB per idle conn", "aiohttp", "kib"),
    ]
    for what, ref, key in lines:
        if ours != "circuits" and key == "static":
            continue
        print(f"  {what:<18} {ours + '/' + ref:<32} {ratio(ours, ref, key):>8}")
PYEOF
