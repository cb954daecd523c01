"""Runs, params, metrics and tags through MlflowClient."""

from __future__ import annotations

import math
import re

from mlflow.entities import Metric, RunStatus
from mlflow.exceptions import MlflowException

from compat_helpers import is_huge, is_nan, now_ms, raises_mlflow

MISSING_RUN = "0123456789abcdef0123456789abcdef"


# --- lifecycle ---------------------------------------------------------------------------------

def test_create_and_get_run(client, exp_id):
    start = now_ms()
    run = client.create_run(exp_id, start_time=start, run_name="first",
                            tags={"team": "ml", "note": "hello world"})
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id), info.run_id
    assert info.experiment_id == exp_id
    assert info.run_name == "first"
    assert info.status == "RUNNING"
    assert info.lifecycle_stage == "active"
    assert info.start_time == start
    assert info.end_time is None
    assert info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{info.run_id}/artifacts"
    assert run.data.tags["team"] == "ml"
    assert run.data.tags["mlflow.runName"] == "first"

    got = client.get_run(info.run_id)
    assert got.info.run_id == info.run_id
    assert got.info.run_name == "first"
    assert got.info.start_time == start
    assert got.info.status == "RUNNING"
    assert got.data.tags == {"team": "ml", "note": "hello world", "mlflow.runName": "first"}
    assert got.data.params == {} and got.data.metrics == {}
    assert got.inputs.dataset_inputs == []


def test_run_without_name_gets_generated_name(client, exp_id):
    run = client.create_run(exp_id)
    assert run.info.run_name
    assert run.data.tags["mlflow.runName"] == run.info.run_name
    assert client.get_run(run.info.run_id).info.run_name == run.info.run_name


def test_run_name_and_tag_mismatch_raises(client, exp_id):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_run(exp_id, run_name="a", tags={"mlflow.runName": "b"})


def test_create_run_in_missing_experiment_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.create_run("987654321")


def test_get_missing_run_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_run(MISSING_RUN)


def test_update_and_terminate(client, exp_id):
    run = client.create_run(exp_id, run_name="before")
    rid = run.info.run_id
    client.update_run(rid, name="after")
    got = client.get_run(rid)
    assert got.info.run_name == "after"
    assert got.data.tags["mlflow.runName"] == "after"
    assert got.info.status == "RUNNING"

    end = run.info.start_time + 5000
    client.set_terminated(rid, status="FAILED", end_time=end)
    got = client.get_run(rid)
    assert got.info.status == "FAILED"
    assert got.info.end_time == end

    client.update_run(rid, status="RUNNING")
    assert client.get_run(rid).info.status == "RUNNING"
    client.set_terminated(rid)  # FINISHED, end_time = now
    got = client.get_run(rid)
    assert got.info.status == "FINISHED"
    assert got.info.end_time >= run.info.start_time


def test_all_statuses_round_trip(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    for status in ("SCHEDULED", "FINISHED", "FAILED", "KILLED", "RUNNING"):
        client.update_run(rid, status=status)
        assert client.get_run(rid).info.status == status
        assert RunStatus.from_string(status) is not None


def test_finished_run_still_accepts_logging(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.set_terminated(rid)
    client.log_metric(rid, "late", 1.0)
    client.log_param(rid, "late", "x")
    client.set_tag(rid, "late", "y")
    data = client.get_run(rid).data
    assert data.metrics["late"] == 1.0 and data.params["late"] == "x" and data.tags["late"] == "y"


def test_delete_and_restore_run(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.delete_run(rid)
    got = client.get_run(rid)  # deleted runs stay readable
    assert got.info.lifecycle_stage == "deleted"
    client.delete_run(rid)  # deleting again is accepted
    client.restore_run(rid)
    assert client.get_run(rid).info.lifecycle_stage == "active"
    client.restore_run(rid)  # restoring an active run is accepted


def test_delete_restore_missing_run_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_run(MISSING_RUN)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.restore_run(MISSING_RUN)


# --- params ------------------------------------------------------------------------------------

def test_params_are_immutable(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_param(rid, "lr", "0.1")
    client.log_param(rid, "lr", "0.1")  # same value again is fine
    # log_param re-wraps the server's RestException into a plain MlflowException.
    with raises_mlflow("INVALID_PARAMETER_VALUE", exc_type=MlflowException):
        client.log_param(rid, "lr", "0.2")
    assert client.get_run(rid).data.params == {"lr": "0.1"}


def test_param_values_are_strings(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_param(rid, "int", 3)
    client.log_param(rid, "float", 0.5)
    client.log_param(rid, "none", None)
    client.log_param(rid, "empty", "")
    client.log_param(rid, "unicode", "héllo ✓")
    assert client.get_run(rid).data.params == {
        "int": "3", "float": "0.5", "none": "None", "empty": "", "unicode": "héllo ✓"}


def test_log_param_to_missing_run_raises(client):
    # Only INVALID_PARAMETER_VALUE is re-wrapped by log_param; this stays a RestException.
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.log_param(MISSING_RUN, "k", "v")


# --- metrics -----------------------------------------------------------------------------------

def test_metric_steps_timestamps_and_latest(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t0 = now_ms()
    client.log_metric(rid, "loss", 3.0, timestamp=t0, step=0)
    client.log_metric(rid, "loss", 1.0, timestamp=t0 + 10, step=2)
    client.log_metric(rid, "loss", 2.0, timestamp=t0 + 20, step=1)  # older step, newer time
    client.log_metric(rid, "acc", 0.5)
    # The run's latest value is the one with the highest (step, timestamp, value).
    assert client.get_run(rid).data.metrics == {"loss": 1.0, "acc": 0.5}
    hist = client.get_metric_history(rid, "loss")
    assert [(m.value, m.timestamp, m.step) for m in hist] == [
        (3.0, t0, 0), (1.0, t0 + 10, 2), (2.0, t0 + 20, 1)]
    assert all(m.key == "loss" for m in hist)
    acc = client.get_metric_history(rid, "acc")
    assert len(acc) == 1 and acc[0].step == 0 and acc[0].timestamp > 0


def test_metric_latest_ties_broken_by_timestamp_then_value(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t0 = now_ms()
    client.log_metric(rid, "m", 5.0, timestamp=t0 + 1, step=3)
    client.log_metric(rid, "m", 9.0, timestamp=t0, step=3)
    assert client.get_run(rid).data.metrics["m"] == 5.0
    client.log_metric(rid, "m", 7.0, timestamp=t0 + 1, step=3)
    assert client.get_run(rid).data.metrics["m"] == 7.0


def test_metric_special_values_round_trip(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_metric(rid, "nan", float("nan"))
    client.log_metric(rid, "pinf", float("inf"))
    client.log_metric(rid, "ninf", float("-inf"))
    client.log_metric(rid, "neg", -1.5e-300)
    client.log_metric(rid, "zero", 0.0)
    client.log_metric(rid, "int", 7)
    m = client.get_run(rid).data.metrics
    assert is_nan(m["nan"])
    assert is_huge(m["pinf"], +1)
    assert is_huge(m["ninf"], -1)
    assert m["neg"] == -1.5e-300
    assert m["zero"] == 0.0
    assert m["int"] == 7.0
    assert is_nan(client.get_metric_history(rid, "nan")[0].value)
    assert is_huge(client.get_metric_history(rid, "pinf")[0].value, +1)
    assert is_huge(client.get_metric_history(rid, "ninf")[0].value, -1)


def test_same_metric_point_logged_twice(client, exp_id):
    # The client retries writes, so re-sending an identical point must succeed.
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    client.log_metric(rid, "m", 1.0, timestamp=t, step=1)
    client.log_metric(rid, "m", 1.0, timestamp=t, step=1)
    hist = client.get_metric_history(rid, "m")
    assert {(h.value, h.timestamp, h.step) for h in hist} == {(1.0, t, 1)}


def test_large_step_and_timestamp(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    big_step = 2**53 + 2
    big_ts = 2**45
    client.log_metric(rid, "m", 1.0, timestamp=big_ts, step=big_step)
    (h,) = client.get_metric_history(rid, "m")
    assert h.step == big_step and h.timestamp == big_ts


def test_invalid_metric_name_raises(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_metric(rid, "bad!key", 1.0)


def test_metric_history_of_unknown_key_or_run_is_empty(client, exp_id):
    # The reference answers get-history for an unknown key or run with 200 and no metrics.
    rid = client.create_run(exp_id).info.run_id
    assert client.get_metric_history(rid, "never-logged") == []
    assert client.get_metric_history(MISSING_RUN, "m") == []


def test_log_metric_to_missing_run_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.log_metric(MISSING_RUN, "m", 1.0)


# --- tags --------------------------------------------------------------------------------------

def test_tags_set_overwrite_delete(client, exp_id):
    rid = client.create_run(exp_id, run_name="tagged").info.run_id
    client.set_tag(rid, "a", "1")
    client.set_tag(rid, "b", "2")
    client.set_tag(rid, "a", "1b")  # upsert
    client.set_tag(rid, "num", 5)
    assert client.get_run(rid).data.tags == {
        "a": "1b", "b": "2", "num": "5", "mlflow.runName": "tagged"}
    client.delete_tag(rid, "a")
    assert "a" not in client.get_run(rid).data.tags


def test_delete_missing_tag_raises(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_tag(rid, "never-set")


def test_set_run_name_tag_renames_run(client, exp_id):
    rid = client.create_run(exp_id, run_name="orig").info.run_id
    client.set_tag(rid, "mlflow.runName", "renamed")
    assert client.get_run(rid).info.run_name == "renamed"


def test_set_tag_on_missing_run_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.set_tag(MISSING_RUN, "k", "v")


# --- deletion semantics ------------------------------------------------------------------------

def test_no_logging_to_deleted_run(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_param(rid, "kept", "1")
    client.delete_run(rid)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_metric(rid, "m", 1.0)
    with raises_mlflow("INVALID_PARAMETER_VALUE", exc_type=MlflowException):
        client.log_param(rid, "p", "1")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.set_tag(rid, "t", "1")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_batch(rid, metrics=[Metric("m", 1.0, now_ms(), 0)])
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.set_terminated(rid)
    client.restore_run(rid)
    client.log_metric(rid, "m", 1.0)
    data = client.get_run(rid).data
    assert data.params == {"kept": "1"} and data.metrics == {"m": 1.0}


def test_deleting_experiment_deletes_its_runs(client, exp_id):
    r1 = client.create_run(exp_id).info.run_id
    r2 = client.create_run(exp_id).info.run_id
    client.delete_experiment(exp_id)
    assert client.get_run(r1).info.lifecycle_stage == "deleted"
    assert client.get_run(r2).info.lifecycle_stage == "deleted"
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_run(exp_id)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_metric(r1, "m", 1.0)
    client.restore_experiment(exp_id)
    assert client.get_run(r1).info.lifecycle_stage == "active"
    client.log_metric(r1, "m", 1.0)
    client.create_run(exp_id)


def test_nan_metric_equality_semantics(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_metric(rid, "m", float("nan"), step=0)
    client.log_metric(rid, "m", 1.0, step=1)
    hist = client.get_metric_history(rid, "m")
    assert len(hist) == 2
    assert math.isnan(hist[0].value) and hist[1].value == 1.0


def test_update_missing_run_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.update_run(MISSING_RUN, status="FINISHED")


def test_search_runs_in_missing_experiment_is_empty(client):
    assert list(client.search_runs(["987654321"])) == []


def test_restoring_experiment_restores_all_its_runs(client, exp_id):
    # Reference behaviour: restore_experiment reactivates every run of the experiment, including
    # one that had been deleted on its own before the experiment was deleted.
    early = client.create_run(exp_id).info.run_id
    other = client.create_run(exp_id).info.run_id
    client.delete_run(early)
    client.delete_experiment(exp_id)
    client.restore_experiment(exp_id)
    assert client.get_run(early).info.lifecycle_stage == "active"
    assert client.get_run(other).info.lifecycle_stage == "active"
