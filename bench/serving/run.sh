#!/usr/bin/env bash
# Cairn vs `mlflow models serve` on the same sklearn models, with onnxruntime in process as
# the compute reference: req/s and p50/p99 at 1 and 32 connections for one-row requests, and
# rows/s for 100-row requests, for a scaler+logreg pipeline and a 100-tree depth-8 forest.
#
#   bench/serving/run.sh [--duration 10] [--rounds 3] [--only cairn-native|cairn-python|mlflow|inference-log]
#
# Uses the repo's .venv (scripts/setup-venv.sh: mlflow, skl2onnx, onnxruntime), builds Cairn
# in release mode unless CAIRN_BIN is set, and writes bench/serving/results/latest.md. Each
# server is pinned to CPU 0 and wrk to CPU 1, so every server gets one core.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DURATION=10
ROUNDS=3
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }
bash "$ROOT/scripts/setup-venv.sh" >&2
PY="$ROOT/.venv/bin/python"
if [[ -z "${CAIRN_BIN:-}" ]]; then
  (cd "$ROOT" && swift build -c release --product cairn >&2 && CAIRN_BENCH=1 swift build -c release --product cairn-onnx-bench >&2)
fi
CAIRN_BIN="$(realpath "${CAIRN_BIN:-$ROOT/.build/release/cairn}")"
ONNX_BENCH="$(dirname "$CAIRN_BIN")/cairn-onnx-bench"

WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/cairn-serving.XXXXXX")"
PID=""
cleanup() { [[ -n "$PID" ]] && kill $PID 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$HERE/results"
taskset -c 0 "$PY" "$HERE/prepare.py" "$WORK/models" >&2
# Cairn's runtime in process, timed like onnxruntime above, on the same CPU.
for model in logreg forest; do
  taskset -c 0 "$ONNX_BENCH" "$WORK/models/$model/onnx/model.onnx" "$WORK/models/$model/X100.f32" 20 > "$WORK/models/$model/cairn.json"
  echo "$model cairn-onnx $(cat "$WORK/models/$model/cairn.json")" >&2
done

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk URL BODY CONNECTIONS → "req/s p50_ms p99_ms non2xx"
load() {
  local out
  out=$(BODY_FILE="$2" taskset -c 1 wrk -t1 -c"$3" -d"${DURATION}s" --latency -s "$HERE/post.lua" "$1")
  "$PY" - "$out" <<'PYEOF'
import re, sys
text = sys.argv[1]
def ms(label):
    m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m: return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: .*?timeout (\d+)", text)
print(f"{rps:.1f} {ms('50'):.3f} {ms('99'):.3f} {int(bad.group(1)) if bad else 0}")
PYEOF
}

RESULTS="$WORK/results.txt"
: > "$RESULTS"
for model in logreg forest; do
  for variant in cairn-native cairn-python mlflow; do
    [[ -n "$ONLY" && "$ONLY" != "$variant" ]] && continue
    port=$(free_port)
    dir="$WORK/models/$model"
    case $variant in
      cairn-native) taskset -c 0 "$CAIRN_BIN" serve "$dir/onnx" --runtime native --port "$port" --log-level warning > "$WORK/$model-$variant.log" 2>&1 & ;;
      cairn-python) taskset -c 0 "$CAIRN_BIN" serve "$dir/sklearn" --runtime python --workers 1 --python "$PY" --port "$port" --log-level warning > "$WORK/$model-$variant.log" 2>&1 & ;;
      mlflow) (cd "$WORK" && PATH="$ROOT/.venv/bin:$PATH" MLFLOW_WORKERS=1 exec taskset -c 0 "$ROOT/.venv/bin/mlflow" models serve -m "$dir/sklearn" --env-manager local -w 1 -p "$port" -h 127.0.0.1) > "$WORK/$model-$variant.log" 2>&1 & ;;
    esac
    PID=$!
    for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.2; done
    url="http://127.0.0.1:$port/invocations"
    curl -sf -H 'Content-Type: application/json' --data-binary @"$dir/row1.json" "$url" > "$WORK/check-$model-$variant.json"
    BODY_FILE="$dir/row1.json" taskset -c 1 wrk -t1 -c8 -d2s -s "$HERE/post.lua" "$url" >/dev/null  # warm-up
    rss_kib=$(ps -o rss= -p "$PID" | tr -d ' ')
    for spec in "row1 1" "row1 32" "row100 32"; do
      set -- $spec
      echo "$model $variant $1 c$2 $(load "$url" "$dir/$1.json" "$2") $rss_kib" | tee -a "$RESULTS" >&2
    done
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    pkill -f "serve.*$port" 2>/dev/null || true
  done
done
# Hot swap under load: serve models:/bench@champion natively from a Cairn tracking server,
# keep 32 connections busy, move the alias half-way, and count failed requests.
if [[ -z "$ONLY" || "$ONLY" == "cairn-native" ]]; then
  tport=$(free_port); sport=$(free_port)
  "$CAIRN_BIN" server --port "$tport" --data-dir "$WORK/tracking" > "$WORK/tracking.log" 2>&1 &
  TRACKING=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$tport/health" >/dev/null && break; sleep 0.1; done
  "$PY" "$HERE/register.py" "http://127.0.0.1:$tport" bench "$WORK/models/logreg/onnx" >&2
  MLFLOW_TRACKING_URI="http://127.0.0.1:$tport" taskset -c 0 "$CAIRN_BIN" serve models:/bench@champion --runtime native \
    --port "$sport" --poll-interval 0.5 --log-level info > "$WORK/swap.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$sport/ping" >/dev/null && break; sleep 0.1; done
  ( sleep "$((DURATION / 2))"; "$PY" "$HERE/register.py" "http://127.0.0.1:$tport" bench "$WORK/models/logreg/onnx" --move ) &
  swap=$(load "http://127.0.0.1:$sport/invocations" "$WORK/models/logreg/row1.json" 32)
  wait $! 2>/dev/null || true
  after=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' --data-binary @"$WORK/models/logreg/row1.json" "http://127.0.0.1:$sport/invocations" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cairn-model-version"{print $2}')
  echo "swap $swap version_after=$after" | tee "$WORK/swap.txt" >&2
  kill "$PID" "$TRACKING"; wait "$PID" "$TRACKING" 2>/dev/null || true; PID=""
fi

# The inference log's cost: the same native model served twice at once on CPU 0, without and
# with the log, loaded in turn (off-on, then on-off, --rounds times) so drift in the machine's
# state hits both alike; at 4 connections (below saturation: latency is the request's own
# cost) and 32 (saturated: queueing). The server's CPU time per request, read from /proc
# around each load, is the quieter measure of what the log adds.
if [[ -z "$ONLY" || "$ONLY" == "inference-log" ]]; then
  : > "$WORK/log-overhead.txt"
  declare -A SERVER_PORT SERVER_PID
  for mode in off on; do
    port=$(free_port)
    extra=()
    [[ $mode == on ]] && extra=(--inference-log "$WORK/inference-log")
    taskset -c 0 "$CAIRN_BIN" serve "$WORK/models/logreg/onnx" --runtime native --port "$port" --log-level warning "${extra[@]}" > "$WORK/log-$mode.log" 2>&1 &
    SERVER_PID[$mode]=$!
    SERVER_PORT[$mode]=$port
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.1; done
  done
  PID="${SERVER_PID[off]} ${SERVER_PID[on]}"
  cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  for round in $(seq 1 "$ROUNDS"); do
    order=(off on); (( round % 2 == 0 )) && order=(on off)
    for conns in 4 32; do
      for mode in "${order[@]}"; do
        before=$(cpu_ticks "${SERVER_PID[$mode]}")
        result=$(load "http://127.0.0.1:${SERVER_PORT[$mode]}/invocations" "$WORK/models/logreg/row1.json" "$conns")
        after=$(cpu_ticks "${SERVER_PID[$mode]}")
        echo "$mode $conns $result $((after - before))" | tee -a "$WORK/log-overhead.txt" >&2
      done
    done
  done
  # The on server's own count of what it logged and dropped, after its last flush.
  sleep 1
  curl -s "http://127.0.0.1:${SERVER_PORT[on]}/metrics" | grep -E '^cairn_inference_log_' > "$WORK/log-counters.txt" || true
  echo "lines $(cat "$WORK"/inference-log/*.jsonl | wc -l)" >> "$WORK/log-counters.txt"
  kill ${SERVER_PID[off]} ${SERVER_PID[on]}; wait ${SERVER_PID[off]} ${SERVER_PID[on]} 2>/dev/null || true; PID=""
fi

"$PY" - "$RESULTS" "$WORK/models" "$DURATION" > "$HERE/results/latest.md" <<'PYEOF'
import json, sys
from pathlib import Path
rows = [line.split() for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
models = Path(sys.argv[2])
print(f"# Serving benchmark ({sys.argv[3]} s per point, server on CPU 0, wrk -t1 on CPU 1)\n")
print("| model | server | 1 row, c=1: req/s · p50 · p99 (ms) | 1 row, c=32: req/s · p50 · p99 (ms) | 100 rows, c=32: rows/s · p99 (ms) | non-2xx | RSS MiB |")
print("|---|---|---|---|---|---|---|")
by = {}
for model, variant, body, conns, rps, p50, p99, bad, rss in rows:
    by.setdefault((model, variant), {})[(body, conns)] = (float(rps), float(p50), float(p99), int(bad), int(rss))
for (model, variant), points in by.items():  # empty when only the inference-log phase ran
    a, b, c = points.get(("row1", "c1")), points.get(("row1", "c32")), points.get(("row100", "c32"))
    bad = sum(p[3] for p in points.values())
    fmt = lambda p: f"{p[0]:,.0f} · {p[1]:.2f} · {p[2]:.2f}" if p else "-"
    print(f"| {model} | {variant} | {fmt(a)} | {fmt(b)} | {c[0]*100:,.0f} · {c[2]:.2f} | {bad} | {a[4]/1024:.0f} |" if c else f"| {model} | {variant} | {fmt(a)} | {fmt(b)} | - | {bad} | - |")
print("\nCompute only, in process on CPU 0 (onnxruntime from Python with 1 thread; Cairn's runtime from Swift):\n")
print("| model | runtime | 1 row p50 µs | 1 row p99 µs | µs/row at 100 rows |")
print("|---|---|---:|---:|---:|")
for model in ("logreg", "forest"):
    for runtime, file in (("onnxruntime", "ort.json"), ("cairn", "cairn.json")):
        o = json.loads((models / model / file).read_text())
        print(f"| {model} | {runtime} | {o['p50_us']:.1f} | {o['p99_us']:.1f} | {o['us_per_row_at_100']:.2f} |")
overhead = Path(sys.argv[2]).parent / "log-overhead.txt"
if overhead.exists():
    from statistics import median
    duration = float(sys.argv[3])
    runs = {}
    for line in overhead.read_text().splitlines():
        mode, conns, rps, p50, p99, bad, ticks = line.split()
        # /proc counts CPU time in 10 ms ticks.
        cpu_us = int(ticks) * 10_000 / (float(rps) * duration)
        runs.setdefault((int(conns), mode), []).append((float(rps), float(p50), float(p99), int(bad), cpu_us))
    print("\nInference log off vs on (logreg, native, 1-row requests; both servers up at once on CPU 0, loaded in turn), each cell the runs in order:\n")
    print("| connections | inference log | req/s | p50 ms | p99 ms | median p99 ms | median CPU µs/request | non-2xx |")
    print("|---:|---|---|---|---|---:|---:|---:|")
    for (conns, mode), points in sorted(runs.items()):
        cell = lambda i, f: " / ".join(f.format(p[i]) for p in points)
        print(f"| {conns} | {mode} | {cell(0, '{:,.0f}')} | {cell(1, '{:.2f}')} | {cell(2, '{:.2f}')} | {median(p[2] for p in points):.2f} | {median(p[4] for p in points):.1f} | {sum(p[3] for p in points)} |")
    for conns in sorted({c for c, _ in runs}):
        off, on = (median(p[2] for p in runs[(conns, m)]) for m in ("off", "on"))
        pairs = [100 * (b[2] - a[2]) / a[2] for a, b in zip(runs[(conns, "off")], runs[(conns, "on")])]
        spread = [100 * (x[2] - off) / off for x in runs[(conns, "off")]]
        cpu_off, cpu_on = (median(p[4] for p in runs[(conns, m)]) for m in ("off", "on"))
        print(f"\nAt {conns} connections: median p99 {off:.2f} ms off, {on:.2f} ms on ({100 * (on - off) / off:+.1f}%); "
              f"per-round deltas {', '.join(f'{d:+.0f}%' for d in pairs)}; the off runs alone spread {min(spread):+.0f}% to {max(spread):+.0f}% around their median; "
              f"CPU per request {cpu_off:.1f} µs off, {cpu_on:.1f} µs on ({100 * (cpu_on - cpu_off) / cpu_off:+.1f}%).")
    counters = Path(sys.argv[2]).parent / "log-counters.txt"
    if counters.exists():
        print("\nThe logging server's counters and the lines on disk after the runs:\n\n```\n" + counters.read_text().strip() + "\n```")
swap = Path(sys.argv[2]).parent / "swap.txt"
if swap.exists():
    _, rps, p50, p99, bad, version = swap.read_text().split()
    print(f"\nHot swap under load (logreg, native, 32 connections, alias moved half-way): {float(rps):,.0f} req/s, p99 {float(p99):.2f} ms, "
          f"{bad} non-2xx, serving version {version.split('=')[1]} afterwards.")
PYEOF
cat "$HERE/results/latest.md"
