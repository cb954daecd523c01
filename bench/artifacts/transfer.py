"""Times proxied artifact transfers against one server and samples its memory."""
import argparse, hashlib, json, os, threading, time
import requests

p = argparse.ArgumentParser()
p.add_argument("--url"); p.add_argument("--pid", type=int); p.add_argument("--big"); p.add_argument("--small"); p.add_argument("--out")
a = p.parse_args()
base = f"{a.url}/api/2.0/mlflow-artifacts/artifacts/bench"

for _ in range(1200):
    try:
        if requests.get(f"{a.url}/health", timeout=2).status_code == 200: break
    except requests.RequestException: pass
    time.sleep(0.1)
else:
    raise SystemExit("server did not start")

def tree_rss(root):
    """Resident memory of the server and its child processes, in KiB."""
    total, pids = 0, [root]
    while pids:
        pid = pids.pop()
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                pids += [int(x) for x in f.read().split()]
        except (OSError, StopIteration): pass
    return total

peak, sampling = [0], [True]
def sample():
    while sampling[0]:
        peak[0] = max(peak[0], tree_rss(a.pid)); time.sleep(0.05)

def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""): h.update(chunk)
    return h.hexdigest()

s = requests.Session()
result = {}
t = threading.Thread(target=sample); t.start()
start = time.perf_counter()
with open(a.big, "rb") as f:
    r = s.put(f"{base}/big.bin", data=f, headers={"Content-Type": "application/octet-stream"}); r.raise_for_status()
result["big_put"] = time.perf_counter() - start
sampling[0] = False; t.join()
result["peak_rss_mib"] = peak[0] / 1024

start = time.perf_counter()
h = hashlib.sha256()
with s.get(f"{base}/big.bin", stream=True) as r:
    r.raise_for_status()
    for chunk in r.iter_content(1 << 20): h.update(chunk)
result["big_get"] = time.perf_counter() - start
verified = h.hexdigest() == sha(a.big)

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
