"""One server: a proxied upload and download of one file through an S3 artifact destination,
the server's peak RSS during each, and the object checked in the bucket with boto3."""
import argparse, hashlib, json, os, sys, time
from pathlib import Path

import boto3
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
from serverprobe import PeakRSS, sha256_file, wait_healthy

p = argparse.ArgumentParser()
for name in ("--url", "--big", "--bucket", "--key", "--out"):
    p.add_argument(name)
p.add_argument("--pid", type=int)
a = p.parse_args()
url = f"{a.url}/api/2.0/mlflow-artifacts/artifacts/bench/big.bin"

wait_healthy(a.url)

expected = sha256_file(a.big)
result = {}
with PeakRSS(a.pid) as peak, open(a.big, "rb") as f:
    start = time.perf_counter()
    requests.put(url, data=f, headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    result["put"] = time.perf_counter() - start
result["put_rss_mib"] = peak.mib

h = hashlib.sha256()
with PeakRSS(a.pid) as peak:
    start = time.perf_counter()
    with requests.get(url, stream=True) as r:
        r.raise_for_status()
        for chunk in r.iter_content(1 << 20):
            h.update(chunk)
    result["get"] = time.perf_counter() - start
result["get_rss_mib"] = peak.mib

s3 = boto3.client("s3", endpoint_url=os.environ["MLFLOW_S3_ENDPOINT_URL"])
stored = hashlib.sha256()
for chunk in s3.get_object(Bucket=a.bucket, Key=a.key)["Body"].iter_chunks(1 << 20):
    stored.update(chunk)
result["verified"] = h.hexdigest() == expected and stored.hexdigest() == expected
json.dump(result, open(a.out, "w"))
print(a.url, result)
