"""Dataset inputs (log_input / log-inputs) as seen in run.inputs.dataset_inputs."""

from __future__ import annotations

import json

import mlflow
import mlflow.data
import numpy as np
import pandas as pd
import pytest
from mlflow.data.pandas_dataset import PandasDataset


def _inputs_by_name(run):
    return {d.dataset.name: d for d in run.inputs.dataset_inputs}


@pytest.fixture
def frame():
    return pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 0], "name": ["a", "b", "c"]})


def test_log_input_pandas(client, exp_id, frame):
    ds = mlflow.data.from_pandas(frame, source="s3://bucket/train.csv", name="train-df",
                                 targets="label")
    assert isinstance(ds, PandasDataset)
    rid = client.create_run(exp_id).info.run_id
    client.log_inputs(rid, datasets=[
        mlflow.entities.DatasetInput(ds._to_mlflow_entity(),
                                     tags=[mlflow.entities.InputTag("mlflow.data.context",
                                                                    "training")])])
    run = client.get_run(rid)
    (di,) = run.inputs.dataset_inputs
    d = di.dataset
    assert d.name == "train-df"
    assert d.digest == ds.digest and d.digest
    assert d.source_type == "s3"
    assert json.loads(d.source) == {"uri": "s3://bucket/train.csv"}
    schema = json.loads(d.schema)
    assert [c["name"] for c in schema["mlflow_colspec"]] == ["x", "label", "name"]
    assert json.loads(d.profile) == {"num_rows": 3, "num_elements": 9}
    assert {t.key: t.value for t in di.tags} == {"mlflow.data.context": "training"}


def test_fluent_log_input_contexts_and_numpy(exp_id, frame):
    train = mlflow.data.from_pandas(frame, source="train.csv", name="train")
    arr = np.arange(12, dtype=np.float64).reshape(4, 3)
    evaluation = mlflow.data.from_numpy(arr, source="s3://bucket/eval.npy", name="eval-np")
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_input(train, context="training")
        mlflow.log_input(evaluation, context="evaluation", tags={"split": "holdout"})
    got = mlflow.get_run(run.info.run_id)
    by_name = _inputs_by_name(got)
    assert set(by_name) == {"train", "eval-np"}
    assert {t.key: t.value for t in by_name["train"].tags} == {"mlflow.data.context": "training"}
    assert {t.key: t.value for t in by_name["eval-np"].tags} == {
        "mlflow.data.context": "evaluation", "split": "holdout"}
    np_ds = by_name["eval-np"].dataset
    assert np_ds.digest == evaluation.digest
    assert np_ds.source_type == "s3"
    assert json.loads(np_ds.profile) == {"features_shape": [4, 3], "features_size": 12,
                                         "features_nbytes": 96}
    (features,) = json.loads(json.loads(np_ds.schema)["mlflow_tensorspec"]["features"])
    assert features == {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}


def test_same_dataset_logged_twice_is_stored_once(client, exp_id, frame):
    ds = mlflow.data.from_pandas(frame, source="train.csv", name="dup")
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_input(ds, context="training")
        mlflow.log_input(ds, context="training")
    assert len(client.get_run(run.info.run_id).inputs.dataset_inputs) == 1


def test_same_dataset_shared_by_two_runs(client, exp_id, frame):
    ds = mlflow.data.from_pandas(frame, source="train.csv", name="shared")
    rids = []
    for ctx in ("training", "validation"):
        with mlflow.start_run(experiment_id=exp_id) as run:
            mlflow.log_input(ds, context=ctx)
        rids.append(run.info.run_id)
    for rid, ctx in zip(rids, ("training", "validation")):
        (di,) = client.get_run(rid).inputs.dataset_inputs
        assert di.dataset.digest == ds.digest
        assert {t.key: t.value for t in di.tags} == {"mlflow.data.context": ctx}


def test_search_runs_by_dataset(client, exp_id, frame):
    ds = mlflow.data.from_pandas(frame, source="train.csv", name="findme")
    with mlflow.start_run(experiment_id=exp_id, run_name="with") as run:
        mlflow.log_input(ds, context="training")
    with mlflow.start_run(experiment_id=exp_id, run_name="without"):
        pass
    assert [r.info.run_id for r in client.search_runs([exp_id], "datasets.name = 'findme'")] \
        == [run.info.run_id]
    assert [r.info.run_name for r in client.search_runs(
        [exp_id], f"datasets.digest = '{ds.digest}'")] == ["with"]
    assert [r.info.run_name for r in client.search_runs(
        [exp_id], "datasets.context = 'training'")] == ["with"]
    assert client.search_runs([exp_id], "datasets.name = 'nope'") == []
    # search results carry the inputs too
    (found,) = client.search_runs([exp_id], "attributes.run_name = 'with'")
    assert [d.dataset.name for d in found.inputs.dataset_inputs] == ["findme"]
