"""Evidently's DataDriftPreset on the files bench/monitoring/run.sh generates.

    python evidently_drift.py --reference REF.f64 --current CUR.f64 --features 20 [--repeat 3]

Each file is raw little-endian float64, column-major (column f00, then f01, ...). Loading into
pandas is outside the timed region; each repetition times `Report([DataDriftPreset()]).run(...)`
(profile and drift in one call) and, separately, turning the snapshot into a dict to read the
result. Prints one JSON object.
"""
import argparse
import json
import statistics
import time

import numpy as np
import pandas as pd

import evidently
from evidently import Report
from evidently.presets import DataDriftPreset


def load(path, features):
    values = np.fromfile(path, dtype="<f8")
    rows = values.size // features
    assert rows * features == values.size, f"{path}: not {features} float64 columns"
    columns = values.reshape(features, rows)
    return pd.DataFrame({f"f{i:02d}": columns[i] for i in range(features)})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reference = load(args.reference, args.features)
    current = load(args.current, args.features)

    run_times, dict_times, cpu_times = [], [], []
    result = None
    for _ in range(args.repeat):
        cpu = time.process_time()
        start = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(current, reference)
        ran = time.perf_counter()
        result = snapshot.dict()
        done = time.perf_counter()
        cpu_times.append(time.process_time() - cpu)
        run_times.append(ran - start)
        dict_times.append(done - ran)

    scores, methods, drifted, dataset = {}, set(), [], None
    for metric in result["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            score, threshold, method = metric["value"], config["threshold"], config["method"]
            scores[config["column"]] = score
            methods.add(method)
            # Evidently: a p-value drifts below the threshold, a distance at or above it.
            is_p_value = "p_value" in method.lower() or "test" in method.lower()
            if (score < threshold) if is_p_value else (score >= threshold):
                drifted.append(config["column"])
        elif config["type"].endswith("DriftedColumnsCount"):
            dataset = metric["value"]
    totals = run_times
    print(json.dumps({
        "tool": "evidently",
        "evidently_version": evidently.__version__,
        "pandas_version": pd.__version__,
        "reference_rows": len(reference),
        "current_rows": len(current),
        "features": args.features,
        "repeats": args.repeat,
        "run_seconds": run_times,
        "dict_seconds": dict_times,
        "cpu_seconds": cpu_times,
        "best_total_seconds": min(totals),
        "median_total_seconds": statistics.median(totals),
        "methods": sorted(methods),
        "scores": scores,
        "drifted": sorted(drifted),
        "drifted_columns_count": dataset,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
