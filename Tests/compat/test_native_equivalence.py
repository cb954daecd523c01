"""Native ONNX scoring answers what scikit-learn answers, for every request shape a client can send.

One churn model on four features named out of alphabetical order (tenure, monthly, calls, age),
with scales so different that any reordering changes the answer, is exported twice with skl2onnx
and served by `cairn serve --runtime native`:

* "unnamed": logged with a tensor signature (what a numpy input example gives) and skl2onnx's
  default ZipMap probabilities. Columns reach the model in the order the client sent them, as
  MLflow feeds `DataFrame.values` to an ONNX model.
* "named": logged with a column signature and a probability tensor. Columns are matched by name
  in every format, whatever order they come in, and a missing one is named in a 400.

Every answer is compared with the sklearn pipeline's `predict` and `predict_proba` on the same rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from test_serving import _binary, serve  # noqa: F401  (serve is a fixture)

FEATURES = ["tenure", "monthly", "calls", "age"]
SHUFFLED = ["age", "calls", "tenure", "monthly"]


@pytest.fixture(scope="module")
def churn():
    rng = np.random.default_rng(11)
    n = 600
    X = pd.DataFrame({
        "tenure": rng.uniform(0, 72, n).round(1),
        "monthly": rng.uniform(20, 120, n).round(2),
        "calls": rng.poisson(2, n).astype(float),
        "age": rng.uniform(18, 80, n).round(0),
    })
    y = ((X["monthly"] / 100 - X["tenure"] / 72 + 0.3 * X["calls"] - X["age"] / 200) > 0.2).astype(int)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    # Rows near the boundary could flip between float32 (ONNX) and float64 (sklearn): keep clear ones.
    margin = np.abs(pipeline.predict_proba(X)[:, 1] - 0.5) > 1e-3
    return X[margin].reset_index(drop=True).head(40), pipeline


def _register(kind: str, pipeline, X: pd.DataFrame, unique: str) -> str:
    from skl2onnx import to_onnx

    name = f"equiv-{kind}-{unique}"
    X32 = X.to_numpy(dtype=np.float32)
    if kind == "unnamed":
        onx = to_onnx(pipeline, X32[:2])  # default options: label + ZipMap probabilities
        signature = mlflow.models.infer_signature(X32[:5])
    else:
        onx = to_onnx(pipeline, X32[:2], options={"zipmap": False})
        signature = mlflow.models.infer_signature(X.astype("float32").head(5))
    with mlflow.start_run():
        mlflow.onnx.log_model(onx, name="model", registered_model_name=name, signature=signature)
    return name


@pytest.fixture(params=["unnamed", "named"])
def model(request, churn, server_url, unique, serve):
    X, pipeline = churn
    name = _register(request.param, pipeline, X, unique)
    served = serve(f"models:/{name}/1", "--runtime", "native")
    assert "Cairn's ONNX runtime" in served.log.read_text()
    return request.param, name, served, X, pipeline


def _labels_and_probabilities(predictions):
    """Labels and an (n, 2) probability matrix from a native multi-output answer (records)."""
    labels, probabilities = [], []
    for record in predictions:
        if "output_probability" in record:  # ZipMap: class -> probability
            labels.append(record["output_label"])
            probabilities.append([record["output_probability"]["0"], record["output_probability"]["1"]])
        else:
            labels.append(record["label"])
            probabilities.append(record["probabilities"])
    return labels, np.array(probabilities)


def _assert_matches(answer, pipeline, X_seen):
    """The answer equals sklearn on X_seen, the matrix the model should have received."""
    assert answer.status_code == 200, answer.text
    labels, probabilities = _labels_and_probabilities(answer.json()["predictions"])
    assert labels == pipeline.predict(X_seen.to_numpy()).tolist()
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(X_seen.to_numpy()), rtol=1e-4, atol=1e-5)


def _bodies(X: pd.DataFrame, columns: list[str]) -> dict[str, tuple[str, str]]:
    """Every MLflow scoring body for X with its columns in the given order: name → (content type, body)."""
    frame = X[columns]
    rows = frame.to_numpy().tolist()
    return {
        "split": ("application/json", json.dumps({"dataframe_split": frame.to_dict(orient="split")})),
        "split-no-index": ("application/json", json.dumps({"dataframe_split": {"columns": columns, "data": rows}})),
        "records": ("application/json", json.dumps({"dataframe_records": frame.to_dict(orient="records")})),
        "instances-records": ("application/json", json.dumps({"instances": frame.to_dict(orient="records")})),
        "inputs-columns": ("application/json", json.dumps({"inputs": {c: frame[c].tolist() for c in columns}})),
        "csv": ("text/csv", frame.to_csv(index=False)),
    }


def _post(served, content_type, body):
    return requests.post(f"{served.url}/invocations", data=body, headers={"Content-Type": content_type}, timeout=30)


def test_every_format_in_training_order_matches_sklearn(model):
    kind, name, served, X, pipeline = model
    for fmt, (content_type, body) in _bodies(X, FEATURES).items():
        try:
            _assert_matches(_post(served, content_type, body), pipeline, X)
        except AssertionError as error:
            raise AssertionError(f"{kind}/{fmt}: {error}") from error
    # Rows without names are positional: the training order.
    rows = X[FEATURES].to_numpy().tolist()
    for fmt, payload in {"split-positional": {"dataframe_split": {"data": rows}}, "instances-rows": {"instances": rows},
                         "inputs-rows": {"inputs": rows}}.items():
        try:
            _assert_matches(served.invoke(payload), pipeline, X)
        except AssertionError as error:
            raise AssertionError(f"{kind}/{fmt}: {error}") from error


def test_shuffled_keys_follow_the_signature(model):
    kind, name, served, X, pipeline = model
    # With names in the signature, columns are matched by name; without, the order sent is the
    # order the model sees (MLflow feeds DataFrame.values to an ONNX model).
    seen = X if kind == "named" else X[SHUFFLED]
    for fmt, (content_type, body) in _bodies(X, SHUFFLED).items():
        try:
            _assert_matches(_post(served, content_type, body), pipeline, seen)
        except AssertionError as error:
            raise AssertionError(f"{kind}/{fmt}: {error}") from error
    if kind == "named":
        # Each record in its own key order.
        rng = np.random.default_rng(3)
        records = [{k: row[k] for k in rng.permutation(FEATURES)} for row in X.to_dict(orient="records")]
        _assert_matches(served.invoke({"dataframe_records": records}), pipeline, X)
        # A missing column is named.
        missing = served.invoke({"dataframe_records": [{k: v for k, v in r.items() if k != "calls"} for r in records]})
        assert missing.status_code == 400 and "calls" in missing.json()["message"], missing.text


def test_open_inference_protocol_matches_sklearn(model):
    kind, name, served, X, pipeline = model
    meta = requests.get(f"{served.url}/v2/models/{name}", timeout=10).json()
    graph_input = meta["inputs"][0]["name"]
    tensor = {"inputs": [{"name": graph_input, "shape": list(X.shape), "datatype": "FP32",
                          "data": X[FEATURES].to_numpy(dtype=np.float32).ravel().tolist()}]}
    answer = requests.post(f"{served.url}/v2/models/{name}/infer", json=tensor, timeout=30)
    assert answer.status_code == 200, answer.text
    outputs = {o["name"]: o for o in answer.json()["outputs"]}
    label_name = "output_label" if kind == "unnamed" else "label"
    proba_name = "output_probability" if kind == "unnamed" else "probabilities"
    assert set(outputs) == {label_name, proba_name}, "every output is answered, the ZipMap as a tensor"
    assert outputs[label_name]["data"] == pipeline.predict(X.to_numpy()).tolist()
    probabilities = np.array(outputs[proba_name]["data"]).reshape(outputs[proba_name]["shape"])
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(X.to_numpy()), rtol=1e-4, atol=1e-5)
    if kind == "unnamed":
        assert outputs[proba_name]["parameters"]["classes"] == [0, 1]
    else:
        # One input per column, in any order, matched to the signature by name.
        columns = {"inputs": [{"name": c, "shape": [len(X)], "datatype": "FP64", "data": X[c].tolist()} for c in SHUFFLED]}
        by_name = requests.post(f"{served.url}/v2/models/{name}/infer", json=columns, timeout=30)
        assert by_name.status_code == 200, by_name.text
        label = next(o for o in by_name.json()["outputs"] if o["name"] == "label")
        assert label["data"] == pipeline.predict(X.to_numpy()).tolist()


def test_params_pick_outputs(model):
    kind, name, served, X, pipeline = model
    label_name = "output_label" if kind == "unnamed" else "label"
    split = X.head(5)[FEATURES].to_dict(orient="split")
    only = served.invoke({"dataframe_split": split, "params": {"outputs": [label_name]}})
    assert only.status_code == 200, only.text
    assert only.json()["predictions"] == pipeline.predict(X.head(5).to_numpy()).tolist()
    unknown = served.invoke({"dataframe_split": split, "params": {"outputs": ["nope"]}})
    assert unknown.status_code == 400 and label_name in unknown.json()["message"]


def test_missing_overflowing_and_non_finite_values(model):
    kind, name, served, X, pipeline = model
    head = X.head(3)[FEATURES]
    rows = head.to_numpy().tolist()

    def split(data):
        return json.dumps({"dataframe_split": {"columns": FEATURES, "data": data}})

    null_row = [rows[0], [rows[1][0], None, rows[1][2], rows[1][3]], rows[2]]
    refused = _post(served, "application/json", split(null_row))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "monthly" in refused.json()["message"] and "row 1" in refused.json()["message"]

    absent = served.invoke({"dataframe_records": [dict(zip(FEATURES, rows[0])), {"tenure": 1.0, "monthly": 50.0, "age": 30.0}]})
    assert absent.status_code == 400 and "calls" in absent.json()["message"] and "row 1" in absent.json()["message"]

    empty_cell = _post(served, "text/csv", ",".join(FEATURES) + "\n1,50,,30\n")
    assert empty_cell.status_code == 400 and "calls" in empty_cell.json()["message"]

    overflow = _post(served, "application/json", '{"dataframe_split": {"columns": %s, "data": [[1.0, 50.0, 1e400, 30.0]]}}' % json.dumps(FEATURES))
    assert overflow.status_code == 400 and "calls" in overflow.json()["message"], overflow.text

    # What Python's json.dumps writes for NaN and infinities: accepted where a float is expected.
    literal = _post(served, "application/json", json.dumps({"dataframe_split": {"columns": FEATURES, "data": [[float("nan"), 50.0, 1.0, float("inf")]]}}))
    assert literal.status_code == 200, literal.text

    # No rows: refused, as MLflow's scoring server refuses it.
    for body in ({"dataframe_split": {"columns": FEATURES, "data": []}}, {"dataframe_records": []}, {"instances": []}):
        nothing = served.invoke(body)
        assert nothing.status_code == 400 and nothing.json()["error_code"] == "BAD_REQUEST", (body, nothing.text)


def test_cairn_predict_maps_csv_headers_and_writes_every_output(churn, server_url, unique, tmp_path):
    X, pipeline = churn
    name = _register("named", pipeline, X, unique)
    source = tmp_path / "shuffled.csv"
    X[SHUFFLED].to_csv(source, index=False)
    target = tmp_path / "out.csv"
    env = dict(os.environ, MLFLOW_TRACKING_URI=server_url)
    done = subprocess.run([_binary(), "predict", f"models:/{name}/1", "--input", str(source), "--output", str(target),
                           "--runtime", "native", "--chunk-rows", "7"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(target)
    assert list(out.columns) == ["label", "probabilities_0", "probabilities_1"]
    assert out["label"].tolist() == pipeline.predict(X.to_numpy()).tolist()
    np.testing.assert_allclose(out[["probabilities_0", "probabilities_1"]].to_numpy(), pipeline.predict_proba(X.to_numpy()), rtol=1e-4, atol=1e-5)

    # A missing cell is refused with its row in the whole file, not in its chunk.
    broken = X[SHUFFLED].copy()
    broken.loc[10, "calls"] = np.nan
    broken.to_csv(source, index=False, na_rep="")
    failed = subprocess.run([_binary(), "predict", f"models:/{name}/1", "--input", str(source), "--output", str(target),
                             "--runtime", "native", "--chunk-rows", "7"], env=env, capture_output=True, text=True, timeout=180)
    assert failed.returncode != 0
    assert "calls" in failed.stderr + failed.stdout and "row 10" in failed.stderr + failed.stdout
