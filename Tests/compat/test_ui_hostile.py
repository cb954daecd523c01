"""Hostile input an outside review sent to the web UI and the API (issue 14's leftovers),
against a live `cairn server`: NUL in names through the stock `mlflow` client and the pages'
forms, out-of-range runs-table state, wrong methods and over-long URLs on pages.

Cairn-only: these are Cairn's pages and Cairn's answers to input MLflow's server stores as sent.
"""

from __future__ import annotations

import re

import pytest
import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

pytestmark = pytest.mark.cairn_only


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30).text
    match = re.search(r'name="csrf_token" value="([0-9a-f]{32})"', page)
    assert match, "no CSRF field in the page"
    return match.group(1)


def _html(answer: requests.Response, status: int) -> str:
    assert answer.status_code == status, f"{answer.url[:200]}: {answer.status_code}\n{answer.text[:2000]}"
    assert answer.headers["Content-Type"].startswith("text/html"), answer.headers
    return answer.text


def test_nul_in_names_is_refused_and_nothing_is_stored(client: MlflowClient, server_url, unique):
    with pytest.raises(MlflowException) as refused:
        client.create_experiment(f"nul-{unique}\x00tail")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "NUL" in refused.value.message
    assert client.get_experiment_by_name(f"nul-{unique}") is None
    assert client.get_experiment_by_name(f"nul-{unique}\x00tail") is None

    experiment = client.create_experiment(f"nul-ok-{unique}")
    with pytest.raises(MlflowException) as refused:
        client.create_run(experiment, run_name="run\x00name")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.search_runs([experiment]) == []

    run = client.create_run(experiment, run_name="fine")
    for action in (
        lambda: client.set_tag(run.info.run_id, "k", "a\x00b"),
        lambda: client.log_param(run.info.run_id, "p", "a\x00b"),
        lambda: client.set_experiment_tag(experiment, "k", "a\x00b"),
        lambda: client.rename_experiment(experiment, "x\x00y"),
        lambda: client.create_registered_model(f"model-{unique}\x00"),
    ):
        with pytest.raises(MlflowException) as refused:
            action()
        assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    stored = client.get_run(run.info.run_id)
    assert stored.data.tags.get("k") is None and stored.data.params == {}
    assert client.get_experiment(experiment).name == f"nul-ok-{unique}"
    assert client.search_registered_models(f"name LIKE 'model-{unique}%'") == []

    # The page's form: the same refusal as a page, nothing created.
    session = requests.Session()
    token = _csrf(session, f"{server_url}/experiments")
    answer = session.post(f"{server_url}/experiments", data={"csrf_token": token, "name": f"form-{unique}\x00x"},
                          timeout=30)
    assert "NUL characters are not allowed" in _html(answer, 400)
    assert client.get_experiment_by_name(f"form-{unique}") is None


def test_runs_table_state_out_of_range(client: MlflowClient, server_url, unique):
    experiment = client.create_experiment(f"paged-{unique}")
    for index in range(3):
        client.create_run(experiment, run_name=f"r{index}")
    base = f"{server_url}/experiments/{experiment}"
    for query, text in [("page=x", "Invalid page &#39;x&#39;"), ("size=3", "Invalid page size &#39;3&#39;"),
                        ("view=gone", "Unknown view &#39;gone&#39;"), ("agg=avg", "Unknown agg &#39;avg&#39;")]:
        assert text in _html(requests.get(f"{base}?{query}", timeout=30), 400), query
    past = _html(requests.get(f"{base}?size=25&page=4", timeout=30), 404)
    assert "There is no page 4 of this view: it has 1 page of up to 25 (3 top-level runs)." in past
    assert "of 1" not in past


def test_wrong_method_and_overlong_url_on_pages(server_url):
    answer = requests.post(f"{server_url}/compare", data={"x": "1"}, timeout=30)
    assert "405 Method Not Allowed" in _html(answer, 405)
    assert answer.headers["Allow"] == "GET, HEAD"
    answer = requests.get(f"{server_url}/experiments/0/rename", timeout=30)
    _html(answer, 405)
    assert answer.headers["Allow"] == "POST"

    # A URL past the decoder's 80 KiB: a page's is the UI's page, an API's MLflow's JSON.
    page = requests.get(f"{server_url}/experiments?q={'a' * 90_000}", timeout=30)
    assert "414 URI Too Long" in _html(page, 414)
    assert "URL is too long" in page.text
    api = requests.get(f"{server_url}/api/2.0/mlflow/experiments/get-by-name?experiment_name={'a' * 90_000}",
                       timeout=30)
    assert api.status_code == 414
    assert api.json()["error_code"] == "BAD_REQUEST"
    # The server still answers afterwards (the refused connection was closed, not the server).
    assert requests.get(f"{server_url}/health", timeout=30).status_code == 200
