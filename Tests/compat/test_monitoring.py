"""Monitoring end to end: `cairn serve` logs traffic into the inference log of the `cairn
server` under test; monitors on that server compare it with the training data recorded with
the model version, join ground truth sent as feedback, and deliver alerts to a webhook.

Cairn-only: MLflow has no monitoring API to compare with.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from conftest import SERVER_KIND, _free_port, _state
from test_serving import _binary, serve  # noqa: F401  (fixture)

pytestmark = pytest.mark.cairn_only

FEATURES = [f"f{i}" for i in range(6)]
SHIFTED = {"f1", "f4"}


def _frame(rng, rows, shift=()):
    X = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
    for name in shift:
        X[name] += 2.5
    return X


def _label(X):
    return (X["f0"] + 0.5 * X["f1"] - X["f2"] > 0).astype(int)


class Receiver:
    """A webhook receiver that fails its first `failures` calls, then records every body."""

    def __init__(self, failures: int):
        self.calls: list[dict] = []
        self.failures = failures
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                else:
                    receiver.calls.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver(failures=1)
    yield r
    r.close()


@pytest.fixture
def log_dir():
    if SERVER_KIND != "cairn" or _state.get("data_dir") is None:
        pytest.skip("needs the cairn server this suite started (its data dir holds the inference log)")
    return _state["data_dir"] / "inference-log"


def _send(served, X, prefix):
    """Scores X in requests of 50 rows, each with its own X-Request-ID; returns id → predictions."""
    predictions = {}
    for i in range(0, len(X), 50):
        request_id = f"{prefix}-{i // 50}"
        chunk = X.iloc[i:i + 50]
        answer = served.invoke({"dataframe_split": chunk.to_dict(orient="split")}, headers={"X-Request-ID": request_id})
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Request-ID"] == request_id
        predictions[request_id] = answer.json()["predictions"]
    return predictions


def _wait_logged(server_url, name, count):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = requests.get(f"{server_url}/api/cairn/v1/inference-log", params={"model": name, "max_results": 100000}, timeout=10).text.splitlines()
        if len(lines) >= count:
            return lines
        time.sleep(0.2)
    pytest.fail(f"only {len(lines)} of {count} records reached the inference log")


def _run(server_url, monitor_id):
    answer = requests.post(f"{server_url}/api/cairn/v1/monitors/{monitor_id}/run", timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_drift_then_quality_alert_reaches_webhook(server_url, serve, unique, tmp_path, receiver, log_dir):  # noqa: F811
    rng = np.random.default_rng(11)
    train = _frame(rng, 3000)
    train["y"] = _label(train)
    name = f"monitored-{unique}"
    train_csv = tmp_path / "train.csv"
    train.to_csv(train_csv, index=False)
    with mlflow.start_run():
        mlflow.log_input(mlflow.data.from_pandas(train, source=str(train_csv), targets="y"), context="training")
        model = LogisticRegression().fit(train[FEATURES], train["y"])
        mlflow.sklearn.log_model(model, name="model", registered_model_name=name, input_example=train[FEATURES].head(3))
    MlflowClient().set_registered_model_alias(name, "champion", "1")

    # The reference comes from the dataset recorded with the version's run.
    out = subprocess.run([_binary(), "monitor", "reference", f"models:/{name}@champion", "--target", "y", "--tracking-uri", server_url],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "3000 rows" in out.stdout and "train.csv" in out.stdout
    reference = requests.get(f"{server_url}/api/cairn/v1/references", params={"model_name": name, "version": "1"}, timeout=10).json()["reference"]
    assert {f["name"] for f in reference["features"]} == set(FEATURES) | {"prediction"}

    served = serve(f"models:/{name}@champion", "--workers", "1", "--inference-log", str(log_dir))

    spec = {
        "name": f"watch-{unique}", "model_name": name, "alias": "champion",
        "window": {"rows": 1000}, "interval_seconds": 3600, "webhooks": [receiver.url],
        "checks": [
            {"type": "feature_drift"}, {"type": "prediction_drift"},
            {"type": "quality", "metric": "accuracy", "threshold": 0.8},
            {"type": "error_rate", "threshold": 0.2}, {"type": "latency_p99", "threshold": 30000},
        ],
    }
    created = requests.post(f"{server_url}/api/cairn/v1/monitors", json=spec, timeout=10)
    assert created.status_code == 200, created.text
    monitor_id = created.json()["monitor"]["monitor_id"]

    # Traffic drawn like the training data: no feature drifts, nothing fires. Seeds are fixed:
    # at Evidently's 0.1 threshold a same-distribution window of 1,000 rows still crosses it
    # by chance now and then (seed 12 gives 0.133 on f3, as scipy computes too).
    _send(served, _frame(np.random.default_rng(15), 1000), "calm")
    _wait_logged(server_url, name, 20)
    report = _run(server_url, monitor_id)["report"]
    assert report["version"] == "1" and report["window"]["rows"] == 1000
    drift = report["data_drift"]
    assert [f["feature"] for f in drift["features"] if f["drifted"]] == [], json.dumps(drift["features"])
    assert {f["method"] for f in drift["features"]} == {"wasserstein"}  # reference > 1,000 rows
    assert not any(c["firing"] for c in report["checks"]), report["checks"]
    assert report.get("quality") is None  # absent until ground truth arrives

    # Two features shifted: exactly those two drift.
    shifted = _send(served, _frame(np.random.default_rng(19), 1000, shift=SHIFTED), "shifted")
    _wait_logged(server_url, name, 40)
    report = _run(server_url, monitor_id)["report"]
    assert {f["feature"] for f in report["data_drift"]["features"] if f["drifted"]} == SHIFTED
    assert report["data_drift"]["drifted"] is False  # 2 of 6 is under the 0.5 share
    assert {h["feature"] for h in report["histograms"]} == set(FEATURES) | {"prediction"}
    # f1 moves the decision boundary, so the share of positives moves too.
    assert report["prediction_drift"]["drifted"] is True
    assert {c["check"] for c in report["checks"] if c["firing"]} == {"prediction_drift"}

    # A time window sees both phases; its schedule runs it without being asked.
    timed = dict(spec, name=f"timed-{unique}", window={"seconds": 600}, interval_seconds=1, webhooks=[], checks=[{"type": "feature_drift", "threshold": 0.3}])
    timed_id = requests.post(f"{server_url}/api/cairn/v1/monitors", json=timed, timeout=10).json()["monitor"]["monitor_id"]
    deadline = time.monotonic() + 30
    while requests.get(f"{server_url}/api/cairn/v1/monitors/{timed_id}", timeout=10).json()["monitor"]["last_run_time"] is None:
        assert time.monotonic() < deadline, "the scheduler never ran the monitor"
        time.sleep(0.2)
    timed_report = requests.get(f"{server_url}/api/cairn/v1/monitors/{timed_id}/report", timeout=60).json()
    assert timed_report["window"]["rows"] == 2000 and timed_report["window"]["requests"] == 40
    deadline = time.monotonic() + 30
    while f'cairn_monitor_alert_firing{{monitor="timed-{unique}",check="feature_drift"}} 1' not in requests.get(f"{server_url}/metrics", timeout=10).text.replace(", ", ","):
        assert time.monotonic() < deadline, "the scheduled feature drift alert never showed in /metrics"
        time.sleep(0.2)

    # Wrong labels for every shifted request: accuracy collapses and the alert fires.
    feedback = [{"request_id": rid, "labels": [1 - int(p) for p in preds]} for rid, preds in shifted.items()]
    answer = requests.post(f"{server_url}/api/cairn/v1/feedback", json={"feedback": feedback}, timeout=10)
    assert answer.status_code == 200 and answer.json()["accepted"] == 20, answer.text
    run = _run(server_url, monitor_id)
    quality = run["report"]["quality"]
    assert quality["task"] == "classification" and quality["rows"] == 1000 and quality["accuracy"] == 0.0
    fired = [a for a in run["alerts"] if a["check"] == "quality:accuracy"]
    assert len(fired) == 1 and fired[0]["state"] == "firing"

    # The receiver fails the first call it gets; the retry delivers it.
    def quality_calls():
        return [c for c in receiver.calls if c["alert"]["check"] == "quality:accuracy"]

    deadline = time.monotonic() + 60
    while not quality_calls() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert quality_calls(), f"no webhook call for the quality alert arrived: {receiver.calls}"
    call = quality_calls()[0]
    assert call["event"] == "alert.firing" and call["alert"]["model_name"] == name and call["alert"]["value"] == 0.0
    every_alert = requests.get(f"{server_url}/api/cairn/v1/alerts", params={"monitor_id": monitor_id}, timeout=10).json()["alerts"]
    deadline = time.monotonic() + 60
    while True:
        deliveries = [d for a in every_alert for d in
                      requests.get(f"{server_url}/api/cairn/v1/alerts/{a['alert_id']}/deliveries", timeout=10).json()["deliveries"]]
        if all(d["state"] == "delivered" for d in deliveries) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert all(d["state"] == "delivered" for d in deliveries), deliveries
    assert sum(d["attempts"] for d in deliveries) == len(deliveries) + 1, deliveries

    # A second evaluation with the same verdict opens no second alert.
    assert [a for a in _run(server_url, monitor_id)["alerts"] if a["check"] == "quality:accuracy"] == []
    alerts = requests.get(f"{server_url}/api/cairn/v1/alerts", params={"monitor_id": monitor_id, "state": "firing"}, timeout=10).json()["alerts"]
    assert sorted(a["check"] for a in alerts) == ["prediction_drift", "quality:accuracy"]
    metrics = requests.get(f"{server_url}/metrics", timeout=10).text
    assert f'cairn_monitor_alert_firing{{monitor="watch-{unique}",check="quality:accuracy"}} 1' in metrics.replace(", ", ",")

    # Reports: HTML through the API and the CLI; the log exported as CSV.
    page = requests.get(f"{server_url}/api/cairn/v1/monitors/{monitor_id}/report", params={"format": "html"}, timeout=60)
    assert page.headers["Content-Type"].startswith("text/html") and page.text.count("<svg") == len(FEATURES) + 1
    html = tmp_path / "report.html"
    out = subprocess.run([_binary(), "monitor", "report", f"watch-{unique}", "--out", str(html), "--tracking-uri", server_url],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "f4" in html.read_text() and "<svg" in html.read_text()
    csv_path = tmp_path / "log.csv"
    out = subprocess.run([_binary(), "monitor", "log", "--model", name, "--format", "csv", "--out", str(csv_path), "--tracking-uri", server_url],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    exported = pd.read_csv(csv_path)
    assert len(exported) == 2000 and set(exported["request_id"]) == {f"calm-{i}" for i in range(20)} | set(shifted)
    first = exported[exported["request_id"] == "shifted-0"].sort_values("row")
    assert first["prediction"].tolist() == shifted["shifted-0"]
    assert first["feedback_label"].tolist() == [1 - int(p) for p in shifted["shifted-0"]]


def test_bad_monitors_and_feedback_are_refused(server_url, unique):
    base = f"{server_url}/api/cairn/v1"
    cases = [
        ({"model_name": "x"}, "name"),
        ({"name": "m", "model_name": f"missing-{unique}"}, None),
        ({"name": "m", "model_name": "x", "window": {"rows": 10, "seconds": 5}}, "window"),
        ({"name": "m", "model_name": "x", "checks": [{"type": "quality", "metric": "auc", "threshold": 1}]}, "metric"),
        ({"name": "m", "model_name": "x", "webhooks": ["file:///etc/passwd"]}, "Webhook"),
        ({"name": "m", "model_name": "x", "checks": [{"type": "nope"}]}, "checks"),
    ]
    for body, word in cases:
        answer = requests.post(f"{base}/monitors", json=body, timeout=10)
        assert answer.status_code in (400, 404), (body, answer.text)
        error = answer.json()
        assert error["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"), error
        if word:
            assert word in error["message"], error
    assert not any(m["name"] == "m" for m in requests.get(f"{base}/monitors", timeout=10).json()["monitors"])

    # One bad item refuses the whole batch.
    bad = {"feedback": [{"request_id": f"ok-{unique}", "label": 1}, {"request_id": f"bad-{unique}", "label": {"a": 1}}]}
    answer = requests.post(f"{base}/feedback", json=bad, timeout=10)
    assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    for body in ({"label": 1}, {"request_id": "r"}, {"request_id": "r", "label": 1, "labels": [1]}, {"feedback": []}):
        assert requests.post(f"{base}/feedback", json=body, timeout=10).status_code == 400, body

    assert requests.get(f"{base}/monitors/nope-{unique}", timeout=10).json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert requests.get(f"{base}/inference-log", params={"format": "xml"}, timeout=10).status_code == 400
    answer = requests.post(f"{base}/references", params={"model_name": f"missing-{unique}", "version": "1"}, data=b"a\n1\n",
                           headers={"Content-Type": "text/csv"}, timeout=10)
    assert answer.status_code == 404 and answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
