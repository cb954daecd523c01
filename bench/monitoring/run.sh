#!/usr/bin/env bash
# Cairn's drift detection (CairnMonitor) vs Evidently's DataDriftPreset on the same data:
# 100k reference rows × 20 numeric features against 1M current rows, f00 and f01 shifted by
# half a standard deviation. Both sides use Evidently's default for a large numeric reference,
# Wasserstein distance (normed) at 0.1, so both should flag exactly f00 and f01.
#
#   bench/monitoring/run.sh [--cairn-repeat 5] [--evidently-repeat 3] [--log-repeat 5] [--skip-log]
#
# Then the same current rows through the real path (issue 12): logged by InferenceLogWriter as
# 100 requests of 10k rows and as 1M requests of one row, and a monitor evaluated over that
# window by MonitorEvaluator (its reference in SQLite), timed beside Evidently's run on the
# same data; the evaluation is also timed over the same log without sidecars (the JSON path).
#
# Builds cairn-monitor-bench in release mode unless CAIRN_MONITOR_BENCH points at a binary,
# installs requirements.txt into bench/.venv-evidently if missing, generates the data once with
# numpy (seeded) as raw little-endian float64 column-major files in a temp dir, runs each tool
# in its own process under /usr/bin/time (peak RSS), and writes bench/monitoring/results/latest.md.
#
# The issue's other monitoring figure, serving p99 with the inference log on vs off, needs the
# serving bench's models and load generator, so it is a phase of that bench:
#   bench/serving/run.sh --only inference-log [--duration 5] [--rounds 12]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CAIRN_REPEAT=5
EVIDENTLY_REPEAT=3
LOG_REPEAT=5
SKIP_LOG=0
REFERENCE_ROWS=100000
CURRENT_ROWS=1000000
FEATURES=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cairn-repeat) CAIRN_REPEAT="$2"; shift 2 ;;
    --evidently-repeat) EVIDENTLY_REPEAT="$2"; shift 2 ;;
    --log-repeat) LOG_REPEAT="$2"; shift 2 ;;
    --skip-log) SKIP_LOG=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is needed: apt-get install -y time" >&2; exit 2; }

if [[ -z "${CAIRN_MONITOR_BENCH:-}" ]]; then
  (cd "$ROOT" && CAIRN_BENCH=1 swift build -c release --product cairn-monitor-bench >&2)
fi
BENCH="$(realpath "${CAIRN_MONITOR_BENCH:-$ROOT/.build/release/cairn-monitor-bench}")"

VENV="$ROOT/bench/.venv-evidently"
if [[ ! -x "$VENV/bin/python" ]] || ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements.txt"; then
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt" >&2
  cp "$HERE/requirements.txt" "$VENV/.requirements.txt"
fi
PY="$VENV/bin/python"

WORK="$(mktemp -d "${BENCH_TMP:-/tmp}/cairn-monitoring.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$HERE/results"

# The data, once, for both sides: feature f is N(f, 1 + f/10); in the current window f00 and
# f01 are shifted by 0.5 × their std.
"$PY" - "$WORK" "$REFERENCE_ROWS" "$CURRENT_ROWS" "$FEATURES" <<'PYEOF'
import sys
import numpy as np
work, ref_rows, cur_rows, features = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(20240605)
std = 1 + np.arange(features) / 10
mean = np.arange(features, dtype=float)
shift = np.where(np.arange(features) < 2, 0.5 * std, 0.0)
# Column-major: row f of these (features × rows) C-order arrays is column f.
reference = rng.standard_normal((features, ref_rows)) * std[:, None] + mean[:, None]
current = rng.standard_normal((features, cur_rows)) * std[:, None] + (mean + shift)[:, None]
reference.astype("<f8").tofile(f"{work}/reference.f64")
current.astype("<f8").tofile(f"{work}/current.f64")
PYEOF

ARGS=(--reference "$WORK/reference.f64" --current "$WORK/current.f64" --features "$FEATURES")
echo "cairn: $CAIRN_REPEAT runs in one process" >&2
/usr/bin/time -f %M -o "$WORK/cairn.rss" "$BENCH" "${ARGS[@]}" --repeat "$CAIRN_REPEAT" > "$WORK/cairn.json"
cat "$WORK/cairn.json" >&2
echo "evidently: $EVIDENTLY_REPEAT runs in one process" >&2
/usr/bin/time -f %M -o "$WORK/evidently.rss" "$PY" "$HERE/evidently_drift.py" "${ARGS[@]}" --repeat "$EVIDENTLY_REPEAT" > "$WORK/evidently.json"
cat "$WORK/evidently.json" >&2
if [[ "$SKIP_LOG" == 0 ]]; then
  for shape in requests rows; do
    echo "cairn through the log ($shape): $LOG_REPEAT evaluations" >&2
    /usr/bin/time -f %M -o "$WORK/log-$shape.rss" "$BENCH" "${ARGS[@]}" --through-log "$shape" --repeat "$LOG_REPEAT" > "$WORK/log-$shape.json"
    cat "$WORK/log-$shape.json" >&2
  done
fi

"$PY" - "$WORK" "$HERE/results/latest.md" <<'PYEOF'
import json, platform, os, subprocess, sys, datetime
work, out = sys.argv[1], sys.argv[2]
c = json.load(open(f"{work}/cairn.json"))
e = json.load(open(f"{work}/evidently.json"))
c_rss = int(open(f"{work}/cairn.rss").read().split()[-1]) / 1024
e_rss = int(open(f"{work}/evidently.rss").read().split()[-1]) / 1024
agree = "yes" if c["drifted"] == e["drifted"] else "NO"
cpus = os.cpu_count()
try:
    model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except Exception:
    model = platform.processor()
def s(x): return f"{x:.3f} s"
lines = [
    "# Monitoring: Cairn drift vs Evidently DataDriftPreset",
    "",
    f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpus} CPUs ({model}); "
    f"Evidently {e['evidently_version']} (pandas {e['pandas_version']}). Same data for both: numpy-seeded normals, "
    f"f00 and f01 shifted by 0.5 std; loading is outside the timed region.",
    "",
    "| reference × features | current rows | Cairn total best / median (profile + drift, best) | Evidently `Report.run` best / median | Evidently ÷ Cairn (best) | drifted: Cairn | drifted: Evidently | agree | peak RSS Cairn | peak RSS Evidently |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    f"| {c['reference_rows']:,} × {c['features']} | {c['current_rows']:,} | "
    f"{s(c['best_total_seconds'])} / {s(c['median_total_seconds'])} ({s(c['best_profile_seconds'])} + {s(c['best_drift_seconds'])}) | "
    f"{s(e['best_total_seconds'])} / {s(e['median_total_seconds'])} | "
    f"{e['best_total_seconds'] / c['best_total_seconds']:.1f}× | {', '.join(c['drifted'])} | {', '.join(e['drifted'])} | {agree} | "
    f"{c_rss:.0f} MiB | {e_rss:.0f} MiB |",
    "",
    f"- Cairn: {c['repeats']} runs in one process; each builds the `ReferenceProfile` and runs `DriftDetector.datasetDrift` "
    f"(default configuration, method {', '.join(c['methods'])}). Totals: {', '.join(f'{x:.3f}' for x in c['total_seconds'])} s; "
    f"CPU per run: {', '.join(f'{x:.2f}' for x in c['cpu_seconds'])} s.",
    f"- Evidently: {e['repeats']} runs in one process of `Report([DataDriftPreset()]).run(current, reference)` "
    f"(method {', '.join(e['methods'])}). Runs: {', '.join(f'{x:.3f}' for x in e['run_seconds'])} s; "
    f"CPU per run: {', '.join(f'{x:.2f}' for x in e['cpu_seconds'])} s; reading the result (`snapshot.dict()`, not in the timing): "
    f"{', '.join(f'{x:.3f}' for x in e['dict_seconds'])} s.",
    "- Peak RSS is the whole process (`/usr/bin/time -f %M`), data loading included: the float64 data alone is "
    f"{(c['reference_rows'] + c['current_rows']) * c['features'] * 8 / 2**20:.0f} MiB.",
    "",
    "| feature | Cairn score | Evidently score |",
    "| --- | --- | --- |",
]
for f in sorted(c["scores"]):
    lines.append(f"| {f} | {c['scores'][f]:.5f} | {e['scores'].get(f, float('nan')):.5f} |")
shapes = [s for s in ("requests", "rows") if os.path.exists(f"{work}/log-{s}.json")]
if shapes:
    lines += [
        "",
        "## Through the real path: logged by `InferenceLogWriter`, evaluated by `MonitorEvaluator`",
        "",
        "| request shape | window | log (JSON Lines + sidecar) | logging: record + flush (sidecar flush without it) | evaluation best / median | JSON path (no sidecar) | Evidently ÷ Cairn (best) | same result as the JSON path | drifted | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for shape in shapes:
        r = json.load(open(f"{work}/log-{shape}.json"))
        rss = int(open(f"{work}/log-{shape}.rss").read().split()[-1]) / 1024
        label = f"{r['requests']:,} × {r['rows_per_request']:,} rows"
        lines.append(
            f"| {label} | {r['window_rows']:,} rows × {r['features']} | {r['log_jsonl_bytes'] / 2**20:.0f} + {r['log_sidecar_bytes'] / 2**20:.0f} MiB | "
            f"{r['record_seconds']:.2f} + {r['flush_seconds']:.2f} s ({r['flush_seconds_without_sidecar']:.2f} s) | "
            f"{s(r['best_evaluate_seconds'])} / {s(r['median_evaluate_seconds'])} | {s(r['best_json_evaluate_seconds'])} | "
            f"{e['best_total_seconds'] / r['best_evaluate_seconds']:.0f}× | {'yes' if r['same_result_as_json'] else 'NO'} | "
            f"{', '.join(r['drifted'])} | {rss:.0f} MiB |")
    lines += [
        "",
        "- Evaluation: `MonitorEvaluator.evaluate` of a monitor over the last 2 hours (feature drift over the 20 features, prediction drift, p99 latency), "
        "every row decoded (`maxPayloadBytes` 1 GiB; the default 64 MiB decodes only the newest ~150k rows of this log); "
        "reference: the same 100k rows, stored in SQLite as `cairn monitor reference` stores it. Runs: "
        + "; ".join(f"{sh}: " + ", ".join(f"{x:.3f}" for x in json.load(open(f"{work}/log-{sh}.json"))["evaluate_seconds"]) + " s" for sh in shapes) + ".",
        "- Logging: the records are built outside the timing; `record` is the request path's share, `flush` the writer's (JSON Lines plus decoding the "
        "records into the sidecar, run on the thread pool by the writer's service).",
    ]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
