"""Server-side validation limits, sent raw (the client truncates or checks some of these itself)."""

from __future__ import annotations

import pytest
import requests

from compat_helpers import assert_json_error, now_ms


@pytest.fixture
def run_id(client, exp_id):
    return client.create_run(exp_id).info.run_id


def _post(url, body):
    return requests.post(url, json=body, timeout=30)


def test_long_param_and_tag_values_are_truncated(client, api, run_id):
    for key, n in (("p6000", 6000), ("p6001", 6001), ("p9000", 9000)):
        r = _post(f"{api}/runs/log-parameter", {"run_id": run_id, "key": key, "value": "x" * n})
        assert r.status_code == 200, r.text
    r = _post(f"{api}/runs/set-tag", {"run_id": run_id, "key": "t9000", "value": "y" * 9000})
    assert r.status_code == 200, r.text
    data = client.get_run(run_id).data
    assert {k: len(v) for k, v in data.params.items()} == {"p6000": 6000, "p6001": 6000,
                                                           "p9000": 6000}
    assert len(data.tags["t9000"]) == 8000


@pytest.mark.parametrize("path, field", [
    ("/runs/log-metric", "metric"),
    ("/runs/log-parameter", "param"),
    ("/runs/set-tag", "tag"),
])
def test_key_length_limit(api, run_id, path, field):
    def body(key):
        b = {"run_id": run_id, "key": key}
        if field == "metric":
            b.update(value=1.0, timestamp=now_ms())
        else:
            b.update(value="v")
        return b

    assert _post(api + path, body("k" * 250)).status_code == 200
    assert_json_error(_post(api + path, body("k" * 251)), 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("key", ["a/../b", "/abs", "..x", "a//b", "./a", ".", "bad!", "a\\b", ""])
def test_invalid_keys_rejected(api, run_id, key):
    r = _post(f"{api}/runs/log-metric", {"run_id": run_id, "key": key, "value": 1.0,
                                         "timestamp": now_ms()})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("key", ["a/b", "a:b c-d.e_f", "ü", "x" * 250, "trailing."])
def test_valid_unusual_keys_accepted(client, api, run_id, key):
    r = _post(f"{api}/runs/log-metric", {"run_id": run_id, "key": key, "value": 1.0,
                                         "timestamp": now_ms()})
    assert r.status_code == 200, r.text
    assert client.get_run(run_id).data.metrics == {key: 1.0}


def test_experiment_name_length(client, api, unique):
    ok = _post(f"{api}/experiments/create", {"name": (unique + "n" * 500)[:500]})
    assert ok.status_code == 200, ok.text
    assert_json_error(_post(f"{api}/experiments/create", {"name": "n" * 501}), 400,
                      "INVALID_PARAMETER_VALUE")


def test_experiment_tag_value_length(client, api, exp_id):
    r = _post(f"{api}/experiments/set-experiment-tag",
              {"experiment_id": exp_id, "key": "k", "value": "v" * 20000})
    assert r.status_code == 200, r.text
    r = _post(f"{api}/experiments/set-experiment-tag",
              {"experiment_id": exp_id, "key": "k", "value": "v" * 20001})
    assert_json_error(r, 400, "INVALID_PARAMETER_VALUE")
    assert len(client.get_experiment(exp_id).tags["k"]) == 20000  # not truncated, not replaced


def test_dataset_digest_length(client, api, run_id):
    def log(digest):
        return _post(f"{api}/runs/log-inputs", {"run_id": run_id, "datasets": [{
            "tags": [{"key": "mlflow.data.context", "value": "train"}],
            "dataset": {"name": "d", "digest": digest, "source_type": "local",
                        "source": "{}"}}]})

    assert log("1" * 36).status_code == 200
    assert_json_error(log("1" * 37), 400, "INVALID_PARAMETER_VALUE")
    (di,) = client.get_run(run_id).inputs.dataset_inputs
    assert di.dataset.digest == "1" * 36 and di.dataset.source_type == "local"
    assert di.dataset.schema in (None, "") and di.dataset.profile in (None, "")
