#!/usr/bin/env python3
"""Server time of the runs table at 100k runs (issue 14's bar: first page under 150 ms).

Starts `cairn server` on a fresh data directory (which migrates it), stops it, seeds the
database directly with seed.py, starts it again and requests each view `--repeat` times,
reading the server's own `Server-Timing` header (query + render, no network) and the time
to first byte seen by the client. Standard library only.

    bench.py [--bin .build/debug/cairn] [--runs 100000] [--repeat 15] [--keep DIR]
"""
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
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary: str, data: Path, port: int) -> subprocess.Popen:
    log = open(data / "server.log", "ab")
    proc = subprocess.Popen([binary, "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: see {data / 'server.log'}")
            time.sleep(0.2)
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def fetch(url: str) -> tuple[float, float, int, int]:
    """(server ms from Server-Timing, client ms to the last byte, status, bytes)."""
    started = time.perf_counter()
    try:
        response = urllib.request.urlopen(url, timeout=600)
    except urllib.error.HTTPError as error:
        response = error
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    timing = response.headers.get("Server-Timing", "")
    server = sum(float(value) for value in re.findall(r"dur=([0-9.]+)", timing)) if timing else float("nan")
    return server, elapsed, response.status, len(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / ".build/debug/cairn"))
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", help="reuse (or create and keep) this seeded data directory")
    args = parser.parse_args()

    data = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cairn-ui-runs-"))
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    try:
        if not (data / "seeded").exists():
            stop(start(args.bin, data, port))
            subprocess.run([sys.executable, str(HERE / "seed.py"), str(data / "cairn.db"), "--runs", str(args.runs)], check=True)
            (data / "seeded").touch()
        proc = start(args.bin, data, port)
        try:
            base = f"http://127.0.0.1:{port}"
            experiment = "1"
            views = {
                "first page (newest first, default columns)": f"/experiments/{experiment}",
                "first page, 3 chosen columns": f"/experiments/{experiment}?cols=metrics.m0,params.p00,tags.team",
                "sorted by a metric (latest)": f"/experiments/{experiment}?order=metrics.%60m3%60+DESC",
                "sorted by a param": f"/experiments/{experiment}?order=params.%60p05%60+ASC",
                "filtered (param = and metric >)": f"/experiments/{experiment}?filter=params.p03+%3D+%274.0%27+AND+metrics.m1+%3E+0.5",
                "metric min, sorted by it": f"/experiments/{experiment}?agg=min&order=metrics.%60m2%60+ASC&cols=metrics.m2",
                "page 1000": f"/experiments/{experiment}?page=1000",
                "flat (no tree)": f"/experiments/{experiment}?nested=0",
                "column picker open": f"/experiments/{experiment}?picker=1",
            }
            print(f"| view | server ms (median) | server ms (p90) | client ms (median) | status | KiB |")
            print("|---|---:|---:|---:|---:|---:|")
            for name, path in views.items():
                fetch(base + path)  # warm the page cache and SQLite's statement cache
                samples = [fetch(base + path) for _ in range(args.repeat)]
                server = sorted(s[0] for s in samples)
                client = statistics.median(s[1] for s in samples)
                p90 = server[min(len(server) - 1, int(len(server) * 0.9))]
                print(f"| {name} | {statistics.median(server):.1f} | {p90:.1f} | {client:.1f} | {samples[0][2]} | {samples[0][3] / 1024:.0f} |")
            server, client, status, size = fetch(base + f"/experiments/{experiment}/runs.csv?cols=metrics.m0,params.p00")
            print(f"| CSV export, all runs, 2 columns (streamed) | — | — | {client:.0f} | {status} | {size / 1024:.0f} |")
        finally:
            stop(proc)
    finally:
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
