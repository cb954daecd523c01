"""Times proxied artifact transfers against one server and samples its memory."""
import argparse, hashlib, json, os, sys, time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
from serverprobe import PeakRSS, sha256_file, wait_healthy

p = argparse.ArgumentParser()
p.add_argument("--url"); p.add_argument("--pid", type=int); p.add_argument("--big"); p.add_argument("--small"); p.add_argument("--out")
a = p.parse_args()
base = f"{a.url}/api/2.0/mlflow-artifacts/artifacts/bench"

wait_healthy(a.url)

s = requests.Session()
result = {}
with PeakRSS(a.pid) as peak, open(a.big, "rb") as f:
    start = time.perf_counter()
    s.put(f"{base}/big.bin", data=f, headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    result["big_put"] = time.perf_counter() - start
result["peak_rss_mib"] = peak.mib

start = time.perf_counter()
h = hashlib.sha256()
with s.get(f"{base}/big.bin", stream=True) as r:
    r.raise_for_status()
    for chunk in r.iter_content(1 << 20): h.update(chunk)
result["big_get"] = time.perf_counter() - start
verified = h.hexdigest() == sha256_file(a.big)

names = sorted(os.listdir(a.small))
start = time.perf_counter()
for n in names:
    with open(os.path.join(a.small, n), "rb") as f:
        s.put(f"{base}/small/{n}", data=f.read(), headers={"Content-Type": "application/octet-stream"}).raise_for_status()
result["small_put"] = time.perf_counter() - start
start = time.perf_counter()
for n in names:
    body = s.get(f"{base}/small/{n}").content
    if n == names[0]:
        verified = verified and body == open(os.path.join(a.small, n), "rb").read()
result["small_get"] = time.perf_counter() - start
result["verified"] = verified
json.dump(result, open(a.out, "w"))
print(a.url, result)
