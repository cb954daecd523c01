"""Replicas on one PostgreSQL database behind nginx (issue 15, part 3).

Three ``cairn server`` processes share one fresh PostgreSQL database, one artifact directory
and one inference-log directory; nginx (Debian's, run with a generated config in a temp dir)
balances them. The stock ``mlflow`` client, with its normal retries, logs metrics and params
from 16 threads through nginx while a fourth thread creates registered models that a webhook
(a small receiver here) hears about, and a monitor runs on a one-second schedule. Mid-load one
follower is killed with -9 and restarted, then the leader is killed with -9. At the end:

* every acknowledged write reads back through the client;
* nginx answered 5xx only for requests that were in flight on a killed replica (at most one
  per client thread and kill), which the client's retries absorbed;
* every acknowledged model creation was delivered to the webhook exactly once, and no
  delivery id arrived twice;
* the monitor kept its schedule across the leader change, each one-second slot evaluated at
  most once (the slots are read from PostgreSQL with ``psql``).

Before the leader is killed the model-creating thread pauses until the receiver has every
delivery: a leader killed in the instant between a receiver's answer and the row update would
send that delivery again after its claim runs out (at-least-once with a delivery id for the
receiver to drop the repeat is all any outbox can promise across kill -9), and this test checks
the once-only machinery, not that impossibility.

Skipped unless CAIRN_TEST_POSTGRES_URL names a server whose user may create databases and
``nginx`` and ``psql`` are installed; with CAIRN_REQUIRE_NGINX=1 (``.ci/run``, which installs
nginx) a missing tool fails it instead.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

from conftest import REPO_ROOT, SERVER_KIND, _free_port

POSTGRES_URL = os.environ.get("CAIRN_TEST_POSTGRES_URL")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
PSQL = shutil.which("psql")

pytestmark = [
    pytest.mark.cairn_only,
    pytest.mark.skipif(SERVER_KIND != "cairn", reason="starts Cairn replicas of its own"),
    pytest.mark.skipif(not POSTGRES_URL, reason="needs CAIRN_TEST_POSTGRES_URL"),
]


@pytest.fixture(autouse=True)
def _tools():
    """nginx and psql, or a skip; CI (CAIRN_REQUIRE_NGINX=1) fails instead of skipping."""
    missing = [name for name, path in (("nginx", NGINX), ("psql", PSQL)) if path is None]
    if missing:
        message = f"needs {' and '.join(missing)} (apt-get install nginx postgresql-client)"
        if os.environ.get("CAIRN_REQUIRE_NGINX") == "1":
            pytest.fail(f"{message}, and CAIRN_REQUIRE_NGINX=1")
        pytest.skip(message)

THREADS = 16
LEASE_SECONDS = 3


def _binary() -> str:
    binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
    return str(binary if binary.is_absolute() else REPO_ROOT / binary)


def _psql(url: str, sql: str) -> str:
    out = subprocess.run([PSQL, "-qtAX", url, "-c", sql], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _database_url(name: str) -> str:
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class Replica:
    def __init__(self, index: int, root: Path, database_url: str):
        self.index = index
        self.port = _free_port()
        self.data_dir = root / f"replica-{index}"
        self.log_path = root / f"replica-{index}.log"
        self.command = [
            _binary(), "server", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--backend-store-uri", database_url, "--artifacts-destination", str(root / "artifacts"),
            "--inference-log-dir", str(root / "inference-log"), "--leader-lease-seconds", str(LEASE_SECONDS),
        ]
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ)
        env.pop("MLFLOW_TRACKING_URI", None)
        # The webhook receiver is plain http on loopback, which the server refuses by default.
        env.update(MLFLOW_WEBHOOK_ALLOWED_SCHEMES="http,https", MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS="true")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"replica {self.index} exited:\n{self.log_path.read_text(errors='replace')[-4000:]}"
            try:
                if requests.get(f"http://{self.address}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"replica {self.index} never became healthy"
            time.sleep(0.2)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


NGINX_CONFIG = """
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format replicas '$status $request_method "$request_uri" upstream="$upstream_addr" upstream_status="$upstream_status"';
    access_log {root}/nginx-access.log replicas;
    client_body_temp_path {root}/nginx-body;
    proxy_temp_path {root}/nginx-proxy;
    fastcgi_temp_path {root}/nginx-fastcgi;
    uwsgi_temp_path {root}/nginx-uwsgi;
    scgi_temp_path {root}/nginx-scgi;
    upstream cairn {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{
            proxy_pass http://cairn;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            # A replica that refuses the connection (dead, or restarting) is skipped; a request
            # already sent to one that died is not resent by nginx (POSTs are not idempotent):
            # it gets a 502 and the client's own retry, as MLflow's client does.
            proxy_next_upstream error timeout http_502;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, root: Path, replicas: list[Replica]):
        self.root = root
        self.port = _free_port()
        servers = "\n".join(f"        server {r.address} max_fails=1 fail_timeout=2s;" for r in replicas)
        self.config = root / "nginx.conf"
        # As root, nginx's workers would drop to `nobody`, who cannot enter pytest's temp dir.
        user = "user root;" if os.geteuid() == 0 else ""
        self.config.write_text(NGINX_CONFIG.format(user=user, root=root, servers=servers, port=self.port))
        self.access_log = root / "nginx-access.log"
        self.proc = subprocess.Popen([NGINX, "-c", str(self.config), "-p", str(root), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=open(root / "nginx-stderr.log", "wb"),
                                     start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, (root / "nginx-stderr.log").read_text()
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "nginx never answered"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def entries(self) -> list[dict]:
        pattern = re.compile(r'^(\d{3}) (\S+) "([^"]*)" upstream="([^"]*)" upstream_status="([^"]*)"$')
        entries = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            match = pattern.match(line)
            assert match, line
            status, method, uri, upstream, upstream_status = match.groups()
            entries.append({"status": int(status), "method": method, "uri": uri, "upstream": upstream,
                            "upstream_status": upstream_status})
        return entries


class Receiver:
    """Records every webhook delivery: its delivery id and body."""

    def __init__(self):
        self.deliveries: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.deliveries.append({"id": self.headers.get("X-MLflow-Delivery-Id"), "body": json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def names(self) -> list[str]:
        with self.lock:
            return [d["body"]["data"]["name"] for d in self.deliveries]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cluster(tmp_path, _tools):
    name = f"cairn_replicas_{uuid.uuid4().hex[:12]}"
    _psql(POSTGRES_URL, f"CREATE DATABASE {name}")
    database_url = _database_url(name)
    replicas = [Replica(i, tmp_path, database_url) for i in range(3)]
    nginx = None
    try:
        # All three at once on the empty database: migrations take turns under the advisory lock.
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_healthy()
        nginx = Nginx(tmp_path, replicas)
        yield {"replicas": replicas, "nginx": nginx, "database_url": database_url, "root": tmp_path}
    finally:
        if nginx is not None:
            nginx.stop()
        for replica in replicas:
            replica.stop()
        _psql(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _leader(database_url: str, replicas: list[Replica]) -> Replica | None:
    holder = _psql(database_url, "SELECT holder FROM cairn_leases WHERE name = 'leader' "
                                 "AND expires_at > CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
    if not holder:
        return None
    pid = int(holder.split(":")[-2])
    return next((r for r in replicas if r.proc is not None and r.proc.poll() is None and r.proc.pid == pid), None)


def _wait_for_leader(database_url: str, replicas: list[Replica], timeout: float, not_pid: int | None = None) -> Replica:
    deadline = time.monotonic() + timeout
    while True:
        leader = _leader(database_url, replicas)
        if leader is not None and leader.proc.pid != not_pid:
            return leader
        assert time.monotonic() < deadline, "no replica took the lead"
        time.sleep(0.1)


def test_three_replicas_behind_nginx_survive_kills(cluster, monkeypatch):
    replicas: list[Replica] = cluster["replicas"]
    nginx: Nginx = cluster["nginx"]
    database_url = cluster["database_url"]
    # The stock client's normal retries (the suite turns them off elsewhere).
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "7")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    client = MlflowClient(tracking_uri=nginx.url)
    receiver = Receiver()
    try:
        _run_scenario(client, nginx, replicas, database_url, receiver)
    finally:
        receiver.close()


def _run_scenario(client, nginx, replicas, database_url, receiver):
    unique = uuid.uuid4().hex[:8]
    first_leader = _wait_for_leader(database_url, replicas, timeout=30)

    client.create_webhook(name=f"replicas-{unique}", url=receiver.url, events=["registered_model.created"])
    watched = f"watched-{unique}"
    client.create_registered_model(watched)
    spec = {"name": f"monitor-{unique}", "model_name": watched, "interval_seconds": 1, "window": {"seconds": 60},
            "checks": [{"type": "error_rate", "threshold": 0.5}]}
    answer = requests.post(f"{nginx.url}/api/cairn/v1/monitors", json=spec, timeout=30)
    assert answer.status_code == 200, answer.text
    monitor_id = answer.json()["monitor"]["monitor_id"]

    experiment_id = client.create_experiment(f"replicas-{unique}")
    stop = threading.Event()
    acknowledged: list[list[tuple]] = [[] for _ in range(THREADS)]
    failures: list[str] = []

    def log(thread: int):
        run_id = client.create_run(experiment_id, run_name=f"t{thread}").info.run_id
        acknowledged[thread].append(("run", run_id))
        step = 0
        while not stop.is_set():
            try:
                if step % 10 == 9:
                    metrics = [Metric(f"batch{thread}", float(step + j), 1_700_000_000_000 + step, step + j) for j in range(5)]
                    client.log_batch(run_id, metrics=metrics, params=[Param(f"p{step}", str(step))])
                    acknowledged[thread].append(("batch", run_id, step))
                else:
                    client.log_metric(run_id, "loss", float(step), timestamp=1_700_000_000_000 + step, step=step)
                    acknowledged[thread].append(("metric", run_id, step))
            except Exception as error:  # noqa: BLE001 (recorded; the test fails on any)
                failures.append(f"thread {thread} step {step}: {error!r}")
            step += 1

    created_models: list[str] = []
    registry_paused = threading.Event()
    registry_running = threading.Event()
    registry_running.set()

    def register():
        index = 0
        while not stop.is_set():
            if not registry_running.is_set():
                registry_paused.set()
                registry_running.wait(timeout=0.1)
                continue
            registry_paused.clear()
            name = f"m-{unique}-{index}"
            try:
                client.create_registered_model(name)
                created_models.append(name)
            except MlflowException as error:
                # The client's retry of a creation whose first attempt committed on a replica
                # that died before answering: the model is there, as any client would conclude.
                if error.error_code == "RESOURCE_ALREADY_EXISTS" and client.get_registered_model(name).name == name:
                    created_models.append(name)
                else:
                    failures.append(f"create_registered_model {name}: {error!r}")
            except Exception as error:  # noqa: BLE001
                failures.append(f"create_registered_model {name}: {error!r}")
            index += 1
            time.sleep(0.2)

    workers = [threading.Thread(target=log, args=(i,), daemon=True) for i in range(THREADS)]
    registrar = threading.Thread(target=register, daemon=True)
    for worker in workers + [registrar]:
        worker.start()

    # A follower dies mid-load and comes back.
    time.sleep(4)
    follower = next(r for r in replicas if r is not first_leader)
    follower.kill()
    time.sleep(2)
    follower.start()
    follower.wait_healthy()
    time.sleep(3)

    # The leader dies, with every delivery so far received (see the module's note).
    registry_running.clear()
    assert registry_paused.wait(timeout=60)
    _wait_delivered(receiver, created_models + [watched], timeout=60)
    leader = _wait_for_leader(database_url, replicas, timeout=30)
    leader_pid = leader.proc.pid
    evaluations_before = _slots(database_url, monitor_id)
    killed_at = time.time()
    leader.kill()
    registry_running.set()
    successor = _wait_for_leader(database_url, replicas, timeout=LEASE_SECONDS * 5, not_pid=leader_pid)
    took_over = time.time() - killed_at
    assert successor is not leader
    assert took_over < LEASE_SECONDS * 3, f"the lead passed after {took_over:.1f} s"
    time.sleep(5)
    stop.set()
    for worker in workers + [registrar]:
        worker.join(timeout=180)
        assert not worker.is_alive()

    assert failures == [], failures[:10]

    # Every acknowledged write reads back through the client.
    for thread_writes in acknowledged:
        run_id = thread_writes[0][1]
        run = client.get_run(run_id)
        losses = {m.step for m in client.get_metric_history(run_id, "loss")}
        batches = {m.step for key in run.data.metrics if key.startswith("batch") for m in client.get_metric_history(run_id, key)}
        for write in thread_writes[1:]:
            kind, _, step = write
            if kind == "metric":
                assert step in losses, (run_id, step)
            else:
                assert all(step + j in batches for j in range(5)), (run_id, step)
                assert run.data.params[f"p{step}"] == str(step)
    assert sum(len(w) for w in acknowledged) > THREADS * 10

    # nginx: 5xx only for requests in flight on a killed replica, and few of them.
    killed = {follower.address, leader.address}
    failed = [e for e in nginx.entries() if e["status"] >= 500]
    for entry in failed:
        assert entry["upstream"].split(", ")[-1] in killed, entry
    assert len(failed) <= 2 * (THREADS + 1), failed

    # Each acknowledged model creation delivered once, across the leader change.
    _wait_delivered(receiver, created_models + [watched], timeout=60)
    with receiver.lock:
        ids = [d["id"] for d in receiver.deliveries]
    assert len(ids) == len(set(ids)), "a delivery id arrived twice"
    names = receiver.names()
    for name in created_models + [watched]:
        assert names.count(name) == 1, (name, names.count(name))

    # The monitor kept its one-second schedule through the change: slots after the kill were
    # evaluated (by the successor), and none twice (each slot is one row, taken once).
    slots = _slots(database_url, monitor_id)
    assert len(slots) == len(set(slots))
    after = [s for s in slots if s not in evaluations_before]
    assert any(s / 1000 > killed_at + took_over for s in after), (slots, killed_at)
    assert len(slots) >= 5
    print(f"replicas: {sum(len(w) for w in acknowledged)} acknowledged writes, {len(created_models)} models delivered once, "
          f"{len(failed)} 5xx from nginx, lead passed in {took_over:.1f} s, {len(slots)} monitor slots ({len(after)} after the kill)")


def _slots(database_url: str, monitor_id: str) -> list[int]:
    rows = _psql(database_url, f"SELECT scheduled_time FROM cairn_monitor_evaluations WHERE monitor_id = '{monitor_id}' "
                               "ORDER BY scheduled_time")
    return [int(v) for v in rows.split()] if rows else []


def _wait_delivered(receiver: Receiver, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        missing = set(names) - set(receiver.names())
        if not missing:
            return
        assert time.monotonic() < deadline, f"{len(missing)} model creations never reached the webhook: {sorted(missing)[:5]}"
        time.sleep(0.2)
