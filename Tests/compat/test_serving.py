"""`cairn serve` end to end: models logged with the stock client, served natively (ONNX) and
through Python workers, over MLflow's scoring protocol and the Open Inference Protocol.

The tracking server under test (Cairn, or MLflow's own with COMPAT_SERVER=mlflow) resolves
the model URIs; the scoring server is always `cairn serve`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import REPO_ROOT, _free_port, _tail

FEATURES = [f"f{i}" for i in range(6)]


def _binary() -> str:
    binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
    return str(binary if binary.is_absolute() else REPO_ROOT / binary)


class Served:
    def __init__(self, url: str, proc: subprocess.Popen, log: Path):
        self.url, self.proc, self.log = url, proc, log

    def invoke(self, payload, **kwargs):
        return requests.post(f"{self.url}/invocations", json=payload, timeout=30, **kwargs)

    def metrics(self) -> str:
        return requests.get(f"{self.url}/metrics", timeout=10).text


@pytest.fixture
def serve(server_url):
    """Starts `cairn serve` with the given arguments; stops it after the test."""
    started: list[Served] = []

    def start(*args: str, expect_failure: bool = False) -> Served:
        port = _free_port()
        log = Path(tempfile.mkdtemp(prefix="cairn-serve-")) / "serve.log"
        env = dict(os.environ, MLFLOW_TRACKING_URI=server_url)
        cmd = [_binary(), "serve", *args, "--port", str(port), "--python", sys.executable]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        served = Served(f"http://127.0.0.1:{port}", proc, log)
        started.append(served)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                if expect_failure:
                    return served
                pytest.fail(f"cairn serve exited with {proc.returncode}:\n{_tail(log, 60)}")
            try:
                if requests.get(f"{served.url}/ping", timeout=1).status_code == 200:
                    return served
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"cairn serve did not come up:\n{_tail(log, 60)}")

    yield start
    for served in started:
        if served.proc.poll() is None:
            os.killpg(served.proc.pid, signal.SIGTERM)
            try:
                served.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(served.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(400, len(FEATURES))), columns=FEATURES)
    y = (X["f0"] + 0.5 * X["f1"] - X["f2"] > 0).astype(int)
    return X, y


def _log_sklearn(name, X, y, C=1.0):
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=C)).fit(X, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(pipeline, name="model", registered_model_name=name, input_example=X.head(3))
    return pipeline, info


def _log_onnx(name, pipeline, X):
    from skl2onnx import to_onnx

    onx = to_onnx(pipeline, X.head(2).to_numpy(dtype=np.float32), options={"zipmap": False})
    signature = mlflow.models.infer_signature(X.astype("float32").head(5), pipeline.predict(X.head(5)))
    with mlflow.start_run():
        mlflow.onnx.log_model(onx, name="model", registered_model_name=name, signature=signature)
    return onx


def _latest(client, name):
    return max(int(v.version) for v in client.search_model_versions(f"name='{name}'"))


def test_python_worker_serves_sklearn_pipeline(serve, data, unique):
    X, y = data
    name = f"serve-py-{unique}"
    pipeline, _ = _log_sklearn(name, X, y)
    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", "1")
    served = serve(f"models:/{name}@champion", "--runtime", "python", "--workers", "1")

    sample = X.head(25)
    response = served.invoke({"dataframe_split": sample.to_dict(orient="split")})
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == pipeline.predict(sample).tolist()
    assert response.headers["X-Cairn-Model-Version"] == "1"

    records = served.invoke({"dataframe_records": sample.to_dict(orient="records")})
    assert records.json()["predictions"] == pipeline.predict(sample).tolist()

    csv = requests.post(f"{served.url}/invocations", data=sample.to_csv(index=False),
                        headers={"Content-Type": "text/csv"}, timeout=30)
    assert csv.status_code == 200, csv.text
    assert csv.json()["predictions"] == pipeline.predict(sample).tolist()

    # A missing column is named in a 400, and nothing reaches the model.
    bad = served.invoke({"dataframe_split": sample.drop(columns=["f3"]).to_dict(orient="split")})
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "f3" in bad.json()["message"]

    wrong_type = served.invoke({"dataframe_records": [{**{f: 1.0 for f in FEATURES}, "f4": "text"}]})
    assert wrong_type.status_code == 400 and "f4" in wrong_type.json()["message"]

    assert served.invoke([1, 2]).status_code == 400
    # No rows is refused the same way on both runtimes, as MLflow refuses it.
    empty = served.invoke({"dataframe_split": {"columns": FEATURES, "data": []}})
    assert empty.status_code == 400 and empty.json()["error_code"] == "BAD_REQUEST", empty.text
    # A bare NaN (what json.dumps writes) is read, not called malformed: this model then
    # refuses the NaN itself, as sklearn does behind `mlflow models serve`.
    nan = requests.post(f"{served.url}/invocations", data=json.dumps({"dataframe_split": {"columns": FEATURES, "data": [[float("nan")] + [0.0] * 5]}}),
                        headers={"Content-Type": "application/json"}, timeout=30)
    assert nan.status_code == 400 and "valid JSON" not in nan.json()["message"], nan.text
    two_keys = served.invoke({"dataframe_split": {}, "inputs": []})
    assert two_keys.status_code == 400 and two_keys.json()["error_code"] == "BAD_REQUEST"
    unsupported = requests.post(f"{served.url}/invocations", data="x", headers={"Content-Type": "text/plain"}, timeout=10)
    assert unsupported.status_code == 415

    # Many concurrent requests are batched and each gets its own rows back.
    rows = [X.iloc[[i]] for i in range(64)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda r: served.invoke({"dataframe_split": r.to_dict(orient="split")}), rows))
    assert [a.json()["predictions"][0] for a in answers] == pipeline.predict(X.head(64)).tolist()


def test_onnx_model_serves_natively_and_matches_sklearn(serve, data, unique):
    X, y = data
    name = f"serve-onnx-{unique}"
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    _log_onnx(name, pipeline, X)
    served = serve(f"models:/{name}/1", "--runtime", "native")
    assert "Cairn's ONNX runtime" in served.log.read_text()

    sample = X.head(50)
    response = served.invoke({"dataframe_split": sample.to_dict(orient="split")})
    assert response.status_code == 200, response.text
    # Every output, as MLflow's onnx flavor answers: records of the label and the probabilities.
    records = response.json()["predictions"]
    assert [r["label"] for r in records] == pipeline.predict(sample).tolist()
    np.testing.assert_allclose([r["probabilities"] for r in records], pipeline.predict_proba(sample), rtol=1e-4, atol=1e-5)

    # Open Inference Protocol: the graph's own tensor, probabilities included.
    meta = requests.get(f"{served.url}/v2/models/{name}", timeout=10).json()
    assert meta["platform"] == "onnx_onnxv1" and meta["versions"] == ["1"]
    input_name = meta["inputs"][0]["name"]
    body = {"id": "r1", "inputs": [{"name": input_name, "shape": [len(sample), len(FEATURES)], "datatype": "FP32",
                                    "data": sample.to_numpy(dtype=np.float32).ravel().tolist()}]}
    infer = requests.post(f"{served.url}/v2/models/{name}/infer", json=body, timeout=10)
    assert infer.status_code == 200, infer.text
    answer = infer.json()
    assert answer["id"] == "r1" and answer["model_version"] == "1"
    outputs = {o["name"]: o for o in answer["outputs"]}
    probabilities = np.array(outputs["probabilities"]["data"]).reshape(outputs["probabilities"]["shape"])
    np.testing.assert_allclose(probabilities, pipeline.predict_proba(sample), rtol=1e-4, atol=1e-5)
    assert requests.get(f"{served.url}/v2/health/ready", timeout=5).json() == {"ready": True}
    assert requests.get(f"{served.url}/v2/models/{name}/ready", timeout=5).json()["ready"] is True
    assert requests.get(f"{served.url}/v2/models/other", timeout=5).status_code == 404
    bad_shape = dict(body, inputs=[dict(body["inputs"][0], shape=[len(sample), 99])])
    bad = requests.post(f"{served.url}/v2/models/{name}/infer", json=bad_shape, timeout=10)
    assert bad.status_code == 400 and "error" in bad.json()

    metrics = served.metrics()
    assert f'cairn_serving_requests_total{{model="{name}",version="1",status="200"}}' in metrics
    assert "cairn_serving_batch_rows_bucket" in metrics and "cairn_serving_queue_seconds_bucket" in metrics


def test_hot_swap_follows_the_alias_without_failed_requests(serve, data, unique):
    X, y = data
    name = f"serve-swap-{unique}"
    client = MlflowClient()
    _log_sklearn(name, X, y)
    client.set_registered_model_alias(name, "champion", "1")
    served = serve(f"models:/{name}@champion", "--runtime", "python", "--workers", "1", "--poll-interval", "0.2")
    _log_sklearn(name, X, y, C=0.01)

    payload = {"dataframe_split": X.head(2).to_dict(orient="split")}
    statuses, versions = [], []
    stop_at = time.monotonic() + 60
    swapped_at = None
    with requests.Session() as session:
        while time.monotonic() < stop_at:
            r = session.post(f"{served.url}/invocations", json=payload, timeout=30)
            statuses.append(r.status_code)
            versions.append(r.headers.get("X-Cairn-Model-Version"))
            if swapped_at is None and len(statuses) == 20:
                client.set_registered_model_alias(name, "champion", "2")
                swapped_at = len(statuses)
            if versions[-1] == "2" and len(versions) - versions.index("2") > 20:
                break
    assert set(statuses) == {200}, f"failed requests during the swap: {[s for s in statuses if s != 200][:5]}"
    assert versions[0] == "1" and versions[-1] == "2"
    # Once a request saw version 2, none went back to version 1.
    assert "1" not in versions[versions.index("2"):]


def test_failed_load_keeps_the_old_version(serve, data, unique, tmp_path):
    X, y = data
    name = f"serve-badv-{unique}"
    client = MlflowClient()
    _log_sklearn(name, X, y)
    client.set_registered_model_alias(name, "champion", "1")
    served = serve(f"models:/{name}@champion", "--runtime", "python", "--workers", "1", "--poll-interval", "0.2")

    class Broken(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            raise RuntimeError("this version cannot load")

        def predict(self, context, model_input):
            return model_input

    with mlflow.start_run():
        mlflow.pyfunc.log_model(name="model", python_model=Broken(), registered_model_name=name)
    client.set_registered_model_alias(name, "champion", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and 'result="failed"' not in served.metrics():
        time.sleep(0.2)
    assert 'cairn_serving_model_loads_total{model="%s",result="failed"}' % name in served.metrics()
    r = served.invoke({"dataframe_split": X.head(1).to_dict(orient="split")})
    assert r.status_code == 200 and r.headers["X-Cairn-Model-Version"] == "1"
    meta = requests.get(f"{served.url}/v2/models/{name}", timeout=10).json()
    assert "cannot load" in meta["parameters"]["last_load_error"]


def test_crashed_worker_gives_503_then_recovers(serve, unique, tmp_path):
    # Defined here so cloudpickle stores the class by value: the worker cannot import this file.
    class Crashy(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            if (model_input["x"] < 0).any():
                os._exit(3)
            return (model_input["x"] * 2).to_numpy()

    path = tmp_path / "crashy"
    mlflow.pyfunc.save_model(path, python_model=Crashy(), input_example=pd.DataFrame({"x": [1.0]}))
    served = serve(str(path), "--workers", "1")
    assert served.invoke({"dataframe_split": {"columns": ["x"], "data": [[2.0]]}}).json()["predictions"] == [4.0]
    crash = served.invoke({"dataframe_split": {"columns": ["x"], "data": [[-1.0]]}})
    assert crash.status_code == 503 and crash.headers.get("Retry-After") == "1"
    assert crash.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    ok = served.invoke({"dataframe_split": {"columns": ["x"], "data": [[5.0]]}})
    assert ok.status_code == 200 and ok.json()["predictions"] == [10.0]
    assert 'cairn_serving_worker_restarts_total{model="crashy"} 1' in served.metrics()


def test_canary_and_shadow(serve, data, unique):
    X, y = data
    name = f"serve-canary-{unique}"
    client = MlflowClient()
    _log_sklearn(name, X, y)
    _log_sklearn(name, X, y, C=0.01)
    served = serve(f"models:/{name}/1", "--runtime", "python", "--workers", "1",
                   "--canary", f"models:/{name}/2", "--canary-percent", "30", "--shadow", f"models:/{name}/2")
    payload = {"dataframe_split": X.head(1).to_dict(orient="split")}
    versions = [served.invoke(payload).headers["X-Cairn-Model-Version"] for _ in range(200)]
    share = versions.count("2") / len(versions)
    assert 0.15 < share < 0.45, share
    # Every primary answer was mirrored to the shadow, which scored it without answering.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        shadow = [l for l in served.metrics().splitlines() if l.startswith(f'cairn_serving_rows_total{{model="{name}",version="2"}}')]
        if shadow and float(shadow[0].split()[-1]) >= 200:
            break
        time.sleep(0.2)
    assert shadow and float(shadow[0].split()[-1]) >= 200


def test_serve_refuses_unknown_model_and_bad_uri(serve, unique):
    failed = serve(f"models:/no-such-model-{unique}/1", expect_failure=True)
    failed.proc.wait(timeout=30)
    assert failed.proc.returncode != 0
    assert "RESOURCE_DOES_NOT_EXIST" in failed.log.read_text() or "not found" in failed.log.read_text().lower()
    bad = subprocess.run([_binary(), "serve", "s3://bucket/model"], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "Unsupported model URI" in (bad.stderr + bad.stdout)


def test_cairn_predict_scores_a_csv(server_url, data, unique, tmp_path):
    X, y = data
    name = f"predict-{unique}"
    pipeline, _ = _log_sklearn(name, X, y)
    source = tmp_path / "in.csv"
    X.to_csv(source, index=False)
    target = tmp_path / "out.csv"
    env = dict(os.environ, MLFLOW_TRACKING_URI=server_url)
    done = subprocess.run([_binary(), "predict", f"models:/{name}/1", "--input", str(source), "--output", str(target),
                           "--python", sys.executable, "--chunk-rows", "64"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    predictions = pd.read_csv(target)
    assert predictions["prediction"].tolist() == pipeline.predict(X).tolist()


def test_serves_a_version_registered_from_a_runs_uri(serve, data, unique, tmp_path):
    X, y = data
    name = f"serve-runs-{unique}"
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    mlflow.sklearn.save_model(pipeline, tmp_path / "model", input_example=X.head(2))
    client = MlflowClient()
    client.create_registered_model(name)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "model"), artifact_path="model")
    client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    served = serve(f"models:/{name}/1", "--workers", "1")
    sample = X.head(5)
    assert served.invoke({"dataframe_split": sample.to_dict(orient="split")}).json()["predictions"] == pipeline.predict(sample).tolist()


def test_inference_log_records_every_scored_request(serve, tmp_path):
    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return (model_input["x"] * 2).to_numpy()

    path = tmp_path / "doubler"
    mlflow.pyfunc.save_model(path, python_model=Doubler(), input_example=pd.DataFrame({"x": [1.0]}))
    log_dir = tmp_path / "log"
    served = serve(str(path), "--workers", "1", "--inference-log", str(log_dir))
    given = served.invoke({"dataframe_split": {"columns": ["x"], "data": [[3.0]]}}, headers={"X-Request-ID": "req-1"})
    assert given.headers["X-Request-ID"] == "req-1"
    generated = served.invoke({"dataframe_split": {"columns": ["x"], "data": [[4.0]]}})
    assert len(generated.headers["X-Request-ID"]) >= 16
    bad = served.invoke({"dataframe_split": {"columns": ["y"], "data": [[1.0]]}})
    assert bad.status_code == 400
    oip = requests.post(f"{served.url}/v2/models/doubler/infer", timeout=30,
                        json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [5.0]}]})
    assert oip.status_code == 200, oip.text
    assert oip.json()["outputs"][0]["data"] == [10.0]
    import json as _json
    # A pretty-printed body is one line of the log all the same, and a body that is not
    # JSON at all is kept as a string, so every line stays valid JSON.
    pretty_body = {"dataframe_split": {"columns": ["x"], "data": [[6.0]]}}
    pretty = requests.post(f"{served.url}/invocations", data=_json.dumps(pretty_body, indent=2), timeout=30,
                           headers={"Content-Type": "application/json"})
    assert pretty.status_code == 200, pretty.text
    broken = requests.post(f"{served.url}/v2/models/doubler/infer", data='{"inputs": [', timeout=30,
                           headers={"Content-Type": "application/json"})
    assert broken.status_code == 400
    # Refused before scoring (not JSON at all) is still answered with an id, and logged.
    unparsable = requests.post(f"{served.url}/invocations", data='{"dataframe_split": ', timeout=30,
                               headers={"Content-Type": "application/json", "X-Request-ID": "bad-json"})
    assert unparsable.status_code == 400 and unparsable.json()["error_code"] == "BAD_REQUEST"
    assert unparsable.headers["X-Request-ID"] == "bad-json"

    deadline = time.monotonic() + 10
    records = []
    while time.monotonic() < deadline and len(records) < 7:
        time.sleep(0.3)
        records = [_json.loads(line) for f in sorted(log_dir.glob("inference-*.jsonl")) for line in f.read_text().splitlines()]
    assert [r["status"] for r in records] == [200, 200, 400, 200, 200, 400, 400]
    # A refused request's body is logged as the text sent (requests' json= serialisation).
    assert records[2]["inputs"] == _json.dumps({"dataframe_split": {"columns": ["y"], "data": [[1.0]]}})
    assert records[4]["inputs"] == pretty_body and records[4]["outputs"] == {"predictions": [12.0]}
    assert records[5]["inputs"] == '{"inputs": ['
    assert "error" in records[5]["outputs"]
    assert records[6]["request_id"] == "bad-json" and records[6]["inputs"] == '{"dataframe_split": '
    assert records[6]["outputs"]["error_code"] == "BAD_REQUEST"
    assert records[3]["request_id"] == oip.headers["X-Request-ID"]
    assert records[3]["outputs"]["outputs"][0]["data"] == [10.0]
    first = records[0]
    assert first["request_id"] == "req-1" and first["model"] == "doubler" and first["version"] == "local"
    assert first["inputs"] == {"dataframe_split": {"columns": ["x"], "data": [[3.0]]}}
    assert first["outputs"] == {"predictions": [6.0]}
    assert records[1]["request_id"] == generated.headers["X-Request-ID"]
    metrics = served.metrics()
    assert "cairn_inference_log_records_written_total 7" in metrics
    assert "cairn_inference_log_records_dropped_total 0" in metrics


def test_python_worker_casts_to_a_float32_signature(serve, data, unique):
    # A model logged with a float32 example: MLflow's scoring server casts the request's float64
    # columns to the signature's float32 before the model sees them; the workers do the same.
    X, y = data
    name = f"serve-f32-{unique}"
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with mlflow.start_run():
        mlflow.sklearn.log_model(pipeline, name="model", registered_model_name=name, input_example=X.head(3).astype("float32"))
    served = serve(f"models:/{name}/1", "--runtime", "python", "--workers", "1")
    sample = X.head(20)
    for payload in ({"dataframe_split": sample.to_dict(orient="split")}, {"dataframe_records": sample.to_dict(orient="records")}):
        answer = served.invoke(payload)
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == pipeline.predict(sample.astype("float32")).tolist()
    csv = requests.post(f"{served.url}/invocations", data=sample.to_csv(index=False), headers={"Content-Type": "text/csv"}, timeout=30)
    assert csv.status_code == 200, csv.text
