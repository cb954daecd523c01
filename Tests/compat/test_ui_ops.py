"""The web UI's model registry, monitoring and pipeline pages against a live `cairn server`:
models registered and aliased with the stock `mlflow` client, an alias moved through the
page's form (and read back with `MlflowClient().get_model_version_by_alias`), a monitor created
through Cairn's API with traffic from `cairn serve`, and a small pipeline run by `cairn
pipeline run`; pages fetched with `requests`.

Cairn-only: MLflow's UI is a JavaScript application with hash routes, not these pages.
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import quote

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from conftest import SERVER_KIND, _state
from test_pipelines import TRAIN_PIPELINE, cairn, project, write_project  # noqa: F401  (fixture)
from test_serving import serve  # noqa: F401  (fixture)

pytestmark = pytest.mark.cairn_only

FEATURES = ["f0", "f1", "f2"]
HOSTILE = "<img src=x onerror=alert(1)>"


def _page(session: requests.Session, url: str, status: int = 200) -> str:
    answer = session.get(url, timeout=60)
    assert answer.status_code == status, f"{url}: {answer.status_code}\n{answer.text[:2000]}"
    assert answer.headers["Content-Type"].startswith("text/html")
    return answer.text


def _inert(text: str) -> None:
    assert "<img src=x" not in text and "<script>alert" not in text


def _register(name: str, versions: int, directory) -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(60, len(FEATURES))), columns=FEATURES)
    y = (X["f0"] > 0).astype(int)
    source = directory / "train.csv"
    X.assign(y=y).to_csv(source, index=False)
    for _ in range(versions):
        with mlflow.start_run():
            mlflow.set_tag("note", HOSTILE)
            mlflow.log_input(mlflow.data.from_pandas(X.assign(y=y), source=str(source), targets="y", name="train-set"),
                             context="training")
            mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model", registered_model_name=name,
                                     input_example=X.head(2))


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]{32})"', page)
    assert match, "no CSRF field in the page"
    return match.group(1)


def test_model_pages_and_moving_an_alias_through_the_form(server_url, unique, tmp_path):
    name = f"ui-model-{unique}"
    _register(name, versions=2, directory=tmp_path)
    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", "1")
    client.set_model_version_tag(name, "1", "hostile", HOSTILE)
    session = requests.Session()

    listed = _page(session, f"{server_url}/models?q={unique}")
    assert f'href="/models/{name}"' in listed
    assert "ui-model-" not in _page(session, f"{server_url}/models?q=no-such-{unique}")

    model = _page(session, f"{server_url}/models/{name}")
    assert f'href="/models/{name}/versions/1"' in model and f'href="/models/{name}/versions/2"' in model
    assert "@champion" in model
    run_id = client.get_model_version(name, "1").run_id
    experiment_id = client.get_run(run_id).info.experiment_id
    assert f'href="/experiments/{experiment_id}/runs/{run_id}"' in model
    assert "train-set" in model
    assert html.escape(HOSTILE, quote=False) in model
    _inert(model)

    version = _page(session, f"{server_url}/models/{name}/versions/1")
    for feature in FEATURES:
        assert f"<td>{feature}</td><td>double</td>" in version, version
    assert "Input example" in version and "flavors:" in version
    _inert(version)

    # The form needs the page's token: without it nothing moves.
    token = _csrf(model)
    refused = requests.post(f"{server_url}/models/{name}/alias", data={"alias": "champion", "version": "2", "csrf_token": token},
                            timeout=30, allow_redirects=False)
    assert refused.status_code == 403
    assert client.get_model_version_by_alias(name, "champion").version == "1"

    moved = session.post(f"{server_url}/models/{name}/alias", data={"alias": "champion", "version": "2", "csrf_token": token},
                         timeout=30, allow_redirects=False)
    assert moved.status_code == 303, moved.text
    assert moved.headers["Location"] == f"/models/{name}"
    assert client.get_model_version_by_alias(name, "champion").version == "2"

    # The registry's own validation answers on the page: a version that does not exist.
    missing = session.post(f"{server_url}/models/{name}/alias", data={"alias": "champion", "version": "9", "csrf_token": token},
                           timeout=30, allow_redirects=False)
    assert missing.status_code == 404 and "notice error" in missing.text
    assert client.get_model_version_by_alias(name, "champion").version == "2"

    deleted = session.post(f"{server_url}/models/{name}/versions/2/alias/delete", data={"alias": "champion", "csrf_token": token},
                           timeout=30, allow_redirects=False)
    assert deleted.status_code == 303
    assert client.get_registered_model(name).aliases == {}

    _page(session, f"{server_url}/models/no-such-{unique}", status=404)
    _page(session, f"{server_url}/models/{name}/versions/7", status=404)


def test_monitor_pages(server_url, serve, unique, tmp_path):  # noqa: F811
    if SERVER_KIND != "cairn" or _state.get("data_dir") is None:
        pytest.skip("needs the cairn server this suite started (its data dir holds the inference log)")
    name = f"ui-monitored-{unique}"
    _register(name, versions=1, directory=tmp_path)
    MlflowClient().set_registered_model_alias(name, "champion", "1")
    served = serve(f"models:/{name}@champion", "--workers", "1", "--inference-log", str(_state["data_dir"] / "inference-log"))
    for index in range(3):
        answer = served.invoke({"dataframe_split": {"columns": FEATURES, "data": [[0.1 * index, 0.2, 0.3]]}},
                               headers={"X-Request-ID": f"ui-req-{unique}-{index}"})
        assert answer.status_code == 200, answer.text
    monitor = f"ui-watch-{unique}"
    created = requests.post(f"{server_url}/api/cairn/v1/monitors", timeout=10, json={
        "name": monitor, "model_name": name, "alias": "champion", "window": {"rows": 100}, "interval_seconds": 3600,
        "min_rows": 1, "checks": [{"type": "error_rate", "threshold": 0.5}, {"type": "latency_p99", "threshold": 0.001}]})
    assert created.status_code == 200, created.text
    # Records reach the log asynchronously.
    deadline = time.monotonic() + 30
    while f"ui-req-{unique}-2" not in requests.get(f"{server_url}/api/cairn/v1/inference-log", params={"model": name}, timeout=10).text:
        assert time.monotonic() < deadline, "the requests never reached the inference log"
        time.sleep(0.2)
    run = requests.post(f"{server_url}/api/cairn/v1/monitors/{monitor}/run", timeout=60)
    assert run.status_code == 200, run.text
    session = requests.Session()

    listed = _page(session, f"{server_url}/monitors")
    assert f'href="/monitors/{monitor}"' in listed and "1 firing" in listed

    page = _page(session, f"{server_url}/monitors/{monitor}")
    assert "latency_p99" in page and "error_rate" in page
    assert f"ui-req-{unique}-2" in page and f"ui-req-{unique}-0" in page
    assert f'<iframe class="report" src="/monitors/{monitor}/report" sandbox' in page
    report = session.get(f"{server_url}/monitors/{monitor}/report", timeout=60)
    assert report.status_code == 200
    assert "default-src 'none'" in report.headers["Content-Security-Policy"]
    assert "sandbox" in report.headers["Content-Security-Policy"]
    assert name in report.text
    _page(session, f"{server_url}/monitors/no-such-{unique}", status=404)


def test_pipeline_pages(server_url, project):  # noqa: F811
    write_project(project, TRAIN_PIPELINE, **{"data.txt": "abc\n", "params.yaml": "lr: 0.1\n"})
    first = cairn(server_url, "pipeline", "run", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    run_id = first.stdout.splitlines()[0].split()[1]
    second = cairn(server_url, "pipeline", "run", cwd=project)
    assert second.returncode == 0, second.stdout + second.stderr
    rerun_id = second.stdout.splitlines()[0].split()[1]
    name = project.name
    session = requests.Session()

    listed = _page(session, f"{server_url}/pipelines")
    assert f'href="/pipelines/{quote(name)}"' in listed and rerun_id in listed

    page = _page(session, f"{server_url}/pipelines/{quote(name)}")
    assert page.count('<rect class="dag-box"') == 2  # prepare, train
    assert page.count('class="dag-edge"') == 1  # train needs prepare
    assert page.count('class="dag-cache-hit"') == 2  # the rerun restored both
    assert run_id in page and rerun_id in page and "manual" in page

    run = _page(session, f"{server_url}/pipelines/{quote(name)}/runs/{run_id}")
    assert "prepare" in run and "train" in run and "finished" in run
    assert 'id="stage-train"' in run
    _page(session, f"{server_url}/pipelines/{quote(name)}/runs/no-such-run", status=404)
    _page(session, f"{server_url}/pipelines/no-such-{name}", status=404)
