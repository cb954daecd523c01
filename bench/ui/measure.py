#!/usr/bin/env python3
"""Time a UI page in headless Chromium with the browser's own clock (bench/ui/run.sh calls this).

  measure.py BASE_URL --kind mlflow|cairn --seed seed.json --reps 3 --rows 20 --out result.json

For each page (the runs table of the 10k-run experiment, the run page of the 1M-step metric) and
each repetition, a fresh Chromium (new profile, empty cache) loads the page ("cold"), then loads it
again in the same browser after about:blank ("warm": HTTP cache as the server's headers allow).
A script installed with ``Page.addScriptToEvaluateOnNewDocument`` runs before anything on the
page, watches the DOM (MutationObserver, plus a 5 ms poll for what mutates no node, such as an
image finishing) and stores ``performance.now()`` (milliseconds since navigationStart) the first
time the page's "ready" predicate holds:
  table  at least ROWS run rows in the table (MLflow: AG Grid rows; Cairn: rows of the runs table)
  chart  the metric's chart drawn (MLflow: Plotly's line path; Cairn: the first <figure>'s chart
         <img> loaded)
Also recorded: first-contentful-paint, and once the network has been quiet for 2 s, the page
weight: transferSize of the document and of every resource timing entry (what went over the
wire, compressed or not as the server sent it), and decodedBodySize.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "compat"))
from browser import start_chrome  # noqa: E402  (the compat suite's Chromium launcher)

READY = {
    ("mlflow", "table"): "document.querySelectorAll('.ag-center-cols-container .ag-row').length >= ROWS",
    ("cairn", "table"): "document.querySelectorAll('table.runs tbody tr, table#runs tbody tr').length >= ROWS",
    ("mlflow", "chart"): "document.querySelector('.js-plotly-plot .scatterlayer .trace path.js-line') !== null",
    # Cairn's run page draws each metric's chart as an <img> of /charts/metric.svg in a <figure>
    # (beside a small one in the metrics table): drawn = the first figure's image has loaded.
    ("cairn", "chart"): (
        "(function(){var i=document.querySelector('figure img[src*=\"metric.svg\"]');"
        "return i !== null && i.complete && i.naturalWidth > 0})()"),
}

PATHS = {
    ("mlflow", "table"): "/#/experiments/{table_experiment}/runs",
    ("cairn", "table"): "/experiments/{table_experiment}",
    ("mlflow", "chart"): "/#/experiments/{history_experiment}/runs/{history_run}/model-metrics",
    ("cairn", "chart"): "/experiments/{history_experiment}/runs/{history_run}?tab=metrics",
}

PROBE = """
(function () {
  var bench = window.__bench = {ready: null};
  function ready() { try { return !!(%s); } catch (e) { return false; } }
  function check() {
    if (bench.ready !== null) return;
    if (ready()) { bench.ready = performance.now(); obs.disconnect(); clearInterval(poll); }
  }
  var obs = new MutationObserver(check);
  obs.observe(document, {childList: true, subtree: true});
  var poll = setInterval(check, 5);
  document.addEventListener('load', check, true);
})();
"""

COLLECT = """
var nav = performance.getEntriesByType('navigation')[0] || {};
var fcp = performance.getEntriesByName('first-contentful-paint')[0];
var res = performance.getEntriesByType('resource');
var sum = function (xs, f) { return xs.reduce(function (a, e) { return a + (e[f] || 0); }, 0); };
return {
  ready_ms: window.__bench ? window.__bench.ready : null,
  fcp_ms: fcp ? fcp.startTime : null,
  dom_content_loaded_ms: nav.domContentLoadedEventEnd || null,
  load_ms: nav.loadEventEnd || null,
  document_bytes: nav.transferSize || 0,
  transfer_bytes: (nav.transferSize || 0) + sum(res, 'transferSize'),
  decoded_bytes: (nav.decodedBodySize || 0) + sum(res, 'decodedBodySize'),
  requests: 1 + res.length,
  resources: res.map(function (e) { return [e.name, e.initiatorType, e.transferSize, Math.round(e.responseEnd)]; })
};
"""


def quiet(driver, seconds: float, limit: float) -> None:
    """Wait until no new resource timing entry has appeared for `seconds` (at most `limit`)."""
    end = time.monotonic() + limit
    count, since = -1, time.monotonic()
    while time.monotonic() < end:
        n = driver.execute_script("return performance.getEntriesByType('resource').length")
        if n != count:
            count, since = n, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return
        time.sleep(0.2)


def load(driver, url: str, timeout: float) -> dict:
    driver.get(url)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if driver.execute_script("return window.__bench && window.__bench.ready") is not None:
            break
        time.sleep(0.05)
    quiet(driver, 2.0, 30.0)
    out = driver.execute_script(COLLECT)
    out["url"] = url
    return out


def spike_shown(driver, kind: str, spike: float) -> bool | None:
    """Does the drawn chart reach the spike's value? MLflow: the y values Plotly was given."""
    if kind == "mlflow":
        ys = driver.execute_script(
            "var g=document.querySelector('.js-plotly-plot'); if(!g||!g.data) return null;"
            "return [].concat.apply([], g.data.map(function(t){return Array.from(t.y||[])}))")
        return None if ys is None else max(ys, default=0) >= spike
    return None  # Cairn: the bench reads the chart's own description (see run.sh) or its screenshot


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--kind", choices=["mlflow", "cairn"], required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--pages", default="table,chart")
    ap.add_argument("--screenshots", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    seed = json.load(open(a.seed))
    base = a.base.rstrip("/")
    result: dict = {"kind": a.kind, "rows": a.rows, "reps": a.reps, "seed": seed, "pages": {}}
    for page in a.pages.split(","):
        path = PATHS[(a.kind, page)].format(**seed)
        probe = PROBE % READY[(a.kind, page)].replace("ROWS", str(a.rows))
        samples = {"cold": [], "warm": []}
        for rep in range(a.reps):
            driver = start_chrome()
            try:
                driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": probe})
                for phase in ("cold", "warm"):
                    if phase == "warm":
                        driver.get("about:blank")
                    m = load(driver, base + path, a.timeout)
                    if page == "chart":
                        m["spike_shown"] = spike_shown(driver, a.kind, 9.0)
                    if a.screenshots and rep == 0 and phase == "cold":
                        os.makedirs(a.screenshots, exist_ok=True)
                        driver.save_screenshot(os.path.join(a.screenshots, f"{a.kind}-{page}.png"))
                    samples[phase].append(m)
                    print(f"{a.kind} {page} rep {rep} {phase}: ready {m['ready_ms']} ms, fcp {m['fcp_ms']} ms, "
                          f"{m['transfer_bytes']} B in {m['requests']} requests", file=sys.stderr)
            finally:
                driver.quit()
        summary = {}
        for phase, ms in samples.items():
            ready = [m["ready_ms"] for m in ms if m["ready_ms"] is not None]
            summary[phase] = {
                "ready_ms": statistics.median(ready) if len(ready) == len(ms) else None,
                "fcp_ms": statistics.median([m["fcp_ms"] or 0 for m in ms]),
                "transfer_bytes": statistics.median([m["transfer_bytes"] for m in ms]),
                "decoded_bytes": statistics.median([m["decoded_bytes"] for m in ms]),
                "requests": statistics.median([m["requests"] for m in ms]),
            }
        result["pages"][page] = {"path": path, "summary": summary, "samples": samples}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
