"""The evaluation gate end to end with the stock mlflow client: sklearn models converted with
skl2onnx, logged and registered with mlflow, judged by `cairn model evaluate` (the same
EvaluationGate a pipeline's `gate:` stage runs, in the server), the alias moved or not, every
decision in the promotion log, and `cairn model rollback`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from mlflow.models import MetricThreshold
from mlflow.models.evaluation import EvaluationResult
from mlflow.models.evaluation.validation import ModelValidationFailedException
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from test_serving import FEATURES, _binary

pytestmark = pytest.mark.cairn_only  # Cairn's own API (/api/cairn/v1) and CLI.


@pytest.fixture(scope="module")
def holdout(tmp_path_factory):
    rng = np.random.default_rng(11)
    X = pd.DataFrame(rng.normal(size=(1200, len(FEATURES))), columns=FEATURES)
    y = (X["f0"] + 0.5 * X["f1"] - X["f2"] > 0).astype(int)
    train, test = slice(0, 800), slice(800, 1200)
    path = tmp_path_factory.mktemp("gate") / "holdout.csv"
    frame = X.iloc[test].copy()
    frame["label"] = y.iloc[test]
    frame.to_csv(path, index=False)
    return X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test], path


def _register(name, model, X):
    """Logs `model` as ONNX (served natively, probabilities as a tensor) and registers it."""
    from skl2onnx import to_onnx

    onx = to_onnx(model, X.head(2).to_numpy(dtype=np.float32), options={"zipmap": False})
    signature = mlflow.models.infer_signature(X.astype("float32").head(5), model.predict(X.head(5)))
    with mlflow.start_run():
        mlflow.onnx.log_model(onx, name="model", registered_model_name=name, signature=signature)


def _models(X, y):
    """A weak model (sees only f0), a good one, and one trained on shuffled labels."""
    weak = LogisticRegression().fit(X.assign(f1=0.0, f2=0.0, f3=0.0, f4=0.0, f5=0.0), y)
    good = LogisticRegression().fit(X, y)
    noise = LogisticRegression().fit(X, np.random.default_rng(3).permutation(y.to_numpy()))
    return weak, good, noise


def _evaluate(server_url, name, candidate, data, *metrics, extra=()):
    command = [_binary(), "model", "evaluate", name, "--candidate", str(candidate), "--data", str(data), "--target", "label"]
    for metric in metrics:
        command += ["--metric", metric]
    done = subprocess.run(command + list(extra), env=dict(os.environ, MLFLOW_TRACKING_URI=server_url),
                          capture_output=True, text=True, timeout=300)
    answer = json.loads(done.stdout) if done.stdout.strip() else None
    return done, answer


def _mlflow_says(thresholds, candidate, baseline):
    """MLflow's own verdict on the metrics Cairn computed."""
    try:
        mlflow.validate_evaluation_results(
            thresholds, EvaluationResult(metrics=candidate, artifacts={}),
            EvaluationResult(metrics=baseline, artifacts={}) if baseline else None)
        return True
    except ModelValidationFailedException:
        return False


def _alias(client, name, alias):
    try:
        return client.get_model_version_by_alias(name, alias).version
    except mlflow.exceptions.MlflowException:
        return None


def test_better_candidate_moves_the_alias_and_worse_is_rejected(server_url, client, holdout, unique):
    X, y, X_test, y_test, path = holdout
    name = f"gate-{unique}"
    weak, good, noise = _models(X, y)
    for model in (weak, good, noise):
        _register(name, model, X)
    client.set_registered_model_alias(name, "champion", "1")

    done, answer = _evaluate(server_url, name, 2, path, "accuracy_score>=0.8,min_absolute_change=0.01", "f1>=0.5",
                             extra=["--keep-previous-as", "previous"])
    assert done.returncode == 0, done.stderr
    assert answer["passed"] and answer["promoted"], answer
    assert answer["candidate_version"] == "2" and answer["champion_version"] == "1"
    assert answer["dataset_digest"] == hashlib.sha256(path.read_bytes()).hexdigest()
    # The numbers are sklearn's on the same rows (ONNX scores in float32: allow a row or two).
    assert answer["candidate_metrics"]["accuracy_score"] == pytest.approx(accuracy_score(y_test, good.predict(X_test)), abs=2 / len(y_test))
    # The weak model's coefficients for the features it never saw vary are 0, so its scores
    # on the full holdout are its scores on f0 alone.
    assert answer["champion_metrics"]["f1_score"] == pytest.approx(f1_score(y_test, weak.predict(X_test)), abs=0.02)
    assert 0.5 < answer["candidate_metrics"]["roc_auc"] <= 1
    thresholds = {"accuracy_score": MetricThreshold(threshold=0.8, min_absolute_change=0.01, greater_is_better=True),
                  "f1_score": MetricThreshold(threshold=0.5, greater_is_better=True)}
    assert _mlflow_says(thresholds, answer["candidate_metrics"], answer["champion_metrics"])
    assert _alias(client, name, "champion") == "2"
    assert _alias(client, name, "previous") == "1"
    tags = client.get_model_version(name, "2").tags
    assert tags["cairn.gate"] == "passed" and tags["cairn.gate.outcome"] == "promoted"

    # A worse candidate: rejected, logged, the alias untouched.
    done, answer = _evaluate(server_url, name, 3, path, "accuracy_score>=0.8,min_absolute_change=0.01")
    assert done.returncode == 1, done.stderr
    assert not answer["passed"] and not answer["promoted"]
    assert any("accuracy_score value threshold check failed" in line for line in answer["failures"])
    assert any("minimum absolute change check failed" in line for line in answer["failures"])
    assert not _mlflow_says({"accuracy_score": thresholds["accuracy_score"]}, answer["candidate_metrics"], answer["champion_metrics"])
    assert _alias(client, name, "champion") == "2"
    assert client.get_model_version(name, "3").tags["cairn.gate"] == "rejected"

    log = requests.get(f"{server_url}/api/cairn/v1/promotions", params={"model": name}, timeout=30).json()
    entries = log["promotions"]
    assert [e["outcome"] for e in entries] == ["rejected", "promoted"]
    rejected, promoted = entries
    assert rejected["candidate_version"] == "3" and rejected["champion_version"] == "2" and rejected["moves"] == []
    assert rejected["thresholds"] == {"accuracy_score": {"greater_is_better": True, "min_absolute_change": 0.01, "threshold": 0.8}}
    assert rejected["candidate_metrics"]["accuracy_score"] < 0.8
    assert promoted["moves"] == [{"alias": "champion", "from_version": "1", "to_version": "2"},
                                 {"alias": "previous", "from_version": None, "to_version": "1"}]
    assert promoted["dataset_path"] == str(path) and promoted["dataset_digest"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(promoted["thresholds"]) == {"accuracy_score", "f1_score"}  # `f1` is read as MLflow's f1_score

    # Rollback: back to the version before the last move, logged.
    done = subprocess.run([_binary(), "model", "rollback", f"models:/{name}@champion"], env=dict(os.environ, MLFLOW_TRACKING_URI=server_url),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "version 2 → version 1" in done.stdout
    assert _alias(client, name, "champion") == "1"
    newest = requests.get(f"{server_url}/api/cairn/v1/promotions", params={"model": name, "max_results": 1}, timeout=30).json()
    assert newest["promotions"][0]["kind"] == "rollback" and newest["next_page_token"]
    assert newest["promotions"][0]["moves"] == [{"alias": "champion", "from_version": "2", "to_version": "1"}]


def test_first_model_is_judged_on_thresholds_only(server_url, client, holdout, unique):
    X, y, _, _, path = holdout
    name = f"gate-first-{unique}"
    _register(name, _models(X, y)[1], X)
    done, answer = _evaluate(server_url, name, 1, path, "accuracy_score>=0.8,min_absolute_change=0.01,min_relative_change=0.0")
    assert done.returncode == 0, done.stderr
    assert answer["promoted"] and answer["champion_version"] is None and answer["champion_metrics"] == {}
    assert _alias(client, name, "champion") == "1"
    # The alias was created by that move: there is nothing to roll back to.
    done = subprocess.run([_binary(), "model", "rollback", f"models:/{name}@champion"], env=dict(os.environ, MLFLOW_TRACKING_URI=server_url),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "no previous version" in done.stderr


def test_bad_requests_are_clear_errors(server_url, client, holdout, unique):
    X, y, _, _, path = holdout
    name = f"gate-bad-{unique}"
    _register(name, _models(X, y)[1], X)
    base = f"{server_url}/api/cairn/v1/models/{name}/evaluate"
    csv = path.read_text()
    bad = [
        ({"candidate": "1", "target": "label", "data": csv, "thresholds": {"accuracy_score": {"threshold": 0.8}}}, "greater_is_better"),
        ({"candidate": "1", "target": "label", "data": csv,
          "thresholds": {"accuracy_score": {"min_absolute_change": -1, "greater_is_better": True}}}, "positive"),
        ({"candidate": "1", "target": "nope", "data": csv,
          "thresholds": {"accuracy_score": {"threshold": 0.8, "greater_is_better": True}}}, "no target column"),
        ({"candidate": "7", "target": "label", "data": csv,
          "thresholds": {"accuracy_score": {"threshold": 0.8, "greater_is_better": True}}}, "not found"),
    ]
    for body, reason in bad:
        response = requests.post(base, json=body, timeout=120)
        assert 400 <= response.status_code < 500, response.text
        assert reason in response.json()["message"], response.text
    response = requests.post(f"{server_url}/api/cairn/v1/models/{name}/aliases/champion/rollback", timeout=30)
    assert response.status_code == 400 and "no recorded move" in response.json()["message"]
    assert _alias(client, name, "champion") is None


def test_promotions_of_an_unknown_model_is_not_found(server_url, unique):
    # MLflow answers RESOURCE_DOES_NOT_EXIST (404) for a model it does not have; an empty log
    # would read as "never judged".
    response = requests.get(f"{server_url}/api/cairn/v1/promotions", params={"model": f"nosuch-{unique}"}, timeout=30)
    assert response.status_code == 404, response.text
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    done = subprocess.run([_binary(), "model", "promotions", f"nosuch-{unique}"],
                          env=dict(os.environ, MLFLOW_TRACKING_URI=server_url), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "RESOURCE_DOES_NOT_EXIST" in done.stderr + done.stdout
