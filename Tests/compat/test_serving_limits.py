"""HTTP limits of `cairn serve` and `cairn server`, and how `cairn serve` keeps its Python
workers alive: oversized bodies get a 413 in MLflow's error shape that a real client can
read, `Expect: 100-continue` is answered at once, large requests from several clients queue
instead of being refused, and a killed worker is noticed, logged and replaced.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
import requests
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import _tail
from test_serving import FEATURES, _log_onnx, _log_sklearn, data, serve  # noqa: F401  (fixtures)

MiB = 1 << 20


def _address(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname, parsed.port


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Reads one response head; returns its status, headers (lower-case names) and any bytes after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a response head: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, rest


def _read_body(sock: socket.socket, headers: dict[str, str], rest: bytes) -> bytes:
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest[:length]


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.fixture(scope="module")
def onnx_model(data):  # noqa: F811
    X, y = data
    name = f"limits-onnx-{os.getpid()}-{int(time.time() * 1000)}"
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    _log_onnx(name, pipeline, X)
    return name


def test_serve_refuses_an_oversized_body_in_mlflows_shape(serve, onnx_model):  # noqa: F811
    served = serve(f"models:/{onnx_model}/1", "--max-request-bytes", str(MiB))
    big = b"{" + b" " * (2 * MiB) + b"}"

    # Declared length over the limit: refused before the body is read, and closed after.
    r = requests.post(f"{served.url}/invocations", data=big, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Connection", "").lower() == "close"
    error = r.json()
    assert error["error_code"] == "RESOURCE_LIMIT_EXCEEDED"
    assert str(MiB) in error["message"] and "1 MiB" in error["message"] and "--max-request-bytes" in error["message"]

    # No declared length (chunked): refused once the limit is passed, in the same shape.
    def chunks():
        for _ in range(4):
            yield b" " * (MiB // 2 + 1)

    r = requests.post(f"{served.url}/invocations", data=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413 and r.json()["error_code"] == "RESOURCE_LIMIT_EXCEEDED", r.text
    infer = requests.post(f"{served.url}/v2/models/{onnx_model}/infer", data=chunks(), timeout=30)
    assert infer.status_code == 413 and "--max-request-bytes" in infer.json()["message"]

    # Under the limit, the same server still scores.
    ok = served.invoke({"dataframe_split": {"columns": FEATURES, "data": [[0.1] * len(FEATURES)]}})
    assert ok.status_code == 200, ok.text


def test_serve_answers_expect_100_continue_at_once(serve, onnx_model):  # noqa: F811
    served = serve(f"models:/{onnx_model}/1", "--max-request-bytes", str(MiB))
    host, port = _address(served.url)
    body = pd.DataFrame(np.zeros((2000, len(FEATURES))), columns=FEATURES).to_csv(index=False).encode()
    assert len(body) < MiB

    # A body that fits: 100 Continue before any of it is sent, then the answer.
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            f"POST /invocations HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        status, _, rest = _read_head(sock)  # the socket timeout fails the test if nothing comes
        assert status == 100
        assert rest == b""
        sock.sendall(body)
        status, headers, rest = _read_head(sock)
        assert status == 200
        assert len(_read_body(sock, headers, rest)) > 0

    # A body over the limit: 413 at once, without sending it, and the connection closes.
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            f"POST /invocations HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {8 * MiB}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        status, headers, rest = _read_head(sock)
        assert status == 413
        assert b"RESOURCE_LIMIT_EXCEEDED" in _read_body(sock, headers, rest)
        assert _closed_by_server(sock)

    # curl asks for 100 Continue on large uploads; it gets it instead of waiting a second.
    if shutil.which("curl") is None:
        # CI installs curl and sets CAIRN_REQUIRE_CURL, so this part cannot be skipped there.
        assert not os.environ.get("CAIRN_REQUIRE_CURL"), "curl is required (CAIRN_REQUIRE_CURL is set)"
        return
    path = Path(served.log).parent / "body.csv"
    path.write_bytes(body)
    result = subprocess.run(
        ["curl", "-sS", "-v", "-H", "Expect: 100-continue", "-H", "Content-Type: text/csv",
         "--data-binary", f"@{path}", f"{served.url}/invocations"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "HTTP/1.1 100 Continue" in result.stderr
    assert '"predictions"' in result.stdout


@pytest.mark.cairn_only  # MLflow's server has no body limit on its API (Flask reads any size).
def test_tracking_server_answers_an_oversized_body_413_and_closes(server_url):
    url = f"{server_url}/api/2.0/mlflow/experiments/create"
    big = b" " * (40 * MiB)

    # A client that writes its whole body before reading gets the 413 (before: it hung).
    r = requests.post(url, data=big, headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 413, r.text[:500]
    assert r.headers.get("Connection", "").lower() == "close"
    error = r.json()
    assert error["error_code"] == "RESOURCE_LIMIT_EXCEEDED"
    assert str(32 * MiB) in error["message"] and "32 MiB" in error["message"]

    # The same on a raw socket: the answer, then the server closes the connection.
    host, port = _address(server_url)
    with socket.create_connection((host, port), timeout=60) as sock:
        sock.sendall(
            f"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(big)}\r\n\r\n".encode()
        )
        sock.sendall(big)
        status, headers, rest = _read_head(sock)
        assert status == 413
        assert b"RESOURCE_LIMIT_EXCEEDED" in _read_body(sock, headers, rest)
        assert _closed_by_server(sock)

    # The server is fine afterwards.
    assert requests.get(f"{server_url}/health", timeout=10).status_code == 200


def test_two_clients_with_large_requests_are_all_served_with_defaults(serve, onnx_model):  # noqa: F811
    served = serve(f"models:/{onnx_model}/1")
    rng = np.random.default_rng(3)
    payload = {"dataframe_split": pd.DataFrame(rng.normal(size=(10_000, len(FEATURES))), columns=FEATURES).to_dict(orient="split")}
    body = json.dumps(payload)

    def client(_):
        statuses = []
        with requests.Session() as session:
            for _ in range(20):
                r = session.post(f"{served.url}/invocations", data=body, headers={"Content-Type": "application/json"}, timeout=120)
                statuses.append(r.status_code if r.status_code == 200 else (r.status_code, r.text[:200]))
        return statuses

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(client, range(2)))
    assert all(s == 200 for statuses in results for s in statuses), results


def _children(pid: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return sorted(set(pids))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_python_worker_is_logged_and_replaced(serve, data, unique):  # noqa: F811
    X, y = data
    name = f"limits-py-{unique}"
    pipeline, _ = _log_sklearn(name, X, y)
    served = serve(f"models:/{name}/1", "--runtime", "python", "--workers", "2")
    payload = {"dataframe_split": X.head(5).to_dict(orient="split")}
    expected = pipeline.predict(X.head(5)).tolist()
    assert served.invoke(payload).json()["predictions"] == expected

    workers = [pid for pid in _children(served.proc.pid) if _alive(pid)]
    assert len(workers) == 2, workers
    assert f'cairn_serving_python_workers{{model="{name}"}} 2' in served.metrics()
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)

    # The other worker keeps serving meanwhile.
    for _ in range(10):
        r = served.invoke(payload)
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == expected

    # Without further traffic, the pool is back to two workers and the log says what happened.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        alive = [pid for pid in _children(served.proc.pid) if _alive(pid)]
        # A process is a child as soon as it is spawned; it serves once it says it loaded.
        if len(alive) == 2 and victim not in alive and "Python worker restarted" in served.log.read_text():
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the pool did not recover: {alive}\n{_tail(served.log, 40)}")
    log = served.log.read_text()
    died = [line for line in log.splitlines() if "Python worker died" in line]
    assert any(f"pid={victim}" in line and "signal 9" in line for line in died), _tail(served.log, 40)
    assert f'cairn_serving_python_workers{{model="{name}"}} 2' in served.metrics()
    assert f'cairn_serving_worker_restarts_total{{model="{name}"}} 1' in served.metrics()
    for _ in range(5):
        assert served.invoke(payload).status_code == 200
