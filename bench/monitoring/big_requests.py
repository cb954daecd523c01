"""What a few huge scoring requests cost monitoring (issue 11): six requests of 8–65 MB
through `cairn serve --inference-log`, then a monitor evaluated on `cairn server` over the
window that holds them. Prints the log's size, each evaluation's time and the server's RSS
(peak during the evaluations, VmHWM, and settled after them).

    python bench/monitoring/big_requests.py .build/debug/cairn [extra `cairn serve` flags]

Needs mlflow and scikit-learn (the compat venv has both).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests

SIZES_MB = [8, 15, 25, 35, 50, 65]
FEATURES = [f"f{i}" for i in range(6)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{proc.args[:2]} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not come up")


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    binary, serve_flags = os.path.abspath(sys.argv[1]), sys.argv[2:]
    data = Path(tempfile.mkdtemp(prefix="cairn-big-requests-"))
    procs: list[subprocess.Popen] = []
    try:
        port = free_port()
        server = subprocess.Popen([binary, "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data)],
                                  stdout=open(data / "server.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(server)
        url = f"http://127.0.0.1:{port}"
        wait(f"{url}/health", server)
        os.environ["MLFLOW_TRACKING_URI"] = url

        import mlflow
        from mlflow import MlflowClient
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng(1)
        train = pd.DataFrame(rng.normal(size=(5000, len(FEATURES))), columns=FEATURES)
        train["y"] = (train["f0"] - train["f1"] > 0).astype(int)
        with mlflow.start_run():
            mlflow.sklearn.log_model(LogisticRegression().fit(train[FEATURES], train["y"]), name="model",
                                     registered_model_name="big", input_example=train[FEATURES].head(3))
        MlflowClient().set_registered_model_alias("big", "champion", "1")
        requests.post(f"{url}/api/cairn/v1/references", params={"model_name": "big", "version": "1", "target": "y"},
                      data=train.to_csv(index=False).encode(), headers={"Content-Type": "text/csv"}, timeout=60).raise_for_status()

        serve_port = free_port()
        serve = subprocess.Popen([binary, "serve", "models:/big@champion", "--port", str(serve_port), "--workers", "1",
                                  "--python", sys.executable, "--inference-log", str(data / "inference-log"), *serve_flags],
                                 stdout=open(data / "serve.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(serve)
        wait(f"http://127.0.0.1:{serve_port}/ping", serve)

        one_row = len(json.dumps(rng.normal(size=len(FEATURES)).tolist())) + 1
        for index, size in enumerate(SIZES_MB):
            rows = size * 1_000_000 // one_row
            frame = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
            body = ('{"dataframe_split": ' + frame.to_json(orient="split", index=False, double_precision=15) + "}").encode()
            started = time.monotonic()
            answer = requests.post(f"http://127.0.0.1:{serve_port}/invocations", data=body, timeout=600,
                                   headers={"Content-Type": "application/json", "X-Request-ID": f"big-{index}"})
            print(f"request {index}: {len(body) / 1e6:.1f} MB, {rows} rows -> {answer.status_code} in {time.monotonic() - started:.1f} s")
        # The log is flushed every 50 ms; wait for six records.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            count = sum(p.read_bytes().count(b"\n") for p in (data / "inference-log").glob("inference-*.jsonl"))
            if count >= len(SIZES_MB):
                break
            time.sleep(0.2)
        log_bytes = sum(p.stat().st_size for p in (data / "inference-log").glob("inference-*.jsonl"))
        print(f"inference log: {log_bytes / 1e6:.1f} MB")

        spec = {"name": "big", "model_name": "big", "alias": "champion", "window": {"seconds": 3600}, "interval_seconds": 86400,
                "checks": [{"type": "feature_drift"}, {"type": "prediction_drift"}]}
        monitor = requests.post(f"{url}/api/cairn/v1/monitors", json=spec, timeout=10).json()["monitor"]["monitor_id"]
        before = rss_kb(server.pid)
        peak = [before]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(server.pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        for attempt in range(3):
            started = time.monotonic()
            report = requests.post(f"{url}/api/cairn/v1/monitors/{monitor}/run", timeout=600).json()["report"]
            print(f"evaluation {attempt}: {time.monotonic() - started:.2f} s, {report['window']['rows']} rows decoded "
                  f"of {report['window']['requests']} requests")
        done.set()
        sampler.join()
        time.sleep(5)
        print(f"server RSS: {before / 1024:.0f} MB before, peak {peak[0] / 1024:.0f} MB (VmHWM {rss_kb(server.pid, 'VmHWM') / 1024:.0f} MB), "
              f"{rss_kb(server.pid) / 1024:.0f} MB 5 s after")
        for note in report["notes"]:
            print("note:", note)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", str(data)])


if __name__ == "__main__":
    main()
