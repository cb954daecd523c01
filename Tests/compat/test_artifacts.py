"""Proxied artifacts through the stock client: files, folders, models, and hostile paths."""
from __future__ import annotations

import hashlib
import os

import mlflow
import numpy as np
import pytest
import requests

from compat_helpers import assert_json_error


def _sha(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def test_text_dict_and_listing(client, exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_text("hello cairn", "notes/hello.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config.json")
    rid = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert mlflow.artifacts.load_text(f"runs:/{rid}/notes/hello.txt") == "hello cairn"
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/config.json") == {"a": 1, "b": [1, 2]}
    top = {f.path: f for f in client.list_artifacts(rid)}
    assert set(top) == {"notes", "config.json"}
    assert top["notes"].is_dir and not top["config.json"].is_dir
    assert top["config.json"].file_size > 0
    assert [f.path for f in client.list_artifacts(rid, "notes")] == ["notes/hello.txt"]


def test_byte_identical_round_trips(client, exp_id, tmp_path):
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    files = {
        "one_kb.bin": 1024,
        "nested/hundred_mb.bin": 100 * 1024 * 1024,
        "nested/deeper/empty.bin": 0,
    }
    rng = np.random.default_rng(7)
    for name, size in files.items():
        (src / name).write_bytes(rng.bytes(size))
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_artifacts(str(src), artifact_path="data")
    out = client.download_artifacts(run.info.run_id, "data", str(tmp_path / "out"))
    for name in files:
        assert _sha(os.path.join(out, name)) == _sha(src / name), name


def test_sklearn_model_registered_and_loaded_by_alias(client, exp_id, unique):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    name = f"churn-{unique}"
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with mlflow.start_run(experiment_id=exp_id):
        mlflow.sklearn.log_model(pipe, name="model", registered_model_name=name, input_example=X[:3])
    client.set_registered_model_alias(name, "champion", "1")
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert (loaded.predict(X) == pipe.predict(X)).all()

    second = make_pipeline(StandardScaler(), LogisticRegression(C=0.01)).fit(X, 1 - y)
    with mlflow.start_run(experiment_id=exp_id):
        mlflow.sklearn.log_model(second, name="model", registered_model_name=name)
    client.set_registered_model_alias(name, "champion", "2")
    reloaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert (reloaded.predict(X) == second.predict(X)).all()
    assert (mlflow.pyfunc.load_model(f"models:/{name}/1").predict(X) == pipe.predict(X)).all()


@pytest.mark.parametrize("path", [
    "../outside.txt", "%2e%2e/outside.txt", "%252e%252e/outside.txt", "a/..%2f..%2foutside.txt",
    "%2fetc%2fpasswd",
    # MLflow stores these two as literal file names; Cairn refuses backslashes and NUL outright.
    pytest.param("..%5coutside.txt", marks=pytest.mark.cairn_only),
    pytest.param("a%00b.txt", marks=pytest.mark.cairn_only),
])
def test_traversal_attempts_are_refused(server_url, path):
    base = f"{server_url}/api/2.0/mlflow-artifacts/artifacts"
    session = requests.Session()
    req = requests.Request("PUT", f"{base}/{path}", data=b"x").prepare()
    req.url = f"{base}/{path}"  # keep the path exactly as written
    r = session.send(req, timeout=30)
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    req = requests.Request("GET", f"{base}/{path}").prepare()
    req.url = f"{base}/{path}"
    assert_json_error(session.send(req, timeout=30), 400, "INVALID_PARAMETER_VALUE")


def test_missing_artifact_and_listing_of_missing_path(server_url):
    base = f"{server_url}/api/2.0/mlflow-artifacts/artifacts"
    assert_json_error(requests.get(f"{base}/no/such/file.txt", timeout=30), 404, "RESOURCE_DOES_NOT_EXIST")
    r = requests.get(base, params={"path": "no/such/dir"}, timeout=30)
    assert r.status_code == 200 and r.json() == {}


def _mpu_requests(server_url) -> dict[str, int]:
    """Successful multipart requests the server has answered so far, by step, from /metrics."""
    counts = {"create": 0, "parts": 0, "complete": 0, "abort": 0}
    for line in requests.get(f"{server_url}/metrics", timeout=30).text.splitlines():
        if not line.startswith("cairn_http_requests_total{") or 'status="200"' not in line:
            continue
        route = line.split('route="', 1)[1].split('"', 1)[0]
        for step in counts:
            if "/mpu/" in route and f"/{step}" in route:
                counts[step] += int(float(line.rsplit(" ", 1)[1]))
    return counts


# MLflow's server with a local artifact destination has no multipart upload (it answers 501
# and the client falls back to one PUT); Cairn assembles the parts on its own disk.
@pytest.mark.cairn_only
def test_large_artifact_goes_through_multipart_upload(client, exp_id, tmp_path, monkeypatch, server_url):
    # The client reads these at upload time, so setting them here is enough.
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(5 * 1024 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(4 * 1024 * 1024))
    src = tmp_path / "big.bin"
    src.write_bytes(np.random.default_rng(11).bytes(20 * 1024 * 1024 + 123))
    before = _mpu_requests(server_url)
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_artifact(str(src), artifact_path="weights")
    after = _mpu_requests(server_url)
    assert {step: after[step] - before[step] for step in after} == {"create": 1, "parts": 6, "complete": 1, "abort": 0}
    out = client.download_artifacts(run.info.run_id, "weights/big.bin", str(tmp_path / "out"))
    assert _sha(out) == _sha(src)
    listed = client.list_artifacts(run.info.run_id, "weights")
    assert [(f.path, f.file_size) for f in listed] == [("weights/big.bin", src.stat().st_size)]


# As above: only Cairn advertises multipart uploads for local storage.
@pytest.mark.cairn_only
def test_client_uses_multipart_upload_when_server_info_says_so(client, exp_id, tmp_path, monkeypatch, server_url):
    info = requests.get(f"{server_url}/api/3.0/mlflow/server-info", timeout=30).json()
    assert info["multipart_uploads_enabled"] is True
    # Without MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD the client asks server-info.
    monkeypatch.delenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", raising=False)
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1024 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(1024 * 1024))
    src = tmp_path / "model.bin"
    src.write_bytes(np.random.default_rng(12).bytes(3 * 1024 * 1024))
    before = _mpu_requests(server_url)
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_artifact(str(src))
    after = _mpu_requests(server_url)
    assert (after["create"] - before["create"], after["parts"] - before["parts"]) == (1, 3)
    out = client.download_artifacts(run.info.run_id, "model.bin", str(tmp_path / "out"))
    assert _sha(out) == _sha(src)
