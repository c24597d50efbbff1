# Shell pieces shared by the wrk-based benchmarks (http.sh, workers.sh); sourced, not run.
#
# The caller sets, before using a function:
#   me        the script's name, for messages          here, apps, home  its directories
#   PORT      the server's port                         PEERS_PYTHON     the peers' interpreter
#   BENCH     the "bench" tag of the JSON lines          RESULTS          the JSON-lines file
#   RUN_ID    this run's id                              SUMPY            python for bookkeeping
#   DURATION  wrk's -d (recorded with each figure)
# and, per server: impl (its name), PY (its interpreter), cmd (its command line, run
# in $apps), pin_s (a taskset prefix or empty), and optionally
#   SERVER_SESSION=1  start the server in its own session (setsid: process group = its
#                     PID) and stop the whole group, for servers with worker processes
#   READY_PATH        the path polled until the server answers (default /)
# Only processes started here are signalled: the server's PID, or with
# SERVER_SESSION=1 its own process group.
# shellcheck shell=bash
# (me, here, apps, home, ... come from the caller)
# shellcheck disable=SC2154

srv_pid=""; impl=""; PY=""; cmd=(); pin_s=()

bench_need_wrk() {
  command -v wrk >/dev/null && return 0
  echo "$me: installing wrk" >&2
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk) \
     || sudo apt-get install -y wrk) >&2
  command -v wrk >/dev/null || { echo "$me: wrk missing: apt-get install -y wrk" >&2; exit 2; }
}

bench_need_peers() {  # create the peers' venv with setup_peers.sh unless it is there
  if [ "$PEERS_PYTHON" = "$home/peers/bin/python" ] \
     && ! { [ -f "$home/peers/.bench-installed" ] && "$PEERS_PYTHON" -c 'import sys' 2>/dev/null; }
  then
    echo "$me: creating the peers' venv with setup_peers.sh" >&2
    BENCH_HOME="$home" "$here/setup_peers.sh" >/dev/null || echo "$me: setup_peers.sh failed" >&2
  fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start_server() {
  if port_busy; then
    echo "$me: port $PORT is already in use (not ours); set PORT=..." >&2; return 1
  fi
  local session=()
  # Not job-controlled, this background subshell is no group leader, so setsid
  # calls setsid() and execs in place: $! stays the server's PID and group id.
  [ "${SERVER_SESSION:-0}" = 1 ] && session=(setsid)
  (cd "$apps" && exec "${pin_s[@]}" "${session[@]}" "${cmd[@]}" >"$home/server-$impl.log" 2>&1) &
  srv_pid=$!
  for _ in $(seq 1 100); do
    kill -0 "$srv_pid" 2>/dev/null || break
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT${READY_PATH:-/}"; then return 0; fi
    sleep 0.1
  done
  echo "$me: $impl did not start; log:" >&2; tail -20 "$home/server-$impl.log" >&2
  stop_server; return 1
}

stop_server() {  # SIGTERM (graceful), SIGKILL after 5 s (10 s for a group)
  [ -n "$srv_pid" ] || return 0
  kill "$srv_pid" 2>/dev/null
  if [ "${SERVER_SESSION:-0}" = 1 ]; then
    # the leader stops its workers; wait for the whole group to be gone
    for _ in $(seq 1 100); do kill -0 -- "-$srv_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$srv_pid" 2>/dev/null
  else
    for _ in $(seq 1 50); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$srv_pid" 2>/dev/null
  fi
  wait "$srv_pid" 2>/dev/null
  srv_pid=""
}

record() {  # one JSON object (as text) -> $RESULTS, with this run's id
  "$SUMPY" -c 'import json,sys,time; r=json.loads(sys.argv[1]); r.update(bench=sys.argv[4], run_id=sys.argv[2], impl=sys.argv[3], time=time.strftime("%Y-%m-%dT%H:%M:%S")); print(json.dumps(r))' \
    "$1" "$RUN_ID" "$impl" "$BENCH" >>"$RESULTS"
}

missing() {  # test reason
  echo "  $1: missing ($2)" >&2
  record "{\"test\": \"$1\", \"status\": \"missing\"}"
}

emit() {  # test run wrk-output-file conns [extra JSON object merged into the row]
  local extra="${5:-}"
  [ -n "$extra" ] || extra='{}'
  "$SUMPY" - "$impl" "$1" "$2" "$3" "$PY" "$DURATION" "$4" "$RUN_ID" "$BENCH" "$extra" \
    >>"$RESULTS" <<'PYEOF'
import json, re, sys, time
impl, test, run, path, py, dur, conns, run_id, bench, extra = sys.argv[1:11]
out = open(path).read()
def unit(v, u, table):
    return float(v) * table.get(u, 1)
row = {"bench": bench, "run_id": run_id, "impl": impl, "test": test, "run": int(run),
       "conns": int(conns), "duration": dur, "python": py, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
m = re.search(r"Requests/sec:\s+([\d.]+)", out)
row["rps"] = float(m.group(1)) if m else None
m = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", out)
if m:
    row["MBps"] = round(unit(m.group(1), m.group(2), {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}), 2)
m = re.search(r"(\d+) requests in", out)
row["requests"] = int(m.group(1)) if m else None
for q in ("50", "99"):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\b" % q, out, re.M)
    if m:
        row["p%s_ms" % q] = round(unit(m.group(1), m.group(2), {"us": 1e-3, "ms": 1, "s": 1e3}), 3)
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
if m:
    row["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if m:
    row["non2xx"] = int(m.group(1))
row.update(json.loads(extra))
print(json.dumps(row))
print("  %-8s run %s: %s req/s%s  p50 %s ms  p99 %s ms%s%s" % (
    test, run, row["rps"], ("  %.1f MB/s" % row["MBps"]) if test == "static" and "MBps" in row else "",
    row.get("p50_ms"), row.get("p99_ms"),
    "".join("  %s %s" % kv for kv in json.loads(extra).items()),
    ("  errors %s" % row.get("socket_errors")) if any((row.get("socket_errors") or {}).values()) else ""
    + ("  non2xx %s" % row["non2xx"] if "non2xx" in row else "")), file=sys.stderr)
PYEOF
}
