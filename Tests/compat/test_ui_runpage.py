"""The web UI's run page and compare page, checked on what the stock mlflow client logs.

Pages are Cairn's own HTML (MLflow's UI is a JavaScript app with no server-rendered page to
compare against), so the module is cairn_only. The HTML is read with `requests`; downloads
must give back the exact bytes that were logged.
"""

from __future__ import annotations

import json
import re
import struct
import zlib

import mlflow
import mlflow.data
import mlflow.sklearn
import pandas as pd
import pytest
import requests
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

# The UI is Cairn's; MLflow's server has no such pages.
pytestmark = pytest.mark.cairn_only


def _png(width: int = 2, height: int = 2) -> bytes:
    """A valid little RGB PNG, made here so no image library is needed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes([255, 0, 0] * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def logged(server_url, exp_id, unique, tmp_path):
    """One parent run with everything a run page shows, and a nested child."""
    files = {
        "notes.txt": b"plain <b>notes</b>\nline two\n",
        "config.json": json.dumps({"lr": 0.1, "layers": [64, 32]}).encode(),
        "table.csv": b"name,score\nalpha,1\n<script>x</script>,2\n",
        "plot.png": _png(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    iris = load_iris(as_frame=True)
    features, target = iris.data, iris.target
    model = LogisticRegression(max_iter=300).fit(features, target)
    signature = infer_signature(features, model.predict(features))
    registered = f"ui-runpage-{unique}"

    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_name=f"parent-{unique}") as parent:
        mlflow.log_params({"alpha": 0.5, "payload": "<script>alert(1)</script>"})
        for step, value in enumerate([0.9, 0.4, 0.7]):
            mlflow.log_metric("loss", value, step=step)
        mlflow.set_tag("team", "vision")
        mlflow.set_tag("mlflow.note.content",
                       "# Notes\n\nA **good** run <script>alert(2)</script> [bad](javascript:alert(3))")
        for name in files:
            mlflow.log_artifact(str(tmp_path / name))
        info = mlflow.sklearn.log_model(model, name="model", signature=signature,
                                        registered_model_name=registered)
        dataset = mlflow.data.from_pandas(iris.frame, source="iris.csv", name="iris-train", targets="target")
        mlflow.log_input(dataset, context="training")
        with mlflow.start_run(run_name=f"child-{unique}", nested=True) as child:
            mlflow.log_metric("loss", 0.3)
    return {
        "parent": parent.info.run_id, "child": child.info.run_id, "files": files, "model_id": info.model_id,
        "registered": registered, "digest": dataset.digest, "unique": unique, "page": f"{server_url}/experiments/{exp_id}/runs/{parent.info.run_id}",
    }


def _get(url: str, **params) -> requests.Response:
    return requests.get(url, params=params, timeout=30, allow_redirects=False)


def test_overview_shows_the_logged_run(server_url, exp_id, logged):
    page = _get(logged["page"])
    assert page.status_code == 200, page.text[:500]
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert f"parent-{logged['unique']}" in html
    assert ">alpha<" in html and ">0.5<" in html
    # loss: last 0.7, min 0.4, max 0.9 over three points
    assert re.search(r">0\.7</td><td class=\"num\">2</td><td class=\"num\">0\.4</td><td class=\"num\">0\.9</td><td class=\"num\">3</td>", html), html
    chart = f"/charts/metric.svg?runs={logged['parent']}&key=loss&width=300&height=120"
    assert chart.replace("&", "&amp;") in html
    drawn = _get(f"{server_url}{chart}")
    assert drawn.status_code == 200 and drawn.headers["Content-Type"].startswith("image/svg+xml"), drawn.text[:300]
    assert ">vision<" in html
    assert "<h1>Notes</h1>" in html and "<strong>good</strong>" in html
    # Everything the client wrote is inert.
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    # Lineage: the child, the registered version, the logged model, the dataset and its digest.
    assert f"/experiments/{exp_id}/runs/{logged['child']}\">child-" in html
    assert f"/models/{logged['registered']}/versions/1\"" in html
    assert logged["model_id"] in html
    assert "iris-train" in html and logged["digest"] in html
    child = _get(f"{server_url}/experiments/{exp_id}/runs/{logged['child']}").text
    assert f"/experiments/{exp_id}/runs/{logged['parent']}\">parent-" in child


def test_artifacts_preview_and_download(server_url, logged):
    page = logged["page"]
    listing = _get(page, tab="artifacts").text
    for name in logged["files"]:
        assert f">{name}</a>" in listing, name

    text = _get(page, tab="artifacts", path="notes.txt").text
    assert "plain &lt;b&gt;notes&lt;/b&gt;" in text
    config = _get(page, tab="artifacts", path="config.json").text
    assert "&quot;layers&quot;: [\n    64,\n    32\n  ]" in config
    table = _get(page, tab="artifacts", path="table.csv").text
    assert '<th scope="col" class="verbatim">name</th><th scope="col" class="verbatim">score</th>' in table
    assert "<td>&lt;script&gt;x&lt;/script&gt;</td>" in table
    image = _get(page, tab="artifacts", path="plot.png").text
    assert '<img class="fit" src="/experiments/' in image and "/artifacts/download?path=plot.png" in image

    for name, data in logged["files"].items():
        download = _get(f"{page}/artifacts/download", path=name)
        assert download.status_code == 200, (name, download.text[:300])
        assert download.content == data, name
        assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert _get(f"{page}/artifacts/download", path="plot.png").headers["Content-Type"] == "image/png"

    for bad in ["../x", "..", "/etc/passwd", "a/../../b"]:
        refused = _get(page, tab="artifacts", path=bad)
        assert refused.status_code == 400, (bad, refused.status_code)
        assert refused.headers["Content-Type"].startswith("text/html")
        assert _get(f"{page}/artifacts/download", path=bad).status_code == 400, bad


def test_logged_model_signature(server_url, logged):
    page = logged["page"]
    models = _get(page, tab="artifacts", model=logged["model_id"])
    assert models.status_code == 200, models.text[:500]
    assert ">MLmodel</a>" in models.text
    mlmodel = _get(page, tab="artifacts", model=logged["model_id"], path="MLmodel").text
    assert "<caption>Inputs</caption>" in mlmodel
    assert '<td class="mono">sepal length (cm)</td><td>double</td>' in mlmodel
    assert "<caption>Outputs</caption>" in mlmodel
    model_file = _get(f"{page}/artifacts/download", path="MLmodel", model=logged["model_id"])
    assert model_file.status_code == 200 and b"signature" in model_file.content


def test_a_run_under_another_experiment_is_redirected(server_url, client, unique, logged):
    other = client.create_experiment(f"ui-runpage-other-{unique}")
    moved = _get(f"{server_url}/experiments/{other}/runs/{logged['parent']}", tab="metrics")
    assert moved.status_code == 302
    assert moved.headers["Location"] == logged["page"].replace(server_url, "") + "?tab=metrics"
    missing = _get(f"{server_url}/experiments/{other}/runs/{'0' * 32}")
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("text/html")


def test_compare_page(server_url, logged):
    compare = _get(f"{server_url}/compare", runs=f"{logged['parent']},{logged['child']}", metric="loss", param="alpha")
    assert compare.status_code == 200, compare.text[:500]
    html = compare.text
    assert "parent-" in html and "child-" in html
    assert 'class="differs"' in html  # alpha is set on one run only
    assert f"/charts/metric.svg?runs={logged['parent']},{logged['child']}&amp;key=loss" in html
    unknown = _get(f"{server_url}/compare", runs=f"{logged['parent']},{'f' * 32}")
    assert unknown.status_code == 404
    assert "f" * 32 in unknown.text
