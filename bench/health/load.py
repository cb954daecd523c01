"""Helpers for bench/health/run.sh (standard library only).

    load.py log DIR RECORDS FEATURES     write an inference log segment of RECORDS one-row records
    load.py runs URL RUNS                create RUNS runs with a metric, a param and a tag each
    load.py search URL SECONDS OUT       run a filtered runs/search in a loop; write each latency (ms) to OUT
"""

from __future__ import annotations

import json
import random
import sys
import time
import urllib.request
import uuid


def write_log(directory: str, records: int, features: int) -> None:
    # The writer's own line layout (InferenceRecord.line), one segment per 200k records, so
    # the export reads several segments as it would in production.
    rng = random.Random(12)
    now = int(time.time() * 1000)
    start = now - 3_600_000
    names = [f"f{i:02d}" for i in range(features)]
    columns = json.dumps(names)
    per_segment = 200_000
    out = None
    for i in range(records):
        if i % per_segment == 0:
            if out:
                out.close()
            out = open(f"{directory}/inference-{start + i}-{uuid.uuid4().hex[:8]}.jsonl", "w")
        row = ", ".join(f"{rng.gauss(f, 1 + f / 10):.6f}" for f in range(features))
        out.write(
            f'{{"request_id":"{uuid.uuid4()}","timestamp_ms":{start + i * 3},"model":"health","version":"1",'
            f'"status":200,"latency_us":{900 + i % 300},"inputs":{{"dataframe_split": {{"columns": {columns}, "data": [[{row}]]}}}},'
            f'"outputs":{{"predictions": [{i % 2}]}}}}\n'
        )
    out.close()


def post(url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def create_runs(url: str, runs: int) -> None:
    experiment = post(url, "/api/2.0/mlflow/experiments/create", {"name": f"health-{uuid.uuid4().hex[:6]}"})["experiment_id"]
    rng = random.Random(7)
    for i in range(runs):
        run = post(url, "/api/2.0/mlflow/runs/create", {"experiment_id": experiment, "start_time": 1_700_000_000_000 + i})["run"]["info"]["run_id"]
        post(url, "/api/2.0/mlflow/runs/log-batch", {
            "run_id": run,
            "metrics": [{"key": "m", "value": rng.random(), "timestamp": 1, "step": 0}],
            "params": [{"key": "p", "value": rng.choice("abc")}],
            "tags": [{"key": "t", "value": rng.choice("xy")}],
        })
    print(experiment)


def search(url: str, seconds: float, out: str, experiment: str) -> None:
    body = {"experiment_ids": [experiment], "filter": "metrics.m > 0.2 and params.p = 'a' and tags.t = 'x'",
            "order_by": ["metrics.m DESC"], "max_results": 1000}
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        post(url, "/api/2.0/mlflow/runs/search", body)
        latencies.append((time.perf_counter() - t0) * 1000)
    with open(out, "w") as f:
        f.write("\n".join(f"{x:.3f}" for x in latencies) + "\n")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "log":
        write_log(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif command == "runs":
        create_runs(sys.argv[2], int(sys.argv[3]))
    elif command == "search":
        search(sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        sys.exit(f"unknown command {command}")
