"""Pipelines end to end: `cairn pipeline …` (the real binary) against a live `cairn server`,
checked with the stock `mlflow` client. A pipeline run is an MLflow run in the experiment
`pipeline/<name>` with a nested run per stage; a second run with nothing changed executes no
stage; a server killed with -9 mid-run leaves a FAILED run that `resume` finishes without
redoing finished stages; bad input fails naming the stage and leaves nothing half-written.

Timeouts passed to subprocess are safety nets only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import mlflow
import pytest
import requests
from mlflow import MlflowClient

from conftest import REPO_ROOT, _free_port, _stop

pytestmark = pytest.mark.cairn_only  # Cairn's own pipeline API and CLI


def _binary() -> str:
    binary = Path(os.environ.get("CAIRN_BIN", ".build/debug/cairn"))
    return str(binary if binary.is_absolute() else REPO_ROOT / binary)


def cairn(url: str, *args: str, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, MLFLOW_TRACKING_URI=url)
    proc = subprocess.Popen([_binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"cairn {' '.join(args)} still running after {timeout} s\n{out.decode()}\n{err.decode()}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def api(url: str, path: str, method: str = "GET", **body):
    response = requests.request(method, f"{url}/api/cairn/v1/{path}", json=body if method != "GET" else None,
                                params=body if method == "GET" else None, timeout=30)
    return response


@pytest.fixture
def project():
    path = Path(tempfile.mkdtemp(prefix="cairn-pipeline-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


TRAIN_PIPELINE = """\
stages:
  prepare:
    cmd: echo run >> ../{name}.prepare.count && tr a-z A-Z < data.txt > prepared.txt
    deps: [data.txt]
    outs: [prepared.txt]
  train:
    cmd: >-
      echo run >> ../{name}.train.count &&
      python3 -c "import yaml,json; p=yaml.safe_load(open('params.yaml')); open('model.txt','w').write(open('prepared.txt').read()+str(p['lr'])); json.dump({{'acc': 0.5 + p['lr']}}, open('metrics.json','w'))"
    deps: [prepared.txt]
    params: [lr]
    outs: [model.txt]
    metrics:
      - metrics.json:
          cache: false
"""


def write_project(directory: Path, spec: str, **files: str) -> None:
    (directory / "dvc.yaml").write_text(textwrap.dedent(spec).format(name=directory.name))
    for name, text in files.items():
        (directory / name).write_text(text)


def count(directory: Path, stage: str) -> int:
    path = directory.parent / f"{directory.name}.{stage}.count"
    return len(path.read_text().splitlines()) if path.exists() else 0


def run_of(url: str, run_id: str) -> dict:
    answer = api(url, f"pipelines/runs/{run_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()["run"]


def test_a_run_is_an_mlflow_run_with_nested_stage_runs_and_a_rerun_executes_nothing(server_url, project):
    write_project(project, TRAIN_PIPELINE, **{"data.txt": "abc\n", "params.yaml": "lr: 0.1\n"})
    first = cairn(server_url, "pipeline", "run", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "stage prepare: FINISHED" in first.stdout and "stage train: FINISHED" in first.stdout
    assert (project / "model.txt").read_text() == "ABC\n0.1"
    assert "sha256:" in (project / "cairn.lock").read_text()
    run_id = first.stdout.splitlines()[0].split()[1]

    client = MlflowClient(server_url)
    experiment = client.get_experiment_by_name(f"pipeline/{project.name}")
    runs = mlflow.search_runs(experiment_ids=[experiment.experiment_id], output_format="list")
    by_id = {run.info.run_id: run for run in runs}
    parent = by_id[run_id]
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["cairn.pipeline"] == project.name
    assert parent.data.tags["cairn.trigger"] == "manual"
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == run_id]
    assert sorted(run.data.tags["cairn.stage"] for run in children) == ["prepare", "train"]
    train = next(run for run in children if run.data.tags["cairn.stage"] == "train")
    assert train.data.params == {"lr": "0.1"}
    assert train.data.metrics["acc"] == pytest.approx(0.6)
    assert train.data.tags["cairn.cache_hit"] == "false"
    assert train.data.tags["cairn.cache_key"].startswith("v1:")
    artifacts = {item.path for item in client.list_artifacts(train.info.run_id)}
    assert {"stdout.txt", "stderr.txt", "cairn.lock"} <= artifacts
    nested = mlflow.search_runs(experiment_ids=[experiment.experiment_id],
                                filter_string=f"tags.mlflow.parentRunId = '{run_id}'", output_format="list")
    assert len(nested) == 2

    second = cairn(server_url, "pipeline", "run", cwd=project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert count(project, "prepare") == 1 and count(project, "train") == 1
    rerun = run_of(server_url, second.stdout.splitlines()[0].split()[1])
    assert all(stage["cache_hit"] for stage in rerun["stages"]), rerun

    status = cairn(server_url, "pipeline", "status", cwd=project)
    assert status.returncode == 0 and "is up to date" in status.stdout, status.stdout

    (project / "params.yaml").write_text("lr: 0.2\n")
    why = cairn(server_url, "pipeline", "status", "--why", cwd=project)
    lines = {line.split()[0]: line for line in why.stdout.splitlines() if line.strip()}
    assert "up to date" in lines["prepare"], why.stdout
    # metrics.json has cache: false, so train's outputs are not stored (DVC's rule), and status says so.
    assert "stale (uncacheable: out metrics.json has cache: false) — params: lr 0.1 → 0.2" in lines["train"], why.stdout


def test_bad_input_fails_naming_the_stage_and_leaves_nothing_half_written(server_url, project):
    (project / "dvc.yaml").write_text("stages:\n  a:\n    cmd: true\n    outz: [x]\n")
    malformed = cairn(server_url, "pipeline", "run", cwd=project)
    assert malformed.returncode != 0
    assert "dvc.yaml:4" in malformed.stderr, malformed.stderr

    (project / "dvc.yaml").write_text(
        "stages:\n  a:\n    cmd: cp b.txt a.txt\n    deps: [b.txt]\n    outs: [a.txt]\n"
        "  b:\n    cmd: cp a.txt b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n")
    cycle = cairn(server_url, "pipeline", "run", cwd=project)
    assert cycle.returncode != 0 and "cycle" in cycle.stderr, cycle.stderr

    write_project(project, """\
        stages:
          ok:
            cmd: echo fine > ok.txt
            outs: [ok.txt]
          fails:
            cmd: exit 7
            deps: [ok.txt]
            outs: [never.txt]
        """)
    failed = cairn(server_url, "pipeline", "run", cwd=project)
    assert failed.returncode != 0
    assert "stage 'fails' failed: exited with status 7" in failed.stdout, failed.stdout
    lock = (project / "cairn.lock").read_text()
    assert "ok" in lock and "fails" not in lock

    write_project(project, """\
        stages:
          lazy:
            cmd: echo nothing
            outs: [missing.txt]
        """)
    lazy = cairn(server_url, "pipeline", "run", cwd=project)
    assert lazy.returncode != 0
    assert "stage 'lazy' failed: the command did not write its out missing.txt" in lazy.stdout, lazy.stdout
    assert "lazy" not in (project / "cairn.lock").read_text()

    write_project(project, """\
        stages:
          hang:
            cmd: sleep 60
            outs: [never.txt]
            timeout: 1
        """)
    started = time.monotonic()
    hang = cairn(server_url, "pipeline", "run", cwd=project)
    assert hang.returncode != 0
    assert "stage 'hang' failed: timed out after 1s" in hang.stdout, hang.stdout
    assert time.monotonic() - started < 30


def _start_server(port: int, data_dir: Path, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
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


def _wait(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_a_server_killed_mid_run_leaves_a_failed_run_that_resume_finishes(project):
    data_dir = Path(tempfile.mkdtemp(prefix="cairn-kill9-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    write_project(project, """\
        stages:
          first:
            cmd: echo run >> ../{name}.first.count && cp data.txt first.txt
            deps: [data.txt]
            outs: [first.txt]
          second:
            cmd: >-
              echo run >> ../{name}.second.count && echo $$ > ../{name}.second.pid &&
              while [ ! -e ../{name}.release ]; do sleep 0.1; done && cp first.txt second.txt
            deps: [first.txt]
            outs: [second.txt]
        """, **{"data.txt": "data\n"})
    proc = _start_server(port, data_dir, log)
    try:
        started = cairn(url, "pipeline", "run", "--detach", cwd=project)
        assert started.returncode == 0, started.stderr
        run_id = started.stdout.strip()
        pid_file = project.parent / f"{project.name}.second.pid"
        _wait(lambda: pid_file.exists() and pid_file.read_text().strip(), "the second stage to start")
        stage_pid = int(pid_file.read_text().strip())

        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc = _start_server(port, data_dir, log)

        interrupted = _wait(lambda: (lambda run: run if run["status"] != "RUNNING" else None)(run_of(url, run_id)),
                            "the interrupted run to be marked")
        assert interrupted["status"] == "FAILED"
        assert interrupted["reason"] == "interrupted: the server stopped"
        stages = {stage["stage"]: stage for stage in interrupted["stages"]}
        assert stages["first"]["status"] == "FINISHED"
        assert stages["second"]["status"] == "FAILED"
        # The orphaned stage process was killed by the restarted server.
        _wait(lambda: not os.path.exists(f"/proc/{stage_pid}") or
              open(f"/proc/{stage_pid}/stat").read().split()[2] == "Z", "the orphaned stage to die")
        parent = MlflowClient(url).get_run(run_id)
        assert parent.info.status == "FAILED"

        (project.parent / f"{project.name}.release").write_text("")
        resumed = cairn(url, "pipeline", "resume", run_id, cwd=project)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert count(project, "first") == 1
        assert count(project, "second") == 2
        new_id = resumed.stdout.splitlines()[0].split()[1]
        new_run = run_of(url, new_id)
        assert new_run["resumed_from"] == run_id
        stages = {stage["stage"]: stage for stage in new_run["stages"]}
        assert stages["first"]["cache_hit"] is True
        assert (project / "second.txt").read_text() == "data\n"
    finally:
        _stop(proc)
        for suffix in ("release", "second.pid", "first.count", "second.count"):
            (project.parent / f"{project.name}.{suffix}").unlink(missing_ok=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_api_errors(server_url, project):
    assert api(server_url, "pipelines/nope").status_code == 404
    assert api(server_url, "pipelines/nope").json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api(server_url, "pipelines/runs/0123456789abcdef0123456789abcdef").status_code == 404
    relative = api(server_url, "pipelines", "POST", project_dir="relative/dir")
    assert relative.status_code == 400 and relative.json()["error_code"] == "INVALID_PARAMETER_VALUE"

    write_project(project, """\
        stages:
          wait:
            cmd: while [ ! -e ../{name}.go ]; do sleep 0.1; done; touch done.txt
            outs: [done.txt]
        """)
    registered = api(server_url, "pipelines", "POST", project_dir=str(project))
    assert registered.status_code == 200, registered.text
    name = registered.json()["pipeline"]["name"]
    first = api(server_url, f"pipelines/{name}/runs", "POST")
    assert first.status_code == 200, first.text
    second = api(server_url, f"pipelines/{name}/runs", "POST")
    assert second.status_code == 409 and second.json()["error_code"] == "RESOURCE_CONFLICT", second.text
    run_id = first.json()["run"]["run_id"]
    cancelled = api(server_url, f"pipelines/runs/{run_id}/cancel", "POST")
    assert cancelled.status_code == 200 and cancelled.json()["cancelled"] is True
    ended = _wait(lambda: (lambda run: run if run["status"] != "RUNNING" else None)(run_of(server_url, run_id)), "the cancel")
    assert ended["status"] == "KILLED"
    assert api(server_url, f"pipelines/runs/{run_id}/stages/nope/logs").status_code == 404


def test_backfill_stores_one_event_per_tick_and_the_first_runs(server_url, project):
    """`cairn pipeline backfill` is the explicit catch-up a schedule never does by itself."""
    # The stage waits for a gate file and always runs (no cache hit), so the first tick's run is
    # still going while the later ticks are dispatched: they must queue, however fast the machine.
    write_project(project, """\
        schedule: "0 * * * *"
        stages:
          hello:
            cmd: while [ ! -e ../{name}.go ]; do sleep 0.05; done; echo hi > out.txt
            always_changed: true
            outs: [out.txt]
        """)
    gate = project.parent / f"{project.name}.go"
    gate.touch()
    assert cairn(server_url, "pipeline", "run", cwd=project).returncode == 0
    gate.unlink()
    name = project.name
    done = cairn(server_url, "pipeline", "backfill", name, "--from", "2026-12-01T00:00:00Z", "--to", "2026-12-01T02:30:00Z")
    gate.touch()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "3 ticks"
    assert [line.split()[0] for line in lines[:3]] == [f"backfill:2026-12-01T0{h}:00Z" for h in range(3)]
    assert lines[0].split()[1] == "started"
    # Concurrency 1: the later ticks queue behind the first, then every tick runs, in tick order.
    assert [line.split()[1] for line in lines[1:3]] == ["queued", "queued"], done.stdout

    def all_ran():
        events = [e for e in api(server_url, f"pipelines/{name}/events").json()["events"] if e["kind"] == "backfill"]
        assert all(e["state"] != "skipped" for e in events), events
        if len(events) != 3 or any(e["state"] != "started" for e in events):
            return None
        runs = [run_of(server_url, e["run_id"]) for e in sorted(events, key=lambda e: e["dedupe_key"])]
        return runs if all(r["status"] != "RUNNING" for r in runs) else None

    runs = _wait(all_ran, "every backfill tick to run")
    assert [r["status"] for r in runs] == ["FINISHED"] * 3
    assert all(earlier["end_time"] <= later["start_time"] for earlier, later in zip(runs, runs[1:])), runs

    bad = cairn(server_url, "pipeline", "backfill", name, "--from", "yesterday", "--to", "today")
    assert bad.returncode != 0 and "ISO 8601" in bad.stderr
    missing = cairn(server_url, "pipeline", "backfill", "no-such-pipeline", "--from", "0", "--to", "1")
    assert missing.returncode != 0 and "RESOURCE_DOES_NOT_EXIST" in missing.stderr
