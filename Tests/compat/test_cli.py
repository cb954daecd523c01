"""The `cairn` binary's start-up and command-line failures, end to end: each run is the real
binary as a subprocess, and each failure must be quick, name what is wrong, and fit on a line.

Timeouts passed to subprocess are safety nets that keep a hanging binary from hanging the
suite; the only speed asserted is "within a few seconds" where a failure used to take 30 s+.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import mlflow
import pytest
import requests

from conftest import REPO_ROOT, _free_port, _stop

FIXTURES = REPO_ROOT / "Tests" / "CairnONNXTests" / "Fixtures"
FEATURES = [f"f{i}" for i in range(20)]


def _binary() -> str:
    binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
    return str(binary if binary.is_absolute() else REPO_ROOT / binary)


def _run(*args: str, timeout: float = 30, cwd=None, env=None) -> subprocess.CompletedProcess:
    """Runs the binary to its end; a run still going at `timeout` is killed and fails the test."""
    environment = dict(os.environ)
    environment.pop("MLFLOW_TRACKING_URI", None)
    environment.update(env or {})
    proc = subprocess.Popen([_binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env=environment, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"cairn {' '.join(args)} still running after {timeout} s\n"
                    f"stdout: {out.decode(errors='replace')[-2000:]}\nstderr: {err.decode(errors='replace')[-2000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    return _free_port()


@pytest.fixture
def scratch():
    path = Path(tempfile.mkdtemp(prefix="cairn-cli-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def model_dir(scratch) -> Path:
    """An MLflow model directory around the scaler+logreg ONNX fixture (20 double inputs)."""
    directory = scratch / "model"
    directory.mkdir()
    shutil.copy(FIXTURES / "scaler_logreg.onnx", directory / "model.onnx")
    columns = ", ".join(f'{{"type": "double", "name": "{name}", "required": true}}' for name in FEATURES)
    (directory / "MLmodel").write_text(
        "flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.23.2\n"
        f"signature:\n  inputs: '[{columns}]'\n  outputs: '[{{\"type\": \"long\", \"required\": true}}]'\n"
    )
    return directory


@pytest.fixture
def input_csv(scratch) -> Path:
    path = scratch / "input.csv"
    rows = [[round((r + 1) * 0.1 * ((c % 3) - 1), 3) for c in range(20)] for r in range(5)]
    path.write_text(",".join(FEATURES) + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n")
    return path


def _start_server(port: int, data_dir: Path, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen([_binary(), "server", "--port", str(port), "--data-dir", str(data_dir)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    _stop(proc)
    pytest.fail(f"cairn server did not come up:\n{log.read_text(errors='replace')}")


# --- ports ------------------------------------------------------------------------------------

@pytest.mark.cairn_only  # the CLI under test, not the tracking API
@pytest.mark.parametrize("port", ["80000", "99999", "-1"])
@pytest.mark.parametrize("command", ["server", "serve"])
def test_out_of_range_port_is_refused(command, port, scratch, model_dir):
    args = ["server", "--data-dir", str(scratch / "data")] if command == "server" else ["serve", str(model_dir)]
    result = _run(*args, f"--port={port}", timeout=30)
    assert result.returncode != 0
    assert f"Port {port} is out of range: use 1-65535" in result.stderr, result.stderr
    assert not (scratch / "data").exists()


@pytest.mark.cairn_only
@pytest.mark.parametrize("command", ["server", "serve"])
def test_port_in_use_is_named_before_start_up_work(command, scratch, model_dir):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["server", "--data-dir", str(scratch / "data")] if command == "server" else ["serve", str(model_dir)]
        started = time.monotonic()
        result = _run(*args, "--port", str(port), timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{port}: the port is already in use" in result.stderr, result.stderr
    assert elapsed < 15, elapsed
    # Checked first: no database was created or migrated, no model loaded.
    assert not (scratch / "data").exists()
    assert "Model loaded" not in result.stderr


# --- data directory ---------------------------------------------------------------------------

@pytest.mark.cairn_only
def test_data_dir_that_is_a_file_is_one_line(scratch):
    path = scratch / "taken"
    path.write_text("not a directory")
    result = _run("server", "--port", str(_free_port()), "--data-dir", str(path), timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"Cannot use {path} as the data directory: {path} is a file, not a directory." in lines[0]


@pytest.mark.cairn_only
def test_data_dir_that_cannot_be_created_is_one_line():
    result = _run("server", "--port", str(_free_port()), "--data-dir", "/proc/cairn-x", timeout=30)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Cannot use /proc/cairn-x as the data directory: cannot create /proc/cairn-x:" in lines[0]


@pytest.mark.cairn_only
def test_second_server_on_the_same_data_dir_is_refused(scratch):
    data = scratch / "data"
    first = _start_server(_free_port(), data, scratch / "first.log")
    try:
        result = _run("server", "--port", str(_free_port()), "--data-dir", str(data), timeout=30)
        assert result.returncode != 0
        assert f"Another cairn server (pid {first.pid}) is using the data directory {data}" in result.stderr, result.stderr
        assert "replicas share PostgreSQL and S3" in result.stderr
        assert first.poll() is None
    finally:
        _stop(first)
    # The lock goes with the process: the directory can be served again at once.
    second = _start_server(_free_port(), data, scratch / "second.log")
    _stop(second)


# --- tracking server down ---------------------------------------------------------------------

@pytest.mark.cairn_only
@pytest.mark.parametrize("command", ["serve", "predict", "monitor-report", "monitor-log"])
def test_tracking_server_down_fails_within_seconds_naming_it(command, input_csv, scratch):
    url = f"http://127.0.0.1:{_closed_port()}"
    args = {
        "serve": ["serve", "models:/churn/1", "--port", str(_free_port())],
        "predict": ["predict", "models:/churn@champion", "--input", str(input_csv), "--output", str(scratch / "out.csv")],
        "monitor-report": ["monitor", "report", "churn-drift"],
        "monitor-log": ["monitor", "log"],
    }[command]
    started = time.monotonic()
    result = _run(*args, "--tracking-uri", url, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert f"Cannot reach the tracking server at {url} (connection refused)" in result.stderr, result.stderr
    assert "MLFLOW_TRACKING_URI" in result.stderr
    # Each retry says what it waits for.
    assert f"Waiting for the tracking server at {url}" in result.stderr
    assert elapsed < 15, elapsed
    assert result.stdout == ""


# --- predict ----------------------------------------------------------------------------------

@pytest.mark.cairn_only
def test_predict_output_dash_writes_csv_to_stdout(model_dir, input_csv, scratch):
    result = _run("predict", str(model_dir), "--input", str(input_csv), "--output", "-", "--runtime", "native",
                  cwd=scratch, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    # A classifier answers every output: its label and a probability per class.
    assert rows[0] == ["label", "probabilities_0", "probabilities_1"]
    assert len(rows) == 6 and all(row[0] in ("0", "1") for row in rows[1:]), result.stdout
    assert not (scratch / "-").exists()
    assert "Scored 5 rows" in result.stderr


@pytest.mark.cairn_only
def test_predict_downloads_a_model_once_into_the_cache(server_url, model_dir, input_csv, scratch):
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(model_dir), "model")
    cache = scratch / "cache"
    uri = f"runs:/{run.info.run_id}/model"
    outputs = []
    for _ in range(2):
        result = _run("predict", uri, "--input", str(input_csv), "--output", "-", "--runtime", "native",
                      "--model-cache-dir", str(cache), "--log-level", "info",
                      env={"MLFLOW_TRACKING_URI": server_url}, timeout=120)
        assert result.returncode == 0, result.stderr
        outputs.append(result)
    assert "Downloading model" in outputs[0].stderr
    assert "Downloading model" not in outputs[1].stderr
    assert outputs[0].stdout == outputs[1].stdout
    entries = [p.name for p in cache.iterdir() if not p.name.endswith(".lock")]
    assert len(entries) == 1 and entries[0].startswith(f"{run.info.run_id}-model-"), entries
    assert (cache / entries[0] / "model.onnx").is_file()


# --- version ----------------------------------------------------------------------------------

@pytest.mark.cairn_only
def test_version_matches_the_servers(server_url):
    result = _run("--version", timeout=30)
    assert result.returncode == 0, result.stderr
    version = result.stdout.strip()
    assert version and version[0].isdigit(), result.stdout
    assert requests.get(f"{server_url}/version", timeout=10).text.strip() == version


def test_predict_to_a_closed_pipe_stops_quietly(model_dir, scratch):
    # `cairn predict ... --output - | head -1`: the reader goes away early; no error dump.
    big = scratch / "big.csv"
    row = ",".join(str(0.1 * (c % 3)) for c in range(20))
    big.write_text(",".join(FEATURES) + "\n" + "\n".join([row] * 60_000) + "\n")
    proc = subprocess.Popen([_binary(), "predict", str(model_dir), "--input", str(big), "--output", "-", "--runtime", "native"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
    first = proc.stdout.readline()
    proc.stdout.close()
    try:
        err = proc.stderr.read()
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("cairn predict kept running after its reader went away")
    assert first.startswith(b"label"), first
    # Ended by SIGPIPE like any Unix filter, or (where SIGPIPE is ignored) exited 0 on EPIPE.
    assert proc.returncode in (0, -signal.SIGPIPE), err.decode(errors="replace")[-2000:]
    assert b"Error" not in err and b"Fatal" not in err, err.decode(errors="replace")[-2000:]


@pytest.mark.cairn_only  # `cairn model evaluate`'s own argument parsing
@pytest.mark.parametrize("metric,reason", [
    ("accuracy>0.8", "inclusive"),
    ("accuracy>=nan", "not a finite number"),
    ("accuracy>=inf", "not a finite number"),
    ("accuracy>=0.8,greater_is_better=false", "says greater is better"),
    ("accuracy", "say which way is better"),
])
def test_a_metric_threshold_mlflow_cannot_mean_is_a_usage_error(metric, reason, tmp_path):
    # Refused before anything is read or sent: the data file does not exist and no server runs.
    done = _run("model", "evaluate", "m", "--candidate", "1", "--data", str(tmp_path / "absent.csv"), "--target", "y",
                "--metric", metric, "--tracking-uri", "http://127.0.0.1:9")
    assert done.returncode == 64, done.stdout + done.stderr
    assert f"--metric '{metric}'" in done.stderr and reason in done.stderr, done.stderr
