#!/usr/bin/env python3
"""Seed a tracking server for bench/ui with the same data on both servers.

  seed.py URL --runs 10000 --params 20 --metrics 10 --history 1000000 --threads 8 --out seed.json
  seed.py URL --mlflow-sqlite /path/mlflow.db ...   (MLflow: rows written into its SQLite store)

Creates two experiments:
* ``ui-bench-table``: RUNS finished runs, each with PARAMS params (``p00``..), METRICS metrics
  (``m0``.., one value at step 0) and a run name, logged with runs/create + runs/log-batch +
  runs/update from a thread pool (or, with --mlflow-sqlite, inserted into MLflow's tables);
* ``ui-bench-history``: one run whose metric ``loss`` has HISTORY steps (1000 per log-batch,
  in parallel), a smooth decay with a single-step spike to 9.0 at step ``HISTORY*0.612``: the
  kind of divergence a chart must not hide.
Every value comes from ``random.Random(SEED)`` per run, so both servers get identical data.
Writes the ids (experiments, the history run, one table run) to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

API = "/api/2.0/mlflow"
BASE_TIME = 1_780_000_000_000  # fixed ms epoch: identical timestamps on both servers


def session(threads: int) -> requests.Session:
    s = requests.Session()
    s.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=threads * 2, max_retries=0))
    return s


def post(s: requests.Session, url: str, path: str, body: dict) -> dict:
    r = s.post(f"{url}{API}/{path}", json=body, timeout=300)
    if r.status_code != 200:
        raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:300]}")
    return r.json()


def table_data(i: int, n_params: int, n_metrics: int, seed: int):
    """Run i of the table experiment: (name, start ms, params, metrics), identical on every call."""
    rng = random.Random(seed * 1_000_003 + i)
    start = BASE_TIME + i * 1000
    params = [(f"p{j:02d}", rng.choice(["adam", "sgd", "rmsprop"]) if j % 4 == 0 else f"{rng.uniform(0, 1):.6f}")
              for j in range(n_params)]
    metrics = [(f"m{j}", rng.gauss(0.5, 0.2)) for j in range(n_metrics)]
    return f"run-{i:05d}", start, params, metrics


def history_data(lo: int, hi: int, total: int, spike: int, seed: int):
    """Steps lo..hi-1 of the long metric: (step, value); a smooth decay, one spike to 9.0."""
    rng = random.Random(seed * 7 + lo)
    return [(step, 9.0 if step == spike else 2.0 * math.exp(-step / (total / 5)) + rng.gauss(0, 0.05))
            for step in range(lo, hi)]


def rest_table_run(s, url, exp_id, i, a) -> str:
    name, start, params, metrics = table_data(i, a.params, a.metrics, a.seed)
    run = post(s, url, "runs/create", {"experiment_id": exp_id, "run_name": name, "start_time": start,
                                       "user_id": "bench"})
    run_id = run["run"]["info"]["run_id"]
    post(s, url, "runs/log-batch", {
        "run_id": run_id, "tags": [],
        "params": [{"key": k, "value": v} for k, v in params],
        "metrics": [{"key": k, "value": v, "timestamp": start + 500, "step": 0} for k, v in metrics]})
    post(s, url, "runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": start + 900})
    return run_id


def rest_history_chunk(s, url, run_id, lo, hi, a, spike):
    post(s, url, "runs/log-batch", {
        "run_id": run_id, "params": [], "tags": [],
        "metrics": [{"key": "loss", "value": v, "timestamp": BASE_TIME + step, "step": step}
                    for step, v in history_data(lo, hi, a.history, spike, a.seed)]})


def experiment(s, url, name) -> str:
    return post(s, url, "experiments/create", {"name": name})["experiment_id"]


def sqlite_seed(db_path: str, out: dict, a) -> None:
    """Write the same runs straight into MLflow's SQLite store (its 3.17.2 schema), in one transaction:
    through MLflow's REST API the 10k runs take ~35 min on this machine (~200 ms per run)."""
    import sqlite3
    import uuid

    def run_row(run_id, exp_id, name, start, end):
        return (run_id, name, "UNKNOWN", "", "", "bench", "FINISHED", start, end, "", "active",
                f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts", int(exp_id))

    db = sqlite3.connect(db_path)
    with db:
        runs, params, metrics, latest, tags = [], [], [], [], []
        for i in range(a.runs):
            name, start, ps, ms = table_data(i, a.params, a.metrics, a.seed)
            run_id = uuid.uuid4().hex
            runs.append(run_row(run_id, out["table_experiment"], name, start, start + 900))
            tags += [("mlflow.runName", name, run_id), ("mlflow.user", "bench", run_id)]
            params += [(k, v, run_id) for k, v in ps]
            metrics += [(k, v, start + 500, run_id, 0, 0) for k, v in ms]
            latest += [(k, v, start + 500, 0, 0, run_id) for k, v in ms]
        out["table_run"] = runs[-1][0]
        run_id = uuid.uuid4().hex
        out["history_run"] = run_id
        runs.append(run_row(run_id, out["history_experiment"], "long-history", BASE_TIME, BASE_TIME + a.history))
        tags += [("mlflow.runName", "long-history", run_id), ("mlflow.user", "bench", run_id)]
        last = None
        for lo in range(0, a.history, 1000):
            for step, v in history_data(lo, min(lo + 1000, a.history), a.history, out["spike_step"], a.seed):
                metrics.append(("loss", v, BASE_TIME + step, run_id, step, 0))
                last = ("loss", v, BASE_TIME + step, step, 0, run_id)
        if last:
            latest.append(last)
        db.executemany("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, "
                       "status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        db.executemany('INSERT INTO tags ("key", value, run_uuid) VALUES (?,?,?)', tags)
        db.executemany('INSERT INTO params ("key", value, run_uuid) VALUES (?,?,?)', params)
        db.executemany('INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)',
                       metrics)
        db.executemany('INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan, run_uuid) '
                       'VALUES (?,?,?,?,?,?)', latest)
    db.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--params", type=int, default=20)
    ap.add_argument("--metrics", type=int, default=10)
    ap.add_argument("--history", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mlflow-sqlite", metavar="DB",
                    help="write runs straight into this MLflow SQLite store (experiments still via REST)")
    a = ap.parse_args()
    url = a.url.rstrip("/")
    s = session(a.threads)
    out: dict = {"runs": a.runs, "params": a.params, "metrics": a.metrics, "history": a.history, "seed": a.seed}

    out["table_experiment"] = experiment(s, url, "ui-bench-table")
    out["history_experiment"] = experiment(s, url, "ui-bench-history")
    out["spike_step"] = int(a.history * 0.612)
    if a.mlflow_sqlite:
        t0 = time.monotonic()
        sqlite_seed(a.mlflow_sqlite, out, a)
        out["method"] = "MLflow's SQLite store, directly (one transaction)"
        out["seconds"] = round(time.monotonic() - t0, 1)
        print(f"seed: {a.runs} runs and {a.history} steps into {a.mlflow_sqlite} in {out['seconds']} s",
              file=sys.stderr)
    else:
        out["method"] = f"REST API: runs/create + runs/log-batch + runs/update, {a.threads} threads"
        t0 = time.monotonic()
        with ThreadPoolExecutor(a.threads) as pool:
            ids = list(pool.map(lambda i: rest_table_run(s, url, out["table_experiment"], i, a), range(a.runs)))
        out["table_run"] = ids[-1]
        out["table_seconds"] = round(time.monotonic() - t0, 1)
        print(f"seed: {a.runs} runs in {out['table_seconds']} s", file=sys.stderr)

        t0 = time.monotonic()
        run = post(s, url, "runs/create", {"experiment_id": out["history_experiment"], "run_name": "long-history",
                                           "start_time": BASE_TIME, "user_id": "bench"})
        out["history_run"] = run["run"]["info"]["run_id"]
        chunks = [(lo, min(lo + 1000, a.history)) for lo in range(0, a.history, 1000)]
        with ThreadPoolExecutor(a.threads) as pool:
            list(pool.map(lambda c: rest_history_chunk(s, url, out["history_run"], c[0], c[1], a, out["spike_step"]),
                          chunks))
        post(s, url, "runs/update", {"run_id": out["history_run"], "status": "FINISHED",
                                     "end_time": BASE_TIME + a.history})
        out["history_seconds"] = round(time.monotonic() - t0, 1)
        out["seconds"] = round(out["table_seconds"] + out["history_seconds"], 1)
        print(f"seed: {a.history} steps in {out['history_seconds']} s", file=sys.stderr)

    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
