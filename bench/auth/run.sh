#!/usr/bin/env bash
# Authentication overhead on the ingestion path (issue 15): log-metric req/s and p99 with
# authentication on and off, for Cairn (`cairn server` vs `cairn server --auth`, HTTP Basic, and
# a bearer token) and for MLflow (`mlflow server` vs `mlflow server --app-name basic-auth`).
#
#   bench/auth/run.sh [--only cairn|mlflow] [--duration 15s] [--warmup 3s]
#
# Each server runs alone on SQLite in a fresh temp dir; wrk (-t2 -c16, bench/tracking's
# tracking.lua in logmetric mode) posts runs/log-metric over 4 runs the admin created, with the
# Authorization header on every request. Results go to stdout as a Markdown table; the last column,
# the server's CPU time per request, is the overhead figure that stays meaningful on a busy machine.
#
# Environment: CAIRN_BIN (default .build/release/cairn), PYTHON (default: the compat venv's, it
# needs mlflow[auth]), BENCH_TMP (default ${TMPDIR:-/tmp}).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CAIRN_BIN="${CAIRN_BIN:-$ROOT/.build/release/cairn}"
PYTHON="${PYTHON:-python3}"
ONLY="both"
DURATION="15s"
WARMUP="3s"
ADMIN_PASSWORD="bench admin password"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

WORK="$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/cairn-auth-bench.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM -- "-$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_health() {  # $1 = url
  for _ in $(seq 1 600); do
    curl -fsS "$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died: $(tail -20 "$WORK/server.log")" >&2; exit 1; }
    sleep 0.2
  done
  echo "server did not start" >&2; exit 1
}

stop_server() {
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

start_server() {  # $1 = cairn|cairn-auth|mlflow|mlflow-auth; sets URL
  local port dir
  port="$(free_port)"
  dir="$WORK/$1"
  mkdir -p "$dir"
  URL="http://127.0.0.1:$port"
  case "$1" in
    cairn) setsid "$CAIRN_BIN" server --port "$port" --data-dir "$dir" >"$WORK/server.log" 2>&1 & ;;
    cairn-auth)
      MLFLOW_AUTH_ADMIN_PASSWORD="$ADMIN_PASSWORD" setsid "$CAIRN_BIN" server --auth --port "$port" --data-dir "$dir" \
        >"$WORK/server.log" 2>&1 & ;;
    mlflow)
      # setsid execs the server in place, so $! is its process group (stop_server ends it whole).
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false setsid "$PYTHON" -m mlflow server --host 127.0.0.1 --port "$port" \
        --backend-store-uri "sqlite:///$dir/mlflow.db" --artifacts-destination "$dir/artifacts" >"$WORK/server.log" 2>&1 & ;;
    mlflow-auth)
      printf '[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///%s/auth.db\nadmin_username = admin\n' "$dir" >"$dir/auth.ini"
      MLFLOW_AUTH_CONFIG_PATH="$dir/auth.ini" MLFLOW_AUTH_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        MLFLOW_FLASK_SERVER_SECRET_KEY=bench MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
        setsid "$PYTHON" -m mlflow server --app-name basic-auth --host 127.0.0.1 --port "$port" \
        --backend-store-uri "sqlite:///$dir/mlflow.db" --artifacts-destination "$dir/artifacts" >"$WORK/server.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  wait_health "$URL"
}

# Four runs in a fresh experiment, made with the header the load will send.
make_runs() {  # $1 = Authorization header or ""
  local header=() experiment runs=""
  [[ -n "$1" ]] && header=(-H "Authorization: $1")
  experiment="$(curl -fsS "${header[@]}" -H 'Content-Type: application/json' -d "{\"name\":\"auth-bench-$RANDOM$RANDOM\"}" \
    "$URL/api/2.0/mlflow/experiments/create" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["experiment_id"])')"
  for _ in 1 2 3 4; do
    runs+=" $(curl -fsS "${header[@]}" -H 'Content-Type: application/json' -d "{\"experiment_id\":\"$experiment\"}" \
      "$URL/api/2.0/mlflow/runs/create" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["run"]["info"]["run_id"])')"
  done
  echo "$runs"
}

# CPU time (user + system, clock ticks) of every process in the server's process group: the
# server's own cost, which other load on a shared machine changes far less than latency.
cpu_ticks() {
  local total=0 stat stat_line rest fields
  for stat in /proc/[0-9]*/stat; do
    # A process may end between the glob and the read.
    read -r stat_line 2>/dev/null <"$stat" || continue
    rest="${stat_line##*) }"  # after "pid (comm) "
    read -r -a fields <<<"$rest"
    [[ "${fields[2]}" == "$SERVER_PID" ]] && total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# One row: req/s (2xx), p50, p99, non-2xx, server CPU per request.
measure() {  # $1 = label, $2 = Authorization header or ""
  local runs header=() before after
  runs="$(make_runs "$2")"
  [[ -n "$2" ]] && header=(-H "Authorization: $2")
  wrk -t2 -c16 -d"$WARMUP" --timeout 30s "${header[@]}" -s "$ROOT/bench/tracking/tracking.lua" "$URL" -- logmetric 0 $runs >/dev/null
  before="$(cpu_ticks)"
  wrk -t2 -c16 -d"$DURATION" --latency --timeout 30s "${header[@]}" -s "$ROOT/bench/tracking/tracking.lua" "$URL" \
    -- logmetric 100000000000 $runs | grep '^WRK_JSON' | sed 's/^WRK_JSON //' >"$WORK/wrk.json"
  after="$(cpu_ticks)"
  "$PYTHON" -c '
import json, os, sys
label, ticks = sys.argv[1], int(sys.argv[2])
r = json.load(open(sys.argv[3]))
ok = r["responses"] - r["non2xx"]
rate = ok / (r["duration_us"] / 1e6)
p50, p99, bad = r["lat_us"]["p50"] / 1000, r["lat_us"]["p99"] / 1000, r["non2xx"]
cpu = ticks / os.sysconf("SC_CLK_TCK") * 1e6 / max(1, r["responses"])
print(f"| {label} | {rate:,.0f} | {p50:.1f} ms | {p99:.1f} ms | {bad} | {cpu:,.0f} µs |")
' "$1" "$((after - before))" "$WORK/wrk.json"
}

basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }

echo "| server | log-metric req/s (2xx) | p50 | p99 | non-2xx | server CPU per request |"
echo "|---|---:|---:|---:|---:|---:|"
if [[ "$ONLY" != mlflow ]]; then
  start_server cairn
  measure "Cairn, auth off" ""
  stop_server
  start_server cairn-auth
  measure "Cairn --auth, HTTP Basic (admin)" "$(basic admin "$ADMIN_PASSWORD")"
  curl -fsS -u "admin:$ADMIN_PASSWORD" -H 'Content-Type: application/json' \
    -d '{"username":"writer","password":"bench writer password"}' "$URL/api/2.0/mlflow/users/create" >/dev/null
  measure "Cairn --auth, HTTP Basic (non-admin, creator's MANAGE)" "$(basic writer "bench writer password")"
  token="$(curl -fsS -u "writer:bench writer password" -H 'Content-Type: application/json' -d '{"name":"bench"}' \
    "$URL/api/cairn/v1/tokens" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  measure "Cairn --auth, bearer token (non-admin)" "Bearer $token"
  stop_server
fi
if [[ "$ONLY" != cairn ]]; then
  start_server mlflow
  measure "MLflow, auth off" ""
  stop_server
  start_server mlflow-auth
  measure "MLflow basic-auth (admin)" "$(basic admin "$ADMIN_PASSWORD")"
  stop_server
fi
