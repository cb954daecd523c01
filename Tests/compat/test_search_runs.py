"""search_runs: filters, order_by, paging, view types, invalid filters."""

from __future__ import annotations

import pytest
from mlflow.entities import ViewType

from compat_helpers import names, raises_mlflow

# run name -> (metric m, params, tags). start_time is BASE + index, so "a" is the oldest.
BASE = 1_600_000_000_000
SPEC = {
    "a": (1.0, {"p": "10", "alpha.beta": "A1"}, {"grp": "Y", "my key": "a"}),
    "b": (2.0, {"p": "9", "alpha.beta": "B2"}, {"grp": "x", "my key": "b"}),
    "c": (float("nan"), {"p": "8", "alpha.beta": "C3"}, {"grp": "Y", "my key": "c"}),
    "d": (None, {"p": "7", "alpha.beta": "D4"}, {"grp": "x", "my key": "d"}),
    "e": (3.0, {"p": "6", "alpha.beta": "E5"}, {"grp": "Y", "my key": "e"}),
}


@pytest.fixture(scope="module")
def corpus(client, server_url):
    import uuid

    eid = client.create_experiment(f"search-runs-{uuid.uuid4().hex[:12]}")
    ids = {}
    for i, (name, (metric, params, tags)) in enumerate(SPEC.items()):
        run = client.create_run(eid, run_name=name, start_time=BASE + i, tags=tags)
        rid = run.info.run_id
        ids[name] = rid
        if metric is not None:
            client.log_metric(rid, "m", metric, timestamp=BASE, step=0)
        for k, v in params.items():
            client.log_param(rid, k, v)
    client.set_terminated(ids["b"], status="FINISHED", end_time=BASE + 100)
    client.set_terminated(ids["d"], status="FAILED", end_time=BASE + 200)
    return eid, ids


def S(client, eid, filter_string="", order_by=None, **kw):
    return names(client.search_runs([eid], filter_string, order_by=order_by, **kw))


def test_default_order_is_start_time_desc(client, corpus):
    eid, _ = corpus
    assert S(client, eid) == ["e", "d", "c", "b", "a"]


@pytest.mark.parametrize("flt, expected", [
    ("metrics.m > 1", ["e", "b"]),
    ("metrics.m >= 1", ["e", "b", "a"]),
    ("metrics.m < 3", ["b", "a"]),
    ("metrics.m <= 2.0", ["b", "a"]),
    ("metrics.m = 2", ["b"]),
    ("metrics.m != 2", ["e", "c", "a"]),  # NaN != 2 holds; a run without m never matches
    ("metric.m > 1", ["e", "b"]),
    ("metrics.`m` > 1", ["e", "b"]),
    ("params.p = '9'", ["b"]),
    ("params.p != '9'", ["e", "d", "c", "a"]),
    ("param.p = '9'", ["b"]),
    ("params.`alpha.beta` = 'C3'", ["c"]),
    ("params.`alpha.beta` LIKE 'A%'", ["a"]),
    ("params.`alpha.beta` LIKE 'a%'", []),  # LIKE is case-sensitive
    ("params.`alpha.beta` ILIKE 'a%'", ["a"]),
    ("params.`alpha.beta` LIKE '_2'", ["b"]),
    ("params.nokey = 'x'", []),
    ("tags.grp = 'x'", ["d", "b"]),
    ("tag.grp = 'x'", ["d", "b"]),
    ("tags.grp ILIKE 'y'", ["e", "c", "a"]),
    ("tags.grp LIKE 'y'", []),
    ("tags.`my key` = 'c'", ["c"]),
    ('tags."my key" = \'c\'', ["c"]),
    ("tags.nokey != 'x'", []),  # != only matches runs that have the key
    ("tags.`mlflow.runName` = 'e'", ["e"]),
    ("tags.mlflow.runName = 'e'", ["e"]),
    ("attributes.run_name = 'b'", ["b"]),
    ("attributes.run_name != 'b'", ["e", "d", "c", "a"]),
    ("run_name LIKE '%'", ["e", "d", "c", "b", "a"]),
    ("attributes.run_name ILIKE 'C'", ["c"]),
    ("attr.run_name = 'a'", ["a"]),
    ("attributes.status = 'RUNNING'", ["e", "c", "a"]),
    ("attributes.status = 'FINISHED'", ["b"]),
    ("status != 'RUNNING'", ["d", "b"]),
    ("attributes.start_time > %d" % (BASE + 2), ["e", "d"]),
    ("attributes.start_time <= %d" % (BASE + 1), ["b", "a"]),
    ("attributes.start_time = %d" % (BASE + 3), ["d"]),
    ("attributes.end_time >= %d" % (BASE + 150), ["d"]),
    ("metrics.m > 1 and params.p = '6'", ["e"]),
    ("metrics.m >= 1 AND tags.grp = 'Y' AND attributes.status = 'RUNNING'", ["e", "a"]),
])
def test_filters(client, corpus, flt, expected):
    eid, _ = corpus
    assert S(client, eid, flt) == expected


def test_filter_run_id_in(client, corpus):
    eid, ids = corpus
    flt = f"attributes.run_id IN ('{ids['a']}', '{ids['e']}')"
    assert S(client, eid, flt) == ["e", "a"]
    assert S(client, eid, f"attributes.run_id NOT IN ('{ids['a']}')") == ["e", "d", "c", "b"]
    assert S(client, eid, f"attributes.run_id = '{ids['c']}'") == ["c"]


@pytest.mark.parametrize("order_by, expected", [
    (["metrics.m ASC"], ["a", "b", "e", "c", "d"]),   # NaN, then missing, last
    (["metrics.m DESC"], ["e", "b", "a", "c", "d"]),  # ... in both directions
    (["metrics.m"], ["a", "b", "e", "c", "d"]),
    (["metrics.`m` DESC"], ["e", "b", "a", "c", "d"]),
    (["params.p"], ["a", "e", "d", "c", "b"]),         # params compare as strings
    (["params.p DESC"], ["b", "c", "d", "e", "a"]),
    (["attributes.start_time ASC"], ["a", "b", "c", "d", "e"]),
    (["start_time"], ["a", "b", "c", "d", "e"]),
    (["attributes.run_name DESC"], ["e", "d", "c", "b", "a"]),
    (["run_name asc"], ["a", "b", "c", "d", "e"]),
    (["tags.grp ASC"], ["e", "c", "a", "d", "b"]),     # 'Y' < 'x'; ties: start_time DESC
    (["tags.grp DESC", "attributes.run_name ASC"], ["b", "d", "a", "c", "e"]),
    (["attributes.status ASC", "start_time DESC"], ["d", "b", "e", "c", "a"]),
])
def test_order_by(client, corpus, order_by, expected):
    eid, _ = corpus
    assert S(client, eid, order_by=order_by) == expected


def test_paging(client, corpus):
    eid, _ = corpus
    got, token, pages = [], None, 0
    while True:
        page = client.search_runs([eid], max_results=2, order_by=["attributes.start_time ASC"],
                                  page_token=token)
        pages += 1
        assert len(page) <= 2
        got += names(page)
        token = page.token
        if not token:
            break
        assert pages < 10
    assert got == ["a", "b", "c", "d", "e"]
    assert pages == 3


def test_paging_across_experiments_and_view_types(client, unique):
    e1 = client.create_experiment(f"multi-a-{unique}")
    e2 = client.create_experiment(f"multi-b-{unique}")
    e3 = client.create_experiment(f"multi-c-{unique}")  # not searched
    made = []
    for i in range(7):
        eid = (e1, e2)[i % 2]
        made.append(client.create_run(eid, run_name=f"r{i}", start_time=BASE + i).info.run_id)
    client.create_run(e3, run_name="other", start_time=BASE)
    for rid in made[5:]:
        client.delete_run(rid)

    def collect(view, page_size):
        out, token = [], None
        for _ in range(20):
            page = client.search_runs([e1, e2], run_view_type=view, max_results=page_size,
                                      order_by=["start_time ASC"], page_token=token)
            out += names(page)
            token = page.token
            if not token:
                return out
        raise AssertionError("paging did not terminate")

    assert collect(ViewType.ACTIVE_ONLY, 2) == ["r0", "r1", "r2", "r3", "r4"]
    assert collect(ViewType.DELETED_ONLY, 1) == ["r5", "r6"]
    assert collect(ViewType.ALL, 3) == [f"r{i}" for i in range(7)]
    assert names(client.search_runs([e1, e2])) == ["r4", "r3", "r2", "r1", "r0"]
    # max_results larger than the result set: one page, no token.
    page = client.search_runs([e1, e2], max_results=100)
    assert len(page) == 5 and not page.token


def test_search_empty_experiment(client, exp_id):
    page = client.search_runs([exp_id])
    assert list(page) == [] and not page.token


def test_search_run_data_is_complete(client, corpus):
    eid, ids = corpus
    (run,) = client.search_runs([eid], "attributes.run_name = 'a'")
    assert run.info.run_id == ids["a"]
    assert run.data.metrics == {"m": 1.0}
    assert run.data.params == {"p": "10", "alpha.beta": "A1"}
    assert run.data.tags["grp"] == "Y" and run.data.tags["mlflow.runName"] == "a"
    (nan_run,) = client.search_runs([eid], "attributes.run_name = 'c'")
    assert nan_run.data.metrics["m"] != nan_run.data.metrics["m"]


@pytest.mark.parametrize("flt", [
    "metrics.m > 1 OR metrics.m < 1",
    "params.p = '1' OR params.p = '2'",
    "foo.a = '1'",
    "attributes.foo = 'x'",
    "metrics.m = 'abc'",
    "metrics.m LIKE '1'",
    "params.p > '1'",
    "params.p = 9",
    "params.p IN ('1')",
    "attributes.run_name IN ('a')",
    "attributes.start_time LIKE '1'",
    "run_name ~ 'a'",
    "tags.grp = ",
    "badclause",
    "attributes.run_id IN ()",
])
def test_invalid_filters_raise(client, corpus, flt):
    eid, _ = corpus
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_runs([eid], flt)


@pytest.mark.parametrize("order_by", [
    ["metrics.m BAD"],
    ["foo.m"],
    ["attributes.foo"],
    ["metrics.m ASC DESC"],
])
def test_invalid_order_by_raises(client, corpus, order_by):
    eid, _ = corpus
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_runs([eid], order_by=order_by)


def test_invalid_page_token_raises(client, corpus):
    eid, _ = corpus
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_runs([eid], page_token="garbage")


@pytest.mark.cairn_only
def test_duplicate_order_by_key_is_a_client_error(client, corpus):
    # Cairn-only: the reference server answers a duplicated order_by key with 500
    # INTERNAL_ERROR (an unhandled exception), which makes the stock client retry for minutes.
    # A client error must be a 4xx (wire contract §1.4, §3.2).
    eid, _ = corpus
    with raises_mlflow("INVALID_PARAMETER_VALUE"):
        client.search_runs([eid], order_by=["metrics.m", "metrics.m DESC"])
