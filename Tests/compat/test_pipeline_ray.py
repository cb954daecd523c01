"""Pipelines on Ray: `cairn server --ray-address` runs `executor: ray` stages as Ray jobs on a
real head (`CAIRN_TEST_RAY_ADDRESS`, token from `RAY_AUTH_TOKEN`; `.ci/run` starts one, and
`CAIRN_REQUIRE_RAY=1` makes its absence a failure). Without a Ray head configured, a spec that
names `ray` is refused at run start, naming the stage.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import _free_port, _stop
from test_pipelines import _binary, cairn, count, project, run_of, write_project  # noqa: F401  (fixture)

pytestmark = pytest.mark.cairn_only  # Cairn's executors.

RAY_ADDRESS = os.environ.get("CAIRN_TEST_RAY_ADDRESS", "").strip()

RAY_PIPELINE = """\
stages:
  prepare:
    cmd: echo run >> ../{name}.prepare.count && tr a-z A-Z < data.txt > prepared.txt
    deps: [data.txt]
    outs: [prepared.txt]
    executor: ray
    resources: {{cpus: 1}}
  count:
    foreach: [1, 2]
    do:
      cmd: echo run >> ../{name}.count.count && python3 -c "import sys; t=open('prepared.txt').read(); open('count-${{item}}.txt','w').write(str(len(t) * ${{item}}))"
      deps: [prepared.txt]
      outs:
        - count-${{item}}.txt
      executor: ray
  local:
    cmd: cat count-1.txt count-2.txt > both.txt
    deps: [count-1.txt, count-2.txt]
    outs: [both.txt]
"""


def test_a_spec_naming_ray_is_refused_at_run_start_when_no_head_is_configured(server_url, project):  # noqa: F811
    write_project(project, RAY_PIPELINE, **{"data.txt": "abc\n"})
    refused = cairn(server_url, "pipeline", "run", cwd=project)
    assert refused.returncode != 0
    assert "stage 'prepare'" in refused.stderr and "executor 'ray'" in refused.stderr, refused.stderr
    assert "--ray-address" in refused.stderr, refused.stderr
    assert count(project, "prepare") == 0 and not (project / "prepared.txt").exists()


def _start_server(port: int, data_dir: Path, log: Path, *extra: str) -> subprocess.Popen:
    with open(log, "ab") as out:
        proc = subprocess.Popen([_binary(), "server", "--port", str(port), "--data-dir", str(data_dir), *extra],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"cairn server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)  # start-up wait only
    _stop(proc)
    pytest.fail(f"cairn server did not come up:\n{log.read_text(errors='replace')}")


@pytest.fixture
def ray_server():
    if not RAY_ADDRESS:
        if os.environ.get("CAIRN_REQUIRE_RAY") == "1":
            pytest.fail("CAIRN_REQUIRE_RAY=1 but CAIRN_TEST_RAY_ADDRESS is not set")
        pytest.skip("no Ray head: set CAIRN_TEST_RAY_ADDRESS (and RAY_AUTH_TOKEN when it uses token auth)")
    data_dir = Path(tempfile.mkdtemp(prefix="cairn-ray-server-"))
    port = _free_port()
    proc = _start_server(port, data_dir, data_dir / "server.log", "--ray-address", RAY_ADDRESS)
    try:
        yield f"http://127.0.0.1:{port}", data_dir / "server.log"
    finally:
        _stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_a_pipeline_runs_on_ray_with_the_cache_and_a_failing_stage_reports_its_exit_code(ray_server, project):  # noqa: F811
    url, log = ray_server
    write_project(project, RAY_PIPELINE, **{"data.txt": "abc\n"})
    try:
        first = cairn(url, "pipeline", "run", cwd=project, timeout=600)
        assert first.returncode == 0, first.stdout + first.stderr + log.read_text(errors="replace")[-4000:]
        assert (project / "both.txt").read_text() == "48"
        assert count(project, "prepare") == 1 and count(project, "count") == 2
        run = run_of(url, first.stdout.splitlines()[0].split()[1])
        stages = {s["stage"]: s for s in run["stages"]}
        # Ray stages carry their job's submission id (run, stage, attempt); the local one a pid.
        assert stages["prepare"]["job_id"] == f"cairn-{run['run_id']}-prepare-1", stages
        assert all(stages[name]["job_id"].startswith(f"cairn-{run['run_id']}-count") for name in ("count@1", "count@2")), stages
        assert stages["local"]["job_id"].isdigit(), stages
        jobs = requests.get(f"{RAY_ADDRESS}/api/jobs/", timeout=30,
                            headers={"Authorization": f"Bearer {os.environ['RAY_AUTH_TOKEN']}"}
                            if os.environ.get("RAY_AUTH_TOKEN") else {}).json()
        assert {job["submission_id"]: job["status"] for job in jobs}[stages["prepare"]["job_id"]] == "SUCCEEDED"

        again = cairn(url, "pipeline", "run", cwd=project, timeout=600)
        assert again.returncode == 0, again.stdout + again.stderr
        rerun = run_of(url, again.stdout.splitlines()[0].split()[1])
        assert all(s["cache_hit"] for s in rerun["stages"]), rerun["stages"]
        assert count(project, "prepare") == 1 and count(project, "count") == 2

        # A changed dep reruns only what depends on it; the cache restores the rest.
        (project / "data.txt").write_text("abcdef\n")
        third = cairn(url, "pipeline", "run", cwd=project, timeout=600)
        assert third.returncode == 0, third.stdout + third.stderr
        assert (project / "both.txt").read_text() == "714"
        assert count(project, "prepare") == 2 and count(project, "count") == 4

        write_project(project, """\
            stages:
              fails:
                cmd: echo about to fail && exit 7
                outs: [never.txt]
                executor: ray
            """)
        failed = cairn(url, "pipeline", "run", cwd=project, timeout=600)
        assert failed.returncode != 0
        assert "stage 'fails' failed" in failed.stdout and "7" in failed.stdout, failed.stdout
        failed_run = run_of(url, failed.stdout.splitlines()[0].split()[1])
        assert failed_run["status"] == "FAILED"
        assert "7" in {s["stage"]: s for s in failed_run["stages"]}["fails"]["reason"]
    finally:
        for stage in ("prepare", "count"):
            (project.parent / f"{project.name}.{stage}.count").unlink(missing_ok=True)
