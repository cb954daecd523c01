"""Registers the benchmark's ONNX (or sklearn) model twice under one name on a tracking
server and points alias `champion` at version 1; with --move, points it at version 2."""
import sys

import mlflow
from mlflow import MlflowClient

url, name, model_dir = sys.argv[1], sys.argv[2], sys.argv[3]
mlflow.set_tracking_uri(url)
client = MlflowClient()
if "--move" in sys.argv:
    client.set_registered_model_alias(name, "champion", "2")
    sys.exit(0)
client.create_registered_model(name)
for _ in range(2):
    with mlflow.start_run() as run:
        mlflow.log_artifacts(model_dir, artifact_path="model")
        client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
client.set_registered_model_alias(name, "champion", "1")
