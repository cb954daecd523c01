"""The MetricThreshold judgement grid: every case with what MLflow's own
`mlflow.models.evaluation.validation._validate` (the body of
`validate_evaluation_results`) answers, and where Cairn deliberately differs, what Cairn
answers and why.

`python Tests/compat/gate_grid.py` rewrites Tests/CairnPipelinesTests/Fixtures/gate_grid.json,
which the Swift test `ThresholdValidationTests` checks Cairn against;
`test_gate_semantics.py` checks that the fixture is still what the installed mlflow says.
"""

import itertools
import json
import math
import os
from decimal import Decimal

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "CairnPipelinesTests", "Fixtures", "gate_grid.json")
METRIC = "m"
CHECKS = ["missing_candidate", "threshold", "missing_baseline", "min_absolute_change", "min_relative_change"]


def threshold_variants():
    for threshold, absolute, relative in itertools.product([None, 0.8], [None, 0.05, 0.01], [None, 0.1, 0.0]):
        if threshold is None and absolute is None and relative is None:
            continue
        for greater in (True, False):
            yield {"threshold": threshold, "min_absolute_change": absolute, "min_relative_change": relative, "greater_is_better": greater}


CANDIDATES = [0.9, 0.88, 0.85, 0.8, 0.75, 0.72, 0.0, -0.4, -0.5, -0.6, float("nan"), None]
# "none": no champion at all; "lacks": a champion without the metric.
BASELINES = ["none", "lacks", 0.8, 0.85, 0.0, -0.5]


def mlflow_answer(limit, candidate, baseline):
    from mlflow.models.evaluation import validation
    from mlflow.models import MetricThreshold

    recorded = []
    original = validation._MetricValidationResult

    class Recording(original):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            recorded.append(self)

    validation._MetricValidationResult = Recording
    try:
        thresholds = {METRIC: MetricThreshold(**limit)}
        cand = {} if candidate is None else {METRIC: candidate}
        base = {} if baseline == "none" else ({"other": 1.0} if baseline == "lacks" else {METRIC: baseline})
        try:
            validation._validate(thresholds, cand, base)
            return {"outcome": "pass", "failed": []}
        except validation.ModelValidationFailedException:
            result = recorded[0]
            failed = [c for c in CHECKS if getattr(result, c + ("_failed" if c not in ("missing_candidate", "missing_baseline") else ""))]
            return {"outcome": "fail", "failed": failed}
        except Exception as error:  # KeyError, TypeError, decimal.InvalidOperation
            return {"outcome": "error", "error": type(error).__name__}
    finally:
        validation._MetricValidationResult = original


def exact(x):
    return Decimal(repr(x))


def cairn_answer(limit, candidate, baseline):
    """Cairn's documented semantics (ThresholdValidation.swift), written independently."""
    if candidate is None:
        return ["missing_candidate"]
    if math.isnan(candidate):
        return ["not_a_number"]
    greater = limit["greater_is_better"]

    def good(value, reference, step):
        return exact(value) >= exact(reference) + step if greater else exact(value) <= exact(reference) - step

    failed = []
    if limit["threshold"] is not None and not good(candidate, limit["threshold"], Decimal(0)):
        failed.append("threshold")
    compares = limit["min_absolute_change"] is not None or limit["min_relative_change"] is not None
    if not compares or baseline == "none":
        return failed
    if baseline == "lacks":
        return failed + ["missing_baseline"]
    if limit["min_absolute_change"] is not None and not good(candidate, baseline, exact(limit["min_absolute_change"])):
        failed.append("min_absolute_change")
    if limit["min_relative_change"] is not None:
        if baseline == 0:
            passed = good(candidate, baseline, exact(1e-10))
        else:
            passed = good(candidate, baseline, exact(limit["min_relative_change"]) * abs(exact(baseline)))
        if not passed:
            failed.append("min_relative_change")
    return failed


def difference(limit, candidate, baseline, mlflow):
    """Why Cairn answers differently, or None when it must agree with MLflow.

    - nan_candidate: MLflow fails the threshold check by accident and raises
      InvalidOperation in the change checks; Cairn fails with "is NaN".
    - missing_champion: no baseline at all (the first model). MLflow fails the change checks
      as "missing from the baseline" (or raises TypeError for min_relative_change=0.0);
      Cairn judges the threshold alone.
    - float_rounding: a candidate exactly on the limit. MLflow adds (and divides) in binary
      floating point before comparing (0.8 + 0.05 = 0.8500000000000001); Cairn compares in
      decimal on the printed numbers, so 0.85 >= 0.8 + 0.05 passes.
    """
    if candidate is not None and math.isnan(candidate):
        return "nan_candidate"
    compares = limit["min_absolute_change"] is not None or limit["min_relative_change"] is not None
    if compares and baseline == "none":
        return "missing_champion"
    if baseline == "lacks":
        # MLflow reads baseline_metrics[name] before any check and raises KeyError, even for a
        # threshold-only limit; Cairn judges the threshold and, when a change limit is set
        # (min_relative_change=0.0 included), fails with "missing from the baseline".
        return "champion_lacks_metric"
    return None


def grid():
    cases = []
    for limit in threshold_variants():
        for candidate, baseline in itertools.product(CANDIDATES, BASELINES):
            mlflow = mlflow_answer(limit, candidate, baseline)
            cairn = cairn_answer(limit, candidate, baseline)
            reason = difference(limit, candidate, baseline, mlflow)
            if reason is None and mlflow["outcome"] != "error" and sorted(cairn) != sorted(mlflow["failed"]):
                reason = "float_rounding"
            cases.append(
                {
                    "limit": limit,
                    "candidate": "nan" if candidate is not None and math.isnan(candidate) else candidate,
                    "baseline": baseline,
                    "mlflow": mlflow,
                    "cairn": cairn,
                    "difference": reason,
                }
            )
    return cases


if __name__ == "__main__":
    import mlflow

    cases = grid()
    with open(FIXTURE, "w") as out:
        # One case per line: small, and a regenerated file diffs case by case.
        out.write('{"mlflow_version":%s,"cases":[\n' % json.dumps(mlflow.__version__))
        out.write(",\n".join(json.dumps(case, sort_keys=True, separators=(",", ":")) for case in cases))
        out.write("\n]}\n")
    counts = {}
    for case in cases:
        counts[case["difference"]] = counts.get(case["difference"], 0) + 1
    print(len(cases), "cases;", counts)
