"""One server: a proxied upload and download of one file through an S3 artifact destination,
the server's peak RSS during each, and the object checked in the bucket with boto3."""
import argparse, hashlib, json, os, threading, time

import boto3
import requests

p = argparse.ArgumentParser()
for name in ("--url", "--big", "--bucket", "--key", "--out"):
    p.add_argument(name)
p.add_argument("--pid", type=int)
a = p.parse_args()
url = f"{a.url}/api/2.0/mlflow-artifacts/artifacts/bench/big.bin"

for _ in range(1200):
    try:
        if requests.get(f"{a.url}/health", timeout=2).status_code == 200:
            break
    except requests.RequestException:
        pass
    time.sleep(0.1)
else:
    raise SystemExit("server did not start")


def tree_rss(root):
    """Resident memory of the server and its child processes (MLflow's workers), in KiB."""
    total, pids = 0, [root]
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                pids += [int(x) for x in f.read().split()]
        except (OSError, StopIteration):
            pass
    return total


class Peak:
    def __enter__(self):
        self.peak, self.running = 0, True
        self.thread = threading.Thread(target=self.sample)
        self.thread.start()
        return self

    def sample(self):
        while self.running:
            self.peak = max(self.peak, tree_rss(a.pid))
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


expected = sha_file(a.big)
result = {}
with Peak() as peak, open(a.big, "rb") as f:
    start = time.perf_counter()
    requests.put(url, data=f, headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    result["put"] = time.perf_counter() - start
result["put_rss_mib"] = peak.peak / 1024

h = hashlib.sha256()
with Peak() as peak:
    start = time.perf_counter()
    with requests.get(url, stream=True) as r:
        r.raise_for_status()
        for chunk in r.iter_content(1 << 20):
            h.update(chunk)
    result["get"] = time.perf_counter() - start
result["get_rss_mib"] = peak.peak / 1024

s3 = boto3.client("s3", endpoint_url=os.environ["MLFLOW_S3_ENDPOINT_URL"])
stored = hashlib.sha256()
for chunk in s3.get_object(Bucket=a.bucket, Key=a.key)["Body"].iter_chunks(1 << 20):
    stored.update(chunk)
result["verified"] = h.hexdigest() == expected and stored.hexdigest() == expected
json.dump(result, open(a.out, "w"))
print(a.url, result)
