"""get_metric_history: ordering and paging (the client pages at 25 000 points)."""

from __future__ import annotations

import requests
from mlflow.entities import Metric

from compat_helpers import now_ms


def test_history_order_is_timestamp_step_value(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    points = [  # (value, timestamp, step), logged out of order
        (5.0, t + 2, 0), (1.0, t, 3), (0.5, t, 1), (2.0, t + 1, 1), (-1.0, t, 1), (9.0, t + 1, 0),
    ]
    client.log_batch(rid, metrics=[Metric("m", v, ts, s) for v, ts, s in points])
    hist = client.get_metric_history(rid, "m")
    got = [(h.value, h.timestamp, h.step) for h in hist]
    assert got == sorted(points, key=lambda p: (p[1], p[2], p[0]))


def test_history_30000_points_pages_through_client(client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    n = 30_000
    metrics = [Metric("big", float(i) / 2, t + i, i) for i in range(n)]
    client.log_batch(rid, metrics=metrics)  # the client sends 30 requests of 1000
    hist = client.get_metric_history(rid, "big")  # the client needs two pages of 25 000
    assert len(hist) == n
    assert [h.step for h in hist] == list(range(n))
    assert hist[0].value == 0.0 and hist[-1].value == (n - 1) / 2
    assert hist[-1].timestamp == t + n - 1
    assert client.get_run(rid).data.metrics["big"] == (n - 1) / 2


def test_history_raw_paging(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    client.log_batch(rid, metrics=[Metric("m", float(i), t + i, i) for i in range(7)])
    seen, token, pages = [], None, 0
    while True:
        params = {"run_id": rid, "metric_key": "m", "max_results": 3}
        if token:
            params["page_token"] = token
        r = requests.get(f"{api}/metrics/get-history", params=params, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        batch = body.get("metrics", [])
        assert len(batch) <= 3
        for m in batch:
            assert m["key"] == "m"
            assert isinstance(m["timestamp"], int) and isinstance(m["step"], int)
        seen += [m["step"] for m in batch]
        token = body.get("next_page_token")
        if not token:
            break
        assert pages < 10
    assert seen == list(range(7))
    assert pages == 3


def test_history_accepts_run_uuid_alias(client, api, exp_id):
    rid = client.create_run(exp_id).info.run_id
    client.log_metric(rid, "m", 4.0, step=2)
    r = requests.get(f"{api}/metrics/get-history", params={"run_uuid": rid, "metric_key": "m"},
                     timeout=30)
    assert r.status_code == 200, r.text
    (m,) = r.json()["metrics"]
    assert m["value"] == 4.0 and m["step"] == 2


def test_history_is_streamed_in_order_across_chunks(client, api, exp_id):
    """A history longer than the server's read chunk (2,500 points), with many points per
    (timestamp, step) and NaNs that sort where their stored 0 goes, after a real 0, as
    mlflow server's SQL store orders them (ORDER BY timestamp, step, value): the unpaged
    answer is streamed (chunked, no Content-Length) and equals the sorted history, and pages
    of any size add up to it."""
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    points = []  # (value, timestamp, step)
    for i in range(6000):
        ts, step = t + i // 7, (i // 3) % 4
        value = float("nan") if i % 11 == 0 else float((i * 37) % 101) - 50.0
        points.append((value, ts, step))
    # one (timestamp, step) group larger than a chunk
    points += [(float(v), t + 5000, 0) for v in range(2600)]
    uniq = {}
    for v, ts, s in points:
        uniq[(v if v == v else "nan", ts, s)] = (v, ts, s)
    points = list(uniq.values())
    for i in range(0, len(points), 1000):
        client.log_batch(rid, metrics=[Metric("m", v, ts, s) for v, ts, s in points[i:i + 1000]])

    def order(p):
        v, ts, s = p
        return (ts, s, 0.0 if v != v else v, v != v)

    expected = [order(p) for p in sorted(points, key=order)]

    r = requests.get(f"{api}/metrics/get-history", params={"run_id": rid, "metric_key": "m"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in r.headers
    got = [(m["timestamp"], m["step"], 0.0 if m["value"] == "NaN" else m["value"], m["value"] == "NaN")
           for m in r.json()["metrics"]]
    assert "next_page_token" not in r.json()
    assert got == expected

    for size in (2499, 2500, 4000):
        seen, token = [], None
        while True:
            params = {"run_id": rid, "metric_key": "m", "max_results": size}
            if token:
                params["page_token"] = token
            body = requests.get(f"{api}/metrics/get-history", params=params, timeout=60).json()
            page = body.get("metrics", [])
            assert len(page) <= size
            seen += [(m["timestamp"], m["step"], 0.0 if m["value"] == "NaN" else m["value"], m["value"] == "NaN")
                     for m in page]
            token = body.get("next_page_token")
            if not token:
                break
        assert seen == expected, size

    hist = client.get_metric_history(rid, "m")
    assert [order((h.value, h.timestamp, h.step)) for h in hist] == expected
