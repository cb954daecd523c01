"""The metric chart (`/charts/metric.svg`): a million-point series logged with the stock client,
drawn by the server with its one-step spike inside the drawn min–max band (MLflow's UI samples
320 points and loses it), zoom links, and bad input answered with a 4xx page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from mlflow.entities import Metric

from compat_helpers import now_ms

# The chart is Cairn's server-rendered UI; `mlflow server` has no such route.
pytestmark = pytest.mark.cairn_only

N = 1_000_000
SPIKE_STEP = 612_345
SPIKE = 9.0
SVG = "{http://www.w3.org/2000/svg}"


def value_at(step: int) -> float:
    return SPIKE if step == SPIKE_STEP else 2.0 / (1 + step / 100_000) + 0.05 * ((step * 7919) % 101) / 101


@pytest.fixture(scope="module")
def big_run(client):
    exp = client.create_experiment(f"compat-ui-charts-{now_ms()}")
    run_id = client.create_run(exp, run_name="a <b>million</b> & one").info.run_id
    t0 = now_ms()

    def log(start: int) -> None:
        stop = min(start + 50_000, N)
        # The client splits a batch into requests of 1000 metrics.
        client.log_batch(run_id, metrics=[Metric("loss", value_at(i), t0 + i, i) for i in range(start, stop)])

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(log, range(0, N, 50_000)))
    return run_id


def chart(server_url: str, **params) -> requests.Response:
    return requests.get(f"{server_url}/charts/metric.svg", params=params, timeout=120)


def parse(resp: requests.Response):
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(resp.content)  # well-formed XML: every text escaped
    plot = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "plot")
    x_lo, x_hi = map(float, plot.get("data-x-domain").split())
    x_left, x_right = map(float, plot.get("data-x-range").split())
    y_lo, y_hi = map(float, plot.get("data-y-domain").split())
    y_bottom, y_top = map(float, plot.get("data-y-range").split())

    def value(y: float) -> float:
        return y_lo + (y_bottom - y) / (y_bottom - y_top) * (y_hi - y_lo)

    def pixel(x: float) -> float:
        return x_left + (x - x_lo) / (x_hi - x_lo) * (x_right - x_left)

    return root, value, pixel


def vertices(d: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[0::2], numbers[1::2]))


def band_values_near(root, value, x_pixel: float, run_id: str) -> list[float]:
    bands = [p for p in root.iter(f"{SVG}path") if p.get("class") == "band" and p.get("data-run") == run_id]
    assert len(bands) == 1
    return [value(y) for x, y in vertices(bands[0].get("d")) if abs(x - x_pixel) <= 1.0]


def test_the_spike_of_one_step_among_a_million_is_inside_the_drawn_band(server_url, client, big_run):
    resp = chart(server_url, runs=big_run, key="loss")
    root, value, pixel = parse(resp)
    near = band_values_near(root, value, pixel(SPIKE_STEP), big_run)
    assert near, "no band vertex at the spike's column"
    # Coordinates are written to 0.1 px: allow that much of the y scale.
    assert max(near) == pytest.approx(SPIKE, abs=0.05)
    desc = root.find(f"{SVG}desc").text
    assert f"{N} points" in desc
    assert "Server-Timing" in resp.headers


def test_zoom_links_rerender_the_range_at_full_resolution(server_url, big_run):
    root, value, pixel = parse(chart(server_url, runs=big_run, key="loss"))
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    zooms = [h for h in links if "x_min=" in h and "x_max=" in h]
    assert len(zooms) >= 10
    # The slice that holds the spike, followed as a browser would.
    slice_link = next(h for h in zooms if float(re.search(r"x_min=([-\d.]+)", h).group(1)) <= SPIKE_STEP
                      <= float(re.search(r"x_max=([-\d.]+)", h).group(1)))
    resp = requests.get(f"{server_url}{slice_link}", timeout=120)
    root, value, pixel = parse(resp)
    assert max(band_values_near(root, value, pixel(SPIKE_STEP), big_run)) == pytest.approx(SPIKE, abs=0.05)
    assert "reset" in [t.text for t in root.iter(f"{SVG}text")]

    # A range of 1000 steps: one point per step, each its own vertex on the line.
    root, value, pixel = parse(chart(server_url, runs=big_run, key="loss", x_min=SPIKE_STEP - 500, x_max=SPIKE_STEP + 499))
    line = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "line")
    points = vertices(line.get("d"))
    assert len(points) >= 700
    assert min(value(y) for _, y in points) > 0.5
    assert max(value(y) for _, y in points) == pytest.approx(SPIKE, abs=0.05)


def test_options_render(server_url, big_run):
    for params in ({"x": "wall"}, {"x": "relative"}, {"log": "1"}, {"smooth": "0.9"}, {"width": "300", "height": "150"}):
        root, _, _ = parse(chart(server_url, runs=big_run, key="loss", **params))
        assert root.get("role") == "img"
        assert f"{N} points" in root.find(f"{SVG}desc").text


def test_names_are_escaped_and_many_runs_overlay(server_url, client, exp_id):
    hostile = "<script>alert(1)</script>"
    ids = []
    for i in range(3):
        rid = client.create_run(exp_id, run_name=f"{hostile}{i}").info.run_id
        client.log_batch(rid, metrics=[Metric(f"m{hostile}", float(s * (i + 1)), now_ms(), s) for s in range(20)])
        ids.append(rid)
    resp = chart(server_url, runs=",".join(ids), key=f"m{hostile}")
    root, value, pixel = parse(resp)
    assert b"<script" not in resp.content
    assert "&lt;script&gt;" in resp.text
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "line"]) == 3
    legend = [t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None]
    assert any(hostile in (t.find(f"{SVG}title").text or "") for t in legend)
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_nan_and_infinity_are_marked_not_folded_into_the_band(server_url, client, exp_id):
    rid = client.create_run(exp_id).info.run_id
    t = now_ms()
    client.log_batch(rid, metrics=[Metric("m", v, t + s, s) for s, v in
                                   enumerate([1.0, float("nan"), float("inf"), 2.0, float("-inf"), 1.5])])
    root, value, _ = parse(chart(server_url, runs=rid, key="m"))
    classes = [e.get("class") for e in root.iter()]
    assert "mark-nan" in classes and "mark-inf" in classes
    band = next(p for p in root.iter(f"{SVG}path") if p.get("class") == "band")
    ys = [value(y) for _, y in vertices(band.get("d"))]
    assert min(ys) >= 0.99 and max(ys) <= 2.01


def test_bad_input_is_a_4xx_page(server_url, big_run):
    unknown = chart(server_url, runs="0" * 32, key="loss")
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith("text/html")
    assert chart(server_url, runs=big_run, key="loss", x_min="abc").status_code == 400
    assert chart(server_url, runs=big_run, key="loss", x_min="nan").status_code == 400
    assert chart(server_url, runs=big_run, key="loss", x_min="10", x_max="5").status_code == 400
    assert chart(server_url, runs=big_run, key="loss", width="100000000").status_code == 400
    assert chart(server_url, runs=big_run, key="loss", height="-1").status_code == 400
    assert chart(server_url, runs=big_run, key="loss", smooth="1.5").status_code == 400
    assert chart(server_url, runs=big_run, key="loss", x="banana").status_code == 400
    assert chart(server_url, runs=big_run).status_code == 400
    assert chart(server_url, key="loss").status_code == 400
    bad_id = chart(server_url, runs="../../etc", key="loss")
    assert bad_id.status_code == 400 and b"<script" not in bad_id.content
    xss = chart(server_url, runs="<script>", key="loss")
    assert xss.status_code == 400 and b"<script>" not in xss.content
    # An unknown metric of a known run is an empty chart, as its history is empty.
    root, _, _ = parse(chart(server_url, runs=big_run, key="nope"))
    assert "0 points" in root.find(f"{SVG}desc").text
