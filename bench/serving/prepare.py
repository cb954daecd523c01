"""Builds the serving benchmark's models and request bodies, and times onnxruntime in
process as the compute reference.

For each model (a StandardScaler+LogisticRegression pipeline and a 100-tree depth-8 random
forest, both on 20 features) it writes, under OUT/<model>/:
  sklearn/   an MLflow sklearn model (served by `mlflow models serve` and Cairn's Python workers)
  onnx/      the same fitted model converted with skl2onnx and saved with mlflow.onnx
  row1.json, row100.json   /invocations bodies (dataframe_split) of 1 and 100 rows
  ort.json   onnxruntime in-process timings: one-row p50/p99 and µs/row at 100 rows
"""
import json
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import onnxruntime as ort
import pandas as pd
from skl2onnx import to_onnx
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

out = Path(sys.argv[1])
rng = np.random.default_rng(0)
features = [f"f{i}" for i in range(20)]
X = pd.DataFrame(rng.normal(size=(5000, 20)), columns=features)
y = ((X["f0"] + X["f1"] * X["f2"] - X["f3"]) > 0).astype(int)

models = {
    "logreg": make_pipeline(StandardScaler(), LogisticRegression()),
    "forest": RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0, n_jobs=1),
}
for name, model in models.items():
    model.fit(X, y)
    base = out / name
    base.mkdir(parents=True, exist_ok=True)
    # The forest's tree arrays are a type skops asks to be trusted explicitly; we made them.
    mlflow.sklearn.save_model(model, base / "sklearn", input_example=X.head(2),
                              skops_trusted_types=["sklearn.tree._tree.Tree"] if name == "forest" else None)
    onx = to_onnx(model, X.head(2).to_numpy(dtype=np.float32), options={"zipmap": False})
    signature = mlflow.models.infer_signature(X.head(5), model.predict(X.head(5)))
    mlflow.onnx.save_model(onx, base / "onnx", signature=signature)
    for rows in (1, 100):
        body = {"dataframe_split": X.sample(rows, random_state=rows).to_dict(orient="split")}
        (base / f"row{rows}.json").write_text(json.dumps(body))

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onx.SerializeToString(), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    one = X.head(1).to_numpy(dtype=np.float32)
    hundred = X.head(100).to_numpy(dtype=np.float32)
    for _ in range(500):
        session.run(None, {input_name: one})
    timings = []
    for _ in range(5000):
        start = time.perf_counter_ns()
        session.run(None, {input_name: one})
        timings.append((time.perf_counter_ns() - start) / 1000)
    start = time.perf_counter_ns()
    for _ in range(500):
        session.run(None, {input_name: hundred})
    per_row = (time.perf_counter_ns() - start) / 1000 / 500 / 100
    result = {"p50_us": float(np.percentile(timings, 50)), "p99_us": float(np.percentile(timings, 99)), "us_per_row_at_100": per_row}
    (base / "ort.json").write_text(json.dumps(result))
    (base / "X100.f32").write_bytes(hundred.astype("<f4").tobytes())
    print(name, result)
