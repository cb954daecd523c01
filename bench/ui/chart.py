#!/usr/bin/env python3
"""Server time of a chart of a 1M-point metric: Cairn's `/charts/metric.svg` (every point,
bucketed per pixel column, spike kept) beside MLflow 3.17.2's own chart path,
`get-history-bulk-interval` with the UI's max_results=320 (a sampled subset), on the same
machine, same data, one server at a time.

    bench/ui/chart.sh [--points 1000000] [--reps 20] [--only cairn|mlflow]

Cairn: the median of the `Server-Timing: total` header (server time: read + bucket + render)
and of the wall time of the request over a keep-alive connection. MLflow: the median wall
time of the request over a keep-alive connection (it sends no timing header). Each reports
whether the one-step spike at 9.0 is in what the chart gets.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SPIKE = 9.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], url: str, data_dir: Path, env: dict | None = None) -> subprocess.Popen:
    log = open(data_dir / "server.log", "wb")
    proc = subprocess.Popen(cmd, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=env or dict(os.environ))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            sys.exit(f"server exited: {' '.join(cmd)}; see {data_dir / 'server.log'}")
        time.sleep(0.3)
    stop(proc)
    sys.exit(f"server did not start: {' '.join(cmd)}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def value_at(step: int, spike_step: int) -> float:
    return SPIKE if step == spike_step else 2.0 / (1 + step / 100_000) + 0.05 * ((step * 7919) % 101) / 101


def load(url: str, points: int, spike_step: int) -> str:
    api = f"{url}/api/2.0/mlflow"
    exp = requests.post(f"{api}/experiments/create", json={"name": f"bench-chart-{uuid.uuid4().hex[:8]}"}).json()["experiment_id"]
    run_id = requests.post(f"{api}/runs/create", json={"experiment_id": exp, "start_time": 0}).json()["run"]["info"]["run_id"]
    t0 = int(time.time() * 1000)

    def send(start: int) -> None:
        with requests.Session() as session:
            for chunk in range(start, min(start + 50_000, points), 1000):
                metrics = [{"key": "loss", "value": value_at(i, spike_step), "timestamp": t0 + i, "step": i}
                           for i in range(chunk, min(chunk + 1000, points))]
                r = session.post(f"{api}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}, timeout=300)
                r.raise_for_status()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(send, range(0, points, 50_000)))
    return run_id


def timed(session: requests.Session, url: str, params: dict) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    resp = session.get(url, params=params, timeout=600)
    elapsed = (time.perf_counter() - started) * 1000
    resp.raise_for_status()
    return elapsed, resp


def bench_cairn(binary: Path, points: int, reps: int, spike_step: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="bench-chart-cairn-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start([str(binary), "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data)], url, data)
    try:
        started = time.perf_counter()
        run_id = load(url, points, spike_step)
        load_s = time.perf_counter() - started
        walls, servers, reads = [], [], []
        with requests.Session() as session:
            params = {"runs": run_id, "key": "loss", "width": 800, "height": 320}
            timed(session, f"{url}/charts/metric.svg", params)  # warm the page cache
            for _ in range(reps):
                wall, resp = timed(session, f"{url}/charts/metric.svg", params)
                timing = dict(re.findall(r"(\w+);dur=([\d.]+)", resp.headers.get("Server-Timing", "")))
                walls.append(wall)
                servers.append(float(timing["total"]))
                reads.append(float(timing["read"]))
            svg = resp.text
            # The band's highest vertex in value terms: is the spike drawn?
            y_lo, y_hi = map(float, re.search(r'data-y-domain="([^"]+)"', svg).group(1).split())
            bottom, top = map(float, re.search(r'data-y-range="([^"]+)"', svg).group(1).split())
            band = re.search(r'class="band"[^>]* d="([^"]+)"', svg).group(1)
            ys = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", band)][1::2]
            band_max = y_lo + (bottom - min(ys)) / (bottom - top) * (y_hi - y_lo)
            # Cairn's own get-history-bulk-interval, for reference.
            bulk = [timed(session, f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                          {"run_ids": run_id, "metric_key": "loss", "max_results": 320})[0] for _ in range(reps)]
        return {"load_s": load_s, "server_ms": statistics.median(servers), "read_ms": statistics.median(reads),
                "wall_ms": statistics.median(walls), "bytes": len(svg.encode()), "spike": abs(band_max - SPIKE) < 0.05,
                "band_max": band_max, "bulk_ms": statistics.median(bulk)}
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)


def bench_mlflow(points: int, reps: int, spike_step: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="bench-chart-mlflow-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", MLFLOW_DISABLE_TELEMETRY="true")
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", f"sqlite:///{data}/mlflow.db", "--artifacts-destination", str(data / "artifacts"),
           "--workers", "2"]
    proc = start(cmd, url, data, env)
    try:
        import mlflow
        started = time.perf_counter()
        run_id = load(url, points, spike_step)
        load_s = time.perf_counter() - started
        walls = []
        with requests.Session() as session:
            params = {"run_ids": run_id, "metric_key": "loss", "max_results": 320}
            endpoint = f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
            timed(session, endpoint, params)
            for _ in range(reps):
                wall, resp = timed(session, endpoint, params)
                walls.append(wall)
            got = resp.json().get("metrics", [])
        return {"load_s": load_s, "wall_ms": statistics.median(walls), "points": len(got),
                "spike": any(m["value"] == SPIKE for m in got), "max": max((m["value"] for m in got), default=None),
                "bytes": len(resp.content), "version": mlflow.__version__}
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--only", choices=["cairn", "mlflow"])
    args = parser.parse_args()
    spike_step = int(args.points * 0.612345)
    binary = Path(os.environ.get("CAIRN_BIN", ROOT / ".build/release/cairn"))
    print(f"# chart of one metric of {args.points:,} points (spike of one step at {spike_step}), median of {args.reps}")
    results = {}
    if args.only != "mlflow":
        results["cairn"] = bench_cairn(binary, args.points, args.reps, spike_step)
        print("cairn", results["cairn"], flush=True)
    if args.only != "cairn":
        results["mlflow"] = bench_mlflow(args.points, args.reps, spike_step)
        print("mlflow", results["mlflow"], flush=True)
    print()
    print("| server | request | server time (median) | wall time (median, keep-alive) | points drawn from | spike visible | response bytes |")
    print("|---|---|---|---|---|---|---|")
    if "cairn" in results:
        c = results["cairn"]
        print(f"| Cairn ({binary.parent.name}) | `/charts/metric.svg` 800×320 (SVG) | {c['server_ms']:.1f} ms (read {c['read_ms']:.1f} ms) "
              f"| {c['wall_ms']:.1f} ms | all {args.points:,} (720 buckets) | {'yes' if c['spike'] else 'NO'} (band max {c['band_max']:.3f}) | {c['bytes']:,} |")
        print(f"| Cairn ({binary.parent.name}) | `get-history-bulk-interval` max_results=320 (JSON) | — | {c['bulk_ms']:.1f} ms | 320 sampled steps | — | — |")
    if "mlflow" in results:
        m = results["mlflow"]
        print(f"| MLflow {m['version']} | `get-history-bulk-interval` max_results=320 (JSON; the UI then draws it) | — | {m['wall_ms']:.1f} ms "
              f"| {m['points']} sampled rows | {'yes' if m['spike'] else 'no'} (max {m['max']}) | {m['bytes']:,} |")


if __name__ == "__main__":
    main()
