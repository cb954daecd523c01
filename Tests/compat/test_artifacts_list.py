"""MLflow's tracking-service artifact listing, `GET /api/2.0/mlflow/artifacts/list` (what MLflow's
own web UI calls, beside the artifact proxy's `/api/2.0/mlflow-artifacts/artifacts`): run-relative
paths and the run's root URI, in MLflow's exact shape. Runs against both servers."""
from __future__ import annotations

import mlflow
import requests

from compat_helpers import assert_json_error


def test_classic_artifact_listing(api, server_url, exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_text("hello", "a.txt")
        mlflow.log_text("nested file", "dir/b.txt")
        mlflow.log_text("deeper", "dir/sub/c.txt")
    rid, root = run.info.run_id, run.info.artifact_uri

    for base in (api, f"{server_url}/ajax-api/2.0/mlflow"):
        top = requests.get(f"{base}/artifacts/list", params={"run_id": rid}, timeout=30)
        assert top.status_code == 200, top.text
        assert top.json() == {
            "root_uri": root,
            "files": [{"path": "a.txt", "is_dir": False, "file_size": 5}, {"path": "dir", "is_dir": True}],
        }, top.json()

    inner = requests.get(f"{api}/artifacts/list", params={"run_id": rid, "path": "dir"}, timeout=30).json()
    assert inner == {
        "root_uri": root,
        "files": [{"path": "dir/b.txt", "is_dir": False, "file_size": 11}, {"path": "dir/sub", "is_dir": True}],
    }, inner
    deeper = requests.get(f"{api}/artifacts/list", params={"run_uuid": rid, "path": "dir/sub"}, timeout=30).json()
    assert deeper["files"] == [{"path": "dir/sub/c.txt", "is_dir": False, "file_size": 6}], deeper
    # Nothing there: the root alone, as MLflow leaves an empty list out.
    missing = requests.get(f"{api}/artifacts/list", params={"run_id": rid, "path": "nope"}, timeout=30)
    assert missing.status_code == 200 and missing.json() == {"root_uri": root}, missing.text

    assert_json_error(requests.get(f"{api}/artifacts/list", params={"run_id": rid, "path": "../x"}, timeout=30),
                      400, "INVALID_PARAMETER_VALUE")
    assert_json_error(requests.get(f"{api}/artifacts/list", timeout=30), 400, "INVALID_PARAMETER_VALUE")
    assert_json_error(requests.get(f"{api}/artifacts/list", params={"run_id": "0" * 32}, timeout=30),
                      404, "RESOURCE_DOES_NOT_EXIST")
