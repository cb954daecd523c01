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
import socket
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


class FixedServer:
    """What may sit at a tracking URI that is not a cairn server: answers every request with
    `status`, `content_type` and `body` (an SSO login page, any JSON), or never answers when
    `hang` (a listening socket nobody accepts from)."""

    def __init__(self, status=200, content_type="text/html; charset=utf-8", body=b"<html><form>Sign in</form></html>", hang=False):
        self.hang = hang
        if hang:
            self.socket = socket.socket()
            self.socket.bind(("127.0.0.1", 0))
            self.socket.listen(16)
            self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
            return

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        if not self.hang:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.hang:
            self.socket.close()
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _one_line_error(stderr: str) -> None:
    """The failure is said once, in Cairn's words: no library's error type or build path."""
    for leak in ("HTTPClientError", "BoringSSL", "NIOSSL", "NSCocoaErrorDomain", ".build/checkouts"):
        assert leak not in stderr, stderr
    assert len([line for line in stderr.splitlines() if line.startswith("Error:")]) == 1, stderr


LOGIN_PAGE = {}
ANY_JSON = {"content_type": "application/json", "body": b'{"ok": true}'}


@pytest.mark.parametrize("args,answer", [
    (["monitor", "log"], LOGIN_PAGE),
    (["monitor", "log", "--format", "csv"], LOGIN_PAGE),
    (["monitor", "log"], ANY_JSON),
    (["monitor", "report", "m", "--out", "report.html"], LOGIN_PAGE),
    (["monitor", "report", "m", "--out", "report.json"], ANY_JSON),
], ids=["log-login-page", "csv-login-page", "log-any-json", "report-login-page", "report-any-json"])
def test_monitor_commands_refuse_what_is_not_cairns_answer(args, answer, scratch):  # noqa: F811
    with FixedServer(**answer) as server:
        result = _run(*args, "--tracking-uri", server.url, cwd=scratch, timeout=60)
    assert result.returncode != 0, result.stdout[:500]
    assert server.url + "/api/cairn/v1/" in result.stderr, result.stderr
    assert "not a login page or proxy in front of it" in result.stderr, result.stderr
    assert result.stdout == ""
    assert not (scratch / "report.html").exists() and not (scratch / "report.json").exists()
    _one_line_error(result.stderr)


def test_credentials_in_the_tracking_uri_are_basic_auth_and_never_printed(server_url, registered, input_csv, scratch):  # noqa: F811
    expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    with RecordingProxy(server_url) as proxy:
        uri = proxy.url.replace("://", "://ann:s3cret@")
        result = _run("predict", f"models:/{registered}/1", "--input", str(input_csv), "--output", "-", "--runtime", "native",
                      env={"MLFLOW_TRACKING_URI": uri, "CAIRN_CACHE_DIR": str(scratch / "cache")}, timeout=120)
        assert result.returncode == 0, result.stderr
        assert proxy.seen and all(auth == expected for _, _, auth in proxy.seen), proxy.seen
        failed = _run("predict", f"models:/{registered}/Staging", "--input", str(input_csv), "--output", "-",
                      env={"MLFLOW_TRACKING_URI": uri}, timeout=60)
        assert failed.returncode != 0
        assert "Staging" in failed.stderr and "s3cret" not in failed.stderr and "ann:" not in failed.stderr, failed.stderr
    down = _run("predict", "models:/m/1", "--input", str(input_csv), "--output", "-",
                env={"MLFLOW_TRACKING_URI": f"http://ann:s3cret@127.0.0.1:{_free_port()}"}, timeout=60)
    assert down.returncode != 0 and "s3cret" not in down.stderr, down.stderr


@pytest.mark.parametrize("case", ["timeout", "https-to-http", "token-with-crlf"])
def test_transport_failures_are_one_line_naming_the_url(case, input_csv):  # noqa: F811
    env = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    with FixedServer(hang=(case == "timeout")) as server:
        if case == "timeout":
            env.update(MLFLOW_TRACKING_URI=server.url, MLFLOW_HTTP_REQUEST_TIMEOUT="1")
            expected = f"{server.url}/api/2.0/mlflow/model-versions/get-download-uri?name=m&version=1: timed out after 1 s."
        elif case == "https-to-http":
            env.update(MLFLOW_TRACKING_URI=server.url.replace("http://", "https://"))
            expected = "TLS handshake failed: is the server https?"
        else:
            env.update(MLFLOW_TRACKING_URI=server.url, MLFLOW_TRACKING_TOKEN="t0k\r\nX-Injected: 1")
            expected = "MLFLOW_TRACKING_TOKEN holds a control character"
        result = _run("predict", "models:/m/1", "--input", str(input_csv), "--output", "-", env=env, timeout=60)
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
    assert "X-Injected" not in result.stderr
    _one_line_error(result.stderr)


@pytest.mark.cairn_only  # Cairn's monitoring API
def test_monitor_log_to_a_path_that_cannot_be_written_is_one_line(server_url):
    result = _run("monitor", "log", "--tracking-uri", server_url, "--format", "csv", "--out", "/nonexistent/x.csv", timeout=60)
    assert result.returncode != 0
    assert "Cannot write /nonexistent/x.csv: No such file or directory." in result.stderr, result.stderr
    _one_line_error(result.stderr)


@pytest.mark.parametrize("uri,expected", [
    ("not a url", "'not a url' is not an http(s) URL"),
    ("ftp://x", "'ftp://x' is not an http(s) URL"),
    ("databricks", "'databricks' names Databricks"),
    ("127.0.0.1:21500", "has no scheme: use http://127.0.0.1:21500"),
    ("sqlite:///mlflow.db", "is a store, not a server"),
    ("http://127.0.0.1:99999", "has port 99999: a port is from 1 to 65535"),
])
def test_a_tracking_uri_that_is_set_says_what_is_wrong_with_it(uri, expected, input_csv):  # noqa: F811
    for args, env in [
        (["predict", "models:/m/1", "--input", str(input_csv), "--output", "-"], {"MLFLOW_TRACKING_URI": uri}),
        (["monitor", "log", "--tracking-uri", uri], {}),
    ]:
        result = _run(*args, env=env, timeout=30)
        assert result.returncode != 0
        assert expected in result.stderr, result.stderr
        assert "A tracking server is needed" not in result.stderr and "connection refused" not in result.stderr, result.stderr


def test_a_trailing_slash_loads_as_in_mlflow_and_an_empty_uri_is_refused(server_url, registered, input_csv, scratch):  # noqa: F811
    uri = f"models:/{registered}/1/"
    # The stock client loads it: split_models_uri strips the slash.
    stock = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(scratch / "stock"))
    assert (Path(stock) / "MLmodel").exists()
    result = _run("predict", uri, "--input", str(input_csv), "--output", "-", "--runtime", "native",
                  env={"MLFLOW_TRACKING_URI": server_url, "CAIRN_CACHE_DIR": str(scratch / "cache")}, timeout=120)
    assert result.returncode == 0, result.stderr
    empty = _run("serve", "", timeout=30)
    assert empty.returncode != 0
    assert "The model URI is empty" in empty.stderr and "MLmodel" not in empty.stderr, empty.stderr
