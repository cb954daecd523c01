"""Issue 11, the monitoring contract, end to end through `cairn serve` and `cairn server`:
feedback answered item by item, server and client errors counted apart, the log exported
as one CSV row per scored row, and a per-record cap on what one large request costs.

Cairn-only: MLflow has no monitoring API to compare with.
"""

from __future__ import annotations

import io
import json
import subprocess

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from test_monitoring import FEATURES, _frame, _label, _run, _wait_logged, log_dir  # noqa: F401  (fixture)
from test_serving import _binary, serve  # noqa: F401  (fixture)

pytestmark = pytest.mark.cairn_only


def test_feedback_error_rates_csv_and_record_cap(server_url, serve, unique, tmp_path, log_dir):  # noqa: F811
    rng = np.random.default_rng(5)
    train = _frame(rng, 600)
    train["y"] = _label(train)
    name = f"contract-{unique}"
    with mlflow.start_run():
        model = LogisticRegression().fit(train[FEATURES], train["y"])
        mlflow.sklearn.log_model(model, name="model", registered_model_name=name, input_example=train[FEATURES].head(3))
    MlflowClient().set_registered_model_alias(name, "champion", "1")
    base = f"{server_url}/api/cairn/v1"
    answer = requests.post(f"{base}/references", params={"model_name": name, "version": "1", "target": "y"},
                           data=train.to_csv(index=False).encode(), headers={"Content-Type": "text/csv"}, timeout=60)
    assert answer.status_code == 200, answer.text

    cap = 64 << 10
    served = serve(f"models:/{name}@champion", "--workers", "1", "--inference-log", str(log_dir),
                   "--inference-log-max-record-bytes", str(cap))
    X = _frame(rng, 3)
    ids = {k: f"{unique}-{k}" for k in ("multi", "single", "positional", "bad", "big", "ghost")}
    predictions = {}
    for key, payload in [("multi", {"dataframe_split": X.to_dict(orient="split")}),
                         ("single", {"dataframe_split": X.head(1).to_dict(orient="split")}),
                         ("positional", {"instances": X.head(2).to_numpy().tolist()})]:
        answer = served.invoke(payload, headers={"X-Request-ID": ids[key]})
        assert answer.status_code == 200, answer.text
        predictions[key] = answer.json()["predictions"]
    bad = requests.post(f"{served.url}/invocations", data=b"{not json", timeout=30,
                        headers={"Content-Type": "application/json", "X-Request-ID": ids["bad"]})
    assert bad.status_code == 400
    big = _frame(rng, 5000)
    answer = served.invoke({"dataframe_split": big.to_dict(orient="split")}, headers={"X-Request-ID": ids["big"]})
    assert answer.status_code == 200 and len(big.to_json(orient="split")) > 4 * cap
    big_predictions = answer.json()["predictions"]
    _wait_logged(server_url, name, 5)

    # The big request was logged as a sample of its rows, counted in /metrics.
    metrics = served.metrics()
    assert "cairn_inference_log_records_truncated_total 1" in metrics, metrics
    omitted = [line for line in metrics.splitlines() if line.startswith("cairn_inference_log_rows_omitted_total ")]
    lines = [json.loads(line) for line in requests.get(f"{base}/inference-log", params={"model": name}, timeout=10).text.splitlines()]
    record = next(line for line in lines if line["request_id"] == ids["big"])
    kept = record["row_indexes"]
    assert record["row_count"] == 5000 and 0 < len(kept) < 5000 and kept == sorted(set(kept))
    compact = len(json.dumps(record["inputs"], separators=(",", ":"))) + len(json.dumps(record["outputs"], separators=(",", ":")))
    assert compact <= cap * 1.1  # Python may print a float a digit longer than the log did
    assert omitted == [f"cairn_inference_log_rows_omitted_total {5000 - len(kept)}"]
    assert record["outputs"]["predictions"] == [big_predictions[i] for i in kept]

    # Feedback: item by item, with reasons; the big request still takes all 5,000 labels.
    truth = _label(big).tolist()
    items = [
        {"request_id": ids["multi"], "labels": [1 - int(p) for p in predictions["multi"]]},
        {"request_id": ids["single"], "label": int(predictions["single"][0])},
        {"request_id": ids["positional"], "label": 1},
        {"request_id": ids["bad"], "label": 1},
        {"request_id": ids["ghost"], "label": 1},
        {"request_id": ids["big"], "labels": truth},
    ]
    answer = requests.post(f"{base}/feedback", json={"feedback": items}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["refused"], body["pending"]) == (3, 2, 1), body
    status = {r["request_id"]: (r["status"], r.get("reason", "")) for r in body["results"]}
    assert status[ids["positional"]][0] == "refused" and "2 row(s)" in status[ids["positional"]][1]
    assert status[ids["bad"]][0] == "refused" and "400" in status[ids["bad"]][1]
    assert status[ids["ghost"]][0] == "pending"
    # A malformed body is a 400 that stores nothing.
    answer = requests.post(f"{base}/feedback", json={"feedback": [{"request_id": ids["positional"], "labels": [1, 1]},
                                                                   {"request_id": "x", "label": {"a": 1}}]}, timeout=10)
    assert answer.status_code == 400

    # Server errors and client errors apart: the refused body fires only client_error_rate.
    spec = {"name": f"contract-{unique}", "model_name": name, "alias": "champion", "window": {"seconds": 600}, "min_rows": 1,
            "checks": [{"type": "error_rate", "threshold": 0.1}, {"type": "client_error_rate", "threshold": 0.1},
                       {"type": "quality", "metric": "accuracy", "threshold": 0.1}]}
    created = requests.post(f"{base}/monitors", json=spec, timeout=10)
    assert created.status_code == 200, created.text
    report = _run(server_url, created.json()["monitor"]["monitor_id"])["report"]
    assert report["service"]["error_rate"] == 0 and report["service"]["client_error_rate"] == 0.2
    firing = {c["check"]: c["firing"] for c in report["checks"]}
    assert firing["error_rate"] is False and firing["client_error_rate"] is True, report["checks"]
    # The sampled rows join their labels by original index: 3 wrong + 1 right + the sample.
    assert report["quality"]["rows"] == 3 + 1 + len(kept)
    expected = (1 + sum(big_predictions[i] == truth[i] for i in kept)) / (4 + len(kept))
    assert report["quality"]["accuracy"] == pytest.approx(expected)

    # CSV: one row per scored row, positional columns named by the reference, labels joined.
    out = subprocess.run([_binary(), "monitor", "log", "--model", name, "--format", "csv", "--out", str(tmp_path / "log.csv"),
                          "--tracking-uri", server_url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "log.csv", dtype={"request_id": str})
    assert list(table.columns[:7]) == ["request_id", "timestamp_ms", "model", "version", "status", "latency_us", "row"]
    assert set(FEATURES) | {"prediction", "feedback_label"} <= set(table.columns)
    rows = table.groupby("request_id").size().to_dict()
    assert rows == {ids["multi"]: 3, ids["single"]: 1, ids["positional"]: 2, ids["bad"]: 1, ids["big"]: len(kept)}
    multi = table[table.request_id == ids["multi"]].sort_values("row")
    assert multi["row"].tolist() == [0, 1, 2]
    assert np.allclose(multi[FEATURES].to_numpy(), X.to_numpy())
    assert multi["prediction"].tolist() == predictions["multi"]
    assert multi["feedback_label"].tolist() == [1 - int(p) for p in predictions["multi"]]
    positional = table[table.request_id == ids["positional"]]
    assert np.allclose(positional[FEATURES].to_numpy(), X.head(2).to_numpy())
    refused = table[table.request_id == ids["bad"]].iloc[0]
    assert refused["status"] == 400 and pd.isna(refused["row"]) and refused[FEATURES].isna().all()
    sampled = table[table.request_id == ids["big"]]
    assert sampled["row"].astype(int).tolist() == kept
    assert sampled["feedback_label"].astype(int).tolist() == [truth[i] for i in kept]
    assert np.allclose(sampled[FEATURES].to_numpy(), big.iloc[kept].to_numpy())
    # The HTTP export is the same table.
    assert pd.read_csv(io.StringIO(requests.get(f"{base}/inference-log", params={"model": name, "format": "csv"}, timeout=10).text),
                       dtype={"request_id": str}).shape == table.shape
