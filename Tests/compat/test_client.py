"""`cairn serve`, `predict` and `monitor` reach the tracking server through one client
configured from MLflow's variables: every call carries MLflow's `Authorization` header, and
every models:/ form the stock client accepts resolves.

Basic auth is not checked by `cairn server` yet, so a recording proxy in front of the server
under test shows the header is sent on each call (registry, runs, artifact downloads).
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow import MlflowClient

from conftest import _free_port, _tail
from test_cli import FEATURES, _run, input_csv, model_dir, scratch  # noqa: F401 (fixtures)
from test_serving import _binary

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length", "accept-encoding"}


class RecordingProxy:
    """Forwards every request to `target` and records its method, path and Authorization."""

    def __init__(self, target: str):
        self.seen: list[tuple[str, str, str | None]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.seen.append((self.command, self.path, self.headers.get("Authorization")))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = requests.request(self.command, target + self.path, data=body, headers=headers, timeout=60, stream=True)
                content = answer.raw.read(decode_content=False)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def registered(server_url, model_dir, unique):  # noqa: F811
    """A registered model of the ONNX fixture: version 1, alias champion, stage Production."""
    client = MlflowClient(server_url)
    name = f"client-{unique}"
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(model_dir), "model")
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", "1")
    client.transition_model_version_stage(name, "1", "Production")
    return name


def _env(proxy_url: str, cache: Path, **extra: str) -> dict[str, str]:
    env = {"MLFLOW_TRACKING_URI": proxy_url, "CAIRN_CACHE_DIR": str(cache)}
    env.update(extra)
    return env


def test_serve_sends_basic_auth_on_every_call(server_url, registered, scratch):  # noqa: F811
    expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    with RecordingProxy(server_url) as proxy:
        port = _free_port()
        env = dict(os.environ)
        env.update(_env(proxy.url, scratch / "cache", MLFLOW_TRACKING_USERNAME="ann", MLFLOW_TRACKING_PASSWORD="s3cret", MLFLOW_TRACKING_TOKEN="ignored"))
        log = scratch / "serve.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([_binary(), "serve", f"models:/{registered}/1", "--port", str(port), "--runtime", "native"],
                                    stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, _tail(log, 60)
                try:
                    if requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, _tail(log, 60)
                time.sleep(0.2)
            rows = [[0.1 * c for c in range(20)]]
            answer = requests.post(f"http://127.0.0.1:{port}/invocations", json={"dataframe_split": {"columns": FEATURES, "data": rows}}, timeout=30)
            assert answer.status_code == 200, answer.text
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        paths = [path for _, path, _ in proxy.seen]
        assert any("/model-versions/get-download-uri" in p for p in paths), paths
        assert any(p.startswith("/api/2.0/mlflow-artifacts/artifacts/") and p.endswith("/model.onnx") for p in paths), paths
        # Basic (user name and password) wins over a token, as in MLflow; on every call.
        assert all(auth == expected for _, _, auth in proxy.seen), proxy.seen


@pytest.mark.parametrize("selector", ["1", "latest", "LATEST", "Production", "@champion"])
def test_predict_resolves_every_registry_form_with_a_bearer_token(server_url, registered, input_csv, scratch, selector):  # noqa: F811
    uri = f"models:/{registered}{selector}" if selector.startswith("@") else f"models:/{registered}/{selector}"
    with RecordingProxy(server_url) as proxy:
        result = _run("predict", uri, "--input", str(input_csv), "--output", "-", "--runtime", "native",
                      env=_env(proxy.url, scratch / "cache", MLFLOW_TRACKING_TOKEN="t0k"), timeout=120)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.strip().splitlines()) == 6, result.stdout
        assert proxy.seen and all(auth == "Bearer t0k" for _, _, auth in proxy.seen), proxy.seen


@pytest.mark.cairn_only  # Cairn's monitoring API
def test_monitor_sends_the_token_and_reports_mlflows_error(server_url):
    with RecordingProxy(server_url) as proxy:
        result = _run("monitor", "report", "no-such-monitor", "--tracking-uri", proxy.url,
                      env={"MLFLOW_TRACKING_TOKEN": "t0k"}, timeout=60)
        assert result.returncode != 0
        assert "RESOURCE_DOES_NOT_EXIST" in result.stderr, result.stderr
        assert proxy.seen and all(auth == "Bearer t0k" for _, _, auth in proxy.seen), proxy.seen


def test_an_unknown_stage_says_so(server_url, registered, input_csv):  # noqa: F811
    result = _run("predict", f"models:/{registered}/Staging", "--input", str(input_csv), "--output", "-",
                  env={"MLFLOW_TRACKING_URI": server_url}, timeout=60)
    assert result.returncode != 0
    assert f"No versions of model with name '{registered}' and stage 'Staging' found" in result.stderr, result.stderr


@pytest.mark.parametrize("value", ["yes", "2"])
def test_a_bad_insecure_tls_value_is_refused_naming_the_variable(value, input_csv):  # noqa: F811
    result = _run("predict", "models:/m/1", "--input", str(input_csv), "--output", "-",
                  env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:1", "MLFLOW_TRACKING_INSECURE_TLS": value}, timeout=30)
    assert result.returncode != 0
    assert "MLFLOW_TRACKING_INSECURE_TLS must be one of true, false, 1 or 0" in result.stderr, result.stderr
