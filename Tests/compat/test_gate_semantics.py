"""The gate's MetricThreshold judgement against MLflow itself.

The grid lives in Tests/CairnPipelinesTests/Fixtures/gate_grid.json: each case with MLflow's
answer (from `validate_evaluation_results`' body, run here) and Cairn's. The Swift test
`ThresholdValidationTests` checks Cairn's judgement against every case; this test checks that
the fixture still holds what the installed mlflow answers, so a change in MLflow shows up
here instead of silently drifting. No server is needed.
"""

import json
import math

import pytest

import gate_grid


def _key(case):
    candidate = case["candidate"]
    return json.dumps([case["limit"], "nan" if isinstance(candidate, float) and math.isnan(candidate) else candidate, case["baseline"]],
                      sort_keys=True)


def test_fixture_is_what_mlflow_answers():
    with open(gate_grid.FIXTURE) as f:
        stored = json.load(f)
    fresh = gate_grid.grid()
    assert len(fresh) == len(stored["cases"])
    by_key = {_key(case): case for case in stored["cases"]}
    mismatches = [case for case in fresh if by_key[_key(case)]["mlflow"] != case["mlflow"]]
    assert not mismatches, f"{len(mismatches)} cases changed in mlflow; first: {mismatches[0]}"


def test_cairn_agrees_with_mlflow_where_mlflow_is_right():
    """Every case without a documented difference: Cairn's failed checks are MLflow's."""
    with open(gate_grid.FIXTURE) as f:
        cases = json.load(f)["cases"]
    agreed = [case for case in cases if case["difference"] is None]
    assert len(agreed) > 1000
    for case in agreed:
        assert case["mlflow"]["outcome"] in ("pass", "fail")
        assert sorted(case["cairn"]) == sorted(case["mlflow"]["failed"]), case


@pytest.mark.parametrize(
    "limit,candidate,baseline,mlflow_says,cairn_says",
    [
        # A negative baseline (an R2 below 0): 3.17.2 divides by |baseline| as Cairn does.
        (dict(min_relative_change=0.1, greater_is_better=True), -0.4, -0.5, "pass", []),
        (dict(min_relative_change=0.1, greater_is_better=True), -0.6, -0.5, "fail", ["min_relative_change"]),
        # min_relative_change=0.0 is a limit: a worse candidate fails, an equal one passes.
        (dict(min_relative_change=0.0, greater_is_better=True), 0.75, 0.8, "fail", ["min_relative_change"]),
        (dict(min_relative_change=0.0, greater_is_better=True), 0.8, 0.8, "pass", []),
        # A zero baseline falls back to "better by 1e-10" in both.
        (dict(min_relative_change=0.1, greater_is_better=True), 0.0, 0.0, "fail", ["min_relative_change"]),
        # No champion: MLflow fails "missing from the baseline"; Cairn judges the threshold alone.
        (dict(threshold=0.8, min_absolute_change=0.01, greater_is_better=True), 0.85, "none", "fail", []),
        # On the limit exactly: MLflow's float sum 0.8 + 0.05 = 0.8500000000000001 fails it.
        (dict(min_absolute_change=0.05, greater_is_better=True), 0.85, 0.8, "fail", []),
    ],
)
def test_documented_cases(limit, candidate, baseline, mlflow_says, cairn_says):
    full = dict(threshold=None, min_absolute_change=None, min_relative_change=None)
    full.update(limit)
    assert gate_grid.mlflow_answer(full, candidate, baseline)["outcome"] == mlflow_says
    assert gate_grid.cairn_answer(full, candidate, baseline) == cairn_says
