"""The fluent API (mlflow.start_run & co.), which is how most users reach the server."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from compat_helpers import raises_mlflow


def test_start_run_logs_and_finishes(exp_id):
    with mlflow.start_run(experiment_id=exp_id, run_name="fluent",
                          tags={"stage": "dev"}, description="a run") as run:
        rid = run.info.run_id
        assert mlflow.active_run().info.run_id == rid
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"beta": 1, "gamma": "g"})
        mlflow.log_metric("loss", 0.9, step=0)
        mlflow.log_metric("loss", 0.4, step=1)
        mlflow.log_metrics({"acc": 0.8, "f1": 0.7}, step=1)
        mlflow.set_tag("owner", "me")
        mlflow.set_tags({"a": "1", "b": 2})
    assert mlflow.active_run() is None
    got = mlflow.get_run(rid)
    assert got.info.status == "FINISHED"
    assert got.info.end_time is not None and got.info.end_time >= got.info.start_time
    assert got.info.run_name == "fluent"
    assert got.info.experiment_id == exp_id
    assert got.data.params == {"alpha": "0.5", "beta": "1", "gamma": "g"}
    assert got.data.metrics == {"loss": 0.4, "acc": 0.8, "f1": 0.7}
    tags = got.data.tags
    assert tags["stage"] == "dev" and tags["owner"] == "me" and tags["a"] == "1" and tags["b"] == "2"
    assert tags["mlflow.note.content"] == "a run"
    assert tags["mlflow.runName"] == "fluent"
    assert "mlflow.user" in tags and "mlflow.source.name" in tags
    assert mlflow.last_active_run().info.run_id == rid


def test_exception_marks_run_failed(exp_id):
    with pytest.raises(ZeroDivisionError):
        with mlflow.start_run(experiment_id=exp_id) as run:
            1 / 0
    assert mlflow.get_run(run.info.run_id).info.status == "FAILED"


def test_end_run_with_status(exp_id):
    run = mlflow.start_run(experiment_id=exp_id)
    mlflow.end_run(status="KILLED")
    assert mlflow.get_run(run.info.run_id).info.status == "KILLED"


def test_resume_run(exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_metric("m", 1.0, step=0)
    rid = run.info.run_id
    assert mlflow.get_run(rid).info.status == "FINISHED"
    with mlflow.start_run(run_id=rid):
        assert mlflow.get_run(rid).info.status == "RUNNING"
        mlflow.log_metric("m", 2.0, step=1)
    got = mlflow.get_run(rid)
    assert got.info.status == "FINISHED"
    assert got.data.metrics == {"m": 2.0}


def test_nested_runs(client, exp_id):
    with mlflow.start_run(experiment_id=exp_id, run_name="parent") as parent:
        # Nested runs do not inherit the parent's experiment: the client sends the active
        # (here: default) experiment unless told otherwise.
        with mlflow.start_run(experiment_id=exp_id, run_name="child-1", nested=True) as c1:
            pass
        with mlflow.start_run(experiment_id=exp_id, run_name="child-2", nested=True) as c2:
            pass
    pid = parent.info.run_id
    for child in (c1, c2):
        got = mlflow.get_run(child.info.run_id)
        assert got.data.tags["mlflow.parentRunId"] == pid
        assert got.info.experiment_id == exp_id
    kids = client.search_runs([exp_id], f"tags.mlflow.parentRunId = '{pid}'",
                              order_by=["attributes.run_name"])
    assert [r.info.run_name for r in kids] == ["child-1", "child-2"]


def test_fluent_param_conflict_raises(exp_id):
    with mlflow.start_run(experiment_id=exp_id):
        mlflow.log_param("p", "1")
        with raises_mlflow("INVALID_PARAMETER_VALUE", exc_type=MlflowException):
            mlflow.log_param("p", "2")
        with raises_mlflow("INVALID_PARAMETER_VALUE"):
            mlflow.log_params({"p": "3"})


def test_set_experiment_by_name_creates_it(client, unique):
    name = f"fluent-set-{unique}"
    assert client.get_experiment_by_name(name) is None
    try:
        exp = mlflow.set_experiment(name)
        assert exp.name == name
        assert client.get_experiment_by_name(name).experiment_id == exp.experiment_id
        assert mlflow.set_experiment(name).experiment_id == exp.experiment_id  # now found
        with mlflow.start_run() as run:
            pass
        assert run.info.experiment_id == exp.experiment_id
    finally:
        mlflow.set_experiment(experiment_id="0")


def test_start_run_without_experiment_uses_default(client):
    mlflow.set_experiment(experiment_id="0")
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == "0"
    assert client.get_run(run.info.run_id).info.artifact_uri.startswith("mlflow-artifacts:/0/")


def test_fluent_search_runs(exp_id):
    for i in range(3):
        with mlflow.start_run(experiment_id=exp_id, run_name=f"r{i}"):
            mlflow.log_metric("score", float(i))
            mlflow.log_param("i", i)
    df = mlflow.search_runs(experiment_ids=[exp_id], order_by=["metrics.score DESC"])
    assert list(df["tags.mlflow.runName"]) == ["r2", "r1", "r0"]
    assert list(df["metrics.score"]) == [2.0, 1.0, 0.0]
    assert list(df["params.i"]) == ["2", "1", "0"]
    assert set(df["status"]) == {"FINISHED"}
    runs = mlflow.search_runs(experiment_ids=[exp_id], filter_string="metrics.score >= 1",
                              output_format="list", order_by=["attributes.run_name"])
    assert [r.info.run_name for r in runs] == ["r1", "r2"]


def test_fluent_search_by_experiment_name(exp_id, client):
    name = client.get_experiment(exp_id).name
    with mlflow.start_run(experiment_id=exp_id, run_name="only"):
        pass
    runs = mlflow.search_runs(experiment_names=[name], output_format="list")
    assert [r.info.run_name for r in runs] == ["only"]


def test_fluent_search_experiments(unique):
    ids = [mlflow.create_experiment(f"fluent-se-{unique}-{i}") for i in range(3)]
    exps = mlflow.search_experiments(filter_string=f"name LIKE 'fluent-se-{unique}-%'",
                                     order_by=["name DESC"])
    assert [e.experiment_id for e in exps] == ids[::-1]


def test_delete_run_fluent(exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        pass
    mlflow.delete_run(run.info.run_id)
    assert mlflow.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert mlflow.search_runs(experiment_ids=[exp_id], output_format="list") == []
