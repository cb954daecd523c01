#!/usr/bin/env python3
"""Helpers for bench/tracking/run.sh (Cairn vs MLflow tracking-server benchmark).

Plain HTTP against the MLflow REST wire protocol (/api/2.0/mlflow/...), no mlflow client,
so both servers see exactly the same requests.  Every subcommand that measures something
writes one JSON file; `report` turns a results directory into the Markdown table.

Subcommands (see --help of each):
  wait-health   poll GET /health until it answers 200 (or the server process dies)
  prep-write    create an experiment + a few runs for the wrk write loads, smoke-test log-batch
  wrk-parse     turn the WRK_JSON line printed by tracking.lua into a result file
  history       load N points of one metric (1000 per log-batch), time paged get-history
  search-load   create M runs (metric m, param p, tag t) with a thread pool
  search        time runs/search (filtered top-100, and one unfiltered page of 1000)
  client-search the same two searches through the stock MlflowClient: the HTTP call it makes
                (request sent to response read) and the whole call (with its protobuf parsing)
  client-history  MlflowClient().get_metric_history of the history run (pages of 25k)
  client-ingest one client logging in sequence through MlflowClient: log_batch of 100 metrics
                and log_metric, latency of each call (p50, p99)
  big-history   load N points into a new run (or reuse --run), then read them while sampling
                the server's RSS: through MlflowClient, and in one unpaged get-history
  rss           print the summed VmRSS (kB) of a process tree
  memsample     background sampler: peak summed VmRSS of a process tree (per phase, too)
  report        Markdown table from the per-server result files
"""

import argparse
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

API = "/api/2.0/mlflow"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- http helpers
def _session():
    import requests
    from requests.adapters import HTTPAdapter

    s = requests.Session()
    a = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
    s.mount("http://", a)
    s.headers["Content-Type"] = "application/json"
    return s


class ServerError(RuntimeError):
    pass


def call(sess, method, url, path, *, retries=0, stats=None, **kw):
    """One REST call; retries transient failures (5xx/429/connection) `retries` times."""
    import requests

    attempt = 0
    while True:
        try:
            r = sess.request(method, url + API + path, timeout=300, **kw)
            if r.status_code == 200:
                return r.json() if r.content else {}
            err = f"{method} {path} -> HTTP {r.status_code}: {r.text[:300]}"
            transient = r.status_code >= 500 or r.status_code == 429
        except requests.RequestException as e:  # connection reset etc.
            err = f"{method} {path} -> {type(e).__name__}: {e}"
            transient = True
        if not transient or attempt >= retries:
            raise ServerError(err)
        attempt += 1
        if stats is not None:
            stats["retries"] = stats.get("retries", 0) + 1
            errs = stats.setdefault("retry_errors", [])
            if len(errs) < 5:
                errs.append(err[:200])
        time.sleep(min(0.1 * 2 ** attempt, 2.0))


def now_ms():
    return int(time.time() * 1000)


def create_experiment(sess, url, prefix):
    name = f"{prefix}-{os.getpid()}-{now_ms()}"
    return call(sess, "POST", url, "/experiments/create", json={"name": name})["experiment_id"]


def create_run(sess, url, exp, **kw):
    body = {"experiment_id": exp, "start_time": now_ms()}
    body.update(kw)
    return call(sess, "POST", url, "/runs/create", json=body)["run"]["info"]["run_id"]


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- wait-health
def cmd_wait_health(a):
    import requests

    t0 = a.launched_at or time.time()
    deadline = time.time() + a.timeout
    last = None
    while time.time() < deadline:
        if a.pid and not os.path.exists(f"/proc/{a.pid}"):
            print(f"server process {a.pid} exited before /health answered", file=sys.stderr)
            return 1
        try:
            r = requests.get(a.url + "/health", timeout=2)
            if r.status_code == 200:
                el = time.time() - t0
                print(f"healthy after {el:.1f}s: {r.text.strip()[:40]!r}")
                if a.out:
                    write_json(a.out, {"startup_s": el})
                return 0
            last = f"HTTP {r.status_code}"
        except requests.RequestException as e:
            last = type(e).__name__
        time.sleep(0.25)
    print(f"/health did not answer 200 within {a.timeout}s (last: {last})", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- wait-quiet
def _busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle


def cmd_wait_quiet(a):
    """Wait until the machine is (nearly) idle: average busy cores over a --window s window
    below --max-cores, or give up after --timeout s (then just warn)."""
    t0 = time.time()
    while True:
        b0 = _busy_jiffies()
        time.sleep(a.window)
        busy = (_busy_jiffies() - b0) / CLK_TCK / a.window
        if busy <= a.max_cores:
            print(f"machine quiet: {busy:.2f} cores busy (waited {time.time() - t0:.0f}s)")
            return 0
        if time.time() - t0 >= a.timeout:
            print(f"WARNING: machine still busy ({busy:.2f} cores) after {a.timeout:.0f}s; going on",
                  file=sys.stderr)
            return 0
        print(f"waiting for a quiet machine: {busy:.2f} cores busy", flush=True)


# --------------------------------------------------------------------------- prep-write
def cmd_prep_write(a):
    s = _session()
    exp = create_experiment(s, a.url, "bench-write")
    runs = [create_run(s, a.url, exp, run_name=f"w{i}") for i in range(a.runs)]
    # Smoke test: the exact payload shape wrk will send must be accepted *and* stored.
    smoke = create_run(s, a.url, exp, run_name="smoke")
    ts = now_ms()
    call(s, "POST", a.url, "/runs/log-batch", json={
        "run_id": smoke,
        "metrics": [{"key": f"k{i}", "value": 0.5, "timestamp": ts, "step": 7} for i in range(100)]})
    call(s, "POST", a.url, "/runs/log-metric", json={
        "run_id": smoke, "key": "lm", "value": 0.25, "timestamp": ts, "step": 3})
    for key, step in (("k0", 7), ("k99", 7), ("lm", 3)):
        h = call(s, "GET", a.url, "/metrics/get-history",
                 params={"run_id": smoke, "metric_key": key, "max_results": 25000}).get("metrics", [])
        if len(h) != 1 or int(h[0].get("step", 0)) != step:
            raise SystemExit(f"smoke test failed: get-history {key} returned {h!r}")
    print(" ".join(runs))


# --------------------------------------------------------------------------- wrk-parse
def cmd_wrk_parse(a):
    line = None
    with open(a.input) as f:
        for ln in f:
            if ln.startswith("WRK_JSON "):
                line = ln[len("WRK_JSON "):]
    if line is None:
        raise SystemExit(f"no WRK_JSON line in {a.input} (did wrk fail?)")
    d = json.loads(line)
    dur = d["duration_us"] / 1e6
    if d["responses"] == 0:
        # no request completed: wrk's percentiles are 0, which would read as "instant"
        d["lat_us"] = {k: None for k in d["lat_us"]}
        print(f"{a.name}: WARNING no request completed within {dur:.1f}s", file=sys.stderr)
    sock = sum(v for k, v in d["errors"].items() if k != "status")
    ok = d["responses"] - d["non2xx"]
    d.update({
        "workload": a.name,
        "duration_s": dur,
        "req_per_s": d["requests"] / dur,
        "ok_req_per_s": ok / dur,
        "items_per_req": a.per_request,
        "ok_items_per_s": ok * a.per_request / dur,
        "socket_errors": sock,
        "connections": a.connections,
        "threads": a.threads,
    })
    write_json(a.out, d)
    ms = lambda v: "n/a" if v is None else f"{v / 1000:.2f} ms"
    print(f"{a.name}: {d['req_per_s']:.1f} req/s ({d['ok_items_per_s']:.0f} items/s ok), "
          f"p50 {ms(d['lat_us']['p50'])}, p99 {ms(d['lat_us']['p99'])}, "
          f"non-2xx {d['non2xx']} {d['statuses']}, socket errors {sock}")


# --------------------------------------------------------------------------- history
def cmd_history(a):
    s = _session()
    exp = create_experiment(s, a.url, "bench-history")
    run = create_run(s, a.url, exp, run_name="history")
    rnd = random.Random(42)
    base = now_ms()
    stats = {}
    t0 = time.perf_counter()
    batches = []
    for start in range(0, a.points, a.batch):
        batches.append([{"key": "hist", "value": rnd.random(), "timestamp": base + i, "step": i}
                        for i in range(start, min(start + a.batch, a.points))])

    def send(batch):
        call(s_local(), "POST", a.url, "/runs/log-batch", retries=5, stats=stats,
             json={"run_id": run, "metrics": batch})

    tl = threading.local()

    def s_local():
        if not hasattr(tl, "s"):
            tl.s = _session()
        return tl.s

    with ThreadPoolExecutor(a.load_threads) as ex:
        list(ex.map(send, batches))
    load_s = time.perf_counter() - t0
    print(f"history: loaded {a.points} points in {load_s:.1f}s "
          f"({a.points / load_s:.0f} points/s, {a.load_threads} threads)", flush=True)

    def fetch():
        pts, pages, tok = 0, 0, None
        last_step = -1
        ordered = True
        while True:
            p = {"run_id": run, "metric_key": "hist", "max_results": a.page}
            if tok:
                p["page_token"] = tok
            d = call(s, "GET", a.url, "/metrics/get-history", params=p)
            ms = d.get("metrics", [])
            for m in ms:
                st = int(m.get("step", 0))
                if st <= last_step:
                    ordered = False
                last_step = st
            pts += len(ms)
            pages += 1
            tok = d.get("next_page_token")
            if not tok:
                return pts, pages, ordered
            if pages > a.points // max(1, a.page) + 5:
                raise SystemExit("history: paging does not terminate")

    times, info = [], None
    for i in range(a.warmup + a.reps):
        t = time.perf_counter()
        info = fetch()
        el = time.perf_counter() - t
        if i >= a.warmup:
            times.append(el)
    pts, pages, ordered = info
    res = {
        "workload": "history", "run_id": run, "points": a.points, "returned_points": pts, "pages": pages,
        "ordered": ordered, "valid": pts == a.points and ordered,
        "load_s": load_s, "load_points_per_s": a.points / load_s, "load_threads": a.load_threads,
        "load_retries": stats.get("retries", 0), "load_retry_errors": stats.get("retry_errors", []),
        "times_s": times, "median_s": statistics.median(times), "min_s": min(times),
        "reps": a.reps, "page_size": a.page,
    }
    write_json(a.out, res)
    print(f"history: get-history {pts} points in {pages} pages: median {res['median_s'] * 1000:.0f} ms "
          f"(min {res['min_s'] * 1000:.0f} ms, {a.reps} reps), valid={res['valid']}")
    if not res["valid"]:
        print(f"history: WARNING expected {a.points} ordered points, got {pts} (ordered={ordered})",
              file=sys.stderr)


# --------------------------------------------------------------------------- search-load
PVALS = ["a", "b", "c"]
TVALS = ["x", "y", "z"]


def cmd_search_load(a):
    s = _session()
    exp = create_experiment(s, a.url, "bench-search")
    rnd = random.Random(1234)
    specs = [(i, rnd.random(), rnd.choice(PVALS), rnd.choice(TVALS)) for i in range(a.runs)]
    stats = {}
    lock = threading.Lock()
    tl = threading.local()
    done = [0]
    out = [None] * a.runs

    def one(spec):
        i, m, p, t = spec
        if not hasattr(tl, "s"):
            tl.s = _session()
        ts = now_ms()
        run = call(tl.s, "POST", a.url, "/runs/create", retries=5, stats=stats, json={
            "experiment_id": exp, "start_time": ts, "run_name": f"r{i:05d}"})["run"]["info"]["run_id"]
        call(tl.s, "POST", a.url, "/runs/log-batch", retries=5, stats=stats, json={
            "run_id": run,
            "metrics": [{"key": "m", "value": m, "timestamp": ts, "step": 0}],
            "params": [{"key": "p", "value": p}],
            "tags": [{"key": "t", "value": t}]})
        out[i] = {"run_id": run, "m": m, "p": p, "t": t}
        with lock:
            done[0] += 1
            if done[0] % 2000 == 0:
                el = time.perf_counter() - t0
                print(f"search-load: {done[0]}/{a.runs} runs, {done[0] / el:.0f} runs/s", flush=True)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(a.threads) as ex:
        list(ex.map(one, specs))
    el = time.perf_counter() - t0
    match = sorted((r for r in out if r["m"] > 0.5 and r["p"] == "a" and r["t"] == "x"),
                   key=lambda r: -r["m"])
    meta = {
        "workload": "search-load", "experiment_id": exp, "runs": a.runs, "threads": a.threads,
        "load_s": el, "runs_per_s": a.runs / el, "requests_per_s": 2 * a.runs / el,
        "retries": stats.get("retries", 0), "retry_errors": stats.get("retry_errors", []),
        "filter_matches": len(match), "expected_top100": [r["run_id"] for r in match[:100]],
    }
    write_json(a.out, meta)
    print(f"search-load: {a.runs} runs in {el:.1f}s ({a.runs / el:.0f} runs/s, "
          f"{2 * a.runs / el:.0f} req/s, {a.threads} threads, {meta['retries']} retries); "
          f"{len(match)} runs match the filter")


# --------------------------------------------------------------------------- search
FILTER = "metrics.m > 0.5 and params.p = 'a' and tags.t = 'x'"


def cmd_search(a):
    meta = json.load(open(a.load))
    exp = meta["experiment_id"]
    s = _session()
    q1 = {"experiment_ids": [exp], "filter": FILTER, "order_by": ["metrics.m DESC"],
          "max_results": 100, "run_view_type": "ACTIVE_ONLY"}
    q2 = {"experiment_ids": [exp], "max_results": 1000, "run_view_type": "ACTIVE_ONLY"}

    def timed(q, n):
        ts, last = [], None
        for i in range(a.warmup + n):
            t = time.perf_counter()
            last = call(s, "POST", a.url, "/runs/search", json=q)
            el = time.perf_counter() - t
            if i >= a.warmup:
                ts.append(el)
        return ts, last

    t1, r1 = timed(q1, a.reps)
    got = [r["info"]["run_id"] for r in r1.get("runs", [])]
    exp_ids = meta["expected_top100"]
    filt_valid = got == exp_ids
    t2, r2 = timed(q2, a.page_reps)
    n2 = len(r2.get("runs", []))
    full = all({"info", "data"} <= set(r) for r in r2.get("runs", []))
    res = {
        "workload": "search", "runs_in_experiment": meta["runs"], "filter": FILTER,
        "filtered": {"times_s": t1, "median_s": statistics.median(t1), "min_s": min(t1),
                     "p90_s": sorted(t1)[int(0.9 * (len(t1) - 1))], "reps": a.reps,
                     "returned": len(got), "valid": filt_valid,
                     "has_next_page_token": bool(r1.get("next_page_token"))},
        "page1000": {"times_s": t2, "median_s": statistics.median(t2), "min_s": min(t2),
                     "p90_s": sorted(t2)[int(0.9 * (len(t2) - 1))], "reps": a.page_reps,
                     "returned": n2, "valid": n2 == min(1000, meta["runs"]) and full,
                     "has_next_page_token": bool(r2.get("next_page_token"))},
    }
    write_json(a.out, res)
    print(f"search: filtered top-100 median {res['filtered']['median_s'] * 1000:.1f} ms "
          f"({len(got)} runs, matches expected: {filt_valid}); page of 1000 median "
          f"{res['page1000']['median_s'] * 1000:.1f} ms ({n2} runs)")
    if not filt_valid:
        print(f"search: WARNING filtered result differs from the expected top 100 "
              f"(got {len(got)}, first {got[:3]}, expected first {exp_ids[:3]})", file=sys.stderr)


# --------------------------------------------------------------------------- stock client
def _client(url):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=url)


class _HTTPTimer:
    """Times the HTTP requests the stock client makes (mlflow.utils.rest_utils.http_request:
    request sent, whole response body read), apart from its JSON and protobuf parsing."""

    def __init__(self):
        import mlflow.utils.rest_utils as ru

        self.ru, self.orig, self.spent = ru, ru.http_request, 0.0

        def timed(*args, **kw):
            t = time.perf_counter()
            try:
                return self.orig(*args, **kw)
            finally:
                self.spent += time.perf_counter() - t

        ru.http_request = timed

    def take(self):
        v, self.spent = self.spent, 0.0
        return v


def _summary(ts):
    return {"times_s": ts, "median_s": statistics.median(ts), "min_s": min(ts),
            "p90_s": sorted(ts)[int(0.9 * (len(ts) - 1))], "reps": len(ts)}


def cmd_client_search(a):
    meta = json.load(open(a.load))
    exp = meta["experiment_id"]
    client = _client(a.url)
    timer = _HTTPTimer()

    def timed(fn, n):
        http, total, last = [], [], None
        for i in range(a.warmup + n):
            timer.take()
            t = time.perf_counter()
            last = fn()
            el = time.perf_counter() - t
            h = timer.take()
            if i >= a.warmup:
                total.append(el)
                http.append(h)
        return _summary(http), _summary(total), last

    h1, c1, r1 = timed(lambda: client.search_runs([exp], FILTER, order_by=["metrics.m DESC"], max_results=100), a.reps)
    got = [r.info.run_id for r in r1]
    h2, c2, r2 = timed(lambda: client.search_runs([exp], "", max_results=1000), a.page_reps)
    complete = all(r.data.metrics.get("m") is not None and r.data.params.get("p") and r.data.tags.get("t")
                   for r in r2)
    res = {"workload": "client-search", "runs_in_experiment": meta["runs"], "filter": FILTER,
           "filtered": {"http": h1, "client": c1, "returned": len(got),
                        "valid": got == meta["expected_top100"]},
           "page1000": {"http": h2, "client": c2, "returned": len(r2),
                        "valid": len(r2) == min(1000, meta["runs"]) and complete}}
    write_json(a.out, res)
    print(f"client-search: filtered top-100 HTTP median {h1['median_s'] * 1000:.1f} ms, whole call "
          f"{c1['median_s'] * 1000:.1f} ms (valid {res['filtered']['valid']}); page of 1000 HTTP median "
          f"{h2['median_s'] * 1000:.1f} ms, whole call {c2['median_s'] * 1000:.1f} ms "
          f"(valid {res['page1000']['valid']})")


def cmd_client_history(a):
    h = json.load(open(a.history))
    client = _client(a.url)
    timer = _HTTPTimer()
    http, total, n, ordered = [], [], 0, True
    for i in range(a.warmup + a.reps):
        timer.take()
        t = time.perf_counter()
        pts = client.get_metric_history(h["run_id"], "hist")
        el = time.perf_counter() - t
        hs = timer.take()
        n = len(pts)
        ordered = all(pts[j].step < pts[j + 1].step for j in range(n - 1))
        if i >= a.warmup:
            total.append(el)
            http.append(hs)
    res = {"workload": "client-history", "points": h["points"], "returned_points": n,
           "valid": n == h["points"] and ordered, "http": _summary(http), "client": _summary(total)}
    write_json(a.out, res)
    print(f"client-history: {n} points, HTTP median {res['http']['median_s'] * 1000:.0f} ms, whole call "
          f"{res['client']['median_s'] * 1000:.0f} ms, valid={res['valid']}")


def cmd_client_ingest(a):
    from mlflow.entities import Metric

    client = _client(a.url)
    exp = client.create_experiment(f"bench-ingest-{os.getpid()}-{now_ms()}")
    run = client.create_run(exp).info.run_id
    timer = _HTTPTimer()
    rnd = random.Random(7)

    def measure(fn, n):
        http, total = [], []
        for i in range(a.warmup + n):
            timer.take()
            t = time.perf_counter()
            fn(i)
            el = time.perf_counter() - t
            h = timer.take()
            if i >= a.warmup:
                total.append(el)
                http.append(h)
        pct = lambda v, q: sorted(v)[min(len(v) - 1, int(q * len(v)))]
        return {"http_p50_s": pct(http, 0.5), "http_p99_s": pct(http, 0.99), "p50_s": pct(total, 0.5),
                "p99_s": pct(total, 0.99), "mean_s": statistics.mean(total), "calls": n}

    def batch(i):
        ts = now_ms()
        client.log_batch(run, metrics=[Metric(f"k{j}", rnd.random(), ts, i) for j in range(100)])

    def metric(i):
        client.log_metric(run, "lm", rnd.random(), step=i)

    res = {"workload": "client-ingest", "log_batch": measure(batch, a.calls), "log_metric": measure(metric, a.calls)}
    got = client.get_metric_history(run, "k99")
    res["valid"] = len(got) == a.warmup + a.calls
    write_json(a.out, res)
    lb, lm = res["log_batch"], res["log_metric"]
    print(f"client-ingest: log_batch(100) p50 {lb['p50_s'] * 1000:.2f} ms p99 {lb['p99_s'] * 1000:.2f} ms "
          f"({100 / lb['mean_s']:.0f} metrics/s); log_metric p50 {lm['p50_s'] * 1000:.2f} ms "
          f"p99 {lm['p99_s'] * 1000:.2f} ms ({1 / lm['mean_s']:.0f} calls/s); valid={res['valid']}")


def cmd_big_history(a):
    """Reads a long history while sampling the server's RSS every 50 ms: once through the
    stock client (pages of 25k) and once as a single unpaged get-history (what MLflow answers
    without max_results)."""
    import requests

    if a.run:
        run = a.run
    else:
        s = _session()
        exp = create_experiment(s, a.url, "bench-big-history")
        run = create_run(s, a.url, exp, run_name="big-history")
        base = now_ms()
        tl = threading.local()

        def send(start):
            if not hasattr(tl, "s"):
                tl.s = _session()
            call(tl.s, "POST", a.url, "/runs/log-batch", retries=5, json={"run_id": run, "metrics": [
                {"key": "hist", "value": (i % 977) / 977.0, "timestamp": base + i, "step": i}
                for i in range(start, min(start + 1000, a.points))]})

        t0 = time.perf_counter()
        with ThreadPoolExecutor(2) as ex:
            list(ex.map(send, range(0, a.points, 1000)))
        print(f"big-history: loaded {a.points} points in {time.perf_counter() - t0:.0f}s", flush=True)
        if a.loaded_out:
            write_json(a.loaded_out, {"run_id": run})
            return 0

    def sampled(fn):
        peak = [tree_mem(a.pid)["rss_kb"]]
        start_kb = peak[0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], tree_mem(a.pid)["rss_kb"])
                stop.wait(0.05)

        th = threading.Thread(target=sample)
        th.start()
        t = time.perf_counter()
        try:
            out = fn()
        finally:
            stop.set()
            th.join()
        return out, time.perf_counter() - t, start_kb, peak[0]

    client = _client(a.url)
    pts, el_c, start_c, peak_c = sampled(lambda: len(client.get_metric_history(run, "hist")))

    def unpaged():
        r = requests.get(a.url + API + "/metrics/get-history", params={"run_id": run, "metric_key": "hist"},
                         timeout=600)
        r.raise_for_status()
        return r.content.count(b'"key"')

    pts_u, el_u, start_u, peak_u = sampled(unpaged)
    res = {"workload": "big-history", "run_id": run, "points": a.points,
           "client": {"returned": pts, "s": el_c, "rss_before_kb": start_c, "peak_rss_kb": peak_c},
           "unpaged": {"returned": pts_u, "s": el_u, "rss_before_kb": start_u, "peak_rss_kb": peak_u}}
    write_json(a.out, res)
    print(f"big-history: MlflowClient.get_metric_history {pts} points in {el_c:.1f}s, server RSS "
          f"{start_c / 1024:.0f} -> peak {peak_c / 1024:.0f} MiB; unpaged get-history {pts_u} points in "
          f"{el_u:.1f}s, RSS {start_u / 1024:.0f} -> peak {peak_u / 1024:.0f} MiB")


# --------------------------------------------------------------------------- memory / cpu
def _scan_proc():
    """{pid: (ppid, pgrp, cpu_ticks)} for every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            rest = st[st.rindex(")") + 2:].split()
            out[int(d)] = (int(rest[1]), int(rest[2]), int(rest[11]) + int(rest[12]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def tree(pid, procs=None):
    procs = procs if procs is not None else _scan_proc()
    kids = {}
    for p, (pp, _, _) in procs.items():
        kids.setdefault(pp, []).append(p)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _status(pid):
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith(("VmRSS:", "VmHWM:", "Name:")):
                    k, v = ln.split(":", 1)
                    vals[k] = v.split()[0] if k != "Name" else v.strip()
    except OSError:
        pass
    return vals


def _is_job_proc(pid):
    """MLflow's background job runner and its huey consumers (not the HTTP workers)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return False
    return b"huey" in cmd or b"_job_runner" in cmd


def _pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for ln in f:
                if ln.startswith("Pss:"):
                    return int(ln.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_mem(pid, procs=None, pss=False):
    rss = hwm = jobs_rss = pss_sum = 0
    names = []
    pids = tree(pid, procs)
    for p in pids:
        st = _status(p)
        r = int(st.get("VmRSS", 0))
        rss += r
        hwm += int(st.get("VmHWM", 0))
        if _is_job_proc(p):
            jobs_rss += r
        if "Name" in st:
            names.append(st["Name"])
        if pss:
            pss_sum += _pss_kb(p)
    return {"rss_kb": rss, "hwm_kb": hwm, "jobs_rss_kb": jobs_rss, "pids": pids, "names": names,
            "pss_kb": pss_sum if pss else None}


def cmd_rss(a):
    m = tree_mem(a.pid)
    res = {"rss_kb": m["rss_kb"], "hwm_kb": m["hwm_kb"], "jobs_rss_kb": m["jobs_rss_kb"],
           "processes": len(m["pids"]), "names": m["names"]}
    if a.out:
        write_json(a.out, res)
    print(f"rss: {m['rss_kb'] / 1024:.1f} MiB over {len(m['pids'])} processes "
          f"({', '.join(sorted(set(m['names'])))})"
          + (f"; {m['jobs_rss_kb'] / 1024:.1f} MiB of it in job-runner/huey processes" if m["jobs_rss_kb"] else ""))


def cmd_settle(a):
    """Wait until the server's process tree stops changing (count and RSS within 2%) for
    --stable seconds, then record the idle RSS.  MLflow spawns its job runner's huey
    consumers some time after /health answers, so a fixed sleep under-counts it."""
    t0 = time.time()
    hist = []
    while True:
        m = tree_mem(a.pid)
        hist.append((time.time(), len(m["pids"]), m["rss_kb"]))
        el = time.time() - t0
        window = [h for h in hist if h[0] >= hist[-1][0] - a.stable]
        stable = (el >= a.stable and len(window) >= 2
                  and all(h[1] == window[-1][1] for h in window)
                  and max(h[2] for h in window) <= 1.02 * min(h[2] for h in window))
        if stable or el >= a.timeout:
            break
        time.sleep(1)
    m = tree_mem(a.pid, pss=True)
    res = {"rss_kb": m["rss_kb"], "hwm_kb": m["hwm_kb"], "jobs_rss_kb": m["jobs_rss_kb"],
           "pss_kb": m["pss_kb"],
           "processes": len(m["pids"]), "names": m["names"], "settle_s": el, "stable": stable}
    write_json(a.out, res)
    print(f"idle after {el:.0f}s ({'stable' if stable else 'NOT stable, timed out'}): "
          f"{m['rss_kb'] / 1024:.1f} MiB over {len(m['pids'])} processes "
          f"({', '.join(sorted(set(m['names'])))})"
          + (f"; {m['jobs_rss_kb'] / 1024:.1f} MiB in job-runner/huey processes" if m["jobs_rss_kb"] else ""))


def cmd_memsample(a):
    """Sample every --interval s until SIGTERM: summed VmRSS of the server tree (peak overall
    and per phase), and CPU used by the server, by this benchmark (our process group) and by
    everything else on the machine ("foreign": e.g. a concurrent build skews the numbers)."""
    my_pgrp = os.getpgrp()
    state = {"peak_kb": 0, "peak_jobs_kb": 0, "peak_nonjobs_kb": 0, "samples": 0,
             "per_phase_peak_kb": {}, "hwm_sum_kb": 0, "max_processes": 0, "cpu_s": {}}
    stop = [False]

    def on_term(*_):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    prev = None
    prev_t = None
    last_flush = 0.0
    while not stop[0]:
        if not os.path.exists(f"/proc/{a.pid}"):
            state["server_exited"] = True
            break
        procs = _scan_proc()
        now = time.time()
        m = tree_mem(a.pid, procs)
        phase = "?"
        try:
            with open(a.phase_file) as f:
                phase = f.read().strip() or "?"
        except OSError:
            pass
        state["samples"] += 1
        rss = m["rss_kb"]
        if rss > state["peak_kb"]:
            state["peak_kb"] = rss
            state["peak_processes"] = len(m["pids"])
            state["peak_phase"] = phase
        state["peak_jobs_kb"] = max(state["peak_jobs_kb"], m["jobs_rss_kb"])
        state["peak_nonjobs_kb"] = max(state["peak_nonjobs_kb"], rss - m["jobs_rss_kb"])
        pp = state["per_phase_peak_kb"]
        pp[phase] = max(pp.get(phase, 0), rss)
        state["hwm_sum_kb"] = max(state["hwm_sum_kb"], m["hwm_kb"])
        state["max_processes"] = max(state["max_processes"], len(m["pids"]))
        # CPU attribution since the previous sample
        if prev is not None:
            server = set(m["pids"])
            c = state["cpu_s"].setdefault(phase, {"server": 0.0, "bench": 0.0, "foreign": 0.0,
                                                 "wall": 0.0})
            c["wall"] += now - prev_t
            for pid, (_, pg, ticks) in procs.items():
                d = ticks - prev.get(pid, (0, 0, ticks))[2]
                if d <= 0:
                    continue
                if pid in server or pg == a.pid:
                    c["server"] += d / CLK_TCK
                elif pg == my_pgrp:
                    c["bench"] += d / CLK_TCK
                else:
                    c["foreign"] += d / CLK_TCK
        prev, prev_t = procs, now
        if now - last_flush > 2:
            write_json(a.out, state)
            last_flush = now
        time.sleep(a.interval)
    write_json(a.out, state)


# --------------------------------------------------------------------------- report
def _load(d, name):
    p = os.path.join(d, name + ".json")
    if os.path.exists(p):
        with open(p) as f:
            return json.load(f)
    return None


def cmd_report(a):
    servers = ["cairn", "mlflow"]
    R = {s: {n: _load(os.path.join(a.dir, s), n)
             for n in ("startup", "idle", "mem", "logbatch", "logmetric", "history", "search-load", "search",
                       "client-search", "client-history", "big-history", "client-ingest")}
         for s in servers}
    notes = []

    def g(s, wl, *path):
        v = R[s][wl]
        for k in path:
            if v is None:
                return None
            v = v.get(k) if isinstance(v, dict) else None
        return v

    rows = []  # (label, cairn, mlflow, higher_is_better, fmt)

    def row(label, key_fn, higher, fmt):
        rows.append((label, key_fn("cairn"), key_fn("mlflow"), higher, fmt))

    f_rate = lambda v: f"{v:,.0f}"
    f_ms = lambda v: f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"
    f_int = lambda v: f"{v:,d}"
    f_mib = lambda v: f"{v:,.1f} MiB"

    def us2ms(v):
        return None if v is None else v / 1000.0

    def s2ms(v):
        return None if v is None else v * 1000.0

    def kb2mib(v):
        return None if v is None else v / 1024.0

    def first(wl, *path):
        for sv in servers:
            v = g(sv, wl, *path)
            if v is not None:
                return v
        return None

    def n_k(v, unit):
        if v is None:
            return "?"
        return f"{v // 1000}k {unit}" if v % 1000 == 0 else f"{v:,} {unit}"

    pts = n_k(first("history", "points"), "points")
    nruns = n_k(first("search", "runs_in_experiment") or first("search-load", "runs"), "runs")
    row("log-batch: metrics/s (2xx only, 100/req)", lambda s: g(s, "logbatch", "ok_items_per_s"), True, f_rate)
    row("log-batch: p50 latency", lambda s: us2ms(g(s, "logbatch", "lat_us", "p50")), False, f_ms)
    row("log-batch: p99 latency", lambda s: us2ms(g(s, "logbatch", "lat_us", "p99")), False, f_ms)
    row("log-batch: non-2xx responses", lambda s: g(s, "logbatch", "non2xx"), None, f_int)
    row("log_batch(100 metrics) via MlflowClient, one client: p50",
        lambda s: s2ms(g(s, "client-ingest", "log_batch", "p50_s")), False, f_ms)
    row("log_batch(100 metrics) via MlflowClient, one client: p99",
        lambda s: s2ms(g(s, "client-ingest", "log_batch", "p99_s")), False, f_ms)
    row("log-metric: req/s (2xx only)", lambda s: g(s, "logmetric", "ok_req_per_s"), True, f_rate)
    row("log-metric: p50 latency", lambda s: us2ms(g(s, "logmetric", "lat_us", "p50")), False, f_ms)
    row("log-metric: p99 latency", lambda s: us2ms(g(s, "logmetric", "lat_us", "p99")), False, f_ms)
    row("log-metric: non-2xx responses", lambda s: g(s, "logmetric", "non2xx"), None, f_int)
    row("log_metric via MlflowClient, one client: p50",
        lambda s: s2ms(g(s, "client-ingest", "log_metric", "p50_s")), False, f_ms)
    row("log_metric via MlflowClient, one client: p99",
        lambda s: s2ms(g(s, "client-ingest", "log_metric", "p99_s")), False, f_ms)
    row(f"get-history {pts}, paged 25k (median)", lambda s: s2ms(g(s, "history", "median_s")), False, f_ms)
    row(f"load {pts} via log-batch (1000/req): points/s", lambda s: g(s, "history", "load_points_per_s"), True, f_rate)
    row(f"search {nruns}, filtered top-100 (median)", lambda s: s2ms(g(s, "search", "filtered", "median_s")), False, f_ms)
    row(f"search {nruns}, one page of 1000 (median)", lambda s: s2ms(g(s, "search", "page1000", "median_s")), False, f_ms)
    for q, label in (("filtered", "filtered top-100"), ("page1000", "one page of 1000")):
        row(f"search {nruns}, {label}, MlflowClient's HTTP call (median)",
            lambda s, q=q: s2ms(g(s, "client-search", q, "http", "median_s")), False, f_ms)
        row(f"search {nruns}, {label}, whole MlflowClient call incl. its parsing (median)",
            lambda s, q=q: s2ms(g(s, "client-search", q, "client", "median_s")), False, f_ms)
    row(f"get-history {pts} via MlflowClient: its HTTP calls (median)",
        lambda s: s2ms(g(s, "client-history", "http", "median_s")), False, f_ms)
    row(f"get-history {pts} via MlflowClient: whole call (median)",
        lambda s: s2ms(g(s, "client-history", "client", "median_s")), False, f_ms)
    big = n_k(first("big-history", "points"), "points")
    row(f"get-history {big} via MlflowClient: time", lambda s: s2ms(g(s, "big-history", "client", "s")), False, f_ms)
    row(f"get-history {big} via MlflowClient: peak server RSS (sampled 50 ms)",
        lambda s: kb2mib(g(s, "big-history", "client", "peak_rss_kb")), False, f_mib)
    row(f"get-history {big}, one unpaged request: time", lambda s: s2ms(g(s, "big-history", "unpaged", "s")), False, f_ms)
    row(f"get-history {big}, one unpaged request: peak server RSS",
        lambda s: kb2mib(g(s, "big-history", "unpaged", "peak_rss_kb")), False, f_mib)
    row(f"load {nruns} (create + log-batch): runs/s", lambda s: g(s, "search-load", "runs_per_s"), True, f_rate)
    row("startup: launch to first 200 on /health", lambda s: s2ms(g(s, "startup", "startup_s")), False, f_ms)
    row("memory: idle RSS after start", lambda s: kb2mib(g(s, "idle", "rss_kb")), False, f_mib)
    row("memory: idle PSS (shared pages split between processes)", lambda s: kb2mib(g(s, "idle", "pss_kb")), False, f_mib)
    row("memory: peak RSS during loads (sampled 200 ms)", lambda s: kb2mib(g(s, "mem", "peak_kb")), False, f_mib)
    row("memory: peak RSS excl. MLflow job runner + huey consumers",
        lambda s: kb2mib(g(s, "mem", "peak_nonjobs_kb")), False, f_mib)
    row("memory: sum of per-process VmHWM", lambda s: kb2mib(g(s, "mem", "hwm_sum_kb")), False, f_mib)

    out = []
    out.append("| workload | Cairn | MLflow | ratio |")
    out.append("|---|---:|---:|---:|")
    for label, c, m, higher, fmt in rows:
        cs = fmt(c) if c is not None else "—"
        ms = fmt(m) if m is not None else "—"
        ratio = "—"
        if c is not None and m is not None and higher is not None:
            if higher and m > 0:
                ratio = f"{c / m:,.2f}×"
            elif not higher and c > 0:
                ratio = f"{m / c:,.2f}×"
        out.append(f"| {label} | {cs} | {ms} | {ratio} |")

    # validation / error notes
    for s in servers:
        S = s.capitalize() if s == "cairn" else "MLflow"
        for wl in ("logbatch", "logmetric"):
            d = R[s][wl]
            if d and (d["non2xx"] or d["socket_errors"]):
                notes.append(f"{S} {wl}: {d['non2xx']} non-2xx responses {d['statuses']}, "
                             f"socket errors {d['errors']}")
        h = R[s]["history"]
        if h and not h["valid"]:
            notes.append(f"{S} get-history returned {h['returned_points']} points "
                         f"(expected {h['points']}, ordered={h['ordered']}) — INVALID")
        sr = R[s]["search"]
        if sr:
            if not sr["filtered"]["valid"]:
                notes.append(f"{S} filtered search did not return the expected top-100 run ids "
                             f"(returned {sr['filtered']['returned']}) — INVALID")
            if not sr["page1000"]["valid"]:
                notes.append(f"{S} page-of-1000 search returned {sr['page1000']['returned']} runs — INVALID")
        cs = R[s]["client-search"]
        if cs:
            for q in ("filtered", "page1000"):
                if not cs[q]["valid"]:
                    notes.append(f"{S} MlflowClient search ({q}) returned {cs[q]['returned']} runs, not the "
                                 f"expected ones — INVALID")
        ch = R[s]["client-history"]
        if ch and not ch["valid"]:
            notes.append(f"{S} MlflowClient get_metric_history returned {ch['returned_points']} points "
                         f"(expected {ch['points']} in order) — INVALID")
        bh = R[s]["big-history"]
        if bh:
            for k in ("client", "unpaged"):
                if bh[k]["returned"] != bh["points"]:
                    notes.append(f"{S} big-history ({k}) returned {bh[k]['returned']} of {bh['points']} points — INVALID")
        for wl in ("search-load", "history"):
            d = R[s][wl]
            key = "retries" if wl == "search-load" else "load_retries"
            if d and d.get(key):
                notes.append(f"{S} {wl}: loader needed {d[key]} retries of transient errors "
                             f"(e.g. {(d.get('retry_errors') or d.get('load_retry_errors') or ['?'])[0]})")
        mem = R[s]["mem"]
        if mem and mem.get("server_exited"):
            notes.append(f"{S}: server process exited during the run")

    text = "\n".join(out)
    meta_lines = []
    if a.meta and os.path.exists(a.meta):
        meta_lines = open(a.meta).read().strip().splitlines()
    md = ["# Cairn vs MLflow tracking server benchmark", ""]
    md += meta_lines
    md += ["", text, "",
           "ratio > 1 means Cairn is better (throughput: Cairn/MLflow; latency and memory: "
           "MLflow/Cairn). Latencies under wrk are per request with 16 connections; "
           "get-history and search are single-client sequential timings."]
    if notes:
        md += ["", "Notes:"] + [f"- {n}" for n in notes]
    for s in servers:
        mem = R[s]["mem"]
        if mem:
            pp = ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in mem["per_phase_peak_kb"].items())
            md.append(f"- {s} peak RSS by phase: {pp}; max processes {mem['max_processes']}"
                      + (f"; job runner/huey peak {mem['peak_jobs_kb'] / 1024:.0f} MiB" if mem.get("peak_jobs_kb") else ""))
        idle = R[s]["idle"]
        if idle and not idle.get("stable", True):
            md.append(f"- {s}: idle RSS taken before the process tree settled ({idle['settle_s']:.0f} s)")

    # CPU attribution per phase: makes a concurrent build / other load visible.
    cpu_lines = []
    worst = {}
    for s in servers:
        mem = R[s]["mem"]
        if not mem or not mem.get("cpu_s"):
            continue
        order = ["idle", "prep", "client-ingest", "logbatch", "logmetric", "history", "client-history", "search-load", "search",
                 "client-search", "big-history-load", "big-history"]
        for ph, c in sorted(mem["cpu_s"].items(),
                            key=lambda kv: order.index(kv[0]) if kv[0] in order else 99):
            w = c["wall"]
            if w < 1:
                continue
            worst[s] = max(worst.get(s, 0.0), c["foreign"] / w)
            cpu_lines.append(f"| {s} | {ph} | {w:.0f} s | {c['server'] / w:.2f} | {c['bench'] / w:.2f} | "
                             f"{c['foreign'] / w:.2f} |")
    if cpu_lines:
        md += ["", "CPU during each phase, average cores busy (2 cores in total; 'bench' = wrk and the "
               "Python loaders, 'other' = every process outside this benchmark):", "",
               "| server | phase | wall | server | bench | other |", "|---|---|---:|---:|---:|---:|"]
        md += cpu_lines
        for s, f in worst.items():
            if f > 0.1:
                warn = (f"WARNING: other processes used up to {f:.2f} cores during the {s} run; "
                        f"its numbers are skewed (rerun on a quiet machine)")
                md.append("")
                md.append(f"**{warn}**")
                notes.append(warn)
    md.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(md))
    print(text)
    if notes:
        print("\nNotes:\n" + "\n".join(f"- {n}" for n in notes))


# --------------------------------------------------------------------------- main
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = p.add_subparsers(dest="cmd", required=True)

    x = sp.add_parser("wait-health")
    x.add_argument("url"); x.add_argument("--timeout", type=float, default=120); x.add_argument("--pid", type=int)
    x.add_argument("--out"); x.add_argument("--launched-at", type=float, help="epoch seconds of the launch")
    x.set_defaults(fn=cmd_wait_health)

    x = sp.add_parser("wait-quiet")
    x.add_argument("--max-cores", type=float, default=0.3); x.add_argument("--window", type=float, default=5)
    x.add_argument("--timeout", type=float, default=600)
    x.set_defaults(fn=cmd_wait_quiet)

    x = sp.add_parser("prep-write")
    x.add_argument("url"); x.add_argument("--runs", type=int, default=4)
    x.set_defaults(fn=cmd_prep_write)

    x = sp.add_parser("wrk-parse")
    x.add_argument("input"); x.add_argument("--out", required=True); x.add_argument("--name", required=True)
    x.add_argument("--per-request", type=int, default=1)
    x.add_argument("--connections", type=int, default=16); x.add_argument("--threads", type=int, default=2)
    x.set_defaults(fn=cmd_wrk_parse)

    x = sp.add_parser("history")
    x.add_argument("url"); x.add_argument("--out", required=True)
    x.add_argument("--points", type=int, default=100_000); x.add_argument("--batch", type=int, default=1000)
    x.add_argument("--page", type=int, default=25_000); x.add_argument("--reps", type=int, default=5)
    x.add_argument("--warmup", type=int, default=1); x.add_argument("--load-threads", type=int, default=2)
    x.set_defaults(fn=cmd_history)

    x = sp.add_parser("search-load")
    x.add_argument("url"); x.add_argument("--out", required=True)
    x.add_argument("--runs", type=int, default=10_000); x.add_argument("--threads", type=int, default=8)
    x.set_defaults(fn=cmd_search_load)

    x = sp.add_parser("search")
    x.add_argument("url"); x.add_argument("--load", required=True); x.add_argument("--out", required=True)
    x.add_argument("--reps", type=int, default=20); x.add_argument("--page-reps", type=int, default=10)
    x.add_argument("--warmup", type=int, default=2)
    x.set_defaults(fn=cmd_search)

    x = sp.add_parser("client-search")
    x.add_argument("url"); x.add_argument("--load", required=True); x.add_argument("--out", required=True)
    x.add_argument("--reps", type=int, default=20); x.add_argument("--page-reps", type=int, default=10)
    x.add_argument("--warmup", type=int, default=2)
    x.set_defaults(fn=cmd_client_search)

    x = sp.add_parser("client-history")
    x.add_argument("url"); x.add_argument("--history", required=True); x.add_argument("--out", required=True)
    x.add_argument("--reps", type=int, default=3); x.add_argument("--warmup", type=int, default=1)
    x.set_defaults(fn=cmd_client_history)

    x = sp.add_parser("client-ingest")
    x.add_argument("url"); x.add_argument("--out", required=True)
    x.add_argument("--calls", type=int, default=500); x.add_argument("--warmup", type=int, default=20)
    x.set_defaults(fn=cmd_client_ingest)

    x = sp.add_parser("big-history")
    x.add_argument("url"); x.add_argument("--pid", type=int, required=True); x.add_argument("--out")
    x.add_argument("--points", type=int, default=1_000_000); x.add_argument("--run")
    x.add_argument("--loaded-out", help="only load the points and write the run id here")
    x.set_defaults(fn=cmd_big_history)

    x = sp.add_parser("rss")
    x.add_argument("pid", type=int); x.add_argument("--out")
    x.set_defaults(fn=cmd_rss)

    x = sp.add_parser("settle")
    x.add_argument("pid", type=int); x.add_argument("--out", required=True)
    x.add_argument("--stable", type=float, default=15); x.add_argument("--timeout", type=float, default=150)
    x.set_defaults(fn=cmd_settle)

    x = sp.add_parser("memsample")
    x.add_argument("pid", type=int); x.add_argument("--out", required=True)
    x.add_argument("--phase-file", required=True); x.add_argument("--interval", type=float, default=0.2)
    x.set_defaults(fn=cmd_memsample)

    x = sp.add_parser("report")
    x.add_argument("dir"); x.add_argument("--out", required=True); x.add_argument("--meta")
    x.set_defaults(fn=cmd_report)

    a = p.parse_args()
    try:
        rc = a.fn(a)
    except ServerError as e:
        print(f"{a.cmd}: server error: {e}", file=sys.stderr)
        return 1
    return rc or 0


if __name__ == "__main__":
    sys.exit(main())
