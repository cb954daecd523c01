"""Raw HTTP checks for wire details the Python client hides."""

from __future__ import annotations

import json

import pytest
import requests

from compat_helpers import assert_json_error, now_ms

MISSING_RUN = "0123456789abcdef0123456789abcdef"


def _post(url, body):
    return requests.post(url, json=body, timeout=30)


def _get(url, **params):
    return requests.get(url, params=params, timeout=30)


def test_health(server_url):
    r = requests.get(f"{server_url}/health", timeout=10)
    assert r.status_code == 200
    assert r.text.strip() == "OK"


def test_ids_are_json_strings_and_int64_are_numbers(api, unique):
    r = _post(f"{api}/experiments/create", {"name": f"wire-ids-{unique}",
                                            "tags": [{"key": "k", "value": "v"}]})
    assert r.status_code == 200, r.text
    eid = r.json()["experiment_id"]
    assert isinstance(eid, str)

    exp = _get(f"{api}/experiments/get", experiment_id=eid).json()["experiment"]
    assert exp["experiment_id"] == eid
    assert exp["name"] == f"wire-ids-{unique}"
    assert exp["lifecycle_stage"] == "active"
    assert isinstance(exp["creation_time"], int) and isinstance(exp["last_update_time"], int)
    assert exp["tags"] == [{"key": "k", "value": "v"}]

    start = now_ms()
    r = _post(f"{api}/runs/create", {"experiment_id": eid, "start_time": start,
                                     "run_name": "wire", "tags": [{"key": "a", "value": "b"}]})
    assert r.status_code == 200, r.text
    run = r.json()["run"]
    info = run["info"]
    assert isinstance(info["run_id"], str) and len(info["run_id"]) == 32
    assert info["experiment_id"] == eid
    assert info["start_time"] == start and isinstance(info["start_time"], int)
    assert info["status"] == "RUNNING"  # enums are names
    assert info["lifecycle_stage"] == "active"
    assert info["run_name"] == "wire"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags == {"a": "b", "mlflow.runName": "wire"}


def test_run_uuid_alias_and_update_response(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    r = _get(f"{api}/runs/get", run_uuid=rid)
    assert r.status_code == 200, r.text
    assert r.json()["run"]["info"]["run_id"] == rid

    end = now_ms() + 1000
    r = _post(f"{api}/runs/update", {"run_id": rid, "status": "FINISHED", "end_time": end})
    assert r.status_code == 200, r.text
    ri = r.json()["run_info"]
    assert ri["run_id"] == rid and ri["status"] == "FINISHED" and ri["end_time"] == end

    r = _post(f"{api}/runs/set-tag", {"run_uuid": rid, "key": "via", "value": "uuid"})
    assert r.status_code == 200, r.text
    assert client.get_run(rid).data.tags["via"] == "uuid"


def test_nan_is_encoded_as_string(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    for key, value in (("nan", "NaN"), ("pinf", "Infinity"), ("ninf", "-Infinity"), ("one", 1)):
        r = _post(f"{api}/runs/log-metric", {"run_id": rid, "key": key, "value": value,
                                             "timestamp": t, "step": 0})
        assert r.status_code == 200, (key, r.text)
        assert r.json() == {}
    raw = _get(f"{api}/runs/get", run_id=rid).text
    metrics = {m["key"]: m for m in json.loads(raw)["run"]["data"]["metrics"]}
    assert metrics["nan"]["value"] == "NaN"
    assert metrics["one"]["value"] == 1.0
    for key, sign in (("pinf", 1), ("ninf", -1)):
        v = metrics[key]["value"]
        # "Infinity"/"-Infinity", or the reference's clamped +/-DBL_MAX as a number.
        assert v == ("Infinity" if sign > 0 else "-Infinity") or (
            isinstance(v, float) and v * sign >= 1.79e308), v
    hist = _get(f"{api}/metrics/get-history", run_id=rid, metric_key="nan").json()["metrics"]
    assert hist[0]["value"] == "NaN"
    # Specials must be JSON strings, never bare NaN/Infinity tokens (not valid JSON).
    json.loads(raw, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def test_error_body_not_found(api):
    r = _get(f"{api}/experiments/get", experiment_id="987654321")
    assert_json_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    r = _get(f"{api}/runs/get", run_id=MISSING_RUN)
    assert_json_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    r = _get(f"{api}/experiments/get-by-name", experiment_name="surely-no-such-experiment")
    assert_json_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


def test_error_body_invalid_parameter(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    r = _post(f"{api}/runs/log-metric", {"run_id": rid, "key": "m", "value": "abc",
                                         "timestamp": now_ms()})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = _post(f"{api}/runs/log-metric", {"run_id": rid, "key": "m", "value": 1.0})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")  # timestamp is required
    r = _post(f"{api}/runs/log-metric", {"run_id": rid, "key": "m", "value": 1.0,
                                         "timestamp": -5})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = _get(f"{api}/runs/get")
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")  # run_id is required
    r = _get(f"{api}/metrics/get-history", run_id=rid)
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")  # metric_key is required
    r = _post(f"{api}/runs/log-metric", {"run_id": rid, "value": 1.0, "timestamp": now_ms()})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")  # key is required
    r = _post(f"{api}/runs/log-metric", {"run_id": rid, "key": "m", "timestamp": now_ms()})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")  # value is required
    r = _post(f"{api}/runs/search", {"experiment_ids": [exp_id], "max_results": 0})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = _post(f"{api}/experiments/create", {"name": ""})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = _post(f"{api}/runs/search", {"experiment_ids": [exp_id], "filter": "a = 'b' OR c = 'd'"})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = _post(f"{api}/runs/search", {"experiment_ids": [exp_id], "max_results": 50001})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    r = _post(f"{api}/experiments/search", {"max_results": 50001})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")


def test_error_body_param_conflict_and_already_exists(client, api, exp_id, unique):
    rid = client.create_run(exp_id).info.run_id
    ok = _post(f"{api}/runs/log-parameter", {"run_id": rid, "key": "p", "value": "1"})
    assert ok.status_code == 200 and ok.json() == {}
    again = _post(f"{api}/runs/log-parameter", {"run_id": rid, "key": "p", "value": "1"})
    assert again.status_code == 200
    r = _post(f"{api}/runs/log-parameter", {"run_id": rid, "key": "p", "value": "2"})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    name = client.get_experiment(exp_id).name
    r = _post(f"{api}/experiments/create", {"name": name})
    assert_json_error(r, 400, "RESOURCE_ALREADY_EXISTS")
    r = _post(f"{api}/runs/delete-tag", {"run_id": rid, "key": "nope"})
    assert_json_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


def test_error_body_deleted_run(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.delete_run(rid)
    r = _post(f"{api}/runs/log-metric", {"run_id": rid, "key": "m", "value": 1,
                                         "timestamp": now_ms()})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")


def test_empty_results(api, exp_id):
    r = _post(f"{api}/runs/search", {"experiment_ids": [exp_id]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body.get("runs", []) == [] and not body.get("next_page_token")
    r = _post(f"{api}/experiments/search", {"max_results": 10,
                                            "filter": "name = 'surely-no-such-experiment'"})
    assert r.status_code == 200, r.text
    assert r.json().get("experiments", []) == []


def test_get_uses_query_parameters_and_repeated_keys(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    # The stock client sends both run_uuid and run_id on GETs.
    r = requests.get(f"{api}/runs/get?run_uuid={rid}&run_id={rid}", timeout=30)
    assert r.status_code == 200
    r = requests.get(f"{api}/experiments/search",
                     params={"max_results": 5, "filter": f"experiment_id = '{exp_id}'"},
                     timeout=30)
    assert r.status_code == 200, r.text
    assert [e["experiment_id"] for e in r.json()["experiments"]] == [exp_id]


def test_ajax_api_mirror(server_url, client, exp_id):
    rid = client.create_run(exp_id, run_name="ajax").info.run_id
    base = f"{server_url}/ajax-api/2.0/mlflow"
    r = requests.get(f"{base}/experiments/get", params={"experiment_id": "0"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["experiment"]["name"] == "Default"
    r = requests.post(f"{base}/runs/search", json={"experiment_ids": [exp_id]}, timeout=30)
    assert r.status_code == 200, r.text
    assert [x["info"]["run_id"] for x in r.json()["runs"]] == [rid]
    r = requests.post(f"{base}/runs/log-metric",
                      json={"run_id": rid, "key": "m", "value": 2.5, "timestamp": now_ms()},
                      timeout=30)
    assert r.status_code == 200, r.text
    assert client.get_run(rid).data.metrics == {"m": 2.5}
    r = requests.get(f"{base}/runs/get", params={"run_id": MISSING_RUN}, timeout=30)
    assert_json_error(r, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/2.0/mlflow/no-such-endpoint"),
    ("POST", "/api/2.0/mlflow/runs/no-such-endpoint"),
    ("GET", "/api/2.0/no-such-service/x"),
    ("GET", "/no/such/route"),
])
def test_unknown_route_is_404(server_url, method, path):
    r = requests.request(method, server_url + path, json={} if method == "POST" else None,
                         timeout=30)
    assert r.status_code == 404
    # HTML (reference) or an ENDPOINT_NOT_FOUND JSON error: never a misleading error code,
    # since the client relies on ENDPOINT_NOT_FOUND to fall back to other endpoints.
    if r.headers.get("Content-Type", "").startswith("application/json"):
        assert r.json().get("error_code") == "ENDPOINT_NOT_FOUND", r.text


@pytest.mark.cairn_only
def test_foreign_host_and_cross_site_writes_are_refused(server_url, api, unique):
    # DNS rebinding: a loopback server must not answer to an attacker's host name.
    r = requests.get(f"{api}/experiments/get", params={"experiment_id": "0"},
                     headers={"Host": "attacker.example"}, timeout=30)
    assert_json_error(r, 403, "PERMISSION_DENIED")
    # CSRF: a write from another site's page is refused and changes nothing.
    name = f"csrf-{unique}"
    r = requests.post(f"{api}/experiments/create", json={"name": name},
                      headers={"Origin": "https://attacker.example"}, timeout=30)
    assert_json_error(r, 403, "PERMISSION_DENIED")
    r = requests.get(f"{api}/experiments/get-by-name", params={"experiment_name": name}, timeout=30)
    assert r.status_code == 404
    # The same request from the server's own origin goes through.
    r = requests.post(f"{api}/experiments/create", json={"name": name},
                      headers={"Origin": server_url}, timeout=30)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path, body", [
    ("experiments/delete", {}),
    ("experiments/restore", {}),
    ("experiments/update", {"new_name": "never"}),
    ("experiments/set-experiment-tag", {"key": "k", "value": "v"}),
    ("runs/create", {}),
])
def test_experiment_ids_are_integers(api, path, body):
    # As MLflow 3 checks them: not an integer is a 400; an integer no experiment has
    # (a negative one too) is a 404.
    assert_json_error(_get(f"{api}/experiments/get", experiment_id="abc"), 400, "INVALID_PARAMETER_VALUE")
    assert_json_error(_get(f"{api}/experiments/get", experiment_id="-1"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_json_error(_post(f"{api}/{path}", dict(body, experiment_id="abc")), 400, "INVALID_PARAMETER_VALUE")
    assert_json_error(_post(f"{api}/{path}", dict(body, experiment_id="-1")), 404, "RESOURCE_DOES_NOT_EXIST")


def test_repeated_fields_in_a_json_body_are_lists(api):
    assert_json_error(_post(f"{api}/runs/search", {"experiment_ids": "0"}), 400, "INVALID_PARAMETER_VALUE")
    assert_json_error(_post(f"{api}/experiments/search", {"order_by": "name"}), 400, "INVALID_PARAMETER_VALUE")
    assert _post(f"{api}/runs/search", {"experiment_ids": ["0"]}).status_code == 200
    # In a query string one value of a repeated field is enough.
    assert _get(f"{api}/experiments/search", order_by="name", max_results=10).status_code == 200


def test_query_bytes_that_are_not_utf8_are_kept_as_escapes(api):
    # Werkzeug keeps them as %XX: a name no experiment has, not a malformed request.
    r = requests.get(f"{api}/experiments/get-by-name?experiment_name=%ff%fe", timeout=30)
    body = assert_json_error(r, 404, "RESOURCE_DOES_NOT_EXIST")
    assert "'%FF%FE'" in body["message"], body
    r = requests.get(f"{api}/experiments/get?experiment_id=%ff", timeout=30)
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.cairn_only
def test_oversized_headers_and_unknown_paths_are_explained(server_url):
    # MLflow's server (uvicorn) takes a 100 KB header; Cairn's HTTP decoder stops at 80 KiB,
    # and says so in MLflow's error shape rather than with an empty 400.
    r = requests.get(f"{server_url}/health", headers={"X-Request-ID": "a" * 100_000}, timeout=30)
    body = assert_json_error(r, 400, "BAD_REQUEST")
    assert "headers are too large" in body["message"], body
    # requests sends /ping%zz as /ping%25zz; the message shows what the caller wrote.
    r = requests.get(f"{server_url}/ping%zz", timeout=30)
    body = assert_json_error(r, 404, "ENDPOINT_NOT_FOUND")
    assert body["message"] == "No API endpoint matches GET /ping%zz", body
