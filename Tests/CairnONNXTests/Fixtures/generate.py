#!/usr/bin/env python3
"""Regenerates the ONNX correctness fixtures for CairnONNXTests.

For each case it writes <case>.onnx (the model) and <case>.json (the input
tensors plus onnxruntime's outputs for them). The Swift tests run the same
inputs through Cairn's runtime and compare. Everything is seeded, so a rerun
with the pinned versions in requirements.txt rewrites identical files.

    python3 -m venv /tmp/onnx-venv && /tmp/onnx-venv/bin/pip install -r requirements.txt
    /tmp/onnx-venv/bin/python generate.py
"""

import json
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.svm import SVC

HERE = os.path.dirname(os.path.abspath(__file__))
# Opsets pinned so converter upgrades do not silently change which operator
# versions the fixtures exercise.
SKL_OPSET = {"": 15, "ai.onnx.ml": 3}
ML_OPSET = 15


def encode_number(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    return v


def dtype_name(arr):
    if arr.dtype == np.float32:
        return "float"
    if arr.dtype == np.float64:
        return "double"
    if arr.dtype == np.int64:
        return "int64"
    if arr.dtype == np.int32:
        return "int32"
    if arr.dtype == np.bool_:
        return "bool"
    if arr.dtype.kind in ("U", "O", "S"):
        return "string"
    raise ValueError(f"unhandled dtype {arr.dtype}")


def encode_tensor(name, arr):
    arr = np.asarray(arr)
    kind = dtype_name(arr)
    flat = arr.reshape(-1).tolist()
    if kind == "string":
        flat = [str(x) for x in flat]
    elif kind == "bool":
        flat = [bool(x) for x in flat]
    elif kind in ("float", "double"):
        flat = [encode_number(float(x)) for x in flat]
    else:
        flat = [int(x) for x in flat]
    return {"name": name, "kind": "tensor", "dtype": kind, "shape": list(arr.shape), "data": flat}


def encode_output(name, value):
    if isinstance(value, list):
        # ZipMap: a list of dicts, one per row. Keys go in as [key, value] pairs
        # because JSON object keys can only be strings.
        key_type = "string"
        rows = []
        for row in value:
            pairs = []
            for k, v in row.items():
                if isinstance(k, (int, np.integer)):
                    key_type = "int64"
                    k = int(k)
                pairs.append([k, encode_number(float(v))])
            rows.append(pairs)
        return {"name": name, "kind": "maps", "key_type": key_type, "data": rows}
    return encode_tensor(name, value)


def write_case(case, model, feeds):
    if not isinstance(model, onnx.ModelProto):
        raise TypeError(case)
    # Converters name graphs with random UUIDs and emit opset imports in set
    # order; normalise both so reruns produce byte-identical files.
    model.graph.name = case
    imports = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(imports)
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    results = session.run(names, feeds)
    doc = {
        "case": case,
        "inputs": [encode_tensor(n, v) for n, v in feeds.items()],
        "outputs": [encode_output(n, v) for n, v in zip(names, results)],
    }
    with open(os.path.join(HERE, case + ".onnx"), "wb") as f:
        f.write(data)
    with open(os.path.join(HERE, case + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    ops = sorted({(n.domain or "ai.onnx") + ":" + n.op_type for n in model.graph.node})
    print(f"{case:32s} {len(data):8d} bytes  {' '.join(ops)}")


def float_input(n_features, name="X"):
    return [(name, FloatTensorType([None, n_features]))]


def with_nans(x, rng, fraction=0.15):
    x = x.copy()
    mask = rng.random(x.shape) < fraction
    x[mask] = np.nan
    return x


def classification(n_classes, n_features=6, n_samples=300, seed=0):
    x, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(n_features, 4),
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return x.astype(np.float32), y


def regression(n_features=6, n_samples=300, seed=0, n_targets=1):
    x, y = make_regression(n_samples=n_samples, n_features=n_features, n_targets=n_targets, noise=0.1, random_state=seed)
    return x.astype(np.float32), y


def sk(model, n_features, options=None, opset=None):
    return to_onnx(model, initial_types=float_input(n_features), target_opset=opset or SKL_OPSET, options=options)


def sklearn_cases():
    rng = np.random.default_rng(42)

    x, y = classification(2)
    lr = LogisticRegression(max_iter=500).fit(x, y)
    write_case("logreg_binary", sk(lr, 6), {"X": x[:8]})
    write_case("logreg_binary_nozipmap", sk(lr, 6, options={id(lr): {"zipmap": False}}), {"X": x[:8]})

    x3, y3 = classification(3)
    lr3 = LogisticRegression(max_iter=500).fit(x3, y3)
    write_case("logreg_3class", sk(lr3, 6), {"X": x3[:8]})

    xs, ys = classification(2, n_features=20, seed=3)
    xs = xs * 7.0 + 3.0
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(xs, ys)
    write_case("scaler_logreg", sk(pipe, 20, options={id(pipe.steps[-1][1]): {"zipmap": False}}), {"X": xs[:8]})

    xr, yr = regression()
    write_case("linear_regression", sk(LinearRegression().fit(xr, yr), 6), {"X": xr[:8]})

    # RF: few shallow trees keep the fixture small; NaN inputs exercise the
    # default routing (comparisons with NaN are false) in converter output.
    rf = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(x3, y3)
    write_case("random_forest_classifier", sk(rf, 6), {"X": with_nans(x3[:12], rng)})
    rf2 = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=1).fit(x, y)
    write_case("random_forest_binary", sk(rf2, 6, options={id(rf2): {"zipmap": False}}), {"X": x[:10]})
    rfr = RandomForestRegressor(n_estimators=10, max_depth=5, random_state=0).fit(xr, yr)
    write_case("random_forest_regressor", sk(rfr, 6), {"X": with_nans(xr[:12], rng)})

    gb = GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0).fit(x, y)
    write_case("gradient_boosting_binary", sk(gb, 6), {"X": x[:10]})
    gb3 = GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0).fit(x3, y3)
    write_case("gradient_boosting_3class", sk(gb3, 6, options={id(gb3): {"zipmap": False}}), {"X": x3[:10]})
    gbr = GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0).fit(xr, yr)
    write_case("gradient_boosting_regressor", sk(gbr, 6), {"X": xr[:10]})

    # HistGradientBoosting learns where missing values go, so NaNs in
    # training and inference exercise nodes_missing_value_tracks_true.
    xh = with_nans(x3, rng, 0.1)
    hgb = HistGradientBoostingClassifier(max_iter=8, max_depth=4, random_state=0).fit(xh, y3)
    write_case("hist_gradient_boosting_3class", sk(hgb, 6), {"X": xh[:12]})
    xhb = with_nans(x, rng, 0.1)
    hgb2 = HistGradientBoostingClassifier(max_iter=8, max_depth=4, random_state=0).fit(xhb, y)
    write_case("hist_gradient_boosting_binary", sk(hgb2, 6, options={id(hgb2): {"zipmap": False}}), {"X": xhb[:12]})

    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(x, y)
    write_case("mlp_binary_relu", sk(mlp, 6), {"X": x[:8]})
    mlp3 = MLPClassifier(hidden_layer_sizes=(10, 6), max_iter=300, random_state=0).fit(x3, y3)
    write_case("mlp_3class_relu", sk(mlp3, 6, options={id(mlp3): {"zipmap": False}}), {"X": x3[:8]})
    mlpt = MLPClassifier(hidden_layer_sizes=(7,), activation="tanh", max_iter=300, random_state=0).fit(x3, y3)
    write_case("mlp_3class_tanh", sk(mlpt, 6), {"X": x3[:8]})
    mlpr = MLPRegressor(hidden_layer_sizes=(8,), activation="logistic", max_iter=300, random_state=0).fit(xr, yr)
    write_case("mlp_regressor", sk(mlpr, 6), {"X": xr[:8]})

    xn = rng.normal(size=(8, 5)).astype(np.float32)
    for norm in ("l1", "l2", "max"):
        write_case(f"normalizer_{norm}", sk(Normalizer(norm=norm).fit(xn), 5), {"X": xn})
    write_case("binarizer", sk(Binarizer(threshold=0.25).fit(xn), 5), {"X": xn})
    mm = MinMaxScaler(feature_range=(-1, 2)).fit(rng.normal(size=(40, 5)).astype(np.float32))
    write_case("minmax_scaler", sk(mm, 5), {"X": xn})

    cats = np.array([["red", "s"], ["green", "m"], ["blue", "l"], ["green", "s"], ["red", "xl"]], dtype=object)
    oe = OrdinalEncoder().fit(cats)
    model = to_onnx(oe, initial_types=[("X", StringTensorType([None, 2]))], target_opset=SKL_OPSET)
    write_case("ordinal_encoder", model, {"X": cats[[4, 0, 2, 1, 3]].astype(str)})

    column_transformer_case(rng)

    # SVC converts to ai.onnx.ml:SVMClassifier, which Cairn's runtime does
    # not implement: the test expects a load-time error naming it.
    svc = SVC(probability=False).fit(x[:60], y[:60])
    model = sk(svc, 6, options={id(svc): {"zipmap": False}})
    model.graph.name = "unsupported_svm"
    imports = sorted(model.opset_import, key=lambda o: o.domain)
    del model.opset_import[:]
    model.opset_import.extend(imports)
    with open(os.path.join(HERE, "unsupported_svm.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    print("unsupported_svm.onnx written")


def column_transformer_case(rng):
    n = 200
    num = rng.normal(size=(n, 3)).astype(np.float32) * np.array([1.0, 10.0, 0.1], dtype=np.float32)
    num[rng.random(num.shape) < 0.1] = np.nan
    colors = rng.choice(["red", "green", "blue"], size=n)
    sizes = rng.choice(["s", "m", "l"], size=n)
    frame = pd.DataFrame({"a": num[:, 0], "b": num[:, 1], "c": num[:, 2], "color": colors, "size": sizes})
    y = ((np.nan_to_num(num[:, 0]) + (colors == "red")) > 0.3).astype(np.int64)
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), ["a", "b", "c"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["color", "size"]),
        ]
    )
    pipe = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(frame, y)
    initial = [
        ("a", FloatTensorType([None, 1])),
        ("b", FloatTensorType([None, 1])),
        ("c", FloatTensorType([None, 1])),
        ("color", StringTensorType([None, 1])),
        ("size", StringTensorType([None, 1])),
    ]
    model = to_onnx(pipe, initial_types=initial, target_opset=SKL_OPSET)
    rows = slice(0, 10)
    feeds = {
        "a": num[rows, 0:1],
        "b": num[rows, 1:2],
        "c": num[rows, 2:3],
        "color": colors[rows].reshape(-1, 1).astype(str),
        "size": sizes[rows].reshape(-1, 1).astype(str),
    }
    feeds["color"][3, 0] = "purple"  # unseen category: handle_unknown="ignore"
    write_case("column_transformer_logreg", model, feeds)


def boosting_library_cases():
    import lightgbm
    import xgboost
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType as MLFloat

    rng = np.random.default_rng(7)
    x, y = classification(2, seed=5)
    x3, y3 = classification(3, seed=6)
    xr, yr = regression(seed=5)
    xn = with_nans(x, rng, 0.1)
    xrn = with_nans(xr, rng, 0.1)
    types = [("X", MLFloat([None, 6]))]

    xgb = xgboost.XGBClassifier(n_estimators=10, max_depth=3, random_state=0).fit(xn, y)
    write_case("xgboost_binary", convert_xgboost(xgb, initial_types=types, target_opset=ML_OPSET), {"X": xn[:12]})
    xgb3 = xgboost.XGBClassifier(n_estimators=6, max_depth=3, random_state=0).fit(x3, y3)
    write_case("xgboost_3class", convert_xgboost(xgb3, initial_types=types, target_opset=ML_OPSET), {"X": with_nans(x3[:12], rng)})
    xgbr = xgboost.XGBRegressor(n_estimators=10, max_depth=3, random_state=0).fit(xrn, yr)
    write_case("xgboost_regressor", convert_xgboost(xgbr, initial_types=types, target_opset=ML_OPSET), {"X": xrn[:12]})

    lgb = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=8, random_state=0, verbose=-1).fit(xn, y)
    write_case("lightgbm_binary", convert_lightgbm(lgb, initial_types=types, target_opset=ML_OPSET), {"X": xn[:12]})
    lgb3 = lightgbm.LGBMClassifier(n_estimators=6, num_leaves=8, random_state=0, verbose=-1).fit(x3, y3)
    write_case("lightgbm_3class", convert_lightgbm(lgb3, initial_types=types, target_opset=ML_OPSET, zipmap=False), {"X": with_nans(x3[:12], rng)})
    lgbr = lightgbm.LGBMRegressor(n_estimators=10, num_leaves=8, random_state=0, verbose=-1).fit(xrn, yr)
    write_case("lightgbm_regressor", convert_lightgbm(lgbr, initial_types=types, target_opset=ML_OPSET), {"X": xrn[:12]})


def make_model(nodes, inputs, outputs, initializers=(), opsets=(("", 17),), name="cairn_fixture"):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets], producer_name="cairn-fixtures")
    model.ir_version = 8 if all(v <= 17 or d for d, v in opsets) else 10
    return model


def tree_ensemble_v5_case():
    # Two trees over 3 features, two targets. Tree 0 uses every comparison
    # mode; tree 1 has a set-membership node. Missing values go true at the
    # nodes flagged in nodes_missing_value_tracks_true.
    # Node indices (true branch first):
    #   tree 0: 0: x0 <= 0.5   ? 1 : 3
    #           1: x1 <  1.0   ? leaf0 : 2
    #           2: x2 == 2.0   ? leaf1 : leaf2
    #           3: x1 >= -1    ? 4 : leaf3
    #           4: x0 >  2.0   ? leaf4 : 5
    #           5: x2 != 3.0   ? leaf5 : leaf6
    #   tree 1: 6: x2 in {1, 4, 7} ? leaf7 : 7
    #           7: x0 <= -0.25 ? leaf8 : leaf9
    splits = np.array([0.5, 1.0, 2.0, -1.0, 2.0, 3.0, 0.0, -0.25], dtype=np.float32)
    node = helper.make_node(
        "TreeEnsemble",
        ["X"],
        ["Y"],
        domain="ai.onnx.ml",
        tree_roots=[0, 6],
        nodes_featureids=[0, 1, 2, 1, 0, 2, 2, 0],
        nodes_splits=numpy_helper.from_array(splits),
        nodes_modes=numpy_helper.from_array(np.array([0, 1, 4, 2, 3, 5, 6, 0], dtype=np.uint8)),
        nodes_truenodeids=[1, 0, 1, 4, 4, 5, 7, 8],
        nodes_trueleafs=[0, 1, 1, 0, 1, 1, 1, 1],
        nodes_falsenodeids=[3, 2, 2, 3, 5, 6, 7, 9],
        nodes_falseleafs=[0, 0, 1, 1, 0, 1, 0, 1],
        nodes_missing_value_tracks_true=[1, 0, 0, 1, 0, 0, 1, 1],
        membership_values=numpy_helper.from_array(np.array([1.0, 4.0, 7.0, np.nan], dtype=np.float32)),
        leaf_targetids=[0, 1, 0, 1, 0, 1, 0, 0, 1, 0],
        leaf_weights=numpy_helper.from_array(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.5, -1.5, 2.5], dtype=np.float32)),
        n_targets=2,
        aggregate_function=1,
        post_transform=0,
    )
    model = make_model(
        [node],
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 2])],
        opsets=[("", 21), ("ai.onnx.ml", 5)],
    )
    rng = np.random.default_rng(11)
    x = rng.choice([-2.0, -0.5, 0.5, 1.0, 2.0, 3.0, 4.0, 7.0, np.nan], size=(24, 3)).astype(np.float32)
    write_case("tree_ensemble_v5", model, {"X": x})

    # Same structure, averaged, with SOFTMAX_ZERO and double precision splits
    # and input. (Not LOGISTIC: the spec numbers it 2, but onnxruntime reads
    # post_transform codes 1 and 2 the other way round, so only 0, 3 and 4
    # mean the same to both.)
    node2 = helper.make_node(
        "TreeEnsemble",
        ["X"],
        ["Y"],
        domain="ai.onnx.ml",
        tree_roots=[0, 6],
        nodes_featureids=[0, 1, 2, 1, 0, 2, 2, 0],
        nodes_splits=numpy_helper.from_array(splits.astype(np.float64)),
        nodes_modes=numpy_helper.from_array(np.array([0, 1, 4, 2, 3, 5, 6, 0], dtype=np.uint8)),
        nodes_truenodeids=[1, 0, 1, 4, 4, 5, 7, 8],
        nodes_trueleafs=[0, 1, 1, 0, 1, 1, 1, 1],
        nodes_falsenodeids=[3, 2, 2, 3, 5, 6, 7, 9],
        nodes_falseleafs=[0, 0, 1, 1, 0, 1, 0, 1],
        nodes_missing_value_tracks_true=[0, 1, 0, 0, 1, 0, 0, 0],
        membership_values=numpy_helper.from_array(np.array([1.0, 4.0, 7.0, np.nan], dtype=np.float64)),
        leaf_targetids=[0, 1, 0, 1, 0, 1, 0, 0, 1, 0],
        leaf_weights=numpy_helper.from_array(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.5, -1.5, 2.5], dtype=np.float64) / 4),
        n_targets=2,
        aggregate_function=0,
        post_transform=3,
    )
    model = make_model(
        [node2],
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None, 2])],
        opsets=[("", 21), ("ai.onnx.ml", 5)],
    )
    write_case("tree_ensemble_v5_average_softmax_zero", model, {"X": x.astype(np.float64)})


def tree_v3_aggregate_cases():
    # A hand-made 3-tree regressor: one LEQ/GT/EQ tree, one NEQ/LT tree with
    # NaN tracking, one stump. Converters only ever emit SUM, so MIN, MAX and
    # AVERAGE (and PROBIT) come from here.
    common = dict(
        nodes_treeids=[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2],
        nodes_nodeids=[0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0],
        nodes_featureids=[0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0],
        nodes_modes=["BRANCH_LEQ", "BRANCH_GT", "LEAF", "LEAF", "LEAF", "BRANCH_NEQ", "BRANCH_LT", "LEAF", "LEAF", "LEAF", "LEAF"],
        nodes_values=[0.0, 1.5, 0, 0, 0, 2.0, -1.0, 0, 0, 0, 0],
        nodes_truenodeids=[1, 2, 0, 0, 0, 1, 2, 0, 0, 0, 0],
        nodes_falsenodeids=[4, 3, 0, 0, 0, 4, 3, 0, 0, 0, 0],
        nodes_missing_value_tracks_true=[0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
        target_treeids=[0, 0, 0, 1, 1, 1, 2],
        target_nodeids=[2, 3, 4, 2, 3, 4, 0],
        target_ids=[0, 0, 0, 0, 0, 0, 0],
        target_weights=[0.1, 0.3, 0.6, 0.2, 0.4, 0.9, 0.35],
        n_targets=1,
    )
    rng = np.random.default_rng(5)
    x = rng.choice([-3.0, -1.0, -0.5, 0.0, 1.0, 1.5, 2.0, 4.0, np.nan], size=(20, 3)).astype(np.float32)
    for aggregate, post, extra in [
        ("SUM", "NONE", {"base_values": [0.25]}),
        ("AVERAGE", "NONE", {"base_values": [0.1]}),
        ("MIN", "NONE", {}),
        ("MAX", "PROBIT", {}),
    ]:
        node = helper.make_node(
            "TreeEnsembleRegressor", ["X"], ["Y"], domain="ai.onnx.ml",
            aggregate_function=aggregate, post_transform=post, **common, **extra,
        )
        model = make_model(
            [node],
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 3])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 1])],
            opsets=[("", 17), ("ai.onnx.ml", 3)],
        )
        write_case(f"tree_regressor_{aggregate.lower()}_{post.lower()}", model, {"X": x})

    # Classifier with string labels and a SOFTMAX post-transform, thresholds
    # given as double tensors (the *_as_tensor variants, which onnxruntime
    # only accepts with double input).
    clf = helper.make_node(
        "TreeEnsembleClassifier", ["X"], ["label", "probabilities"], domain="ai.onnx.ml",
        nodes_treeids=[0, 0, 0, 1, 1, 1],
        nodes_nodeids=[0, 1, 2, 0, 1, 2],
        nodes_featureids=[0, 0, 0, 1, 0, 0],
        nodes_modes=["BRANCH_GTE", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"],
        nodes_values_as_tensor=numpy_helper.from_array(np.array([0.5, 0, 0, -0.5, 0, 0], dtype=np.float64)),
        nodes_truenodeids=[1, 0, 0, 1, 0, 0],
        nodes_falsenodeids=[2, 0, 0, 2, 0, 0],
        class_treeids=[0, 0, 0, 0, 1, 1, 1],
        class_nodeids=[1, 1, 2, 2, 1, 2, 2],
        class_ids=[0, 2, 1, 2, 1, 0, 2],
        class_weights_as_tensor=numpy_helper.from_array(np.array([1.0, 0.5, 2.0, -1.0, 1.5, 0.25, 0.75], dtype=np.float64)),
        base_values=[0.1, 0.2, 0.3],
        classlabels_strings=["cat", "dog", "eel"],
        post_transform="SOFTMAX",
    )
    model = make_model(
        [clf],
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, 2])],
        [
            helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 3]),
        ],
        opsets=[("", 17), ("ai.onnx.ml", 3)],
    )
    x2 = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], size=(10, 2))
    write_case("tree_classifier_strings_softmax", model, {"X": x2})


def core_op_cases():
    rng = np.random.default_rng(3)

    # Gemm with transposed operands, alpha/beta and a broadcast bias row.
    a = rng.normal(size=(4, 5)).astype(np.float32)  # used transposed: M=5, K=4
    b = rng.normal(size=(3, 4)).astype(np.float32)  # used transposed: K=4, N=3
    c = rng.normal(size=(3,)).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["A", "B", "C"], ["G"], alpha=0.5, beta=2.0, transA=1, transB=1),
        helper.make_node("Relu", ["G"], ["Y"]),
        helper.make_node("Gemm", ["G", "B2"], ["Z"]),
    ]
    b2 = rng.normal(size=(3, 2)).astype(np.float32)
    model = make_model(
        nodes,
        [helper.make_tensor_value_info("A", TensorProto.FLOAT, [4, 5])],
        [
            helper.make_tensor_value_info("Y", TensorProto.FLOAT, [5, 3]),
            helper.make_tensor_value_info("Z", TensorProto.FLOAT, [5, 2]),
        ],
        initializers=[numpy_helper.from_array(b, "B"), numpy_helper.from_array(c, "C"), numpy_helper.from_array(b2, "B2")],
        opsets=[("", 13)],
    )
    write_case("gemm", model, {"A": a})

    # A grab bag of tensor operators with shapes that need broadcasting.
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    idx = np.array([2, 0, -1], dtype=np.int64)
    nodes = [
        helper.make_node("Flatten", ["X"], ["F"], axis=2),  # (6, 4)
        helper.make_node("Div", ["F", "D"], ["Q"]),  # D: (4,)
        helper.make_node("Tanh", ["Q"], ["T"]),
        helper.make_node("Softmax", ["T"], ["S"], axis=0),
        helper.make_node("Sub", ["X", "M"], ["XS"]),  # M: (3, 1)
        helper.make_node("Mul", ["XS", "K"], ["XM"]),  # K: scalar
        helper.make_node("Sigmoid", ["XM"], ["SG"]),
        helper.make_node("Reshape", ["SG", "shape"], ["R"]),  # [0, -1] -> (2, 12)
        helper.make_node("Gather", ["R", "idx"], ["GA"], axis=1),  # (2, 3)
        helper.make_node("Concat", ["GA", "R"], ["CC"], axis=-1),  # (2, 15)
        helper.make_node("ArgMax", ["CC"], ["AM"], axis=1, keepdims=0, select_last_index=1),
        helper.make_node("ArgMax", ["X"], ["AM2"], axis=-2),
        helper.make_node("Cast", ["AM"], ["AMF"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["AMF", "one"], ["AO"]),
        helper.make_node("Identity", ["AO"], ["AOI"]),
        helper.make_node("MatMul", ["X", "W"], ["MM"]),  # (2,3,4) x (4,2)
        helper.make_node("Sub", ["idx", "idx2"], ["IS"]),  # int64 broadcasting
        helper.make_node("Cast", ["IS"], ["ISD"], to=TensorProto.DOUBLE),
        helper.make_node("Div", ["ISD", "dd"], ["ISQ"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([1.0, 2.0, -0.5, 4.0], dtype=np.float32), "D"),
        numpy_helper.from_array(np.array([[0.1], [-0.2], [0.3]], dtype=np.float32), "M"),
        numpy_helper.from_array(np.array(1.7, dtype=np.float32), "K"),
        numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "shape"),
        numpy_helper.from_array(idx, "idx"),
        numpy_helper.from_array(np.array([[1], [2]], dtype=np.int64), "idx2"),
        numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one"),
        numpy_helper.from_array(rng.normal(size=(4, 2)).astype(np.float32), "W"),
        numpy_helper.from_array(np.array([2.0, 4.0, 8.0], dtype=np.float64), "dd"),
    ]
    outs = [
        helper.make_tensor_value_info("S", TensorProto.FLOAT, [6, 4]),
        helper.make_tensor_value_info("CC", TensorProto.FLOAT, [2, 15]),
        helper.make_tensor_value_info("AM", TensorProto.INT64, [2]),
        helper.make_tensor_value_info("AM2", TensorProto.INT64, [2, 1, 4]),
        helper.make_tensor_value_info("AOI", TensorProto.FLOAT, [2]),
        helper.make_tensor_value_info("MM", TensorProto.FLOAT, [2, 3, 2]),
        helper.make_tensor_value_info("ISQ", TensorProto.DOUBLE, [2, 3]),
    ]
    model = make_model(nodes, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 3, 4])], outs, inits, opsets=[("", 13)])
    write_case("core_ops", model, {"X": x})

    # Softmax before opset 13 flattens everything from `axis` on into one row.
    for opset, name in ((11, "softmax_opset11"), (13, "softmax_opset13")):
        node = helper.make_node("Softmax", ["X"], ["Y"], axis=1)
        model = make_model(
            [node],
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 3, 4])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 3, 4])],
            opsets=[("", opset)],
        )
        write_case(name, model, {"X": x})

    # Reshape with allowzero=1 keeps a literal zero-sized dimension.
    node = helper.make_node("Reshape", ["X", "shape"], ["Y"], allowzero=1)
    model = make_model(
        [node],
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [0, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4, 0])],
        [numpy_helper.from_array(np.array([4, 0], dtype=np.int64), "shape")],
        opsets=[("", 14)],
    )
    write_case("reshape_allowzero", model, {"X": np.zeros((0, 4), dtype=np.float32)})


def ml_op_cases():
    rng = np.random.default_rng(9)
    ml3 = [("", 17), ("ai.onnx.ml", 3)]

    # LabelEncoder v2 (string -> int64 and float -> string) and v4 with
    # tensor-typed keys, values and default.
    nodes = [
        helper.make_node("LabelEncoder", ["S"], ["SI"], domain="ai.onnx.ml",
                         keys_strings=["a", "b", "c"], values_int64s=[10, 20, 30], default_int64=-7),
        helper.make_node("LabelEncoder", ["F"], ["FS"], domain="ai.onnx.ml",
                         keys_floats=[0.5, 1.5, 2.5], values_strings=["lo", "mid", "hi"], default_string="??"),
    ]
    model = make_model(
        nodes,
        [helper.make_tensor_value_info("S", TensorProto.STRING, [None]), helper.make_tensor_value_info("F", TensorProto.FLOAT, [None])],
        [helper.make_tensor_value_info("SI", TensorProto.INT64, [None]), helper.make_tensor_value_info("FS", TensorProto.STRING, [None])],
        opsets=[("", 17), ("ai.onnx.ml", 2)],
    )
    write_case("label_encoder_v2", model, {
        "S": np.array(["b", "z", "a", "c", ""]),
        "F": np.array([1.5, 0.5, 3.0, 2.5, -1.0], dtype=np.float32),
    })
    # LabelEncoder 1: positions in classes_strings, both directions.
    nodes = [
        helper.make_node("LabelEncoder", ["S"], ["SI"], domain="ai.onnx.ml", classes_strings=["x", "y", "z"], default_int64=42),
        helper.make_node("LabelEncoder", ["I"], ["IS"], domain="ai.onnx.ml", classes_strings=["x", "y", "z"], default_string="none"),
    ]
    model = make_model(
        nodes,
        [helper.make_tensor_value_info("S", TensorProto.STRING, [None]), helper.make_tensor_value_info("I", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("SI", TensorProto.INT64, [None]), helper.make_tensor_value_info("IS", TensorProto.STRING, [None])],
        opsets=[("", 17), ("ai.onnx.ml", 1)],
    )
    write_case("label_encoder_v1", model, {
        "S": np.array(["z", "q", "x", "y"]),
        "I": np.array([2, 0, 7, -1], dtype=np.int64),
    })
    node = helper.make_node(
        "LabelEncoder", ["K"], ["V"], domain="ai.onnx.ml",
        keys_tensor=numpy_helper.from_array(np.array([3, 1, 4, 1_000_000_007], dtype=np.int64)),
        values_tensor=numpy_helper.from_array(np.array([0.25, 1.5, -2.0, 9.0], dtype=np.float64)),
        default_tensor=numpy_helper.from_array(np.array([-1.0], dtype=np.float64)),
    )
    model = make_model(
        [node],
        [helper.make_tensor_value_info("K", TensorProto.INT64, [None, 2])],
        [helper.make_tensor_value_info("V", TensorProto.DOUBLE, [None, 2])],
        opsets=[("", 21), ("ai.onnx.ml", 4)],
    )
    write_case("label_encoder_v4", model, {"K": np.array([[3, 2], [1_000_000_007, 1], [4, 4]], dtype=np.int64)})

    # OneHotEncoder on int64 categories, Imputer on int64, ArrayFeatureExtractor
    # and Scaler with a single broadcast offset, LinearRegressor with two targets.
    nodes = [
        helper.make_node("Imputer", ["I"], ["II"], domain="ai.onnx.ml", imputed_value_int64s=[5], replaced_value_int64=-1),
        helper.make_node("OneHotEncoder", ["II"], ["OH"], domain="ai.onnx.ml", cats_int64s=[1, 5, 9], zeros=1),
        helper.make_node("ArrayFeatureExtractor", ["X", "cols"], ["AF"], domain="ai.onnx.ml"),
        helper.make_node("Scaler", ["AF"], ["SC"], domain="ai.onnx.ml", offset=[0.5], scale=[-2.0]),
        helper.make_node("LinearRegressor", ["SC"], ["LR"], domain="ai.onnx.ml",
                         coefficients=[1.0, 2.0, 3.0, -1.0, 0.5, 0.25], intercepts=[0.1, -0.2], targets=2, post_transform="NONE"),
        helper.make_node("Imputer", ["X"], ["XI"], domain="ai.onnx.ml", imputed_value_floats=[1.0, 2.0, 3.0, 4.0], replaced_value_float=float("nan")),
        helper.make_node("LinearClassifier", ["XI"], ["LL", "LP"], domain="ai.onnx.ml",
                         coefficients=list(rng.normal(size=12).astype(np.float32)), intercepts=[0.1, 0.0, -0.1],
                         classlabels_strings=["x", "y", "z"], post_transform="SOFTMAX_ZERO", multi_class=0),
        helper.make_node("LinearClassifier", ["XI"], ["BL", "BP"], domain="ai.onnx.ml",
                         coefficients=[0.5, -0.25, 1.0, 0.75], intercepts=[-0.3],
                         classlabels_ints=[4, 9], post_transform="LOGISTIC"),
    ]
    model = make_model(
        nodes,
        [helper.make_tensor_value_info("I", TensorProto.INT64, [None, 2]), helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])],
        [
            helper.make_tensor_value_info("OH", TensorProto.FLOAT, [None, 2, 3]),
            helper.make_tensor_value_info("LR", TensorProto.FLOAT, [None, 2]),
            helper.make_tensor_value_info("LL", TensorProto.STRING, [None]),
            helper.make_tensor_value_info("LP", TensorProto.FLOAT, [None, 3]),
            helper.make_tensor_value_info("BL", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("BP", TensorProto.FLOAT, [None, 2]),
        ],
        [numpy_helper.from_array(np.array([3, 0, 1], dtype=np.int64), "cols")],
        opsets=ml3,
    )
    x = rng.normal(size=(5, 4)).astype(np.float32)
    x[1, 2] = np.nan
    x[3, 0] = np.nan
    write_case("ml_ops_misc", model, {"I": np.array([[1, 9], [-1, 3], [5, 5], [9, -1], [2, 1]], dtype=np.int64), "X": x})


def main():
    for name in os.listdir(HERE):
        if name.endswith(".onnx") or name.endswith(".json"):
            os.remove(os.path.join(HERE, name))
    sklearn_cases()
    boosting_library_cases()
    tree_ensemble_v5_case()
    tree_v3_aggregate_cases()
    core_op_cases()
    ml_op_cases()
    total = sum(os.path.getsize(os.path.join(HERE, n)) for n in os.listdir(HERE) if n.endswith((".onnx", ".json")))
    print(f"total fixture bytes: {total}")


if __name__ == "__main__":
    sys.exit(main())
