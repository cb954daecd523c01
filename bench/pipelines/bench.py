"""Cairn pipelines vs DVC on the same projects (see run.sh for what is measured).

Each scenario builds a fresh project directory used by both tools one after the other
(DVC's state lives in .dvc/, Cairn's in its server's data directory, so they do not see
each other's caches). Times are wall-clock medians of whole CLI invocations: what a user
waits for, start-up included.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CairnServer:
    def __init__(self, binary: str, work: Path):
        self.binary = binary
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(work / "cairn-server.log", "w")
        self.proc = subprocess.Popen(
            [binary, "server", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(work / "cairn-data")],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("cairn server did not start; see " + self.log.name)

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def run(cmd, cwd, env=None, check=True) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - start
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed in {cwd} ({done.returncode}):\n{done.stdout[-3000:]}")
    return elapsed


def output(cmd, cwd, env=None) -> str:
    return subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout


def median_time(cmd, cwd, repeat, env=None, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        times.append(run(cmd, cwd, env))
    return statistics.median(times)


def init_project(path: Path, dvc: str):
    path.mkdir(parents=True)
    # DVC needs a git repository or --no-scm; --no-scm keeps git out of both tools' timings.
    run([dvc, "init", "--no-scm", "-q"], path)
    run([dvc, "config", "core.analytics", "false"], path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--dvc", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--stages", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cairn-pipelines-bench."))
    server = CairnServer(args.cairn, work)
    env = dict(os.environ, MLFLOW_TRACKING_URI=server.url)
    cairn = args.cairn
    rows = []
    try:
        # (a) and (b): one stage over a folder of many small files.
        big = work / "big"
        init_project(big, args.dvc)
        data = big / "data"
        data.mkdir()
        for i in range(args.files):
            (data / f"f{i:06d}.txt").write_text(f"{i}\n")
        (big / "dvc.yaml").write_text(
            "stages:\n"
            "  count:\n"
            "    cmd: ls data | wc -l > count.txt\n"
            "    deps: [data]\n"
            "    outs: [count.txt]\n"
            "  report:\n"
            "    cmd: cat count.txt > report.txt\n"
            "    deps: [count.txt]\n"
            "    outs: [report.txt]\n")
        dvc_first = run([args.dvc, "repro", "-q"], big)
        cairn_first = run([cairn, "pipeline", "run"], big, env)
        run([args.dvc, "status"], big)  # warm DVC's state database
        run([cairn, "pipeline", "status"], big, env)
        dvc_status = median_time([args.dvc, "status"], big, args.repeat)
        cairn_status = median_time([cairn, "pipeline", "status"], big, args.repeat, env)
        rows.append(("(a) status, nothing changed, %d files, warm" % args.files, dvc_status, cairn_status))
        rows.append(("first run over %d files (hashing them)" % args.files, dvc_first, cairn_first))

        (data / "f000042.txt").write_text("changed\n")
        dvc_changed = run([args.dvc, "status"], big)
        cairn_changed = run([cairn, "pipeline", "status"], big, env)
        dvc_says = output([args.dvc, "status"], big)
        cairn_says = output([cairn, "pipeline", "status"], big, env)
        rows.append(("(b) status after one changed file", dvc_changed, cairn_changed))
        dvc_repro = run([args.dvc, "repro", "-q"], big)
        cairn_repro = run([cairn, "pipeline", "run"], big, env)
        rows.append(("(b) rerun after one changed file", dvc_repro, cairn_repro))

        # (c) and (d): many independent trivial stages.
        many = work / "many"
        init_project(many, args.dvc)
        lines = ["stages:"]
        for i in range(args.stages):
            lines += [f"  s{i:02d}:", f"    cmd: echo {i} > out{i:02d}.txt", f"    outs: [out{i:02d}.txt]"]
        (many / "dvc.yaml").write_text("\n".join(lines) + "\n")

        def clean_dvc():
            for p in many.glob("out*.txt"):
                p.unlink()
            (many / "dvc.lock").unlink(missing_ok=True)
            shutil.rmtree(many / ".dvc" / "cache", ignore_errors=True)

        def clean_outs():
            for p in many.glob("out*.txt"):
                p.unlink()

        dvc_many = median_time([args.dvc, "repro", "-q"], many, args.repeat, before=clean_dvc)
        cairn_many = median_time([cairn, "pipeline", "run", "--force", "--jobs", str(args.jobs)], many, args.repeat, env,
                                 before=clean_outs)
        # The fixed cost of one invocation with nothing to do, to split overhead per stage.
        (many / "empty").mkdir()
        init_project(many / "empty" / "p", args.dvc)
        (many / "empty" / "p" / "dvc.yaml").write_text("stages:\n  one:\n    cmd: echo > one.txt\n    outs: [one.txt]\n")
        cairn_one = median_time([cairn, "pipeline", "run", "--force"], many / "empty" / "p", args.repeat, env)
        rows.append((f"(c) {args.stages} trivial stages, full run (Cairn --jobs {args.jobs})", dvc_many, cairn_many))
        per_stage = (cairn_many - cairn_one) / (args.stages - 1) * args.jobs

        # (d): every output deleted; both restore every stage from their run cache.
        run([args.dvc, "repro", "-q"], many)
        run([cairn, "pipeline", "run"], many, env)
        dvc_hit = median_time([args.dvc, "repro", "-q"], many, args.repeat, before=clean_outs)
        cairn_hit = median_time([cairn, "pipeline", "run"], many, args.repeat, env, before=clean_outs)
        rows.append((f"(d) full cache-hit rerun, {args.stages} stages, outputs deleted", dvc_hit, cairn_hit))
    finally:
        server.stop()

    with open(args.out, "w") as f:
        f.write("| case | DVC 3.67.1 | Cairn | Cairn faster by |\n|---|---:|---:|---:|\n")
        for name, d, c in rows:
            f.write(f"| {name} | {d*1000:.0f} ms | {c*1000:.0f} ms | {d/c:.1f}× |\n")
        f.write(f"\nCairn per-stage overhead ({args.stages}-stage run minus a 1-stage run, per stage per slot): {per_stage*1000:.1f} ms\n")
        f.write(f"\n(b) what each tool reported after the change:\n\nDVC:\n```\n{dvc_says.strip()}\n```\nCairn:\n```\n{cairn_says.strip()}\n```\n")
    print(open(args.out).read())
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
