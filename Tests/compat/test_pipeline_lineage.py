"""Lineage, live: a pipeline's train stage calls `mlflow.start_run()` with the stock client,
which resumes the stage's own run (the engine gives it MLFLOW_RUN_ID, as `mlflow run` does),
logs its dataset and registers a model there; its gate stage promotes it. Then
`/api/cairn/v1/lineage/…` and `cairn model lineage` walk version → run → dataset → pipeline
run and stage → gate decision and alias move, and back from the run.
"""

from __future__ import annotations

import sys
import textwrap

import pytest
import requests
from mlflow import MlflowClient

from test_pipeline_loop import _frame
from test_pipelines import cairn, project, run_of  # noqa: F401  (fixture)

pytestmark = pytest.mark.cairn_only  # Cairn's pipelines and lineage API.

TRAIN = """\
import os, sys
import mlflow, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from skl2onnx import to_onnx

name = sys.argv[1]
frame = pd.read_csv("data.csv")
X, y = frame[[c for c in frame.columns if c != "y"]], frame["y"]
model = LogisticRegression().fit(X, y)
onx = to_onnx(model, X.head(2).to_numpy(dtype=np.float32), options={"zipmap": False})
with mlflow.start_run() as run:
    mlflow.log_input(mlflow.data.from_pandas(frame, source=os.path.abspath("data.csv"), targets="y", name="train-data"),
                     context="training")
    mlflow.log_param("solver", "lbfgs")
    info = mlflow.onnx.log_model(onx, name="model", registered_model_name=name)
    open("run.txt", "w").write(run.info.run_id)
open("version.txt", "w").write(str(info.registered_model_version))
"""


def test_a_model_registered_inside_a_stage_links_to_the_stage_and_its_lineage_walks_both_ways(server_url, project, unique):
    name = f"lineage-{unique}"
    (project / "train.py").write_text(TRAIN)
    _frame(1, 1000, "old").to_csv(project / "data.csv", index=False)
    _frame(2, 500, "old").to_csv(project / "holdout.csv", index=False)
    (project / "cairn.yaml").write_text(textwrap.dedent(f"""\
        name: lineage-{unique}
        stages:
          train:
            cmd: {sys.executable} train.py {name}
            deps: [train.py, data.csv]
            outs: [version.txt, run.txt]
          gate:
            gate:
              model: {name}
              candidate: version.txt
              alias: champion
              data: holdout.csv
              target: y
              metrics:
                accuracy_score: {{threshold: 0.6, greater_is_better: true}}
        """))
    done = cairn(server_url, "pipeline", "run", cwd=project, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    pipeline_run_id = done.stdout.splitlines()[0].split()[1]
    stages = {stage["stage"]: stage for stage in run_of(server_url, pipeline_run_id)["stages"]}
    stage_run_id = stages["train"]["mlflow_run_id"]

    # The script's start_run() resumed the stage's run: the model hangs off it, and the
    # engine still finished it (FINISHED, its own tags and the script's params both there).
    assert (project / "run.txt").read_text() == stage_run_id
    client = MlflowClient(server_url)
    version = client.get_model_version(name, "1")
    assert version.run_id == stage_run_id
    stage_run = client.get_run(stage_run_id)
    assert stage_run.info.status == "FINISHED"
    assert stage_run.data.tags["cairn.stage"] == "train"
    assert stage_run.data.tags["mlflow.parentRunId"] == pipeline_run_id
    assert stage_run.data.params["solver"] == "lbfgs"
    dataset = stage_run.inputs.dataset_inputs[0].dataset

    answer = requests.get(f"{server_url}/api/cairn/v1/lineage/model-versions/{name}/1", timeout=30)
    assert answer.status_code == 200, answer.text
    lineage = answer.json()
    assert lineage["model_version"]["aliases"] == ["champion"]
    assert lineage["run"]["run_id"] == stage_run_id
    assert [(d["name"], d["digest"], d["context"]) for d in lineage["run"]["datasets"]] == [
        ("train-data", dataset.digest, "training")]
    assert lineage["pipeline_run"]["run_id"] == pipeline_run_id
    assert lineage["pipeline_run"]["pipeline"] == f"lineage-{unique}"
    assert lineage["pipeline_run"]["trigger"] == "manual"
    assert lineage["stage_run"]["stage"] == "train" and lineage["stage_run"]["run_id"] == stage_run_id
    assert "data.csv" in str(lineage["stage_run"]["key_components"])
    [decision] = lineage["promotions"]
    assert decision["outcome"] == "promoted" and decision["candidate_version"] == "1"
    assert decision["pipeline_run_id"] == pipeline_run_id
    assert [(m["alias"], m["from_version"], m["to_version"]) for m in lineage["alias_moves"]] == [("champion", None, "1")]
    assert lineage["monitors"] == []
    # A monitor following @champion watches this version.
    created = requests.post(f"{server_url}/api/cairn/v1/monitors", timeout=30, json={
        "name": f"watch-{unique}", "model_name": name, "alias": "champion", "window": {"rows": 100},
        "interval_seconds": 3600, "checks": [{"type": "feature_drift"}]})
    assert created.status_code == 200, created.text
    watched = requests.get(f"{server_url}/api/cairn/v1/lineage/model-versions/{name}/1", timeout=30).json()["monitors"]
    assert [(m["name"], m["alias"]) for m in watched] == [(f"watch-{unique}", "champion")]

    # The reverse: from the pipeline run to its stages and the version made in one of them.
    back = requests.get(f"{server_url}/api/cairn/v1/lineage/runs/{pipeline_run_id}", timeout=30).json()
    assert {s["stage"] for s in back["stage_runs"]} == {"train", "gate"}
    assert [(v["name"], v["version"]) for v in back["model_versions"]] == [(name, "1")]
    from_stage = requests.get(f"{server_url}/api/cairn/v1/lineage/runs/{stage_run_id}", timeout=30).json()
    assert from_stage["pipeline_run"]["run_id"] == pipeline_run_id and from_stage["stage_run"]["stage"] == "train"

    printed = cairn(server_url, "model", "lineage", f"models:/{name}/1")
    assert printed.returncode == 0, printed.stdout + printed.stderr
    for expected in (f"models:/{name}/1", "@champion", stage_run_id, dataset.digest, f"pipeline     lineage-{unique}",
                     "stage        train", "decision promoted @champion", "@champion: (none) -> 1",
                     f"monitor      watch-{unique}  (@champion)"):
        assert expected in printed.stdout, printed.stdout
    reverse = cairn(server_url, "model", "lineage", "--run", pipeline_run_id)
    assert reverse.returncode == 0 and f"registered   models:/{name}/1  @champion" in reverse.stdout, reverse.stdout
    unknown = requests.get(f"{server_url}/api/cairn/v1/lineage/model-versions/{name}/9", timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
