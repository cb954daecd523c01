#!/usr/bin/env python3
"""Markdown table from bench/ui/measure.py results (mlflow.json, cairn.json)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform


def ms(v):
    return "n/a" if v is None else f"{v:,.0f} ms"


def size(v):
    if v is None:
        return "n/a"
    return f"{v / 1e6:.2f} MB" if v >= 1e6 else f"{v / 1e3:.1f} kB"


def ratio(m, c):
    return f"{m / c:.1f}×" if m and c else ""


def cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{platform.processor()}, {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--cmdline", default="bench/ui/run.sh")
    ap.add_argument("--cairn-bin", default="")
    a = ap.parse_args()
    res = {}
    for f in a.files:
        r = json.load(open(f))
        res[r["kind"]] = r
    m, c = res.get("mlflow"), res.get("cairn")
    any_r = m or c
    seed = any_r["seed"]
    build = ("release build" if "/release/" in a.cairn_bin else "debug build" if "/debug/" in a.cairn_bin
             else f"binary {a.cairn_bin}")
    print(f"### Web UI in headless Chromium: {seed['runs']:,} runs × {seed['params']} params × "
          f"{seed['metrics']} metrics, and a {seed['history']:,}-step metric\n")
    print(f"`{a.cmdline}` — {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu()}, "
          f"Chromium headless {any_r.get('window', '1366×900')}, medians of {any_r['reps']} runs; Cairn {build}, "
          "both servers on SQLite, one at a time.\n")
    print("| page | measure | MLflow 3.17.2 UI | Cairn | MLflow / Cairn |")
    print("|---|---|---:|---:|---:|")

    def row(page, label, phase, key, fmt):
        mv = m["pages"][page]["summary"][phase][key] if m and page in m["pages"] else None
        cv = c["pages"][page]["summary"][phase][key] if c and page in c["pages"] else None
        print(f"| {page_label[page]} | {label} | {fmt(mv)} | {fmt(cv)} | {ratio(mv, cv)} |")

    page_label = {"table": f"runs table ({seed['runs']:,} runs)", "chart": f"run page, {seed['history']:,}-step chart"}
    rows = any_r["rows"]
    for page, ready in (("table", f"table holds {rows} rows"), ("chart", "chart drawn")):
        row(page, "first contentful paint, cold", "cold", "fcp_ms", ms)
        row(page, f"{ready}, cold", "cold", "ready_ms", ms)
        row(page, "first contentful paint, warm cache", "warm", "fcp_ms", ms)
        row(page, f"{ready}, warm cache", "warm", "ready_ms", ms)
        row(page, "page weight, cold (transferred)", "cold", "transfer_bytes", size)
        row(page, "page weight, warm (transferred)", "warm", "transfer_bytes", size)
        row(page, "requests", "cold", "requests", lambda v: "n/a" if v is None else f"{v:.0f}")
    if m and "chart" in m["pages"]:
        shown = [s.get("spike_shown") for s in m["pages"]["chart"]["samples"]["cold"]]
        print(f"\nMLflow's chart reaches the one-step spike (max plotted value ≥ 9.0): {shown[0]}.")
    for kind, r in (("MLflow", m), ("Cairn", c)):
        if r:
            s = r["seed"]
            print(f"\n{kind} seeded by {s.get('method')}, in {s.get('seconds')} s.")


if __name__ == "__main__":
    main()
