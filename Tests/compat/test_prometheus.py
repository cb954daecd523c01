"""A real Prometheus scrapes `cairn serve`: the exposition format is one Prometheus accepts, and
the serving request counter reaches Prometheus's query API.

Needs Debian's `prometheus` package (/usr/bin/prometheus). Without it the test is skipped,
unless CAIRN_REQUIRE_PROMETHEUS=1 (CI sets it), in which case it fails.
Only the binary is used: Prometheus runs as a subprocess with its own config and storage in a
temp dir, on a free port; the package's own service plays no part.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from conftest import _free_port, _tail
from test_serving import _log_sklearn, data, serve  # noqa: F401  (fixtures reused, not copied)

PROMETHEUS_BIN = Path("/usr/bin/prometheus")
METRIC = "cairn_serving_requests_total"
QUERY_TIMEOUT = 30.0


class Prometheus:
    def __init__(self, url: str, proc: subprocess.Popen, log: Path):
        self.url, self.proc, self.log = url, proc, log

    def api(self, path: str, **params) -> dict:
        return requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=5).json()

    def targets(self) -> list[dict]:
        return self.api("targets")["data"]["activeTargets"]


@pytest.fixture
def prometheus():
    """Starts `/usr/bin/prometheus` scraping one target (host:port) every second; kills it after."""
    if not (PROMETHEUS_BIN.is_file() and os.access(PROMETHEUS_BIN, os.X_OK)):
        message = f"{PROMETHEUS_BIN} not found (apt-get install prometheus)"
        if os.environ.get("CAIRN_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(f"{message}, and CAIRN_REQUIRE_PROMETHEUS=1")
        pytest.skip(message)

    work = Path(tempfile.mkdtemp(prefix="cairn-prometheus-"))
    started: list[Prometheus] = []

    def start(target: str) -> Prometheus:
        config = work / "prometheus.yml"
        # JSON is YAML: no YAML library needed.
        config.write_text(json.dumps({
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "cairn-serve", "metrics_path": "/metrics",
                                "static_configs": [{"targets": [target]}]}],
        }, indent=2))
        port = _free_port()
        log = work / "prometheus.log"
        cmd = [str(PROMETHEUS_BIN), f"--config.file={config}", f"--storage.tsdb.path={work / 'data'}",
               f"--web.listen-address=127.0.0.1:{port}"]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=work, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        prom = Prometheus(f"http://127.0.0.1:{port}", proc, log)
        started.append(prom)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited with {proc.returncode}\ncommand: {' '.join(cmd)}\n"
                            f"{_tail(log, 40)}")
            try:
                if requests.get(f"{prom.url}/-/ready", timeout=1).status_code == 200:
                    return prom
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"prometheus did not become ready at {prom.url}\n{_tail(log, 40)}")

    try:
        yield start
    finally:
        for prom in started:
            if prom.proc.poll() is None:
                os.killpg(prom.proc.pid, signal.SIGTERM)
                try:
                    prom.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(prom.proc.pid, signal.SIGKILL)
                    prom.proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


# `prometheus` first: without the binary the test is skipped/failed before anything is served.
def test_prometheus_scrapes_the_serving_request_counter(prometheus, serve, data, unique):
    X, y = data
    name = f"serve-prom-{unique}"
    _log_sklearn(name, X, y)
    served = serve(f"models:/{name}/1", "--runtime", "python", "--workers", "1")
    target = urlparse(served.url).netloc
    prom = prometheus(target)

    n = 7
    payload = {"dataframe_split": X.head(3).to_dict(orient="split")}
    for _ in range(n):
        response = served.invoke(payload)
        assert response.status_code == 200, response.text

    query = f'sum({METRIC}{{model="{name}",status="200"}})'
    value, answer, started = None, None, time.monotonic()
    while time.monotonic() - started < QUERY_TIMEOUT:
        try:
            answer = prom.api("query", query=query)
            result = answer.get("data", {}).get("result", [])
            if result:
                value = float(result[0]["value"][1])
                if value >= n:
                    break
        except (requests.RequestException, ValueError) as e:
            answer = repr(e)
        time.sleep(0.5)

    targets = prom.targets()
    mine = [t for t in targets if t.get("scrapeUrl") == f"{served.url}/metrics"]
    health = [{k: t.get(k) for k in ("scrapeUrl", "health", "lastError", "lastScrape")} for t in targets]
    assert value is not None and value >= n, (
        f"Prometheus did not report {query} >= {n} within {QUERY_TIMEOUT:.0f}s\n"
        f"last answer: {answer}\ntargets: {health}\n"
        f"--- prometheus log ---\n{_tail(prom.log, 30)}\n"
        f"--- cairn serve /metrics ({METRIC}) ---\n"
        + "\n".join(line for line in served.metrics().splitlines() if METRIC in line))
    assert len(mine) == 1 and mine[0]["health"] == "up", f"target not up: {health}"
