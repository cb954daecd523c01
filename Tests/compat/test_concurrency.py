"""Concurrent clients: every write succeeds and nothing is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from mlflow.entities import Metric

from compat_helpers import now_ms

THREADS = 16
PER_THREAD = 50


def _run_all(fn, n):
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(fn, i) for i in range(n)]
        return [f.result() for f in futures]  # re-raises the first failure


def test_many_threads_one_run(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t0 = now_ms()

    def worker(w):
        for i in range(PER_THREAD):
            step = w * PER_THREAD + i
            client.log_metric(rid, "shared", float(step), timestamp=t0 + step, step=step)
        client.log_param(rid, f"worker{w}", str(w))
        client.set_tag(rid, f"tag{w}", str(w))

    _run_all(worker, THREADS)
    n = THREADS * PER_THREAD
    hist = client.get_metric_history(rid, "shared")
    assert len(hist) == n
    assert sorted(h.step for h in hist) == list(range(n))
    assert all(h.value == float(h.step) for h in hist)
    data = client.get_run(rid).data
    assert data.metrics["shared"] == float(n - 1)
    assert len([k for k in data.params if k.startswith("worker")]) == THREADS
    assert len([k for k in data.tags if k.startswith("tag")]) == THREADS


def test_many_threads_many_runs(client, exp_id):
    rids = [client.create_run(exp_id, run_name=f"r{i:02d}").info.run_id for i in range(THREADS)]

    def worker(w):
        rid = rids[w]
        for i in range(PER_THREAD):
            client.log_metric(rid, "m", float(w * 1000 + i), step=i)
        client.set_terminated(rid)

    _run_all(worker, THREADS)
    for w, rid in enumerate(rids):
        hist = client.get_metric_history(rid, "m")
        assert sorted(h.step for h in hist) == list(range(PER_THREAD))
        assert client.get_run(rid).data.metrics["m"] == float(w * 1000 + PER_THREAD - 1)
    runs = client.search_runs([exp_id], "attributes.status = 'FINISHED'", max_results=100)
    assert len(runs) == THREADS


def test_concurrent_run_creation_and_batches(client, exp_id):
    def worker(w):
        rid = client.create_run(exp_id, run_name=f"c{w:02d}").info.run_id
        t = now_ms()
        client.log_batch(rid, metrics=[Metric("b", float(i), t, i) for i in range(200)])
        return rid

    rids = _run_all(worker, THREADS)
    assert len(set(rids)) == THREADS
    found = client.search_runs([exp_id], max_results=100)
    assert {r.info.run_id for r in found} == set(rids)
    assert all(r.data.metrics["b"] == 199.0 for r in found)


def test_concurrent_experiment_creation(client, unique):
    def worker(w):
        return client.create_experiment(f"conc-{unique}-{w:02d}")

    ids = _run_all(worker, THREADS)
    assert len(set(ids)) == THREADS
    got = client.search_experiments(filter_string=f"name LIKE 'conc-{unique}-%'", max_results=100)
    assert {e.experiment_id for e in got} == set(ids)
