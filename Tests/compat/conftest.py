"""Session setup for the MLflow-client compatibility suite.

The suite drives a live tracking server through the stock ``mlflow`` Python client (and, for a
few wire details the client hides, through raw ``requests``). Which server is under test is
chosen by ``COMPAT_SERVER``:

* ``cairn`` (default): ``$CAIRN_BIN server --host 127.0.0.1 --port P --data-dir TMP``;
  ``CAIRN_BIN`` defaults to ``.build/debug/cairn`` (relative paths are taken from the repo root).
* ``mlflow``: MLflow's own ``mlflow server`` from the running interpreter's environment, with a
  SQLite backend store and a local artifact destination in TMP. This is the oracle: every test
  (except those marked ``cairn_only``) must pass against it.

Other knobs (all optional):
* ``COMPAT_STARTUP_TIMEOUT``  seconds to wait for ``GET /health`` (default 180).
* ``COMPAT_MLFLOW_WORKERS``   ``--workers`` for the oracle (default 2; empty = MLflow's 4).
* ``COMPAT_KEEP_DATA=1``      keep the temp data dir (and server log) after the run.
* ``COMPAT_SERVER_URL``       skip starting a server and test an already running one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

# --- client environment: must be in place before mlflow reads it -----------------------------
# A server bug must fail fast instead of being retried with backoff for minutes.
os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
# The concurrency tests share one client across 16 threads; avoid urllib3 pool-full warnings.
os.environ.setdefault("MLFLOW_HTTP_POOL_MAXSIZE", "32")
# No telemetry from the client (nor from the oracle server, which inherits this env).
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
# A stray experiment selection from the caller's environment would redirect fluent runs.
for _var in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID",
             "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
    os.environ.pop(_var, None)

import pytest  # noqa: E402
import requests  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_KIND = os.environ.get("COMPAT_SERVER", "cairn").strip().lower() or "cairn"
if SERVER_KIND not in ("cairn", "mlflow"):
    raise SystemExit(f"COMPAT_SERVER must be 'cairn' or 'mlflow', not {SERVER_KIND!r}")

_LOG_TAIL_LINES = 80
_state: dict = {"log_tail": None, "log_path": None, "data_dir": None}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "cairn_only: behaviour where Cairn deliberately differs from the reference server "
        "(skipped when COMPAT_SERVER=mlflow); each use carries a comment saying why.",
    )


def pytest_collection_modifyitems(config, items):
    if SERVER_KIND == "mlflow":
        skip = pytest.mark.skip(reason="cairn_only: reference MLflow behaves differently")
        for item in items:
            if "cairn_only" in item.keywords:
                item.add_marker(skip)


def pytest_report_header(config):
    return f"compat: server under test = {SERVER_KIND}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_command(port: int, data_dir: Path) -> list[str]:
    if SERVER_KIND == "cairn":
        binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
        if not binary.is_absolute():
            binary = REPO_ROOT / binary
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            pytest.exit(
                f"compat: Cairn binary not found or not executable: {binary}\n"
                "Build it first (swift build) or set CAIRN_BIN; "
                "use COMPAT_SERVER=mlflow to run the suite against MLflow's own server.",
                returncode=4,
            )
        return [str(binary), "server", "--host", "127.0.0.1", "--port", str(port),
                "--data-dir", str(data_dir)]
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", f"sqlite:///{data_dir}/mlflow.db",
           "--artifacts-destination", str(data_dir / "artifacts")]
    # 2 uvicorn workers instead of MLflow's default 4: still multi-process, but it starts in
    # half the time on a 2-core machine. COMPAT_MLFLOW_WORKERS="" keeps MLflow's default.
    workers = os.environ.get("COMPAT_MLFLOW_WORKERS", "2")
    if workers:
        cmd += ["--workers", workers]
    return cmd


def _tail(path: Path, n: int) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as e:
        return f"(could not read {path}: {e})"
    return "\n".join(lines[-n:])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started and everything it spawned (its own process group).

    MLflow's server forks uvicorn workers and job-runner consumers that can outlive a SIGTERM
    to the parent, so the whole group gets SIGTERM, a grace period, then SIGKILL.
    """
    pgid = proc.pid  # start_new_session=True: the server leads its own group
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (proc.poll() is None or _group_alive(pgid)):
            time.sleep(0.1)
        if _group_alive(pgid):
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass


@pytest.fixture(scope="session")
def server_url():
    """Base URL (``http://127.0.0.1:P``) of the tracking server under test for this session."""
    external = os.environ.get("COMPAT_SERVER_URL")
    if external:
        url = external.rstrip("/")
        _activate(url)
        yield url
        return

    port = _free_port()
    data_dir = Path(tempfile.gettempdir()) / f"compat-{SERVER_KIND}-{uuid.uuid4().hex[:10]}"
    cmd = _server_command(port, data_dir)  # may pytest.exit() before anything is created
    data_dir.mkdir()
    log_path = data_dir / "server.log"
    _state.update(log_path=log_path, data_dir=data_dir)
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    if SERVER_KIND == "mlflow":
        # The oracle's background job runner (GenAI jobs: a huey consumer pool) is out of scope
        # and only slows startup and shutdown on a 2-core machine.
        env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    proc = None
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + float(os.environ.get("COMPAT_STARTUP_TIMEOUT", "180"))
        while True:
            if proc.poll() is not None:
                pytest.exit(f"compat: server exited with code {proc.returncode} during startup\n"
                            f"command: {' '.join(cmd)}\n--- {log_path} (tail) ---\n"
                            f"{_tail(log_path, _LOG_TAIL_LINES)}", returncode=3)
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.exit(f"compat: server did not answer GET /health at {url}\n"
                            f"command: {' '.join(cmd)}\n--- {log_path} (tail) ---\n"
                            f"{_tail(log_path, _LOG_TAIL_LINES)}", returncode=3)
            time.sleep(0.25)  # startup wait only
        _activate(url)
        yield url
    finally:
        if proc is not None:
            _stop(proc)
        _state["log_tail"] = _tail(log_path, _LOG_TAIL_LINES)
        if os.environ.get("COMPAT_KEEP_DATA") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)
            _state["log_path"] = None


def _activate(url: str) -> None:
    import mlflow

    os.environ["MLFLOW_TRACKING_URI"] = url
    mlflow.set_tracking_uri(url)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    failed = terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")
    if failed and _state["log_tail"] is not None:
        where = _state["log_path"] or "(deleted; set COMPAT_KEEP_DATA=1 to keep it)"
        terminalreporter.section(f"{SERVER_KIND} server log tail: {where}")
        terminalreporter.write_line(_state["log_tail"])


# --- per-test helpers -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def client(server_url):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server_url)


@pytest.fixture(scope="session")
def api(server_url):
    """Base of the REST API, e.g. ``http://127.0.0.1:P/api/2.0/mlflow``."""
    return f"{server_url}/api/2.0/mlflow"


@pytest.fixture(autouse=True)
def _no_leaked_fluent_runs(server_url):
    import mlflow

    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def unique():
    """A short unique token for names, so tests never collide with each other."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def exp_id(client, unique, request):
    """A fresh, empty experiment for this test."""
    return client.create_experiment(f"compat-{request.node.name[:60]}-{unique}")
