"""Model registry and MLflow 3 logged models through the stock client.

Registered-model names are global on a server, so every test names its models with the
``unique`` token. Artifact uploads (``mlflow.<flavor>.log_model``) are not exercised here.
"""

from __future__ import annotations

import json
import time

import mlflow
import pytest
import requests
from mlflow.entities import LoggedModelStatus, Metric
from mlflow.exceptions import MlflowException

from compat_helpers import assert_json_error, now_ms, raises_mlflow


@pytest.fixture
def artifact_upload(server_url):
    """Skips the test unless the server serves proxied artifacts (``mlflow.create_external_model``
    uploads an MLmodel file); Cairn's artifact API is not part of this suite yet."""
    probe = requests.get(f"{server_url}/api/2.0/mlflow-artifacts/artifacts",
                         params={"path": "compat-probe-nonexistent"}, timeout=10)
    if probe.status_code != 200:
        pytest.skip("the server does not serve artifacts")


def _ready_model(client, exp_id, name, **kwargs):
    """A finalized logged model without artifacts (what create_external_model makes, minus the
    MLmodel upload)."""
    model = mlflow.initialize_logged_model(name=name, experiment_id=exp_id, **kwargs)
    return client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)


@pytest.fixture
def rm(client, unique):
    """A fresh registered model name (created)."""
    name = f"rm-{unique}"
    client.create_registered_model(name)
    return name


def _source(exp_id: str, run_id: str, path: str = "model") -> str:
    return f"runs:/{run_id}/{path}"


# --- registered models -------------------------------------------------------------------------

def test_create_get_registered_model(client, unique):
    name = f"rm-create-{unique}"
    created = client.create_registered_model(name, tags={"team": "ml"}, description="first")
    assert created.name == name
    assert created.description == "first"
    assert created.tags == {"team": "ml"}
    assert isinstance(created.creation_timestamp, int) and created.creation_timestamp > 0
    got = client.get_registered_model(name)
    assert got.name == name
    assert got.description == "first"
    assert got.tags == {"team": "ml"}
    assert got.latest_versions == []
    assert got.aliases == {}
    assert got.last_updated_timestamp >= got.creation_timestamp


def test_create_duplicate_registered_model_raises(client, rm):
    with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
        client.create_registered_model(rm)


@pytest.mark.parametrize("bad", ["a/b", "a:b"])
def test_invalid_registered_model_name_raises(client, unique, bad):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_registered_model(f"{bad}-{unique}")


def test_get_missing_registered_model_raises(client, unique):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(f"missing-{unique}")


def test_rename_moves_versions(client, exp_id, rm, unique):
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    client.set_registered_model_alias(rm, "champion", "1")
    new = f"rm-renamed-{unique}"
    client.rename_registered_model(rm, new)
    got = client.get_registered_model(new)
    assert got.aliases == {"champion": "1"}
    assert [mv.version for mv in got.latest_versions] == ["1"]
    mv = client.get_model_version(new, "1")
    assert mv.name == new
    assert mv.run_id == run.info.run_id
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(rm)


def test_rename_to_existing_raises(client, rm, unique):
    other = f"rm-other-{unique}"
    client.create_registered_model(other)
    with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
        client.rename_registered_model(rm, other)


def test_update_description(client, rm):
    updated = client.update_registered_model(rm, description="new description")
    assert updated.description == "new description"
    assert client.get_registered_model(rm).description == "new description"


def test_delete_is_hard_and_frees_the_name(client, exp_id, rm):
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    client.delete_registered_model(rm)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_registered_model(rm)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(rm, "1")
    client.create_registered_model(rm)
    mv = client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    assert mv.version == "1"


def test_delete_missing_registered_model_raises(client, unique):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_registered_model(f"missing-{unique}")


def test_registered_model_tags(client, rm):
    client.set_registered_model_tag(rm, "k", "v1")
    client.set_registered_model_tag(rm, "k", "v2")
    client.set_registered_model_tag(rm, "other", "x")
    assert client.get_registered_model(rm).tags == {"k": "v2", "other": "x"}
    client.delete_registered_model_tag(rm, "k")
    assert client.get_registered_model(rm).tags == {"other": "x"}


def test_registered_model_tag_on_missing_model_raises(client, unique):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.set_registered_model_tag(f"missing-{unique}", "k", "v")


# --- search registered models ------------------------------------------------------------------

@pytest.fixture
def rm_corpus(client, unique):
    prefix = f"srch-{unique}"
    names = [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c", f"{prefix}-d"]
    for i, name in enumerate(names):
        client.create_registered_model(name, tags={"parity": "even" if i % 2 == 0 else "odd"})
    return prefix, names


def test_search_registered_models_filter(client, rm_corpus):
    prefix, names = rm_corpus
    found = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'")
    assert [m.name for m in found] == names
    even = client.search_registered_models(filter_string=f"name LIKE '{prefix}%' AND tags.parity = 'even'")
    assert [m.name for m in even] == [names[0], names[2]]
    exact = client.search_registered_models(filter_string=f"name = '{names[1]}'")
    assert [m.name for m in exact] == [names[1]]
    upper = client.search_registered_models(filter_string=f"name ILIKE '{prefix.upper()}%'")
    assert [m.name for m in upper] == names
    assert client.search_registered_models(filter_string=f"name LIKE '{prefix.upper()}%'") == []


def test_search_registered_models_order_and_paging(client, rm_corpus):
    prefix, names = rm_corpus
    desc = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", order_by=["name DESC"])
    assert [m.name for m in desc] == list(reversed(names))
    page1 = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", max_results=3)
    assert [m.name for m in page1] == names[:3]
    assert page1.token
    page2 = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", max_results=3, page_token=page1.token)
    assert [m.name for m in page2] == names[3:]
    assert not page2.token
    client.update_registered_model(names[1], description="touched")
    recent = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", order_by=["last_updated_timestamp DESC"])
    assert recent[0].name == names[1]


def test_search_registered_models_excludes_prompts_only(api, client, unique):
    # The client refuses prompt tags in create_registered_model, so they are sent raw.
    prefix = f"prm-{unique}"
    client.create_registered_model(f"{prefix}-model")
    for suffix, flag in [("false", "false"), ("prompt", "true")]:
        resp = requests.post(f"{api}/registered-models/create", timeout=10, json={
            "name": f"{prefix}-{suffix}", "tags": [{"key": "mlflow.prompt.is_prompt", "value": flag}]})
        assert resp.status_code == 200, resp.text
    found = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'")
    assert sorted(m.name for m in found) == [f"{prefix}-false", f"{prefix}-model"]


def test_search_registered_models_bad_filter_raises(client):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_registered_models(filter_string="name = 'a' OR name = 'b'")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_registered_models(max_results=1001)


# --- aliases ----------------------------------------------------------------------------------

def test_aliases(client, exp_id, rm):
    run = client.create_run(exp_id)
    for _ in range(2):
        client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    client.set_registered_model_alias(rm, "champion", "1")
    assert client.get_model_version_by_alias(rm, "champion").version == "1"
    client.set_registered_model_alias(rm, "champion", "2")
    mv = client.get_model_version_by_alias(rm, "champion")
    assert mv.version == "2"
    assert mv.aliases == ["champion"]
    assert client.get_model_version(rm, "1").aliases == []
    assert client.get_registered_model(rm).aliases == {"champion": "2"}
    client.delete_registered_model_alias(rm, "champion")
    assert client.get_registered_model(rm).aliases == {}


def test_unknown_alias_is_invalid_parameter(client, rm):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.get_model_version_by_alias(rm, "nope")


def test_alias_on_unknown_model_is_not_found(client, unique):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version_by_alias(f"missing-{unique}", "nope")


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12"])
def test_reserved_aliases_raise(client, exp_id, rm, alias):
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.set_registered_model_alias(rm, alias, "1")


def test_alias_to_missing_version_raises(client, rm):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.set_registered_model_alias(rm, "champion", "7")


def test_invalid_alias_name_raises(api, client, exp_id, rm):
    # The client checks alias names itself, so the server's check is reached with raw requests.
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    for alias in ["has space", "a.b", "latest", "v3"]:
        resp = requests.post(f"{api}/registered-models/alias", json={"name": rm, "alias": alias, "version": "1"}, timeout=10)
        assert_json_error(resp, 400, "INVALID_PARAMETER_VALUE")
    resp = requests.post(f"{api}/registered-models/alias", json={"name": rm, "alias": "ok", "version": "x"}, timeout=10)
    assert_json_error(resp, 400, "INVALID_PARAMETER_VALUE")


# --- model versions ---------------------------------------------------------------------------

def test_create_and_get_model_version(client, exp_id, rm):
    run = client.create_run(exp_id)
    mv = client.create_model_version(
        rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id,
        tags={"t": "1"}, description="v1 desc",
    )
    assert mv.name == rm
    assert mv.version == "1"
    assert mv.status == "READY"
    assert mv.current_stage == "None"
    assert mv.run_id == run.info.run_id
    assert mv.source == f"runs:/{run.info.run_id}/model"
    assert mv.tags == {"t": "1"}
    assert mv.description == "v1 desc"
    got = client.get_model_version(rm, "1")
    assert got.version == "1" and got.tags == {"t": "1"}
    mv2 = client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    assert mv2.version == "2"
    assert [v.version for v in client.get_registered_model(rm).latest_versions] == ["2"]


def test_model_version_numbers_are_per_model(client, exp_id, rm, unique):
    other = f"rm-other-{unique}"
    client.create_registered_model(other)
    run = client.create_run(exp_id)
    assert client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id).version == "1"
    assert client.create_model_version(other, _source(exp_id, run.info.run_id), run_id=run.info.run_id).version == "1"
    assert client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id).version == "2"


def test_create_model_version_for_missing_model_raises(client, exp_id, unique):
    run = client.create_run(exp_id)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.create_model_version(f"missing-{unique}", _source(exp_id, run.info.run_id), run_id=run.info.run_id)


def test_model_version_source_must_match_run(client, exp_id, rm):
    run = client.create_run(exp_id)
    other = client.create_run(exp_id)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=other.info.run_id)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_model_version(rm, "/etc/passwd")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_model_version(rm, "s3://bucket/../escape")
    # None of the refused requests used up a version number.
    assert client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id).version == "1"


def test_update_and_delete_model_version(client, exp_id, rm):
    run = client.create_run(exp_id)
    for _ in range(2):
        client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    updated = client.update_model_version(rm, "1", description="better")
    assert updated.description == "better"
    assert client.get_model_version(rm, "1").description == "better"
    client.delete_model_version(rm, "2")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(rm, "2")
    # A deleted version's number is not reused.
    assert client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id).version == "3"


def test_get_model_version_bad_version_raises(client, rm):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.get_model_version(rm, "one")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_model_version(rm, "5")


def test_model_version_tags(client, exp_id, rm):
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    client.set_model_version_tag(rm, "1", "k", "v")
    client.set_model_version_tag(rm, "1", "k", "v2")
    assert client.get_model_version(rm, "1").tags == {"k": "v2"}
    client.delete_model_version_tag(rm, "1", "k")
    assert client.get_model_version(rm, "1").tags == {}
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.set_model_version_tag(rm, "9", "k", "v")


def test_transition_stage_and_latest_versions(client, exp_id, rm):
    run = client.create_run(exp_id)
    for _ in range(4):
        client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    assert client.transition_model_version_stage(rm, "1", "production").current_stage == "Production"
    client.transition_model_version_stage(rm, "2", "Staging")
    mv = client.transition_model_version_stage(rm, "3", "PRODUCTION", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert client.get_model_version(rm, "1").current_stage == "Archived"
    latest = {mv.current_stage: mv.version for mv in client.get_latest_versions(rm)}
    assert latest == {"Archived": "1", "Staging": "2", "Production": "3", "None": "4"}
    prod = client.get_latest_versions(rm, stages=["Production"])
    assert [mv.version for mv in prod] == ["3"]
    assert sorted(mv.version for mv in client.get_latest_versions(rm, stages=["staging", "None"])) == ["2", "4"]
    rm_latest = {mv.current_stage: mv.version for mv in client.get_registered_model(rm).latest_versions}
    assert rm_latest == latest


def test_transition_to_invalid_stage_raises(client, exp_id, rm):
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.transition_model_version_stage(rm, "1", "Prod")


@pytest.mark.cairn_only
def test_archive_existing_into_inactive_stage_is_a_client_error(client, exp_id, rm):
    # Cairn-only: the reference raises this without an error code, i.e. as a 500 that the client
    # retries; it is the caller's mistake, so Cairn answers 400.
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.transition_model_version_stage(rm, "1", "Archived", archive_existing_versions=True)


def test_get_latest_versions_missing_model_raises(client, unique):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_latest_versions(f"missing-{unique}")


def test_download_uri_for_run_source(client, exp_id, rm):
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    assert client.get_model_version_download_uri(rm, "1") == f"runs:/{run.info.run_id}/model"
    proxied = f"{run.info.artifact_uri}/model"
    client.create_model_version(rm, proxied, run_id=run.info.run_id)
    assert client.get_model_version_download_uri(rm, "2") == proxied


def test_search_model_versions(client, exp_id, unique):
    a, b = f"mvs-{unique}-a", f"mvs-{unique}-b"
    client.create_registered_model(a)
    client.create_registered_model(b)
    run = client.create_run(exp_id)
    other = client.create_run(exp_id)
    for _ in range(3):
        client.create_model_version(a, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    client.create_model_version(b, _source(exp_id, other.info.run_id), run_id=other.info.run_id)
    client.set_model_version_tag(a, "2", "best", "yes")

    found = client.search_model_versions(f"name = '{a}'")
    assert [mv.version for mv in found] == ["3", "2", "1"]
    by_run = client.search_model_versions(f"run_id = '{other.info.run_id}'")
    assert [(mv.name, mv.version) for mv in by_run] == [(b, "1")]
    in_runs = client.search_model_versions(f"run_id IN ('{run.info.run_id}', '{other.info.run_id}')", order_by=["name ASC", "version_number ASC"])
    assert [(mv.name, mv.version) for mv in in_runs] == [(a, "1"), (a, "2"), (a, "3"), (b, "1")]
    tagged = client.search_model_versions(f"name = '{a}' AND tags.best = 'yes'")
    assert [mv.version for mv in tagged] == ["2"]
    newer = client.search_model_versions(f"name = '{a}' AND version_number > 1", order_by=["version_number ASC"])
    assert [mv.version for mv in newer] == ["2", "3"]
    page1 = client.search_model_versions(f"name = '{a}'", max_results=2, order_by=["version_number ASC"])
    assert [mv.version for mv in page1] == ["1", "2"] and page1.token
    page2 = client.search_model_versions(f"name = '{a}'", max_results=2, order_by=["version_number ASC"], page_token=page1.token)
    assert [mv.version for mv in page2] == ["3"] and not page2.token
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_model_versions("name = 'x' OR name = 'y'")


# --- logged models -----------------------------------------------------------------------------

def test_initialize_and_finalize_logged_model(client, exp_id):
    model = mlflow.initialize_logged_model(name="clf", experiment_id=exp_id, params={"alpha": "0.5"},
                                           tags={"team": "ml"}, model_type="classifier")
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    assert model.status == LoggedModelStatus.PENDING
    assert model.experiment_id == exp_id
    assert model.artifact_location == f"mlflow-artifacts:/{exp_id}/models/{model.model_id}/artifacts"
    got = client.get_logged_model(model.model_id)
    assert got.name == "clf"
    assert got.params == {"alpha": "0.5"}
    assert got.tags["team"] == "ml"
    assert got.model_type == "classifier"
    ready = client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY
    assert client.get_logged_model(model.model_id).status == LoggedModelStatus.READY


def test_create_external_model(artifact_upload, exp_id):
    model = mlflow.create_external_model(name="ext", experiment_id=exp_id, tags={"k": "v"})
    assert model.status == LoggedModelStatus.READY
    assert mlflow.get_logged_model(model.model_id).tags["k"] == "v"


def test_logged_model_in_missing_experiment_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        mlflow.initialize_logged_model(name="x", experiment_id="987654321")


def test_get_missing_logged_model_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_logged_model("m-00000000000000000000000000000000")


def test_logged_model_tags(client, exp_id):
    model = mlflow.initialize_logged_model(name="tagged", experiment_id=exp_id)
    client.set_logged_model_tags(model.model_id, {"a": "1", "b": "2"})
    client.set_logged_model_tags(model.model_id, {"a": "3"})
    tags = client.get_logged_model(model.model_id).tags
    assert tags["a"] == "3" and tags["b"] == "2"
    client.delete_logged_model_tag(model.model_id, "a")
    assert "a" not in client.get_logged_model(model.model_id).tags
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_logged_model_tag(model.model_id, "a")


def test_logged_model_params_in_batches(client, exp_id):
    params = {f"p{i}": str(i) for i in range(150)}
    model = mlflow.initialize_logged_model(name="many", experiment_id=exp_id, params=params)
    assert client.get_logged_model(model.model_id).params == params
    mlflow.log_model_params({"extra": "x"}, model_id=model.model_id)
    assert client.get_logged_model(model.model_id).params["extra"] == "x"


def test_delete_logged_model(client, exp_id):
    model = mlflow.initialize_logged_model(name="doomed", experiment_id=exp_id)
    client.delete_logged_model(model.model_id)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_logged_model(model.model_id)
    assert mlflow.search_logged_models(experiment_ids=[exp_id], output_format="list") == []


def test_run_metrics_with_model_id_are_model_metrics(client, exp_id):
    run = client.create_run(exp_id)
    model = mlflow.initialize_logged_model(name="scored", experiment_id=exp_id, source_run_id=run.info.run_id)
    ts = now_ms()
    client.log_batch(run.info.run_id, metrics=[
        Metric("loss", 0.25, ts, 0, model_id=model.model_id),
        Metric("acc", 0.75, ts, 1, model_id=model.model_id),
    ])
    got = client.get_logged_model(model.model_id)
    metrics = {m.key: m for m in got.metrics}
    assert set(metrics) == {"loss", "acc"}
    assert metrics["loss"].value == 0.25 and metrics["loss"].step == 0
    assert metrics["acc"].run_id == run.info.run_id
    assert metrics["acc"].model_id == model.model_id


def test_search_logged_models(client, exp_id):
    run = client.create_run(exp_id)
    ids = {}
    for name, acc in [("a", 0.9), ("b", 0.5), ("c", 0.7)]:
        model = mlflow.initialize_logged_model(name=name, experiment_id=exp_id, source_run_id=run.info.run_id,
                                               params={"letter": name})
        ids[name] = model.model_id
        client.log_batch(run.info.run_id, metrics=[Metric("acc", acc, now_ms(), 0, model_id=model.model_id)])
        time.sleep(0.01)  # distinct creation times: the default order is newest first
    client.finalize_logged_model(ids["a"], LoggedModelStatus.READY)

    def names(**kwargs):
        return [m.name for m in mlflow.search_logged_models(experiment_ids=[exp_id], output_format="list", **kwargs)]

    assert names() == ["c", "b", "a"]
    assert names(filter_string="name = 'b'") == ["b"]
    assert names(filter_string="metrics.acc > 0.6") == ["c", "a"]
    assert names(filter_string="params.letter = 'c'") == ["c"]
    assert names(filter_string=f"source_run_id = '{run.info.run_id}' AND name != 'a'") == ["c", "b"]
    assert names(order_by=[{"field_name": "metrics.acc", "ascending": False}]) == ["a", "c", "b"]
    assert names(order_by=[{"field_name": "name"}]) == ["a", "b", "c"]
    assert names(max_results=2) == ["c", "b"]
    assert names(filter_string="name = 'zzz'") == []


def test_search_logged_models_bad_filter_raises(exp_id):
    with pytest.raises(MlflowException) as info:
        mlflow.search_logged_models(experiment_ids=[exp_id], filter_string="name = 'a' OR name = 'b'",
                                    output_format="list")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_register_logged_model(client, exp_id, rm):
    run = client.create_run(exp_id)
    model = _ready_model(client, exp_id, "reg", source_run_id=run.info.run_id)
    mv = client.create_model_version(rm, f"models:/{model.model_id}", model_id=model.model_id)
    assert mv.version == "1"
    assert mv.run_id == run.info.run_id
    assert client.get_model_version_download_uri(rm, "1") == model.artifact_location
    tags = client.get_logged_model(model.model_id).tags
    entries = json.loads(tags["mlflow.modelVersions"])
    assert {"name": rm, "version": 1} in entries or {"name": rm, "version": "1"} in entries
    # A version registered from another version resolves to the same place.
    mv2 = client.create_model_version(rm, f"models:/{rm}/1")
    assert mv2.version == "2"
    assert client.get_model_version_download_uri(rm, "2") == model.artifact_location
    assert client.get_model_version(rm, "2").run_id == run.info.run_id


def test_fluent_register_model_from_logged_model(client, exp_id, unique):
    run = client.create_run(exp_id)
    model = _ready_model(client, exp_id, "fluent", source_run_id=run.info.run_id)
    name = f"rm-fluent-{unique}"
    first = mlflow.register_model(f"models:/{model.model_id}", name)
    assert first.version == "1"
    # The second registration tolerates the existing model and adds a version.
    second = mlflow.register_model(f"models:/{model.model_id}", name, tags={"k": "v"})
    assert second.version == "2"
    assert client.get_model_version(name, "2").tags == {"k": "v"}
    assert client.get_model_version(name, "2").run_id == run.info.run_id
    assert client.get_model_version_download_uri(name, "2") == model.artifact_location
    entries = json.loads(client.get_logged_model(model.model_id).tags["mlflow.modelVersions"])
    assert {(e["name"], str(e["version"])) for e in entries} == {(name, "1"), (name, "2")}
    by_alias_source = client.create_model_version(name, f"models:/{name}/latest")
    assert client.get_model_version_download_uri(name, by_alias_source.version) == model.artifact_location


def test_logged_model_in_active_run(client, exp_id):
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run() as active:
        model = mlflow.initialize_logged_model(name="in_run")
        mlflow.log_metric("acc", 0.9, step=3, model_id=model.model_id)
        mlflow.log_params({"lr": "0.1"})
    got = client.get_logged_model(model.model_id)
    assert got.source_run_id == active.info.run_id
    assert [(m.key, m.value, m.step, m.run_id) for m in got.metrics] == [("acc", 0.9, 3, active.info.run_id)]
    assert mlflow.last_logged_model().model_id == model.model_id
    found = mlflow.search_logged_models(experiment_ids=[exp_id], filter_string="metrics.acc >= 0.9",
                                        output_format="list")
    assert [m.model_id for m in found] == [model.model_id]
    frame = mlflow.search_logged_models(experiment_ids=[exp_id])
    assert list(frame["model_id"]) == [model.model_id]


def test_register_model_by_id_requires_model_id(client, exp_id, rm):
    model = _ready_model(client, exp_id, "noid")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_model_version(rm, f"models:/{model.model_id}")


# --- wire details ------------------------------------------------------------------------------

def test_wire_shapes(api, client, exp_id, rm):
    run = client.create_run(exp_id)
    client.create_model_version(rm, _source(exp_id, run.info.run_id), run_id=run.info.run_id)
    body = requests.get(f"{api}/model-versions/get", params={"name": rm, "version": "1"}, timeout=10).json()
    mv = body["model_version"]
    assert mv["version"] == "1"
    assert isinstance(mv["creation_timestamp"], int)
    assert mv["status"] == "READY"
    empty = requests.get(f"{api}/registered-models/search", params={"filter": f"name = '{rm}-none'"}, timeout=10)
    assert empty.status_code == 200 and empty.json() == {}
    latest = requests.get(f"{api}/registered-models/get-latest-versions", params={"name": rm}, timeout=10)
    assert latest.status_code == 200 and latest.json()["model_versions"][0]["version"] == "1"
    missing = requests.get(f"{api}/registered-models/get", params={"name": f"{rm}-none"}, timeout=10)
    assert_json_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")
    alias = requests.get(f"{api}/registered-models/alias", params={"name": rm, "alias": "nope"}, timeout=10)
    assert_json_error(alias, 400, "INVALID_PARAMETER_VALUE")
    dup = requests.post(f"{api}/registered-models/create", json={"name": rm}, timeout=10)
    assert_json_error(dup, 400, "RESOURCE_ALREADY_EXISTS")
    lm = requests.post(f"{api}/logged-models", json={"experiment_id": exp_id}, timeout=10).json()["model"]
    assert lm["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert lm["info"]["name"]
    gone = requests.get(f"{api}/logged-models/m-ffffffffffffffffffffffffffffffff", timeout=10)
    assert_json_error(gone, 404, "RESOURCE_DOES_NOT_EXIST")
    none = requests.post(f"{api}/logged-models/search", json={"experiment_ids": [exp_id], "filter": "name = 'lr'"}, timeout=10)
    assert none.status_code == 200 and none.json() == {}
