#!/usr/bin/env bash
# Web UI benchmark: Cairn's server-rendered pages vs MLflow 3.17.2's own UI, in headless Chromium.
#
#   bench/ui/run.sh [--only cairn|mlflow] [--runs N] [--history N] [--reps N] [--rows N] [--quick] [--keep]
#
# For each server (one at a time, each in a fresh temp dir on SQLite):
#   1. seed the same data (bench/ui/seed.py, seed 42): an experiment of RUNS runs x 20 params x
#      10 metrics, and a run with one metric of HISTORY steps (a single-step spike to 9.0 at 61.2%).
#      MLflow: its experiments through REST, then the rows written straight into its SQLite store
#      (through its REST API 10k runs take ~35 min here); Cairn: through the REST API
#      (runs/create + runs/log-batch + runs/update, 8 threads; 1000 points per log-batch).
#   2. time two pages with the browser's own clock (bench/ui/measure.py), REPS times each, cold
#      (fresh profile) and warm (second load, HTTP cache): first-contentful-paint, the moment the
#      runs table holds ROWS rows / the chart is drawn (ms since navigationStart), page weight
#      (transfer sizes from the Performance API's navigation and resource entries).
#        MLflow  /#/experiments/<id>/runs          and /#/experiments/<id>/runs/<run>/model-metrics
#        Cairn   /experiments/<id>                 and /experiments/<id>/runs/<run>?tab=metrics
# Prints a Markdown table (also bench/ui/results/latest.md); screenshots of each page in
# bench/ui/results/.
#
# Environment:
#   CAIRN_BIN  cairn binary (default: .build/release/cairn)
#   VENV       Python venv with mlflow 3.17.2 and selenium (default: the compat venv ./.venv,
#              created by scripts/setup-venv.sh from Tests/compat/requirements.txt if missing)
#   BENCH_TMP  parent dir for the servers' data dirs (default: ${TMPDIR:-/tmp})
# Chromium: Debian's chromium + chromium-driver (installed with apt if missing).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CMDLINE="${CAIRN_BIN:+CAIRN_BIN=$CAIRN_BIN }bench/ui/run.sh${*:+ $*}"

ONLY=both
RUNS=10000
HISTORY=1000000
REPS=3
ROWS=20
KEEP=0

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --history) HISTORY="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --rows) ROWS="$2"; shift 2 ;;
    --quick) RUNS=1000; HISTORY=100000; REPS=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$ONLY" in both|cairn|mlflow) ;; *) echo "--only must be cairn or mlflow" >&2; exit 2 ;; esac

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------------- setup (idempotent)
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  log "installing chromium and chromium-driver via apt"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! "$VENV/bin/python" -c 'import mlflow, selenium' 2>/dev/null; then
  log "setting up $VENV (Tests/compat/requirements.txt)"
  VENV="$VENV" bash "$ROOT/scripts/setup-venv.sh" >&2
fi
PY="$VENV/bin/python"
[[ "$("$PY" -c 'import mlflow; print(mlflow.__version__)')" == 3.17.2 ]] || die "$VENV has no mlflow 3.17.2"

CAIRN_BIN="$(realpath -s -m -- "${CAIRN_BIN:-$ROOT/.build/release/cairn}")"
if [[ "$ONLY" != mlflow && ! -x "$CAIRN_BIN" ]]; then
  die "cairn binary not found: $CAIRN_BIN (swift build -c release, or CAIRN_BIN=.build/debug/cairn for a debug figure)"
fi

WORK="$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/cairn-ui-bench.XXXXXX")"
OUT="$HERE/results"
mkdir -p "$OUT"
SERVER_PID=""

stop_server() {
  [[ -z "$SERVER_PID" ]] && return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  stop_server
  if [[ "$KEEP" == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_health() {  # $1 = base url
  for _ in $(seq 1 600); do
    curl -sf "$1/health" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -40 "$DIR/server.log" >&2; die "server exited during startup"; }
    sleep 0.5
  done
  die "server did not answer /health"
}

bench_server() {  # $1 = mlflow|cairn
  local kind="$1" port url
  DIR="$WORK/$kind"
  mkdir -p "$DIR"
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  log "$kind: starting on $url"
  if [[ "$kind" == mlflow ]]; then
    (cd "$DIR" && MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true \
      exec setsid "$VENV/bin/mlflow" server --host 127.0.0.1 --port "$port" \
        --backend-store-uri "sqlite:///$DIR/mlflow.db" --artifacts-destination "$DIR/artifacts" \
        >"$DIR/server.log" 2>&1) &
  else
    (cd "$DIR" && exec setsid "$CAIRN_BIN" server --host 127.0.0.1 --port "$port" --data-dir "$DIR/data" \
        >"$DIR/server.log" 2>&1) &
  fi
  SERVER_PID=$!
  wait_health "$url"
  log "$kind: seeding $RUNS runs and a $HISTORY-step metric"
  local sqlite=()
  [[ "$kind" == mlflow ]] && sqlite=(--mlflow-sqlite "$DIR/mlflow.db")
  "$PY" "$HERE/seed.py" "$url" --runs "$RUNS" --history "$HISTORY" "${sqlite[@]}" --out "$DIR/seed.json"
  log "$kind: measuring ($REPS reps, cold and warm)"
  "$PY" "$HERE/measure.py" "$url" --kind "$kind" --seed "$DIR/seed.json" --reps "$REPS" --rows "$ROWS" \
    --screenshots "$OUT" --out "$OUT/$kind.json"
  stop_server
}

[[ "$ONLY" != cairn ]] && bench_server mlflow
[[ "$ONLY" != mlflow ]] && bench_server cairn

"$PY" "$HERE/report.py" --cmdline "$CMDLINE" --cairn-bin "$CAIRN_BIN" "$OUT"/*.json | tee "$OUT/latest.md"
