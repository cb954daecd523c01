#!/usr/bin/env bash
# Per-stage overhead of Cairn's executors, beside the same work done from Python in the same run:
#   local: LocalExecutor running `true` (spawn as a process group, stdout/stderr to files, wait),
#          vs Python's subprocess.run(shell=True, start_new_session=True) with the same files
#          (how DVC runs a stage's cmd), each averaged over N runs after a warm-up;
#   ray:   RayJobsExecutor submit-to-done of a trivial job (`true`, logs fetched), vs Ray's own
#          Python SDK (JobSubmissionClient: submit, poll on the same schedule, fetch logs).
#
#   bench/pipelines/executor-overhead/run.sh [--debug] [--local 200] [--ray http://127.0.0.1:28265] [--ray-jobs 10]
#
# The Ray part runs only with --ray: a running head (token from RAY_AUTH_TOKEN when it has token
# auth) and the ray venv (scripts/setup-ray-venv.sh). Builds cairn-executor-bench (release unless
# --debug) with CAIRN_BENCH=1; writes bench/pipelines/executor-overhead/results/latest.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
CONFIG=release
LOCAL=200
RAY_URL=""
RAY_JOBS=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debug) CONFIG=debug; shift ;;
    --local) LOCAL="$2"; shift 2 ;;
    --ray) RAY_URL="$2"; shift 2 ;;
    --ray-jobs) RAY_JOBS="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
CAIRN_BENCH=1 swift build -c "$CONFIG" --product cairn-executor-bench >&2
BIN="$(CAIRN_BENCH=1 swift build -c "$CONFIG" --show-bin-path)/cairn-executor-bench"

args=(--local "$LOCAL")
[ -n "$RAY_URL" ] && args+=(--ray "$RAY_URL" --ray-jobs "$RAY_JOBS")
cairn="$("$BIN" "${args[@]}")"

python_local="$(python3 - "$LOCAL" <<'PY'
import json, os, subprocess, sys, tempfile, time
n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as d:
    def once(i):
        with open(f"{d}/out-{i}", "wb") as out, open(f"{d}/err-{i}", "wb") as err:
            r = subprocess.run("true", shell=True, cwd=d, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               env={**os.environ, "CAIRN_RUN_ID": "py"}, start_new_session=True)
            assert r.returncode == 0
    for i in range(10): once(i)
    samples = []
    for i in range(n):
        t = time.perf_counter(); once(i); samples.append((time.perf_counter() - t) * 1e3)
samples.sort()
print(json.dumps({"mean_ms": sum(samples) / n, "p50_ms": samples[n // 2], "p95_ms": samples[min(n - 1, int(n * 0.95))], "n": n}))
PY
)"

python_ray="{}"
if [ -n "$RAY_URL" ]; then
  # Ray's SDK sends its token only in token mode.
  python_ray="$(RAY_AUTH_MODE="${RAY_AUTH_TOKEN:+token}" "$ROOT/.venv-ray/bin/python" - "$RAY_URL" "$RAY_JOBS" <<'PY'
import json, sys, time, uuid
from ray.job_submission import JobSubmissionClient
url, n = sys.argv[1], int(sys.argv[2])
client = JobSubmissionClient(url)
samples = []
for i in range(n):
    t = time.perf_counter()
    sid = client.submit_job(entrypoint="true", submission_id=f"pybench-{uuid.uuid4().hex[:8]}", entrypoint_num_cpus=1)
    wait = 0.2
    while str(client.get_job_status(sid)).split(".")[-1] not in ("SUCCEEDED", "FAILED", "STOPPED"):
        time.sleep(wait); wait = min(wait * 1.5, 1.0)
    client.get_job_logs(sid)
    samples.append((time.perf_counter() - t) * 1e3)
samples.sort()
print(json.dumps({"mean_ms": sum(samples) / n, "p50_ms": samples[n // 2], "p95_ms": samples[min(n - 1, int(n * 0.95))], "n": n}))
PY
)"
fi

mkdir -p "$HERE/results"
python3 - "$cairn" "$python_local" "$python_ray" "$CONFIG" > "$HERE/results/latest.md" <<'PY'
import json, sys
cairn, py_local, py_ray, config = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
def row(name, s): return f"| {name} | {s['mean_ms']:.2f} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {int(s['n'])} |"
lines = [f"Per-stage executor overhead ({config} build), milliseconds per stage, sequential:", "",
         "| what | mean | p50 | p95 | n |", "|---|---:|---:|---:|---:|",
         row("Cairn LocalExecutor, `true`", cairn["local_true"]),
         row("Python subprocess.run(shell=True, new session), `true`", py_local)]
if "ray_true" in cairn:
    lines.append(row("Cairn RayJobsExecutor, `true` submit-to-done", cairn["ray_true"]))
if py_ray:
    lines.append(row("Ray Python SDK JobSubmissionClient, `true` submit-to-done", py_ray))
print("\n".join(lines))
PY
cat "$HERE/results/latest.md"
