"""The closed loop, live: a `cairn.yaml` pipeline trains a model with the stock `mlflow` client
and registers it, its `gate:` stage moves `@champion`, `cairn serve` follows the alias, a
monitor's drift alert starts the retraining pipeline on new data, the better model is promoted
and served, and a worse one is rejected and logged with the alias untouched.

Every wait is a poll with a deadline and a message saying what did not happen.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient

from test_monitoring import log_dir  # noqa: F401  (fixture)
from test_pipelines import cairn, project, run_of  # noqa: F401  (fixture)
from test_serving import FEATURES, serve  # noqa: F401  (fixture)

pytestmark = pytest.mark.cairn_only  # Cairn's pipelines, gate, serving and monitors.

TRAIN = """\
import os, sys
import mlflow, numpy as np, pandas as pd, yaml
from sklearn.linear_model import LogisticRegression
from skl2onnx import to_onnx

name = sys.argv[1]
flip = yaml.safe_load(open("params.yaml"))["flip"]
frame = pd.read_csv("data.csv")
X, y = frame[[c for c in frame.columns if c != "y"]], frame["y"]
if flip:
    y = 1 - y  # a wrecked model: every label inverted
model = LogisticRegression().fit(X, y)
onx = to_onnx(model, X.head(2).to_numpy(dtype=np.float32), options={"zipmap": False})
signature = mlflow.models.infer_signature(X.astype("float32").head(5), model.predict(X.head(5)))
# No set_experiment: as under `mlflow run`, MLFLOW_RUN_ID names the stage's run, which
# start_run() resumes (its experiment is `pipeline/<name>`).
with mlflow.start_run() as run:
    assert run.info.run_id == os.environ["CAIRN_STAGE_RUN_ID"]
    mlflow.log_input(mlflow.data.from_pandas(frame, source=os.path.abspath("data.csv"), targets="y"), context="training")
    mlflow.log_param("flip", flip)
    info = mlflow.onnx.log_model(onx, name="model", registered_model_name=name, signature=signature)
open("version.txt", "w").write(str(info.registered_model_version))
"""


def _frame(seed: int, rows: int, concept: str, shift: tuple[str, ...] = ()) -> pd.DataFrame:
    X = pd.DataFrame(np.random.default_rng(seed).normal(size=(rows, len(FEATURES))), columns=FEATURES)
    for column in shift:
        X[column] += 2.5
    # The world changes: at first f1 plays no part in the label; later it does.
    score = X["f0"] - X["f2"] if concept == "old" else X["f0"] + 1.5 * X["f1"] - X["f2"]
    return X.assign(y=(score > 0).astype(int))


def _wait(predicate, what: str, timeout: float = 180, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _alias(name: str, alias: str = "champion") -> str | None:
    try:
        return MlflowClient().get_model_version_by_alias(name, alias).version
    except Exception:  # noqa: BLE001  (no alias yet)
        return None


def _events(url: str, pipeline: str) -> list[dict]:
    answer = requests.get(f"{url}/api/cairn/v1/pipelines/{pipeline}/events", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


def _triggered_run(url: str, pipeline: str, seen: set[str], what: str) -> dict:
    """The run a new monitor_alert event started, once it has ended."""
    def started():
        for event in _events(url, pipeline):
            if event["kind"] == "monitor_alert" and event["event_id"] not in seen:
                assert event["state"] != "skipped", event
                if event["state"] == "started" and event.get("run_id"):
                    return event
        return None

    event = _wait(started, f"{what}: a monitor_alert event of pipeline {pipeline} that started a run")
    seen.add(event["event_id"])
    run = _wait(lambda: (lambda r: r if r["status"] != "RUNNING" else None)(run_of(url, event["run_id"])),
                f"{what}: run {event['run_id']} to end", timeout=300)
    assert run["trigger"] == "monitor_alert" and run["trigger_event_id"] == event["event_id"], run
    parent = MlflowClient().get_run(run["run_id"])
    assert parent.data.tags["cairn.trigger"] == f"monitor_alert:{event['event_id']}"
    return run


def _send(served, X: pd.DataFrame, prefix: str) -> None:
    for i in range(0, len(X), 100):
        chunk = X.iloc[i:i + 100][FEATURES]
        answer = served.invoke({"dataframe_split": chunk.to_dict(orient="split")}, headers={"X-Request-ID": f"{prefix}-{i}"})
        assert answer.status_code == 200, answer.text


def _logged(url: str, name: str, prefix: str, count: int) -> bool:
    """Whether `count` requests whose id starts with `prefix` are in the server's inference log."""
    lines = requests.get(f"{url}/api/cairn/v1/inference-log", params={"model": name, "max_results": 100000},
                         timeout=30).text.splitlines()
    return sum(json.loads(line)["request_id"].startswith(prefix) for line in lines if line.strip()) >= count


def _monitor(url: str, spec: dict) -> str:
    created = requests.post(f"{url}/api/cairn/v1/monitors", json=spec, timeout=30)
    assert created.status_code == 200, created.text
    return created.json()["monitor"]["monitor_id"]


def test_drift_alert_retrains_gates_promotes_and_serving_follows(server_url, serve, project, log_dir, unique):  # noqa: F811
    name = f"loop-{unique}"
    pipeline = f"retrain-{unique}"
    watch = f"watch-{unique}"
    (project / "train.py").write_text(TRAIN)
    (project / "params.yaml").write_text("flip: false\n")
    _frame(1, 2000, "old").to_csv(project / "data.csv", index=False)
    # The pinned held-out set reflects the world as it is now (the new concept).
    _frame(2, 1000, "new").to_csv(project / "holdout.csv", index=False)
    (project / "cairn.yaml").write_text(textwrap.dedent(f"""\
        name: {pipeline}
        triggers:
          - monitor: {watch}
        stages:
          train:
            cmd: {sys.executable} train.py {name}
            deps: [train.py, data.csv]
            params: [flip]
            outs: [version.txt]
          gate:
            gate:
              model: {name}
              candidate: version.txt
              alias: champion
              data: holdout.csv
              target: y
              metrics:
                accuracy_score: {{threshold: 0.7, min_absolute_change: 0.05, greater_is_better: true}}
        """))
    client = MlflowClient()

    # 1. First run: v1 registered; no champion, so thresholds alone decide; @champion set.
    first = cairn(server_url, "pipeline", "run", cwd=project, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (project / "version.txt").read_text() == "1"
    assert _alias(name) == "1"

    # 2. Nothing changed: no stage executes, no version is registered.
    again = cairn(server_url, "pipeline", "run", cwd=project, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = run_of(server_url, again.stdout.splitlines()[0].split()[1])
    assert [s["cache_hit"] for s in rerun["stages"]] == [True, True], rerun["stages"]
    assert len(client.search_model_versions(f"name='{name}'")) == 1

    # 3. Serving follows the alias; its monitor has v1's training data as reference.
    reference = cairn(server_url, "monitor", "reference", f"models:/{name}@champion", "--target", "y",
                      "--tracking-uri", server_url)
    assert reference.returncode == 0, reference.stdout + reference.stderr
    served = serve(f"models:/{name}@champion", "--poll-interval", "0.2", "--inference-log", str(log_dir))
    probe = {"dataframe_split": _frame(3, 5, "new")[FEATURES].to_dict(orient="split")}
    assert served.invoke(probe).headers["X-Cairn-Model-Version"] == "1"
    _monitor(server_url, {"name": watch, "model_name": name, "alias": "champion", "window": {"rows": 1000},
                          "interval_seconds": 3600, "checks": [{"type": "feature_drift"}]})
    # The monitor may run once on creation, over an empty window: nothing fires.
    seen = {e["event_id"] for e in _events(server_url, pipeline)}
    assert seen == set()

    # 4. New data lands, then drifted traffic: the monitor's alert starts the retrain.
    _frame(4, 2000, "new").to_csv(project / "data.csv", index=False)
    _send(served, _frame(5, 1000, "new", shift=("f1", "f2", "f3", "f4")), "drift")
    _wait(lambda: _logged(server_url, name, "drift-", 10), "the drifted traffic to reach the inference log")
    monitors = requests.get(f"{server_url}/api/cairn/v1/monitors", timeout=30).json()["monitors"]
    watch_id = next(m["monitor_id"] for m in monitors if m["name"] == watch)
    report = requests.post(f"{server_url}/api/cairn/v1/monitors/{watch_id}/run", timeout=120)
    assert report.status_code == 200, report.text
    assert any(c["check"] == "feature_drift" and c["firing"] for c in report.json()["report"]["checks"]), report.text
    retrain = _triggered_run(server_url, pipeline, seen, "the drift alert's retrain")
    assert retrain["status"] == "FINISHED", retrain
    assert {s["stage"]: s["cache_hit"] for s in retrain["stages"]} == {"train": False, "gate": False}
    assert (project / "version.txt").read_text() == "2"
    assert _alias(name) == "2"
    _wait(lambda: served.invoke(probe).headers.get("X-Cairn-Model-Version") == "2",
          "cairn serve to answer with version 2 after the alias moved", timeout=60)

    # 5. A second alert (another monitor naming the pipeline) with a wrecked model: rejected,
    #    logged, the alias untouched, serving still on v2.
    (project / "params.yaml").write_text("flip: true\n")
    _send(served, _frame(6, 200, "new"), "after")
    _wait(lambda: _logged(server_url, name, "after-", 2), "traffic to v2 to reach the inference log")
    latency_id = _monitor(server_url, {"name": f"slow-{unique}", "model_name": name, "alias": "champion",
                                       "window": {"rows": 1000}, "interval_seconds": 3600, "min_rows": 1,
                                       "checks": [{"type": "latency_p99", "threshold": 0.000001}],
                                       "pipelines": [pipeline]})
    ran = requests.post(f"{server_url}/api/cairn/v1/monitors/{latency_id}/run", timeout=120)
    assert ran.status_code == 200, ran.text
    rejected = _triggered_run(server_url, pipeline, seen, "the second alert's retrain")
    assert rejected["status"] == "FAILED", rejected
    stages = {s["stage"]: s for s in rejected["stages"]}
    assert stages["train"]["status"] == "FINISHED" and stages["gate"]["status"] == "FAILED"
    assert "accuracy_score value threshold check failed" in stages["gate"]["reason"], stages["gate"]
    assert (project / "version.txt").read_text() == "3"
    assert _alias(name) == "2"
    log = requests.get(f"{server_url}/api/cairn/v1/promotions", params={"model": name}, timeout=30).json()["promotions"]
    assert [(e["outcome"], e["candidate_version"], e["champion_version"]) for e in log] == [
        ("rejected", "3", "2"), ("promoted", "2", "1"), ("promoted", "1", None)], log
    assert log[0]["moves"] == [] and log[0]["candidate_metrics"]["accuracy_score"] < 0.7
    assert log[1]["candidate_metrics"]["accuracy_score"] >= log[1]["champion_metrics"]["accuracy_score"] + 0.05
    assert client.get_model_version(name, "3").tags["cairn.gate"] == "rejected"
    assert served.invoke(probe).headers["X-Cairn-Model-Version"] == "2"
