"""Experiments through MlflowClient: create/get/search/rename/delete/restore/tags."""

from __future__ import annotations

import pytest
from mlflow.entities import ViewType

from compat_helpers import raises_mlflow


def test_default_experiment_is_zero(client):
    exp = client.get_experiment("0")
    assert exp.experiment_id == "0"
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == "mlflow-artifacts:/0"
    by_name = client.get_experiment_by_name("Default")
    assert by_name is not None and by_name.experiment_id == "0"


def test_create_and_get(client, unique):
    name = f"exp-create-{unique}"
    eid = client.create_experiment(name, tags={"owner": "me", "team": "ml"})
    assert isinstance(eid, str) and eid != "0"
    exp = client.get_experiment(eid)
    assert exp.experiment_id == eid
    assert exp.name == name
    assert exp.lifecycle_stage == "active"
    assert exp.tags == {"owner": "me", "team": "ml"}
    assert exp.artifact_location == f"mlflow-artifacts:/{eid}"
    assert isinstance(exp.creation_time, int) and exp.creation_time > 0
    assert isinstance(exp.last_update_time, int) and exp.last_update_time >= exp.creation_time
    by_name = client.get_experiment_by_name(name)
    assert by_name is not None
    assert by_name.experiment_id == eid
    assert by_name.tags == {"owner": "me", "team": "ml"}


def test_ids_are_distinct(client, unique):
    ids = {client.create_experiment(f"exp-ids-{unique}-{i}") for i in range(3)}
    assert len(ids) == 3


def test_get_by_name_missing_is_none(client, unique):
    assert client.get_experiment_by_name(f"no-such-experiment-{unique}") is None


def test_get_missing_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.get_experiment("987654321")


def test_create_duplicate_name_raises(client, unique):
    name = f"exp-dup-{unique}"
    client.create_experiment(name)
    with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)


def test_create_empty_name_raises(client):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.create_experiment("")


def test_rename(client, unique):
    old, new = f"exp-old-{unique}", f"exp-new-{unique}"
    eid = client.create_experiment(old)
    client.rename_experiment(eid, new)
    assert client.get_experiment(eid).name == new
    assert client.get_experiment_by_name(new).experiment_id == eid
    assert client.get_experiment_by_name(old) is None


def test_rename_to_existing_name_raises(client, unique):
    # The reference answers 400 BAD_REQUEST (its SQL unique constraint surfaces as-is).
    taken = f"exp-taken-{unique}"
    client.create_experiment(taken)
    eid = client.create_experiment(f"exp-mover-{unique}")
    with raises_mlflow("BAD_REQUEST"):
        client.rename_experiment(eid, taken)
    assert client.get_experiment(eid).name == f"exp-mover-{unique}"


def test_rename_missing_raises(client, unique):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.rename_experiment("987654321", f"x-{unique}")


def test_delete_and_restore(client, unique):
    name = f"exp-del-{unique}"
    eid = client.create_experiment(name)
    client.delete_experiment(eid)
    exp = client.get_experiment(eid)  # still readable by id
    assert exp.lifecycle_stage == "deleted"
    deleted = client.get_experiment_by_name(name)
    assert deleted is not None and deleted.lifecycle_stage == "deleted"

    active = client.search_experiments(filter_string=f"name = '{name}'")
    assert active == []
    only_deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY,
                                             filter_string=f"name = '{name}'")
    assert [e.experiment_id for e in only_deleted] == [eid]
    both = client.search_experiments(view_type=ViewType.ALL, filter_string=f"name = '{name}'")
    assert [e.experiment_id for e in both] == [eid]

    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"
    assert [e.experiment_id for e in client.search_experiments(
        filter_string=f"name = '{name}'")] == [eid]


def test_deleted_name_stays_reserved(client, unique):
    name = f"exp-reserved-{unique}"
    eid = client.create_experiment(name)
    client.delete_experiment(eid)
    with raises_mlflow("RESOURCE_ALREADY_EXISTS"):
        client.create_experiment(name)


def test_delete_twice_and_restore_active_raise(client, unique):
    # The reference looks a deleted experiment up among active ones only (and vice versa for
    # restore), so both of these report "No Experiment with id=… exists".
    eid = client.create_experiment(f"exp-twice-{unique}")
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.restore_experiment(eid)
    client.delete_experiment(eid)
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_experiment(eid)


def test_delete_missing_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_experiment("987654321")


def test_experiment_tags_set_overwrite_delete(client, exp_id):
    client.set_experiment_tag(exp_id, "k1", "v1")
    client.set_experiment_tag(exp_id, "k2", "v2")
    client.set_experiment_tag(exp_id, "k1", "v1b")  # upsert
    assert client.get_experiment(exp_id).tags == {"k1": "v1b", "k2": "v2"}
    client.delete_experiment_tag(exp_id, "k1")
    assert client.get_experiment(exp_id).tags == {"k2": "v2"}


def test_delete_missing_experiment_tag_raises(client, exp_id):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.delete_experiment_tag(exp_id, "never-set")


def test_set_tag_on_missing_experiment_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.set_experiment_tag("987654321", "k", "v")


@pytest.fixture
def three_experiments(client, unique):
    prefix = f"srch-{unique}"
    ids = {}
    for suffix, tags in (("b", {"team": "red", "tier": "gold"}),
                         ("a", {"team": "blue"}),
                         ("c", {"team": "red"})):
        ids[suffix] = client.create_experiment(f"{prefix}-{suffix}", tags=tags)
    return prefix, ids


def _names(exps):
    return [e.name for e in exps]


def test_search_filter_name_and_tags(client, three_experiments):
    prefix, ids = three_experiments
    assert _names(client.search_experiments(filter_string=f"name = '{prefix}-a'")) == [f"{prefix}-a"]
    got = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"])
    assert _names(got) == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    got = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%' AND tags.team = 'red'", order_by=["name DESC"])
    assert _names(got) == [f"{prefix}-c", f"{prefix}-b"]
    got = client.search_experiments(filter_string=f"name LIKE '{prefix}%' AND tags.tier = 'gold'")
    assert [e.experiment_id for e in got] == [ids["b"]]
    got = client.search_experiments(filter_string=f"name ILIKE '{prefix.upper()}-%' AND tags.team != 'red'")
    assert _names(got) == [f"{prefix}-a"]
    got = client.search_experiments(filter_string=f"name != '{prefix}-a' AND name LIKE '{prefix}%'",
                                    order_by=["name"])
    assert _names(got) == [f"{prefix}-b", f"{prefix}-c"]


def test_search_order_by(client, three_experiments):
    prefix, ids = three_experiments
    f = f"name LIKE '{prefix}-%'"
    # Default order: creation_time DESC (then experiment_id ASC).
    default = client.search_experiments(filter_string=f)
    assert sorted(e.experiment_id for e in default) == sorted(ids.values())
    assert [e.experiment_id for e in default] == [
        e.experiment_id for e in sorted(default, key=lambda e: (-e.creation_time, int(e.experiment_id)))]
    assert _names(client.search_experiments(filter_string=f, order_by=["name"])) == \
        [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    assert _names(client.search_experiments(filter_string=f, order_by=["name DESC"])) == \
        [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]
    by_created = client.search_experiments(filter_string=f, order_by=["creation_time ASC"])
    times = [e.creation_time for e in by_created]
    assert times == sorted(times)
    by_id = client.search_experiments(filter_string=f, order_by=["experiment_id DESC"])
    assert [e.experiment_id for e in by_id] == sorted(ids.values(), key=int, reverse=True)


def test_search_paging(client, unique):
    prefix = f"page-{unique}"
    created = [client.create_experiment(f"{prefix}-{i:02d}") for i in range(7)]
    seen, token, pages = [], None, 0
    while True:
        page = client.search_experiments(max_results=3, filter_string=f"name LIKE '{prefix}-%'",
                                         order_by=["name ASC"], page_token=token)
        pages += 1
        assert len(page) <= 3
        seen += [e.experiment_id for e in page]
        token = page.token
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert seen == created


def test_search_invalid_filter_raises(client):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_experiments(filter_string="foo = 'x'")
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_experiments(filter_string="name = 'a' OR name = 'b'")


def test_search_invalid_order_by_raises(client):
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_experiments(order_by=["foo DESC"])

