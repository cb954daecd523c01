"""The web UI's experiments pages against a live `cairn server`: experiments made with the
stock mlflow client appear in the pages `requests` fetches, and the pages' forms (with the
CSRF cookie and token a browser would send) change what the client then reads. Error paths:
a form without the token, a cross-site origin, an unknown experiment, a bad query, a purge of
an active experiment. `--static-prefix` puts pages, assets and API under one path.

Cairn only: MLflow's own UI is a JavaScript application with other routes.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow import MlflowClient

from compat_helpers import raises_mlflow
from conftest import REPO_ROOT, _free_port, _stop, _tail

pytestmark = pytest.mark.cairn_only

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{32})"')


def _browser(server_url: str) -> tuple[requests.Session, str]:
    """A session that has loaded the list once: it holds the cookie, the page holds the token."""
    session = requests.Session()
    page = session.get(f"{server_url}/experiments", timeout=30)
    assert page.status_code == 200
    assert "cairn_csrf" in session.cookies
    token = TOKEN.search(page.text).group(1)
    assert token == session.cookies["cairn_csrf"]
    return session, token


def _post(session, url, token, **fields):
    return session.post(url, data={"csrf_token": token, **fields}, allow_redirects=False, timeout=30)


def test_experiments_made_by_the_client_are_listed_escaped(server_url, client, unique):
    hostile = f"<script>alert('{unique}')</script>"
    exp_id = client.create_experiment(hostile)
    plain = client.create_experiment(f"ui-plain-{unique}")
    for path in ("/", "/experiments", f"/experiments?q={unique}&view=all&order=-created"):
        page = requests.get(f"{server_url}{path}", timeout=30)
        assert page.status_code == 200, path
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert f"<script>alert('{unique}')" not in page.text
        assert html.escape(hostile, quote=True).replace("&#x27;", "&#39;") in page.text
        assert f'href="/experiments/{exp_id}"' in page.text
        assert f'href="/experiments/{plain}"' in page.text
    # The assets the layout links are served, cacheable.
    page = requests.get(f"{server_url}/experiments", timeout=30).text
    css = re.search(r'href="(/static-files/cairn\.css\?v=[0-9a-f]+)"', page).group(1)
    asset = requests.get(f"{server_url}{css}", timeout=30)
    assert asset.status_code == 200 and "prefers-color-scheme" in asset.text
    assert "immutable" in asset.headers["Cache-Control"]


def test_forms_create_rename_delete_restore(server_url, client, unique):
    session, token = _browser(server_url)
    created = _post(session, f"{server_url}/experiments", token, name=f"ui-form-{unique}")
    assert created.status_code == 303
    experiment = client.get_experiment_by_name(f"ui-form-{unique}")
    assert created.headers["Location"] == f"/experiments/{experiment.experiment_id}"
    base = f"{server_url}/experiments/{experiment.experiment_id}"

    renamed = _post(session, f"{base}/rename", token, new_name=f"ui-renamed-{unique}", back="/experiments?order=name")
    assert renamed.status_code == 303
    assert renamed.headers["Location"] == "/experiments?order=name&done=renamed"
    assert client.get_experiment(experiment.experiment_id).name == f"ui-renamed-{unique}"

    # The API's own refusal, shown on the page with a 4xx.
    other = client.create_experiment(f"ui-other-{unique}")
    clash = _post(session, f"{server_url}/experiments/{other}/rename", token, new_name=f"ui-renamed-{unique}")
    assert clash.status_code == 400
    assert "already exists" in clash.text
    assert client.get_experiment(other).name == f"ui-other-{unique}"

    confirm = session.get(f"{base}/delete", timeout=30)
    assert confirm.status_code == 200 and f'action="/experiments/{experiment.experiment_id}/delete"' in confirm.text
    assert _post(session, f"{base}/delete", token).status_code == 303
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "deleted"
    assert f"ui-renamed-{unique}" in session.get(f"{server_url}/experiments?view=deleted", timeout=30).text
    assert _post(session, f"{base}/restore", token).status_code == 303
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "active"


def test_purge_removes_runs_and_artifacts(server_url, client, unique, tmp_path):
    exp_id = client.create_experiment(f"ui-purge-{unique}")
    file = tmp_path / "notes.txt"
    file.write_text("weights")
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_param("p", 1)
        mlflow.log_metric("m", 0.5, step=3)
        mlflow.set_tag("t", "v")
        mlflow.log_artifact(str(file))
    run_id = run.info.run_id
    assert [f.path for f in client.list_artifacts(run_id)] == ["notes.txt"]

    session, token = _browser(server_url)
    refused = _post(session, f"{server_url}/experiments/{exp_id}/purge", token)
    assert refused.status_code == 400 and "deleted lifecycle stage" in refused.text
    assert client.get_run(run_id).data.params == {"p": "1"}

    client.delete_experiment(exp_id)
    confirm = session.get(f"{server_url}/experiments/{exp_id}/purge", timeout=30)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    purged = _post(session, f"{server_url}/experiments/{exp_id}/purge", token, back="/experiments?view=deleted")
    assert purged.status_code == 303
    assert purged.headers["Location"] == "/experiments?view=deleted&done=purged&runs=1"
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_experiment(exp_id)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_run(run_id)
    listing = requests.get(f"{server_url}/api/2.0/mlflow-artifacts/artifacts", params={"path": f"{exp_id}/{run_id}/artifacts"}, timeout=30)
    assert listing.json().get("files", []) == []
    # The name is free again, as after `mlflow gc`.
    assert client.create_experiment(f"ui-purge-{unique}")


def test_error_paths_are_pages_with_4xx(server_url, client, unique):
    session, token = _browser(server_url)
    # No token, a token that is not the cookie's, and no cookie: refused, nothing created.
    name = f"ui-refused-{unique}"
    assert session.post(f"{server_url}/experiments", data={"name": name}, allow_redirects=False, timeout=30).status_code == 403
    assert _post(session, f"{server_url}/experiments", "0" * 32, name=name).status_code == 403
    bare = requests.post(f"{server_url}/experiments", data={"name": name, "csrf_token": token}, allow_redirects=False, timeout=30)
    assert bare.status_code == 403 and bare.headers["Content-Type"] == "text/html; charset=utf-8"
    # A page of another site cannot post, even with a token (the host/origin check in front of every write).
    foreign = session.post(f"{server_url}/experiments", data={"name": name, "csrf_token": token},
                           headers={"Origin": "https://evil.example"}, allow_redirects=False, timeout=30)
    assert foreign.status_code == 403
    assert client.get_experiment_by_name(name) is None

    for path, status, text in [
        ("/experiments/987654/delete", 404, "No Experiment with id=987654 exists"),
        ("/experiments?view=nope", 400, "Unknown view"),
        ("/experiments?page=-1", 400, "Invalid page"),
        ("/experiments/abc/purge", 400, "Invalid experiment ID"),
    ]:
        page = requests.get(f"{server_url}{path}", timeout=30)
        assert page.status_code == status, path
        assert page.headers["Content-Type"] == "text/html; charset=utf-8", path
        assert text in page.text, path
    assert _post(session, f"{server_url}/experiments/0/delete", token).status_code == 400


@pytest.fixture
def prefixed_server():
    binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
    binary = binary if binary.is_absolute() else REPO_ROOT / binary
    port = _free_port()
    data = Path(tempfile.mkdtemp(prefix="cairn-ui-prefix-"))
    log = data / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(binary), "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data),
                                 "--static-prefix", "/sub"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, _tail(log, 40)
            try:
                if requests.get(f"{url}/sub/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, _tail(log, 40)
            time.sleep(0.25)
        yield url
    finally:
        _stop(proc)


def test_static_prefix_serves_everything_under_it(prefixed_server, unique):
    # The client is pointed at the prefixed URL, as behind a proxy; MLflow prefixes its API too.
    client = MlflowClient(tracking_uri=f"{prefixed_server}/sub")
    exp_id = client.create_experiment(f"ui-prefix-{unique}")
    page = requests.get(f"{prefixed_server}/sub/", timeout=30)
    assert page.status_code == 200
    assert f'href="/sub/experiments/{exp_id}"' in page.text
    assert 'href="/sub/static-files/cairn.css?v=' in page.text
    assert 'data-prefix="/sub"' in page.text
    assert requests.get(f"{prefixed_server}/experiments", timeout=30).status_code == 404
    session = requests.Session()
    token = TOKEN.search(session.get(f"{prefixed_server}/sub/experiments", timeout=30).text).group(1)
    created = session.post(f"{prefixed_server}/sub/experiments", data={"csrf_token": token, "name": f"ui-prefix-form-{unique}"},
                           allow_redirects=False, timeout=30)
    assert created.status_code == 303 and created.headers["Location"].startswith("/sub/experiments/")
    assert client.get_experiment_by_name(f"ui-prefix-form-{unique}") is not None


def test_static_prefix_proxies_artifacts_plain_and_multipart(prefixed_server, unique, tmp_path, monkeypatch):
    # The artifact path is what the route captured, not the request path with the prefix in
    # front; multipart part URLs the server hands out carry the prefix too.
    client = MlflowClient(tracking_uri=f"{prefixed_server}/sub")
    exp_id = client.create_experiment(f"ui-prefix-artifacts-{unique}")
    run_id = client.create_run(exp_id).info.run_id
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2048))
    client.log_artifact(run_id, str(plot))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1024 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(1024 * 1024))
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    client.log_artifact(run_id, str(big), artifact_path="model")
    listed = sorted((f.path, f.is_dir) for f in client.list_artifacts(run_id))
    assert listed == [("model", True), ("plot.png", False)]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "model")] == [("model/weights.bin", big.stat().st_size)]
    out = Path(client.download_artifacts(run_id, "plot.png", str(tmp_path / "out")))
    assert out.read_bytes() == plot.read_bytes()
    out = Path(client.download_artifacts(run_id, "model/weights.bin", str(tmp_path / "out")))
    assert out.read_bytes() == big.read_bytes()


def test_server_refuses_a_malformed_static_prefix():
    binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
    binary = binary if binary.is_absolute() else REPO_ROOT / binary
    # MLflow's own refusals (a leading '/', no trailing '/'), plus Cairn's: plain path segments only.
    for prefix, reason in (("sub", "must begin with a '/'"), ("/sub/", "should not end with a '/'"),
                           ("/a/{b}", "must be path segments"), ("/a//b", "must be path segments")):
        done = subprocess.run([str(binary), "server", "--static-prefix", prefix, "--port", "0"], capture_output=True, text=True, timeout=60)
        assert done.returncode != 0, prefix
        assert reason in done.stderr, (prefix, done.stderr)


FRAGMENT_HARNESS = r"""
const vm = require("vm");
const [source, prefix, hash] = [process.argv[1], process.argv[2], process.argv[3]];
let replaced = null;
const window = {location: {hash: hash, pathname: "/", search: "", replace: (url) => { replaced = url; }},
                sessionStorage: null, setInterval: () => {}, scrollTo: () => {}, addEventListener: () => {}};
const document = {documentElement: {getAttribute: () => prefix}, body: {getAttribute: () => null},
                  addEventListener: () => {}, visibilityState: "visible"};
vm.runInNewContext(source, {window, document});
process.stdout.write(JSON.stringify(replaced));
"""


@pytest.mark.parametrize("prefix", ["", "/sub"])
def test_mlflow_fragment_links_are_sent_to_the_real_pages(server_url, prefix):
    """The layout's script, run as a browser would on `/`, rewrites MLflow's hash routes."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed; the browser tests cover the redirect")
    page = requests.get(f"{server_url}/", timeout=30).text
    script_path = re.search(r'src="(/static-files/cairn\.js\?v=[0-9a-f]+)"', page).group(1)
    source = requests.get(f"{server_url}{script_path}", timeout=30).text
    cases = {
        "#/experiments/1/runs/0123abcd": "/experiments/1/runs/0123abcd",
        "#/experiments/1/runs/0123abcd/artifacts": "/experiments/1/runs/0123abcd?tab=artifacts",
        "#/experiments/1/runs/0123abcd/artifacts/dir/a%20b.txt": "/experiments/1/runs/0123abcd?tab=artifacts&path=dir%2Fa%20b.txt",
        "#/experiments/1/runs/0123abcd/artifactPath/model/MLmodel":
            "/experiments/1/runs/0123abcd?tab=artifacts&path=model%2FMLmodel",
        "#/experiments/1/runs/0123abcd/model-metrics": "/experiments/1/runs/0123abcd?tab=metrics",
        "#/runs/0123abcd": "/experiments/0/runs/0123abcd",
        "#/experiments/7?searchFilter=metrics.rmse+%3C+1&orderByKey=metrics.%60rmse%60&orderByAsc=true&lifecycleFilter=Deleted":
            "/experiments/7?filter=metrics.rmse%20%3C%201&order=metrics.%60rmse%60%20ASC&view=deleted",
        "#/experiments/7?searchFilter=&orderByKey=attributes.start_time&orderByAsc=false&lifecycleFilter=Active":
            "/experiments/7",
        '#/metric?runs=["a"]&metric=%22loss%22&experiments=["3"]': "/experiments/3/runs/a?tab=metrics",
        '#/metric?runs=["a","b"]&metric=%22val%20loss%22&experiments=["3"]&x_axis=step': "/compare?runs=a,b&metric=val%20loss",
        "#/compare-experiments/s?experiments=[%221%22,%222%22]&searchFilter=params.a%3D%27x%27":
            "/runs?experiments=1,2&filter=params.a%3D'x'",
        "#/experiments/7": "/experiments/7",
        "#/experiments/7/runs": "/experiments/7",
        "#/models/churn%20model/versions/3": "/models/churn%20model/versions/3",
        "#/models/churn": "/models/churn",
        "#/compare-runs?runs=[%22a%22,%22b%22]&experiments=[%221%22]": "/compare?runs=a,b",
        "#/metric/x": None,
        "": None,
        "#/models/%E0%A4%A": None,
    }
    for fragment, expected in cases.items():
        done = subprocess.run([node, "-e", FRAGMENT_HARNESS, source, prefix, fragment], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == (prefix + expected if expected else None), fragment
