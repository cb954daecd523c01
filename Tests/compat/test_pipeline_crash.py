"""Triggers across a kill -9: an event stored but not yet acted on when the server died runs
after restart, once. (A run killed mid-stage and resumed without redoing finished stages is
test_pipelines.py::test_a_server_killed_mid_run_leaves_a_failed_run_that_resume_finishes.)
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import _free_port, _stop
from test_pipelines import _start_server, _wait, cairn, count, project, run_of, write_project  # noqa: F401  (fixture)

pytestmark = pytest.mark.cairn_only  # Cairn's pipelines and triggers.


def test_a_trigger_event_stored_just_before_a_kill_9_runs_after_restart(project):  # noqa: F811
    data_dir = Path(tempfile.mkdtemp(prefix="cairn-trigger-kill9-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    write_project(project, """\
        stages:
          copy:
            cmd: echo run >> ../{name}.copy.count && cp data.txt copy.txt
            deps: [data.txt]
            outs: [copy.txt]
        """, **{"data.txt": "one\n"})
    pipeline = project.name
    proc = _start_server(port, data_dir, log)
    try:
        first = cairn(url, "pipeline", "run", cwd=project)
        assert first.returncode == 0, first.stdout + first.stderr
        assert count(project, "copy") == 1
        (project / "data.txt").write_text("two\n")

        # The crash window: a source stored the event (pending) and the process died before
        # dispatching it. Nothing outside the process can hit that instant on cue, so the
        # killed server's database is given the row the recorder writes first.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        event_id = str(uuid.uuid4())
        with sqlite3.connect(data_dir / "cairn.db") as db:
            db.execute(
                "INSERT INTO cairn_trigger_events (event_id, pipeline, kind, dedupe_key, payload, received_at, state)"
                " VALUES (?, ?, 'monitor_alert', ?, '{}', ?, 'pending')",
                (event_id, pipeline, f"alert:{event_id}", int(time.time() * 1000)))
        proc = _start_server(port, data_dir, log)

        def started():
            events = requests.get(f"{url}/api/cairn/v1/pipelines/{pipeline}/events", timeout=30).json()["events"]
            event = next(e for e in events if e["event_id"] == event_id)
            assert event["state"] != "skipped", event
            return event if event["state"] == "started" else None

        event = _wait(started, "the replayed event to start its run", timeout=120)
        run = _wait(lambda: (lambda r: r if r["status"] != "RUNNING" else None)(run_of(url, event["run_id"])),
                    "the replayed event's run to end", timeout=120)
        assert run["status"] == "FINISHED", run
        assert run["trigger"] == "monitor_alert" and run["trigger_event_id"] == event_id
        assert (project / "copy.txt").read_text() == "two\n"
        assert count(project, "copy") == 2

        # Once started, it is not replayed again by the next start-up.
        _stop(proc)
        proc = _start_server(port, data_dir, log)
        runs = requests.get(f"{url}/api/cairn/v1/pipelines/{pipeline}/runs", timeout=30).json()["runs"]
        assert sum(r.get("trigger_event_id") == event_id for r in runs) == 1
        assert count(project, "copy") == 2
    finally:
        _stop(proc)
        (project.parent / f"{project.name}.copy.count").unlink(missing_ok=True)
        shutil.rmtree(data_dir, ignore_errors=True)
