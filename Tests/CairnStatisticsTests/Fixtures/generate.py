"""Writes golden_vectors.json: drift statistics computed by scipy (and Evidently's formulas on
top of scipy/numpy), and model-quality metrics computed by scikit-learn, for the Swift tests in
CairnMonitorTests.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -r requirements.txt
    /tmp/venv/bin/python generate.py          # run from this directory

Inputs are seeded and deterministic. Large samples are not written out: a "grid" input
{"n", "start", "stop"} means start + (stop - start) * ((i + 0.5) / n) for i in 0..<n, which the
Swift side rebuilds with the same IEEE operations. NaN is written as null.
"""
import json
import math
import os

import numpy as np
import scipy
import sklearn
from scipy import special, stats
from scipy.spatial import distance
from sklearn import metrics

HERE = os.path.dirname(os.path.abspath(__file__))


def grid(n, start, stop):
    return {"n": n, "start": start, "stop": stop}


def materialize(x):
    if isinstance(x, dict):
        i = np.arange(x["n"], dtype=np.float64)
        return x["start"] + (x["stop"] - x["start"]) * ((i + 0.5) / x["n"])
    return np.array([np.nan if v is None else v for v in x], dtype=np.float64)


def encode(x):
    if isinstance(x, dict):
        return x
    return [None if (isinstance(v, float) and math.isnan(v)) else v for v in x]


def floats(rng_values):
    return [float(v) for v in rng_values]


def finite(x):
    x = np.asarray(x, dtype=np.float64)
    return x[np.isfinite(x)]


# --- Evidently's drift methods, re-derived from its documented formulas -------------------

def binned(ref, cur, numeric, fill_zeros):
    """Evidently's get_binned_data."""
    if numeric and len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = sorted(set(ref.tolist()) | set(cur.tolist()))
        rc = {k: 0 for k in keys}
        cc = {k: 0 for k in keys}
        for v in ref.tolist():
            rc[v] += 1
        for v in cur.tolist():
            cc[v] += 1
        r = np.array([rc[k] for k in keys]) / len(ref)
        c = np.array([cc[k] for k in keys]) / len(cur)
    if fill_zeros:
        for arr in (r, c):
            m = arr[arr != 0].min()
            np.place(arr, arr == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return r, c


def counts_by_key(ref, cur):
    keys = sorted(set(ref.tolist()) | set(cur.tolist()))
    rc = {k: 0 for k in keys}
    cc = {k: 0 for k in keys}
    for v in ref.tolist():
        rc[v] += 1
    for v in cur.tolist():
        cc[v] += 1
    return keys, rc, cc


def ev_ks(ref, cur):
    r = stats.ks_2samp(ref, cur)
    return float(r.pvalue), float(r.statistic)


def ev_chisquare(ref, cur):
    keys, rc, cc = counts_by_key(ref, cur)
    k = len(cur) / len(ref)
    f_exp = [rc[key] * k for key in keys]
    f_obs = [cc[key] for key in keys]
    if len(keys) == 1:
        return 1.0, 0.0  # scipy: NaN (df = 0); Cairn: p = 1, documented
    with np.errstate(divide="ignore", invalid="ignore"):
        r = stats.chisquare(f_obs, f_exp)
    return float(r.pvalue), float(r.statistic)


def ev_z(ref, cur):
    if len(set(ref.tolist())) == 1 and len(set(cur.tolist())) == 1 and ref[0] == cur[0]:
        return 1.0, 0.0
    keys = sorted(set(ref.tolist()) | set(cur.tolist()))
    r01 = np.array([0 if v == keys[0] else 1 for v in ref.tolist()])
    c01 = np.array([0 if v == keys[0] else 1 for v in cur.tolist()])
    n1, n2 = len(r01), len(c01)
    p1, p2 = r01.mean(), c01.mean()
    P = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1 / n1 + 1 / n2))
    return float(2 * (1 - stats.norm.cdf(abs(z)))), float(z)


def ev_wasserstein(ref, cur):
    return float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)), None


def ev_js(ref, cur, numeric):
    r, c = binned(ref, cur, numeric, False)
    return float(distance.jensenshannon(r, c)), None


def ev_psi(ref, cur, numeric):
    r, c = binned(ref, cur, numeric, True)
    return float(np.sum((r - c) * np.log(r / c))), None


def default_method(ref, cur, numeric):
    n_unique = len(set(ref.tolist()) | set(cur.tolist()))
    if len(ref) <= 1000:
        if numeric:
            return "ks" if n_unique > 5 else ("chisquare" if n_unique > 2 else "z")
        return "chisquare" if n_unique > 2 else "z"
    if numeric:
        return "wasserstein" if n_unique > 5 else "jensenshannon"
    return "jensenshannon"


def evidently(method, ref, cur, numeric):
    if method == "ks":
        return ev_ks(ref, cur)
    if method == "chisquare":
        return ev_chisquare(ref, cur)
    if method == "z":
        return ev_z(ref, cur)
    if method == "wasserstein":
        return ev_wasserstein(ref, cur)
    if method == "jensenshannon":
        return ev_js(ref, cur, numeric)
    if method == "psi":
        return ev_psi(ref, cur, numeric)
    raise ValueError(method)


THRESHOLDS = {"ks": 0.05, "chisquare": 0.05, "z": 0.05, "wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1}


def drifted(method, score):
    t = THRESHOLDS[method]
    if method == "ks":
        return score <= t
    if method in ("chisquare", "z"):
        return score < t
    return score >= t


# --- Model quality (sklearn.metrics) -------------------------------------------------------

def positive_class(classes, given):
    """QualityMetrics.classification's rule: the given label, else "1"/"true"/"True" when one is
    a class (sklearn's pos_label=1 for labels that arrive as text), else the greater class."""
    if given is not None:
        return given
    for conventional in ("1", "true", "True"):
        if conventional in classes:
            return conventional
    return max(classes)


def classification_case(name, labels, predictions, scores=None, positive_label=None):
    y_true = np.array(labels, dtype=object)
    y_pred = np.array(predictions, dtype=object)
    classes = sorted(set(labels) | set(predictions))
    case = {"name": name, "labels": labels, "predictions": predictions,
            "scores": None if scores is None else encode(scores), "positive_label": positive_label,
            "rows": len(labels), "accuracy": float(metrics.accuracy_score(y_true, y_pred)), "roc_auc": None}
    if len(classes) <= 2:
        pos = positive_class(classes, positive_label)
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, average="binary", pos_label=pos, zero_division=0)
        # roc_auc_score takes the greater label of y_true as positive; give it 0/1 truth instead.
        truth = (y_true == pos).astype(int)
        if scores is None:
            s, keep = (y_pred == pos).astype(float), np.ones(len(labels), dtype=bool)
        else:
            s = np.array(scores, dtype=np.float64)
            keep = np.isfinite(s)  # Cairn leaves non-finite scores out of ROC AUC only
        if len(set(truth[keep].tolist())) == 2:
            case["roc_auc"] = float(metrics.roc_auc_score(truth[keep], s[keep]))
    else:
        p, r, f, _ = metrics.precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    case.update({"precision": float(p), "recall": float(r), "f1": float(f)})
    return case


def regression_case(name, labels, predictions):
    y, yhat = np.array(labels, dtype=np.float64), np.array(predictions, dtype=np.float64)
    keep = np.isfinite(y) & np.isfinite(yhat)  # Cairn skips rows with a missing value
    return {"name": name, "labels": encode(labels), "predictions": encode(predictions), "rows": int(keep.sum()),
            "mae": float(metrics.mean_absolute_error(y[keep], yhat[keep])),
            "rmse": float(metrics.root_mean_squared_error(y[keep], yhat[keep]))}


def quality():
    # Its own generator, so adding cases never shifts the drift inputs above.
    rng = np.random.default_rng(20250612)

    def probabilities(truth, separation, decimals=None):
        raw = 1 / (1 + np.exp(-(rng.normal(0, 1, len(truth)) + separation * (np.array(truth) - 0.5))))
        return np.round(raw, decimals) if decimals is not None else raw

    truth = rng.integers(0, 2, 600).tolist()
    p_round = probabilities(truth, 2.0, decimals=2)  # rounded: many tied scores
    truth_big = rng.integers(0, 2, 5000).tolist()
    p_big = probabilities(truth_big, 1.2)
    truth_coarse = rng.integers(0, 2, 400).tolist()
    coarse = (rng.integers(0, 5, 400) / 4 * 0.5 + np.array(truth_coarse) * 0.25).tolist()  # 7 levels, heavy ties
    yes_no_truth = rng.choice(["no", "yes"], 300, p=[0.7, 0.3]).tolist()
    p_yes = probabilities([v == "yes" for v in yes_no_truth], 1.5, decimals=3)
    cat_truth = rng.choice(["cat", "dog"], 250).tolist()
    p_cat = probabilities([v == "cat" for v in cat_truth], 0.8, decimals=1)
    with_nan = probabilities(truth, 1.0, decimals=2).tolist()
    for i in range(0, 600, 29):
        with_nan[i] = float("nan")

    def flip(values, share, alphabet):
        return [str(rng.choice(alphabet)) if rng.random() < share else v for v in values]

    def cut(ps, t=0.5, pos="1", neg="0"):
        return [pos if v >= t else neg for v in ps]

    s = lambda values: [str(v) for v in values]
    three = rng.choice(["a", "b", "c"], 900, p=[0.5, 0.3, 0.2]).tolist()
    five = rng.choice(["ant", "bee", "cow", "dog", "elk"], 2000).tolist()
    one_two = rng.choice(["1", "2"], 200, p=[0.4, 0.6]).tolist()
    classification = [
        classification_case("binary 0/1 with rounded probabilities", s(truth), cut(p_round), p_round.tolist()),
        classification_case("binary 5000 continuous scores", s(truth_big), cut(p_big, 0.45), p_big.tolist()),
        classification_case("binary heavy ties in scores", s(truth_coarse), cut(coarse, 0.4), coarse),
        classification_case("binary yes/no, greater label positive", yes_no_truth, cut(p_yes, 0.4, "yes", "no"), p_yes.tolist()),
        classification_case("binary explicit positive label", cat_truth, cut(p_cat, 0.5, "cat", "dog"), p_cat.tolist(), "cat"),
        classification_case("binary 1/2 labels, 1 positive", one_two, flip(one_two, 0.3, ["1", "2"])),
        classification_case("binary True/False without scores", flip(["True"] * 120 + ["False"] * 180, 0.2, ["True", "False"]),
                            flip(["True"] * 150 + ["False"] * 150, 0.3, ["True", "False"])),
        classification_case("binary non-finite scores left out of ROC AUC", s(truth), cut(with_nan, 0.55), with_nan),
        classification_case("binary no predicted positives", s(truth[:100]), ["0"] * 100, p_round[:100].tolist()),
        classification_case("binary no predicted positives without scores", s(truth[100:200]), ["0"] * 100),
        classification_case("binary tiny with a tie across classes", ["0", "0", "1", "1"], ["0", "1", "1", "1"], [0.1, 0.6, 0.6, 0.9]),
        classification_case("binary all scores tied", ["0", "1", "1", "0", "1"], ["1", "1", "1", "1", "1"], [0.5] * 5),
        classification_case("multiclass 3 classes", three, flip(three, 0.35, ["a", "b", "c"])),
        classification_case("multiclass class only predicted, class never predicted", three,
                            [("d" if v == "c" and rng.random() < 0.5 else ("a" if v == "c" else v)) for v in three]),
        classification_case("multiclass 5 classes", five, flip(five, 0.5, ["ant", "bee", "cow", "dog", "elk"])),
        classification_case("single class in labels", ["1"] * 50, cut(rng.random(50), 0.3)),
        classification_case("single class everywhere", ["spam"] * 20, ["spam"] * 20),
        classification_case("single class, absent positive label", ["b"] * 10, ["b"] * 10, None, "a"),
    ]

    y = rng.normal(50, 10, 3000)
    y_missing = rng.normal(0, 1, 400).tolist()
    yhat_missing = (np.array(y_missing) + rng.normal(0, 0.3, 400)).tolist()
    for i in range(0, 400, 17):
        y_missing[i] = float("nan")
    for i in range(5, 400, 23):
        yhat_missing[i] = float("nan")
    offset = 1e6 + rng.normal(0, 1, 1000)
    regression = [
        regression_case("normal errors", y.tolist(), (y + rng.normal(0.5, 3, 3000)).tolist()),
        regression_case("missing labels and predictions skipped", y_missing, yhat_missing),
        regression_case("large offset", offset.tolist(), (offset + rng.normal(0, 1e-3, 1000)).tolist()),
        regression_case("exact", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
        regression_case("anchor", [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]),
    ]
    return {"sklearn": sklearn.__version__, "classification": classification, "regression": regression}


def main():
    rng = np.random.default_rng(20240605)
    out = {"scipy": scipy.__version__, "numpy": np.__version__}

    # Special functions ------------------------------------------------------------------
    out["gammaincc"] = [
        {"a": a, "x": x, "q": float(special.gammaincc(a, x))}
        for a in (0.5, 1.0, 1.5, 2.5, 10.0, 49.5, 200.0)
        for x in (0.01, 0.5, 1.0, 3.75, 9.0, 30.0, 60.0, 250.0)
    ]
    out["normal_sf"] = [{"z": z, "sf": float(stats.norm.sf(z))} for z in (-3.0, -0.5, 0.0, 0.3, 1.96, 4.0, 8.0, 20.0)]
    kstwo = []
    for n in (3, 10, 50, 140, 141, 500, 1000, 8571, 50000, 99999, 100001, 250000, 2000001):
        for nx2 in (0.2, 0.5, 0.74, 0.9, 1.5, 2.1, 2.3, 3.9, 4.1, 10.0, 17.0, 30.0, 200.0, 400.0):
            d = math.sqrt(nx2 / n)
            if d < 1:
                kstwo.append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})
        for d in (0.6 / n, 0.9 / n, 0.55, 0.8, 1 - 0.5 / n):
            kstwo.append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})
    out["kstwo_sf"] = kstwo
    out["smirnov"] = [
        {"n": n, "d": d, "sf": float(special.smirnov(n, d))}
        for n in (2, 5, 30, 141, 1000, 90909) for d in (0.01, 0.05, 0.1, 0.3, 0.6, 0.95)
    ]

    # Kolmogorov-Smirnov -------------------------------------------------------------------
    a = [0.1 * i for i in range(10)]
    b = [0.35 + 0.125 * j for j in range(8)]
    c = [float(i) for i in range(1, 31)]
    d = [v + 3.5 for v in c]
    ks_inputs = [
        ("anchor exact n!=m", a, b),
        ("anchor n=m", c, d),
        ("normals 40 vs 70", floats(rng.normal(0, 1, 40)), floats(rng.normal(0.3, 1, 70))),
        ("normals 300 vs 200", floats(rng.normal(0, 1, 300)), floats(rng.normal(0.1, 1.1, 200))),
        ("equal 500 shifted", floats(rng.normal(0, 1, 500)), floats(rng.normal(0.25, 1, 500))),
        ("equal 500 far apart", floats(rng.normal(0, 1, 500)), floats(rng.normal(3, 1, 500))),
        ("ties", floats(rng.integers(0, 6, 120)), floats(rng.integers(0, 7, 90))),
        ("constant vs constant", [2.0] * 30, [2.0] * 40),
        ("constant vs other", [2.0] * 30, [2.0] * 20 + [3.0] * 5),
        ("nan dropped", [0.1, None, 0.5, 0.9, None, 1.3, 2.0, 0.7], [0.4, 0.45, None, 1.9, 2.5, 3.1]),
        ("exact 10000 vs 7001", floats(rng.normal(0, 1, 10000)), floats(rng.normal(0.02, 1, 7001))),
        ("asymp small en, 60 vs 20000", floats(rng.normal(0, 1, 60)), grid(20000, -3.0, 3.2)),
        ("asymp 20000 vs 15000 close", grid(20000, 0.0, 1.0), grid(15000, 0.001, 1.003)),
        ("asymp 20000 vs 15000 shifted", grid(20000, 0.0, 1.0), grid(15000, 0.02, 1.02)),
        ("asymp 100000 vs 1000000", grid(100000, -2.0, 2.0), grid(1000000, -1.999, 2.0031)),
        ("asymp 300000 vs 250000", grid(300000, 0.0, 1.0), grid(250000, 0.0005, 1.0009)),
        ("asymp far apart", grid(12000, 0.0, 1.0), grid(11000, 0.5, 1.5)),
    ]
    ks = []
    for name, x, y in ks_inputs:
        r = stats.ks_2samp(finite(materialize(x)), finite(materialize(y)))
        ks.append({"name": name, "a": encode(x), "b": encode(y), "statistic": float(r.statistic), "pvalue": float(r.pvalue)})
    out["ks"] = ks

    # Wasserstein ------------------------------------------------------------------------
    w_inputs = [
        ("anchor", [0.0, 1.0, 3.0], [5.0, 6.0, 8.0]),
        ("anchor a b", a, b),
        ("normals", floats(rng.normal(0, 1, 400)), floats(rng.normal(0.5, 2, 300))),
        ("ties", floats(rng.integers(0, 4, 50)), floats(rng.integers(1, 5, 70))),
        ("grids", grid(100000, -2.0, 2.0), grid(1000000, -1.9, 2.3)),
    ]
    out["wasserstein"] = [
        {"name": n, "u": encode(x), "v": encode(y), "distance": float(stats.wasserstein_distance(materialize(x), materialize(y))),
         "normed": float(stats.wasserstein_distance(materialize(x), materialize(y)) / max(np.std(materialize(x)), 0.001))}
        for n, x, y in w_inputs
    ]

    # Chi-squared, JS, PSI, Z on given vectors ----------------------------------------------
    out["chisquare"] = [
        {"observed": [16, 18, 16, 14, 12, 12], "expected": None, "statistic": 2.0,
         "pvalue": float(stats.chisquare([16, 18, 16, 14, 12, 12]).pvalue)},
        {"observed": [30, 14, 34, 45, 57, 20], "expected": [20, 20, 30, 40, 60, 30],
         "statistic": float(stats.chisquare([30, 14, 34, 45, 57, 20], [20, 20, 30, 40, 60, 30]).statistic),
         "pvalue": float(stats.chisquare([30, 14, 34, 45, 57, 20], [20, 20, 30, 40, 60, 30]).pvalue)},
    ]
    js_cases = [([.1, .4, .5], [.3, .3, .4]), ([1, 0], [.5, .5]), ([1, 0, 0], [0, 1, 0]), ([3, 0, 7, 1], [1, 2, 0, 9])]
    out["jensenshannon"] = [
        {"p": p, "q": q, "natural": float(distance.jensenshannon(p, q)), "base2": float(distance.jensenshannon(p, q, 2))}
        for p, q in js_cases
    ]
    out["psi"] = [
        {"reference": [.25] * 4, "current": [.1, .2, .3, .4],
         "value": float(np.sum((np.array([.25] * 4) - np.array([.1, .2, .3, .4])) * np.log(np.array([.25] * 4) / np.array([.1, .2, .3, .4]))))},
    ]
    p1, p2 = 0.40, 0.55
    P = (40 + 55) / 200
    z = (p1 - p2) / math.sqrt(P * (1 - P) * (2 / 100))
    out["ztest"] = [{"x1": 40, "n1": 100, "x2": 55, "n2": 100, "z": z, "pvalue": float(2 * stats.norm.sf(abs(z)))}]

    # Detector cases: Evidently's default choice and every method -------------------------
    def numeric_case(name, ref, cur, methods):
        r, c = finite(materialize(ref)), finite(materialize(cur))
        results = {}
        for m in methods:
            score, stat = evidently(m, r, c, True)
            stat = stat if stat is not None and math.isfinite(stat) else None  # Cairn reports only finite statistics
            results[m] = {"score": score, "statistic": stat, "drifted": bool(drifted(m, score))}
        return {"name": name, "kind": "numeric", "reference": encode(ref), "current": encode(cur),
                "default": default_method(r, c, True), "results": results}

    def categorical_case(name, ref, cur, methods):
        r = np.array([v for v in ref if v is not None], dtype=object)
        c = np.array([v for v in cur if v is not None], dtype=object)
        results = {}
        for m in methods:
            score, stat = evidently(m, r, c, False)
            stat = stat if stat is not None and math.isfinite(stat) else None  # Cairn reports only finite statistics
            results[m] = {"score": score, "statistic": stat, "drifted": bool(drifted(m, score))}
        return {"name": name, "kind": "categorical", "reference": ref, "current": cur,
                "default": default_method(r, c, False), "results": results}

    all_numeric = ["ks", "wasserstein", "jensenshannon", "psi", "chisquare", "z"]
    frequency = ["jensenshannon", "psi", "chisquare", "z"]
    with_nan = floats(rng.normal(10, 2, 800))
    for i in range(0, 800, 37):
        with_nan[i] = float("nan")
    cur_nan = floats(rng.normal(10.4, 2, 600))
    for i in range(0, 600, 11):
        cur_nan[i] = float("nan")
    cases = [
        numeric_case("small normal no drift", floats(rng.normal(0, 1, 500)), floats(rng.normal(0, 1, 700)), all_numeric[:4]),
        numeric_case("small normal with nulls, shifted", with_nan, cur_nan, all_numeric[:4]),
        numeric_case("large reference", floats(rng.normal(5, 3, 5000)), floats(rng.normal(5.6, 3, 8000)), all_numeric[:4]),
        numeric_case("large reference, zero bins", floats(rng.normal(0, 1, 3000)), floats(rng.normal(4, 0.5, 2000)), all_numeric[:4]),
        numeric_case("few values small", floats(rng.integers(0, 4, 400)), floats(rng.integers(0, 5, 300)), frequency),
        numeric_case("binary numeric", floats(rng.integers(0, 2, 300)), floats(rng.integers(0, 2, 200)), frequency),
        numeric_case("few values large", floats(rng.integers(0, 5, 4000)), floats(rng.integers(1, 5, 3000)), frequency),
        numeric_case("constant reference", [3.0] * 2000, floats(rng.normal(3, 0.001, 1500)), ["wasserstein", "ks"]),
        numeric_case("constant both", [3.0] * 200, [3.0] * 100, ["wasserstein", "ks", "z"]),
    ]
    cats = ["a", "b", "c", "d", "e"]
    ref_c = [str(v) for v in rng.choice(cats, 600, p=[.3, .25, .2, .15, .1])]
    cur_c = [str(v) for v in rng.choice(cats, 400, p=[.2, .25, .2, .2, .15])]
    cur_unseen = [str(v) for v in rng.choice(cats + ["zz"], 400, p=[.28, .25, .2, .15, .1, .02])]
    big_ref = [str(v) for v in rng.choice(cats, 3000, p=[.3, .25, .2, .15, .1])]
    big_cur = [str(v) for v in rng.choice(cats, 5000, p=[.1, .25, .2, .15, .3])]
    bin_ref = [str(v) for v in rng.choice(["no", "yes"], 500, p=[.6, .4])]
    bin_cur = [str(v) for v in rng.choice(["no", "yes"], 300, p=[.5, .5])]
    ref_nulls = list(ref_c)
    for i in range(0, 600, 13):
        ref_nulls[i] = None
    cases += [
        categorical_case("categorical no drift", ref_c, ref_c[:300], frequency),
        categorical_case("categorical shifted", ref_c, cur_c, frequency),
        categorical_case("categorical unseen category", ref_c, cur_unseen, frequency),
        categorical_case("categorical with nulls", ref_nulls, cur_c, frequency),
        categorical_case("categorical large", big_ref, big_cur, frequency),
        categorical_case("binary categorical", bin_ref, bin_cur, frequency),
        categorical_case("single category", ["x"] * 50, ["x"] * 30, ["z", "chisquare", "jensenshannon", "psi"]),
    ]
    out["detector"] = cases

    out["quality"] = quality()

    with open(os.path.join(HERE, "golden_vectors.json"), "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
