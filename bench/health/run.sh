#!/usr/bin/env bash
# /health stays fast while heavy work runs on `cairn server` (issue 12): wrk measures /health
# latency (p50/p99) idle, then while a 1M-record inference log export (curl, in a loop) and a
# filtered tracking search over a few thousand runs (Python, in a loop) run at the same time.
# Also records the server's peak RSS (VmHWM) across an export, and the CLI's for
# `cairn monitor log` of the whole log, the constant-memory figures of the streamed export.
#
#   bench/health/run.sh [--records 1000000] [--features 20] [--runs 3000] [--duration 15]
#
# CAIRN_BIN points at the cairn binary (default: builds and uses .build/release/cairn).
# Scoring lives in `cairn serve`, a separate process that neither exports nor searches, so
# only `cairn server`'s /health is measured here. Writes bench/health/results/latest.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RECORDS=1000000
FEATURES=20
RUNS=3000
DURATION=15
while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) RECORDS="$2"; shift 2 ;;
    --features) FEATURES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is needed: apt-get install -y time" >&2; exit 2; }
if [[ -z "${CAIRN_BIN:-}" ]]; then
  (cd "$ROOT" && swift build -c release --product cairn >&2)
fi
CAIRN="$(realpath "${CAIRN_BIN:-$ROOT/.build/release/cairn}")"
PY=python3

WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/cairn-health.XXXXXX")"
SERVER=""
LOOPS=()
cleanup() {
  for pid in "${LOOPS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -n "$SERVER" ]] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$HERE/results" "$WORK/data/inference-log"

echo "writing $RECORDS records × $FEATURES features" >&2
$PY "$HERE/load.py" log "$WORK/data/inference-log" "$RECORDS" "$FEATURES"
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
"$CAIRN" server --port "$PORT" --data-dir "$WORK/data" --log-level warning > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do curl -sf "$URL/health" >/dev/null && break; sleep 0.1; done
echo "creating $RUNS runs" >&2
EXPERIMENT=$($PY "$HERE/load.py" runs "$URL" "$RUNS")

# wrk URL → "p50_ms p99_ms requests"
health() {
  local out
  out=$(wrk -t1 -c4 -d"${DURATION}s" --latency "$URL/health")
  $PY - "$out" <<'PYEOF'
import re, sys
text = sys.argv[1]
def ms(label):
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
requests = re.search(r"(\d+) requests in", text).group(1)
print(f"{ms('50%'):.3f} {ms('99%'):.3f} {requests}")
PYEOF
}

echo "idle /health" >&2
read -r IDLE_P50 IDLE_P99 IDLE_N <<<"$(health)"

# One export alone, for its time and the server's peak RSS across it.
hwm() { awk '/VmHWM/ {print $2}' "/proc/$SERVER/status"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
BEFORE_RSS=$(rss)
BEFORE_HWM=$(hwm)
START=$(date +%s.%N)
curl -sf "$URL/api/cairn/v1/inference-log?max_results=$RECORDS" -o "$WORK/export.jsonl"
EXPORT_SECONDS=$(echo "$(date +%s.%N) - $START" | bc)
EXPORT_HWM=$(hwm)
EXPORT_LINES=$(wc -l < "$WORK/export.jsonl")
EXPORT_BYTES=$(stat -c %s "$WORK/export.jsonl")
rm -f "$WORK/export.jsonl"
# The CLI streams to its output file.
/usr/bin/time -f %M -o "$WORK/cli.rss" "$CAIRN" monitor log --tracking-uri "$URL" --max-results "$RECORDS" --out "$WORK/cli.jsonl"
CLI_LINES=$(wc -l < "$WORK/cli.jsonl")
CLI_RSS=$(cat "$WORK/cli.rss")
rm -f "$WORK/cli.jsonl"

echo "/health under load" >&2
( while true; do curl -sf "$URL/api/cairn/v1/inference-log?max_results=$RECORDS" -o /dev/null || true; done ) &
LOOPS+=($!)
$PY "$HERE/load.py" search "$URL" "$((DURATION + 2))" "$WORK/search.txt" "$EXPERIMENT" &
LOOPS+=($!)
sleep 1
read -r LOAD_P50 LOAD_P99 LOAD_N <<<"$(health)"
wait "${LOOPS[1]}" || true
kill "${LOOPS[0]}" 2>/dev/null || true
read -r SEARCH_N SEARCH_P50 SEARCH_P99 <<<"$($PY -c '
import sys
xs = sorted(float(l) for l in open(sys.argv[1]) if l.strip())
pick = lambda p: xs[min(len(xs) - 1, max(0, int(-(-p * len(xs) // 1)) - 1))]
print(len(xs), f"{pick(0.5):.1f}", f"{pick(0.99):.1f}")' "$WORK/search.txt")"

CPUS=$(nproc)
{
  echo "# /health under load: cairn server"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $CPUS CPUs. \`bench/health/run.sh --records $RECORDS --features $FEATURES --runs $RUNS --duration $DURATION\`;"
  echo "wrk -t1 -c4 for ${DURATION}s on \`GET /health\`; load = a loop of \`GET /api/cairn/v1/inference-log?max_results=$RECORDS\` (curl) and a loop of"
  echo "\`runs/search\` (filter \`metrics.m > 0.2 and params.p = 'a' and tags.t = 'x'\`, order by metrics.m, 1000 results) over $RUNS runs."
  echo
  echo "| /health | p50 | p99 | requests |"
  echo "| --- | --- | --- | --- |"
  echo "| idle | $IDLE_P50 ms | $IDLE_P99 ms | $IDLE_N |"
  echo "| during export + search | $LOAD_P50 ms | $LOAD_P99 ms | $LOAD_N |"
  echo
  echo "- Searches during the load: $SEARCH_N, p50 $SEARCH_P50 ms, p99 $SEARCH_P99 ms."
  echo "- One export of $EXPORT_LINES records ($((EXPORT_BYTES / 1048576)) MiB of JSON Lines) alone: ${EXPORT_SECONDS} s;"
  echo "  server RSS before $((BEFORE_RSS / 1024)) MiB, peak (VmHWM) before $((BEFORE_HWM / 1024)) MiB and after the export $((EXPORT_HWM / 1024)) MiB."
  echo "- \`cairn monitor log --max-results $RECORDS --out FILE\`: $CLI_LINES records, peak RSS $((CLI_RSS / 1024)) MiB."
} | tee "$HERE/results/latest.md"
