#!/usr/bin/env python3
"""Seeds a Cairn SQLite database with one experiment of N runs x P params x M metrics.

Writes straight into the migrated database (run `cairn server --data-dir D` once first, then
stop it): through the API, 100k runs are 200k requests, hours on a debug build. The rows are
exactly what the tracking store writes (runs, the mlflow.runName tag, params, every metric
point in `metrics` and the latest one in `latest_metrics`), so the server reads them as its own.

    seed.py DB [--runs 100000] [--params 20] [--metrics 10] [--steps 3] [--parents 2000] [--children 4]

Every `--parents`-th top-level run gets `--children` nested runs (mlflow.parentRunId), so the
tree path is measured too; `--parents 0` makes every run top-level.
"""
import argparse
import random
import sqlite3
import time
import uuid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--params", type=int, default=20)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--parents", type=int, default=2_000, help="top-level runs that get nested runs")
    parser.add_argument("--children", type=int, default=4)
    parser.add_argument("--experiment", default="runs-table-bench")
    args = parser.parse_args()

    rng = random.Random(7)
    db = sqlite3.connect(args.db)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    now = int(time.time() * 1000)
    row = db.execute("SELECT experiment_id FROM experiments WHERE name = ?", (args.experiment,)).fetchone()
    if row:
        raise SystemExit(f"experiment {args.experiment!r} already exists (id {row[0]}): seed a fresh data directory")
    experiment = db.execute("SELECT COALESCE(MAX(experiment_id), 0) + 1 FROM experiments").fetchone()[0]
    db.execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)"
        " VALUES (?, ?, ?, 'active', ?, ?)",
        (experiment, args.experiment, f"mlflow-artifacts:/{experiment}", now, now),
    )

    nested_total = args.parents * args.children
    top_level = args.runs - nested_total
    parent_every = max(1, top_level // args.parents) if args.parents else 0
    started = time.time()
    batch = 5_000
    runs, tags, params, metrics, latest = [], [], [], [], []

    def flush() -> None:
        db.executemany(
            "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri)"
            " VALUES (?, ?, ?, 'bench', 'FINISHED', ?, ?, 'active', ?)", runs)
        db.executemany("INSERT INTO run_tags (run_uuid, key, value) VALUES (?, ?, ?)", tags)
        db.executemany("INSERT INTO run_params (run_uuid, key, value) VALUES (?, ?, ?)", params)
        db.executemany(
            "INSERT INTO metrics (run_uuid, key, timestamp, step, value, is_nan) VALUES (?, ?, ?, ?, ?, 0)", metrics)
        db.executemany(
            "INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, 0, ?, ?)", latest)
        for rows in (runs, tags, params, metrics, latest):
            rows.clear()

    def add_run(index: int, parent: str | None) -> str:
        run_id = uuid.UUID(int=rng.getrandbits(128)).hex
        start = now - (args.runs - index) * 1000
        name = f"run-{index}"
        runs.append((run_id, experiment, name, start, start + rng.randint(1_000, 600_000),
                     f"mlflow-artifacts:/{experiment}/{run_id}/artifacts"))
        tags.append((run_id, "mlflow.runName", name))
        tags.append((run_id, "team", rng.choice(["vision", "nlp", "tabular"])))
        if parent:
            tags.append((run_id, "mlflow.parentRunId", parent))
        for p in range(args.params):
            params.append((run_id, f"p{p:02d}", str(rng.choice([0.001, 0.01, 0.1, 1, 10, 100]) * (p + 1))))
        for m in range(args.metrics):
            value = 0.0
            for step in range(args.steps):
                value = rng.random()
                metrics.append((run_id, f"m{m}", start + step, step, value))
            latest.append((run_id, f"m{m}", value, start + args.steps - 1, args.steps - 1))
        return run_id

    index = 0
    made_parents = 0
    while index < args.runs:
        run_id = add_run(index, None)
        index += 1
        if parent_every and made_parents < args.parents and index % parent_every == 0:
            made_parents += 1
            for _ in range(args.children):
                if index >= args.runs:
                    break
                add_run(index, run_id)
                index += 1
        if len(runs) >= batch:
            flush()
    flush()
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"experiment {experiment}: {args.runs} runs ({made_parents} with {args.children} nested each), "
          f"{args.params} params, {args.metrics} metrics x {args.steps} steps, seeded in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
