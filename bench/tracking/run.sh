#!/usr/bin/env bash
# Cairn vs MLflow tracking-server benchmark, side by side on this machine.
#
#   bench/tracking/run.sh [--only cairn|mlflow] [--duration 15s] [--warmup 3s] [--quick] [--big-history N]
#
# Starts each server on SQLite in a fresh temp dir (one server at a time), runs the same
# workloads against it over plain HTTP, samples its memory, stops it, and prints a
# Markdown table (also written to bench/tracking/results/latest.md).
#
# Workloads (same for both servers):
#   client-ingest  one MlflowClient logging in sequence: 500 log_batch calls of 100 metrics,
#               then 500 log_metric calls; per-call latency p50/p99
#   log-batch   wrk -t2 -c16, POST runs/log-batch with 100 metrics (distinct keys, unique steps)
#   log-metric  wrk -t2 -c16, POST runs/log-metric, one metric per request
#   history     100k points of one metric (log-batch, 1000/req), then GET metrics/get-history
#               paged with max_results=25000 until next_page_token is empty (median of reps)
#               and the same through the stock client, MlflowClient().get_metric_history
#   search      2k runs (metric m, param p, tag t); runs/search with
#               "metrics.m > 0.5 and params.p = 'a' and tags.t = 'x'" order by metrics.m DESC,
#               max_results 100 (median of reps) and one unfiltered page of 1000 (median), in
#               plain HTTP and through the stock client (MlflowClient().search_runs: the HTTP
#               call it makes, and the whole call with its protobuf parsing)
#   big-history (--big-history N, Cairn only) N points of one metric, then the server is
#               restarted and the history read through MlflowClient and as one unpaged
#               get-history while the server's RSS is sampled every 50 ms
#   memory      VmRSS summed over the server's process tree at idle, and peak during the loads
#               (sampled every 200 ms), plus the sum of per-process VmHWM
#
# Environment:
#   CAIRN_BIN   cairn binary (default: .build/release/cairn)
#   BENCH_TMP   parent dir for the servers' data dirs (default: ${TMPDIR:-/tmp})
#
# Note: 2-core machine; wrk (and the Python loaders) share the cores with the server under
# test. That is the same for both servers.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/bench/.venv-mlflow"
MLFLOW_VERSION="3.17.2"
CMDLINE="${CAIRN_BIN:+CAIRN_BIN=$CAIRN_BIN }${BENCH_TMP:+BENCH_TMP=$BENCH_TMP }bench/tracking/run.sh${*:+ $*}"

ONLY="both"
DURATION="15s"
WARMUP="3s"
CONNS=16
THREADS=2
WRITE_RUNS=4
POINTS=100000
HIST_REPS=5
SEARCH_RUNS=2000
INGEST_CALLS=500
BIG_HISTORY=0
SEARCH_REPS=20
PAGE_REPS=10
LOADER_THREADS=8
KEEP=0
WAIT_QUIET=0

usage() {
  cat <<EOF
usage: $0 [options]
  --only cairn|mlflow   benchmark one server only (default: both)
  --duration D          wrk duration per write load (default: $DURATION)
  --warmup D            wrk warm-up before each write load (default: $WARMUP)
  --connections N       wrk connections (default: $CONNS)
  --search-runs N       runs to create for the search workload (default: $SEARCH_RUNS)
  --points N            points for the get-history workload (default: $POINTS)
  --search-reps N       repetitions of the filtered search (default: $SEARCH_REPS)
  --page-reps N         repetitions of the 1000-run page (default: $PAGE_REPS)
  --history-reps N      repetitions of the full get-history read (default: $HIST_REPS)
  --loader-threads N    threads of the Python run loader (default: $LOADER_THREADS)
  --big-history N       also read an N-point history from Cairn while sampling its RSS
                        (default: off; 1000000 for the constant-memory figure)
  --quick               smoke run: 3s loads, 1s warm-up, 1000 runs, 20k points
  --wait-quiet SECS     before each server, wait up to SECS for other processes to leave
                        the CPUs idle (< 0.3 cores busy); the report warns either way
  --keep                keep the servers' data dirs and logs
env: CAIRN_BIN (default .build/release/cairn), BENCH_TMP (default \${TMPDIR:-/tmp})
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --connections) CONNS="$2"; shift 2 ;;
    --search-runs) SEARCH_RUNS="$2"; shift 2 ;;
    --points) POINTS="$2"; shift 2 ;;
    --search-reps) SEARCH_REPS="$2"; shift 2 ;;
    --page-reps) PAGE_REPS="$2"; shift 2 ;;
    --history-reps) HIST_REPS="$2"; shift 2 ;;
    --loader-threads) LOADER_THREADS="$2"; shift 2 ;;
    --big-history) BIG_HISTORY="$2"; shift 2 ;;
    --quick) DURATION=3s; WARMUP=1s; SEARCH_RUNS=1000; INGEST_CALLS=100; POINTS=20000; SEARCH_REPS=5; PAGE_REPS=3; HIST_REPS=2; shift ;;
    --keep) KEEP=1; shift ;;
    --wait-quiet) WAIT_QUIET="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$ONLY" in both|cairn|mlflow) ;; *) echo "--only must be cairn or mlflow" >&2; exit 2 ;; esac

exec 3>&2   # the script's stderr, for messages from traps (which may run inside a redirect)
log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------------- setup (idempotent)
ensure_mlflow() {
  if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" - "$MLFLOW_VERSION" <<'EOF' 2>/dev/null
import sys, importlib.metadata as md
sys.exit(0 if md.version("mlflow") == sys.argv[1] and md.version("requests") else 1)
EOF
  then return 0; fi
  log "installing mlflow==$MLFLOW_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION" requests
}

ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  log "installing wrk via apt"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y wrk
  command -v wrk >/dev/null 2>&1 || die "wrk still not found after apt-get install"
}

ensure_mlflow   # also provides python + requests for the loaders, even with --only cairn
ensure_wrk
PY="$VENV/bin/python"
BENCH="$PY $HERE/bench.py"

if [[ -z "${CAIRN_BIN:-}" && "$ONLY" != mlflow ]]; then
  log "building cairn (release)"
  (cd "$ROOT" && swift build -c release --product cairn >&2)
fi
CAIRN_BIN="${CAIRN_BIN:-$ROOT/.build/release/cairn}"
CAIRN_BIN="$(realpath -s -m -- "$CAIRN_BIN")"   # absolute: the server runs from its data dir
CAIRN_MTIME=""
[[ -e "$CAIRN_BIN" ]] && CAIRN_MTIME="$(date -u -r "$CAIRN_BIN" +%Y-%m-%dT%H:%M:%SZ)"
if [[ "$ONLY" != mlflow ]]; then
  if [[ ! -x "$CAIRN_BIN" ]]; then
    hint=""
    [[ -x "$ROOT/.build/debug/cairn" ]] && hint=" (a debug build exists: CAIRN_BIN=$ROOT/.build/debug/cairn, but debug numbers are not representative)"
    die "cairn binary not found or not executable: $CAIRN_BIN$hint; use --only mlflow to skip Cairn"
  fi
fi

# ------------------------------------------------------------------------- lifecycle
WORK="$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/cairn-bench.XXXXXX")"
RES="$WORK/results"
mkdir -p "$RES" "$HERE/results"
SERVER_PID=""
SAMPLER_PID=""
FG_PID=""

# Run a long step as a background child and wait for it: `wait` is interrupted by signals,
# so INT/TERM sent to this script stop the benchmark at once (cleanup kills the child).
bg_wait() {
  "$@" &
  FG_PID=$!
  local rc=0
  wait "$FG_PID" || rc=$?
  FG_PID=""
  return $rc
}

stop_pid_group() {  # $1 = pid that leads its own process group (started with setsid)
  local pid="$1" i
  [[ -z "$pid" ]] && return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "server $pid did not stop after 10s, sending SIGKILL" >&3
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # workers that were re-parented but still in the group
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_sampler() {
  if [[ -n "$SAMPLER_PID" ]]; then
    kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
  fi
}

cleanup() {
  local rc=$?
  if [[ -n "$FG_PID" ]]; then kill -TERM "$FG_PID" 2>/dev/null || true; wait "$FG_PID" 2>/dev/null || true; fi
  stop_sampler
  if [[ -n "$SERVER_PID" ]]; then stop_pid_group "$SERVER_PID"; SERVER_PID=""; fi
  if [[ $KEEP -eq 1 || $rc -ne 0 ]]; then
    echo "data dirs and logs kept in $WORK" >&3
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'echo "interrupted, stopping" >&3; exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_server() {  # $1 = cairn|mlflow ; sets SERVER_PID, URL
  local name="$1" port dir
  port="$(free_port)"
  dir="$WORK/$name-data"
  mkdir -p "$dir"
  URL="http://127.0.0.1:$port"
  local -a cmd
  if [[ "$name" == cairn ]]; then
    cmd=("$CAIRN_BIN" server --host 127.0.0.1 --port "$port" --data-dir "$dir")
  else
    mkdir -p "$dir/artifacts"
    cmd=("$VENV/bin/mlflow" server --host 127.0.0.1 --port "$port"
         --backend-store-uri "sqlite:///$dir/mlflow.db" --artifacts-destination "$dir/artifacts")
  fi
  echo "${cmd[*]}" > "$RES/$name/command.txt"
  log "starting $name: ${cmd[*]}"
  # setsid: the server (and mlflow's workers) get their own process group, so cleanup can
  # stop exactly that group. PATH includes the venv so mlflow finds its own uvicorn/gunicorn.
  local launched_at
  launched_at="$(date +%s.%N)"
  (cd "$dir" && PATH="$VENV/bin:$PATH" exec setsid "${cmd[@]}") > "$WORK/$name.log" 2>&1 3>&- &
  SERVER_PID=$!
  sleep 0.2
  local pgid
  pgid="$(ps -o pgid= -p "$SERVER_PID" 2>/dev/null | tr -d ' ' || true)"
  if [[ -n "$pgid" && "$pgid" != "$SERVER_PID" ]]; then
    echo "warning: $name server pid $SERVER_PID is not its own process-group leader (pgid $pgid)" >&2
  fi
  if ! bg_wait $BENCH wait-health "$URL" --timeout 180 --pid "$SERVER_PID" --launched-at "$launched_at" \
       --out "$RES/$name/startup.json"; then
    echo "---- last lines of $WORK/$name.log ----" >&2
    tail -n 40 "$WORK/$name.log" >&2 || true
    die "$name server did not become healthy"
  fi
}

phase() { echo "$1" > "$WORK/phase"; log "[$CUR] $1"; }

run_wrk() {  # $1 = workload name, $2 = mode, $3 = items per request
  local wl="$1" mode="$2" per="$3"
  local lua="$HERE/tracking.lua"
  phase "$wl"
  bg_wait wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --latency --timeout 30s -s "$lua" "$URL" \
      -- "$mode" 0 $RUN_IDS > "$RES/$CUR/$wl.warmup.txt" 2>&1 \
      || die "wrk warm-up failed for $CUR $wl: $(tail -5 "$RES/$CUR/$wl.warmup.txt")"
  bg_wait wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency --timeout 30s -s "$lua" "$URL" \
      -- "$mode" 100000000000 $RUN_IDS > "$RES/$CUR/$wl.wrk.txt" 2>&1 \
      || die "wrk failed for $CUR $wl: $(tail -5 "$RES/$CUR/$wl.wrk.txt")"
  { grep -v '^WRK_JSON' "$RES/$CUR/$wl.wrk.txt" || true; } | sed 's/^/    /' >&2
  $BENCH wrk-parse "$RES/$CUR/$wl.wrk.txt" --out "$RES/$CUR/$wl.json" --name "$wl" \
      --per-request "$per" --connections "$CONNS" --threads "$THREADS"
}

bench_server() {  # $1 = cairn|mlflow
  CUR="$1"
  mkdir -p "$RES/$CUR"
  if [[ "$WAIT_QUIET" != 0 ]]; then
    bg_wait $BENCH wait-quiet --timeout "$WAIT_QUIET"
  fi
  start_server "$CUR"
  phase idle
  echo "$CUR: loadavg before the run: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES/loadavg.txt"
  # idle RSS once the process tree has stopped changing for 15 s (MLflow's job runner
  # starts its huey consumers a while after /health answers)
  bg_wait $BENCH settle "$SERVER_PID" --out "$RES/$CUR/idle.json" --stable 15 --timeout 150

  $BENCH memsample "$SERVER_PID" --out "$RES/$CUR/mem.json" --phase-file "$WORK/phase" --interval 0.2 &
  SAMPLER_PID=$!

  phase prep
  RUN_IDS="$($BENCH prep-write "$URL" --runs "$WRITE_RUNS")" || die "$CUR: preparing runs failed"
  phase client-ingest
  bg_wait $BENCH client-ingest "$URL" --out "$RES/$CUR/client-ingest.json" --calls "$INGEST_CALLS" \
      || die "$CUR: client ingest workload failed"
  run_wrk logbatch logbatch 100
  run_wrk logmetric logmetric 1

  phase history
  bg_wait $BENCH history "$URL" --out "$RES/$CUR/history.json" --points "$POINTS" --reps "$HIST_REPS" \
    || die "$CUR: get-history workload failed"

  phase client-history
  bg_wait $BENCH client-history "$URL" --history "$RES/$CUR/history.json" --out "$RES/$CUR/client-history.json" \
      --reps 3 || die "$CUR: client get-history workload failed"

  phase search-load
  bg_wait $BENCH search-load "$URL" --out "$RES/$CUR/search-load.json" --runs "$SEARCH_RUNS" \
      --threads "$LOADER_THREADS" || die "$CUR: loading runs failed"
  phase search
  bg_wait $BENCH search "$URL" --load "$RES/$CUR/search-load.json" --out "$RES/$CUR/search.json" \
      --reps "$SEARCH_REPS" --page-reps "$PAGE_REPS" || die "$CUR: search workload failed"
  phase client-search
  bg_wait $BENCH client-search "$URL" --load "$RES/$CUR/search-load.json" --out "$RES/$CUR/client-search.json" \
      --reps "$SEARCH_REPS" --page-reps "$PAGE_REPS" || die "$CUR: client search workload failed"

  if [[ "$BIG_HISTORY" != 0 && "$CUR" == cairn ]]; then
    phase big-history-load
    bg_wait $BENCH big-history "$URL" --pid "$SERVER_PID" --points "$BIG_HISTORY" \
        --loaded-out "$RES/$CUR/big-history-run.json" || die "$CUR: loading the big history failed"
    # A fresh server, so the figure is the read's own memory and not what the load left.
    stop_sampler
    stop_pid_group "$SERVER_PID"
    SERVER_PID=""
    start_server "$CUR"
    $BENCH memsample "$SERVER_PID" --out "$RES/$CUR/mem-big.json" --phase-file "$WORK/phase" --interval 0.2 &
    SAMPLER_PID=$!
    phase big-history
    bg_wait $BENCH big-history "$URL" --pid "$SERVER_PID" --points "$BIG_HISTORY" \
        --run "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$RES/$CUR/big-history-run.json")" \
        --out "$RES/$CUR/big-history.json" || die "$CUR: reading the big history failed"
  fi

  stop_sampler
  kill -0 "$SERVER_PID" 2>/dev/null || die "$CUR server died during the benchmark (see $WORK/$CUR.log)"
  stop_pid_group "$SERVER_PID"
  SERVER_PID=""
  du -sk "$WORK/$CUR-data" | awk '{print $1}' > "$RES/$CUR/disk_kb.txt"
  # journal mode persisted in the database file (WAL vs rollback journal skews writes)
  local db
  db="$(find "$WORK/$CUR-data" -maxdepth 2 -name '*.db' -size +0 | head -1)"
  if [[ -n "$db" ]]; then
    "$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma journal_mode").fetchone()[0])' \
      "$db" > "$RES/$CUR/journal_mode.txt" 2>/dev/null || echo "?" > "$RES/$CUR/journal_mode.txt"
  else
    echo "no .db file found" > "$RES/$CUR/journal_mode.txt"
  fi
}

T0=$(date +%s)
servers=()
[[ "$ONLY" != mlflow ]] && servers+=(cairn)
[[ "$ONLY" != cairn ]] && servers+=(mlflow)
CAIRN_MTIME_AFTER="$CAIRN_MTIME"
for s in "${servers[@]}"; do
  bench_server "$s"
  # a rebuild after Cairn's part has finished does not matter; one during it does
  [[ "$s" == cairn ]] && CAIRN_MTIME_AFTER="$(date -u -r "$CAIRN_BIN" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo gone)"
done
T1=$(date +%s)

# ------------------------------------------------------------------------- report
META="$RES/meta.md"
{
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); host: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo "- command: \`$CMDLINE\`"
  echo "- wrk: $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'), -t$THREADS -c$CONNS -d$DURATION after a $WARMUP warm-up, --timeout 30s; load generator shares the 2 cores with the server"
  for s in "${servers[@]}"; do
    echo "- $s: \`$(cat "$RES/$s/command.txt")\`; data dir after the run: $(( $(cat "$RES/$s/disk_kb.txt") / 1024 )) MiB, SQLite journal_mode $(cat "$RES/$s/journal_mode.txt")"
  done
  [[ " ${servers[*]} " == *" mlflow "* ]] && echo "- mlflow $("$PY" -c 'import mlflow; print(mlflow.__version__)'), default workers ($(grep -m1 -oiE 'uvicorn|gunicorn|waitress' "$WORK/mlflow.log" || echo '?'))"
  if [[ " ${servers[*]} " == *" cairn "* ]]; then
    echo "- cairn: $CAIRN_BIN, built $CAIRN_MTIME$([[ "$CAIRN_BIN" == */debug/* ]] && echo ' — DEBUG BUILD, not representative')$([[ "$CAIRN_MTIME_AFTER" != "$CAIRN_MTIME" ]] && echo " — WARNING: the binary was replaced while Cairn was being measured (now $CAIRN_MTIME_AFTER)")"
  fi
  echo "- history: $POINTS points, $HIST_REPS reps (3 through MlflowClient); search: $SEARCH_RUNS runs, $SEARCH_REPS filtered reps, $PAGE_REPS page reps (each in plain HTTP and through MlflowClient); loader threads $LOADER_THREADS"
  [[ "$BIG_HISTORY" != 0 ]] && echo "- big history (Cairn only): $BIG_HISTORY points, read after a server restart"
  sed 's/^/- /' "$RES/loadavg.txt"
  echo "- wall time: $((T1 - T0)) s"
} > "$META"

$BENCH report "$RES" --out "$HERE/results/latest.md" --meta "$META"
cp -r "$RES" "$HERE/results/raw-latest.tmp" && rm -rf "$HERE/results/raw-latest" \
  && mv "$HERE/results/raw-latest.tmp" "$HERE/results/raw-latest"
echo
echo "written: bench/tracking/results/latest.md (raw JSON and wrk output: bench/tracking/results/raw-latest/)"
echo "command: $CMDLINE"
