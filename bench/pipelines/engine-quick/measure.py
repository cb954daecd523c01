"""Quick side-by-side figures for the pipeline engine (not the full bench/pipelines suite):
(c) 50 independent trivial stages, wall time and per-stage overhead, Cairn (--jobs 2) beside
`dvc repro`; (a) warm status over a 100k-file dependency folder, Cairn beside `dvc status`.

    python measure.py CAIRN_BIN [--files 100000] [--skip-dvc]

Starts its own `cairn server` on a free port with a temporary data directory and stops it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_run(url: str, run_id: str) -> dict:
    while True:
        run = requests.get(f"{url}/api/cairn/v1/pipelines/runs/{run_id}", timeout=30).json()["run"]
        if run["status"] != "RUNNING":
            return run
        time.sleep(0.01)


def cairn_run(url: str, project: Path, **options) -> tuple[float, dict]:
    name = requests.post(f"{url}/api/cairn/v1/pipelines", json={"project_dir": str(project)}, timeout=30).json()["pipeline"]["name"]
    start = time.perf_counter()
    answer = requests.post(f"{url}/api/cairn/v1/pipelines/{name}/runs", json=options, timeout=30)
    answer.raise_for_status()
    run = wait_run(url, answer.json()["run"]["run_id"])
    return time.perf_counter() - start, run


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cairn")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--skip-dvc", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cairn-measure-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([args.cairn, "server", "--port", str(port), "--data-dir", str(root / "data")],
                              stdout=open(root / "server.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)

        # (c) 50 independent trivial stages.
        stages = "stages:\n" + "".join(f"  s{i}:\n    cmd: echo {i} > o{i}.txt\n    outs: [o{i}.txt]\n" for i in range(50))
        for kind in ("cairn", "dvc"):
            project = root / f"trivial-{kind}"
            project.mkdir()
            (project / "dvc.yaml").write_text(stages)
        cairn_project = root / "trivial-cairn"
        first, run = cairn_run(url, cairn_project, jobs=2)
        assert run["status"] == "FINISHED", run
        forced = [cairn_run(url, cairn_project, jobs=2, force=True)[0] for _ in range(3)]
        serial = [cairn_run(url, cairn_project, jobs=1, force=True)[0] for _ in range(3)]
        nothing, run = cairn_run(url, cairn_project, jobs=2)
        print(f"cairn 50 stages: first {first:.3f}s; forced --jobs 2 median {statistics.median(forced):.3f}s; "
              f"forced --jobs 1 median {statistics.median(serial):.3f}s = {statistics.median(serial) / 50 * 1000:.1f} ms/stage; "
              f"nothing changed {nothing:.3f}s")
        if not args.skip_dvc:
            dvc_project = root / "trivial-dvc"
            subprocess.run([str(VENV_BIN / "dvc"), "init", "--no-scm", "-q"], cwd=dvc_project, check=True)
            dvc_first = timed([str(VENV_BIN / "dvc"), "repro", "-q"], dvc_project)
            dvc_forced = [timed([str(VENV_BIN / "dvc"), "repro", "-f", "-q"], dvc_project) for _ in range(2)]
            dvc_nothing = timed([str(VENV_BIN / "dvc"), "repro", "-q"], dvc_project)
            print(f"dvc 50 stages: first {dvc_first:.3f}s; forced median {statistics.median(dvc_forced):.3f}s "
                  f"= {statistics.median(dvc_forced) / 50 * 1000:.1f} ms/stage; nothing changed {dvc_nothing:.3f}s")

        # (a) warm status over a large dependency folder.
        for kind in ("cairn", "dvc"):
            project = root / f"status-{kind}"
            data = project / "data"
            for i in range(args.files):
                if i % 1000 == 0:
                    directory = data / f"d{i // 1000}"
                    directory.mkdir(parents=True)
                (directory / f"f{i}.txt").write_text(f"{i}\n")
            (project / "dvc.yaml").write_text(
                "stages:\n  count:\n    cmd: find data -type f | wc -l > count.txt\n    deps: [data]\n    outs: [count.txt]\n")
        cairn_project = root / "status-cairn"
        cold, run = cairn_run(url, cairn_project)
        assert run["status"] == "FINISHED", run
        name = cairn_project.name
        warm = []
        for _ in range(5):
            start = time.perf_counter()
            answer = requests.get(f"{url}/api/cairn/v1/pipelines/{name}/status", timeout=600).json()
            warm.append(time.perf_counter() - start)
            assert answer["stages"][0]["state"] == "up to date", answer
        cli = timed([args.cairn, "pipeline", "status", "--tracking-uri", url], cairn_project)
        print(f"cairn status over {args.files} files: first run (hash all) {cold:.2f}s; warm status median "
              f"{statistics.median(warm) * 1000:.0f} ms (API), {cli * 1000:.0f} ms (CLI, incl. process start)")
        if not args.skip_dvc:
            dvc_project = root / "status-dvc"
            subprocess.run([str(VENV_BIN / "dvc"), "init", "--no-scm", "-q"], cwd=dvc_project, check=True)
            dvc_cold = timed([str(VENV_BIN / "dvc"), "repro", "-q"], dvc_project)
            dvc_warm = [timed([str(VENV_BIN / "dvc"), "status", "-q"], dvc_project) for _ in range(3)]
            print(f"dvc status over {args.files} files: repro {dvc_cold:.2f}s; warm status median {statistics.median(dvc_warm) * 1000:.0f} ms; "
                  f"ratio {statistics.median(dvc_warm) / statistics.median(warm):.1f}x")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
