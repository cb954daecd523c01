"""log_batch through the client (which chunks) and raw limit checks (which it would hide)."""

from __future__ import annotations

import requests
from mlflow.entities import Metric, Param, RunTag

from compat_helpers import assert_json_error, now_ms, raises_mlflow


def test_log_batch_mixed(client, exp_id):
    rid = client.create_run(exp_id, run_name="batch").info.run_id
    t = now_ms()
    client.log_batch(
        rid,
        metrics=[Metric("a", 1.0, t, 0), Metric("a", 2.0, t + 1, 1), Metric("b", -3.5, t, 0)],
        params=[Param("p1", "x"), Param("p2", "y")],
        tags=[RunTag("t1", "u"), RunTag("t2", "v")],
    )
    run = client.get_run(rid)
    assert run.data.metrics == {"a": 2.0, "b": -3.5}
    assert run.data.params == {"p1": "x", "p2": "y"}
    assert run.data.tags == {"t1": "u", "t2": "v", "mlflow.runName": "batch"}
    assert [(m.value, m.step) for m in client.get_metric_history(rid, "a")] == [(1.0, 0), (2.0, 1)]


def test_log_batch_empty_is_ok(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_batch(rid)
    client.log_batch(rid, metrics=[], params=[], tags=[])


def test_log_batch_large_is_chunked_by_client(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    metrics = [Metric(f"m{i % 5}", float(i), t, i) for i in range(2500)]
    params = [Param(f"p{i:03d}", str(i)) for i in range(250)]
    tags = [RunTag(f"t{i:03d}", str(i)) for i in range(150)]
    client.log_batch(rid, metrics=metrics, params=params, tags=tags)
    data = client.get_run(rid).data
    assert len(data.params) == 250 and data.params["p249"] == "249"
    assert sum(1 for k in data.tags if k.startswith("t")) == 150
    assert data.metrics == {f"m{k}": float(2495 + k) for k in range(5)}
    assert len(client.get_metric_history(rid, "m3")) == 500


def test_log_batch_param_conflict_raises(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_batch(rid, params=[Param("p", "1")])
    client.log_batch(rid, params=[Param("p", "1")])  # same value again is fine
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_batch(rid, params=[Param("p", "2")])
    assert client.get_run(rid).data.params == {"p": "1"}


def test_log_batch_tag_upsert(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_batch(rid, tags=[RunTag("t", "1")])
    client.log_batch(rid, tags=[RunTag("t", "2")])
    assert client.get_run(rid).data.tags["t"] == "2"


def test_log_batch_invalid_metric_name_raises(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.log_batch(rid, metrics=[Metric("bad!name", 1.0, now_ms(), 0)])


def test_log_batch_missing_run_raises(client):
    with raises_mlflow("RESOURCE_DOES_NOT_EXIST"):
        client.log_batch("0123456789abcdef0123456789abcdef", params=[Param("p", "1")])


# --- raw limits: the client would split these, so send them by hand -----------------------------

def _metrics(n, key="m"):
    t = now_ms()
    return [{"key": key, "value": float(i), "timestamp": t, "step": i} for i in range(n)]


def _kv(n, prefix):
    return [{"key": f"{prefix}{i}", "value": "v"} for i in range(n)]


def _batch(api, rid, **body):
    return requests.post(f"{api}/runs/log-batch", json={"run_id": rid, **body}, timeout=60)


def test_raw_batch_limits_at_the_boundary_pass(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    r = _batch(api, rid, metrics=_metrics(1000))
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert _batch(api, rid, params=_kv(100, "p"), tags=_kv(100, "t")).status_code == 200
    assert _batch(api, rid, metrics=_metrics(800, "n"), params=_kv(100, "q"),
                  tags=_kv(100, "u")).status_code == 200
    data = client.get_run(rid).data
    assert len(data.params) == 200
    assert data.metrics["m"] == 999.0 and data.metrics["n"] == 799.0


def test_raw_batch_too_many_metrics(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    assert_json_error(_batch(api, rid, metrics=_metrics(1001)), 400, "INVALID_PARAMETER_VALUE")
    assert client.get_metric_history(rid, "m") == []  # nothing was written


def test_raw_batch_too_many_params(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    assert_json_error(_batch(api, rid, params=_kv(101, "p")), 400, "INVALID_PARAMETER_VALUE")
    assert client.get_run(rid).data.params == {}


def test_raw_batch_too_many_tags(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    assert_json_error(_batch(api, rid, tags=_kv(101, "t")), 400, "INVALID_PARAMETER_VALUE")


def test_raw_batch_too_many_entities(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    r = _batch(api, rid, metrics=_metrics(901), params=_kv(100, "p"))
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert client.get_run(rid).data.params == {}


def test_raw_batch_duplicate_param_keys(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    r = _batch(api, rid, params=[{"key": "d", "value": "1"}, {"key": "d", "value": "2"}])
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = _batch(api, rid, params=[{"key": "e", "value": "1"}, {"key": "e", "value": "1"}])
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")


def test_raw_batch_special_values(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    r = _batch(api, rid, metrics=[
        {"key": "nan", "value": "NaN", "timestamp": t, "step": 0},
        {"key": "pinf", "value": "Infinity", "timestamp": t, "step": 0},
        {"key": "ninf", "value": "-Infinity", "timestamp": t, "step": 0},
        {"key": "nostep", "value": 4, "timestamp": t},
    ])
    assert r.status_code == 200, r.text
    m = client.get_run(rid).data.metrics
    assert m["nan"] != m["nan"]
    assert m["pinf"] >= 1.79e308 and m["ninf"] <= -1.79e308
    assert m["nostep"] == 4.0
    assert client.get_metric_history(rid, "nostep")[0].step == 0
