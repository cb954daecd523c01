"""The Web UI in a real browser: headless Chromium (selenium + Debian's chromedriver).

Runs, a registered model, a monitor and a pipeline are logged with the stock clients; then every
page of the UI contract (notes: experiments, runs table, run page, compare, chart, models,
monitors, pipelines) is opened, its content checked and a screenshot saved under
Tests/compat/.output/screenshots/; the filter box (and a bad filter's inline error), sorting by a
header, the column picker, selecting two runs to compare, zooming a chart and MLflow's fragment
link are used as a user would. Any error in the browser console fails the test (``browser``
fixture, browser.py).

Cairn-only: MLflow's UI is a different (single-page) application.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import urllib.parse

import mlflow
import pytest
import requests

from browser import browser  # noqa: F401  (fixture)
from test_pipelines import cairn, write_project

pytestmark = pytest.mark.cairn_only

# An experiment's runs: two plain ones, a parent with a child, and one whose name, param and tag
# try to inject markup (the page must show them as text and run none of it).
INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
PIPELINE = """\
stages:
  hello:
    cmd: echo hello > out.txt
    outs: [out.txt]
"""


def _wait(driver, condition, what: str, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, message=f"waiting for {what}")


def _text(driver) -> str:
    """The page's text as the server wrote it (textContent: the stylesheet upper-cases some headers)."""
    return driver.execute_script("return document.body ? document.body.textContent : document.documentElement.textContent")


def _query(driver) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)


def _run_rows(driver) -> list:
    """The runs table's body rows (the table holding the run checkboxes)."""
    rows = driver.find_elements("css selector", "table tbody tr")
    return [r for r in rows if r.find_elements("css selector", "input[type=checkbox]") or r.find_elements("css selector", "a[href*='/runs/']")]


def _row_names(driver) -> list[str]:
    names = []
    for row in _run_rows(driver):
        link = row.find_elements("css selector", "a[href*='/runs/']")
        # textContent: the data, whatever case or truncation the stylesheet shows it in
        names.append((link[0] if link else row).get_attribute("textContent").strip())
    return names


@pytest.fixture(scope="module")
def logged(server_url, tmp_path_factory):
    """Runs, a model version with an alias, a monitor and a pipeline run, logged with the stock clients."""
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    unique = f"{int(time.time() * 1000) % 10**9:09d}"
    client = MlflowClient(server_url)
    exp_name = f"ui-browser-{unique}"
    exp_id = client.create_experiment(exp_name)
    mlflow.set_experiment(experiment_id=exp_id)
    runs = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for name, lr, optimizer, final in (("alpha", 0.1, "adam", 0.9), ("beta", 0.01, "sgd", 0.7)):
            with mlflow.start_run(run_name=name) as run:
                mlflow.log_params({"lr": lr, "optimizer": optimizer, "epochs": 10})
                mlflow.set_tag("team", "vision")
                for step in range(50):
                    mlflow.log_metric("acc", final * (step + 1) / 50, step=step)
                for step in range(0, 500, 5):
                    mlflow.log_metric("loss", 9.0 if step == 300 else 1.0 / (1 + step), step=step)
                mlflow.log_text("hello from the artifacts tab\n", "notes.txt")
                mlflow.log_dict({"lr": lr, "optimizer": optimizer}, "config.json")
                if name == "alpha":
                    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
                    mlflow.sklearn.log_model(model, name="model", registered_model_name=f"ui-model-{unique}")
            runs[name] = run.info.run_id
        with mlflow.start_run(run_name="gamma") as parent:
            mlflow.log_param("lr", 0.05)
            mlflow.log_metric("acc", 0.8)
            with mlflow.start_run(run_name="gamma-child", nested=True) as child:
                mlflow.log_param("lr", 0.05)
                mlflow.log_metric("acc", 0.85)
        runs["gamma"], runs["gamma-child"] = parent.info.run_id, child.info.run_id
        with mlflow.start_run(run_name=f"inj{INJECTION}") as run:
            mlflow.log_param("payload", INJECTION)
            mlflow.set_tag("payload", INJECTION)
        runs["injection"] = run.info.run_id
    links = re.findall(r"View run alpha at: (\S+)", printed.getvalue())
    model = f"ui-model-{unique}"
    client.set_registered_model_alias(model, "champion", "1")

    monitor = f"watch-{unique}"
    created = requests.post(f"{server_url}/api/cairn/v1/monitors", timeout=10,
                            json={"name": monitor, "model_name": model, "alias": "champion", "interval_seconds": 3600,
                                  "checks": [{"type": "error_rate", "threshold": 0.5}]})
    assert created.status_code == 200, created.text

    project = tmp_path_factory.mktemp(f"ui-pipeline-{unique}")
    write_project(project, PIPELINE)
    ran = cairn(server_url, "pipeline", "run", cwd=project)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return {
        "exp_id": exp_id, "exp_name": exp_name, "runs": runs, "alpha_link": links[0] if links else None,
        "model": model, "monitor": monitor, "pipeline": project.name,
        "pipeline_run": ran.stdout.splitlines()[0].split()[1],
    }


def _pages(d) -> list[tuple[str, str, list[str]]]:
    """(screenshot name, path, texts the page must show) for every page of the UI contract."""
    e, r = d["exp_id"], d["runs"]
    alpha = f"/experiments/{e}/runs/{r['alpha']}"
    return [
        ("home", "/", [d["exp_name"]]),
        ("experiments", "/experiments", [d["exp_name"]]),
        ("experiments-deleted", "/experiments?view=deleted", []),
        ("runs", f"/experiments/{e}", ["alpha", "beta", "gamma"]),
        ("runs-several", f"/runs?experiments={e},0", ["alpha", "beta"]),
        ("run-overview", alpha, ["alpha", "FINISHED", "lr", "0.1", "adam", "vision"]),
        ("run-metrics", f"{alpha}?tab=metrics", ["acc", "loss"]),
        ("run-artifacts", f"{alpha}?tab=artifacts", ["notes.txt", "config.json"]),
        ("run-artifact-text", f"{alpha}?tab=artifacts&path=notes.txt", ["hello from the artifacts tab"]),
        ("run-artifact-json", f"{alpha}?tab=artifacts&path=config.json", ["optimizer", "adam"]),
        ("run-parent", f"/experiments/{e}/runs/{r['gamma']}", ["gamma", "gamma-child"]),
        ("compare", f"/compare?runs={r['alpha']},{r['beta']}", ["alpha", "beta", "lr", "optimizer"]),
        # The list pages 50 models at a time by name; the whole suite registers many, so search.
        ("models", f"/models?q={d['model']}", [d["model"]]),
        ("model", f"/models/{d['model']}", [d["model"], "champion"]),
        ("model-version", f"/models/{d['model']}/versions/1", [d["model"], "champion", d["monitor"]]),
        ("monitors", "/monitors", [d["monitor"]]),
        ("monitor", f"/monitors/{d['monitor']}", [d["monitor"], d["model"]]),
        ("pipelines", "/pipelines", [d["pipeline"]]),
        ("pipeline", f"/pipelines/{d['pipeline']}", [d["pipeline"], "hello"]),
        ("pipeline-run", f"/pipelines/{d['pipeline']}/runs/{d['pipeline_run']}", ["hello"]),
    ]


def test_every_page_renders_its_content(server_url, logged, browser):  # noqa: F811
    problems = []
    for name, path, texts in _pages(logged):
        status = requests.get(server_url + path, timeout=30).status_code
        driver = browser.open(path)
        browser.shot(name)
        body = _text(driver)
        missing = [t for t in texts if t not in body]
        if status != 200 or missing:
            problems.append(f"{path}: HTTP {status}, missing {missing}")
        if driver.execute_script("return window.__pwned"):
            problems.append(f"{path}: injected markup ran")
    assert not problems, "\n".join(problems)


def test_injected_names_and_values_stay_text(logged, browser):  # noqa: F811
    e, run = logged["exp_id"], logged["runs"]["injection"]
    for path in (f"/experiments/{e}", f"/experiments/{e}/runs/{run}"):
        driver = browser.open(path)
        assert INJECTION in _text(driver), path  # shown as the literal characters
        assert not driver.execute_script("return window.__pwned"), path
        assert not driver.find_elements("css selector", "img[src='x']"), path


def test_a_chart_is_an_svg_with_the_spike(server_url, logged, browser):  # noqa: F811
    r = logged["runs"]
    path = f"/charts/metric.svg?runs={r['alpha']},{r['beta']}&key=loss"
    answer = requests.get(server_url + path, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("image/svg+xml")
    driver = browser.open(path)
    browser.shot("chart")
    assert driver.execute_script("return document.documentElement.localName") == "svg"
    assert "9" in answer.text  # the spike's value reaches the y axis


def test_filter_box_narrows_the_table_and_a_bad_filter_is_shown_inline(server_url, logged, browser):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    driver = browser.open(f"/experiments/{logged['exp_id']}")
    box = driver.find_element("css selector", "input[name=filter]")
    box.clear()
    box.send_keys("params.optimizer = 'adam'", Keys.ENTER)
    _wait(driver, lambda d: "filter=" in d.current_url, "the filter in the URL")
    assert _query(driver)["filter"] == ["params.optimizer = 'adam'"]
    assert _row_names(driver) == ["alpha"]
    browser.shot("filtered")

    # Chromium logs a page that answers 400 as a failed resource load: expected here, nowhere else.
    browser.allow(r"status of 400")
    box = driver.find_element("css selector", "input[name=filter]")
    box.clear()
    box.send_keys("params.lr >>> 1", Keys.ENTER)
    _wait(driver, lambda d: ">>>" in urllib.parse.unquote_plus(d.current_url), "the bad filter in the URL")
    browser.shot("bad-filter")
    body = _text(driver)
    assert "params.lr >>> 1" in driver.find_element("css selector", "input[name=filter]").get_attribute("value")
    assert re.search(r"(?i)position|column|at \d+|expected", body), body[:2000]
    assert not _run_rows(driver)
    # The page answers 400, not 200 and not 500, for the same URL.
    assert requests.get(driver.current_url, timeout=30).status_code == 400


def test_clicking_a_header_sorts_and_clicking_again_reverses(logged, browser):  # noqa: F811
    driver = browser.open(f"/experiments/{logged['exp_id']}?filter=" + urllib.parse.quote("params.epochs = '10'"))
    assert sorted(_row_names(driver)) == ["alpha", "beta"]

    def header(key):
        entity, name = key.split(".", 1)
        pattern = re.compile(rf"[?&]order={re.escape(entity)}\.`?{re.escape(name)}`?[ &]|[?&]order={re.escape(entity)}\.`?{re.escape(name)}`?$")
        links = [a for a in driver.find_elements("css selector", "thead a")
                 if pattern.search(urllib.parse.unquote_plus(a.get_attribute("href") or ""))]
        assert links, f"no sortable header for {key}"
        return links[0]

    header("metrics.acc").click()
    _wait(driver, lambda d: "acc" in "".join(_query(d).get("order", [])), "order in the URL")
    first = _row_names(driver)
    header("metrics.acc").click()
    _wait(driver, lambda d: _row_names(d) == list(reversed(first)), "the reversed order")
    assert sorted(first) == ["alpha", "beta"]
    browser.shot("sorted")
    assert driver.find_elements("css selector", "th[aria-sort]")


def test_column_picker_loads_only_the_chosen_columns(logged, browser):  # noqa: F811
    from selenium.webdriver.support.expected_conditions import staleness_of

    driver = browser.open(f"/experiments/{logged['exp_id']}")
    opener = [a for a in driver.find_elements("css selector", "a") if a.text.strip() == "Columns"]
    assert opener, "no Columns link"
    opener[0].click()
    _wait(driver, lambda d: d.find_elements("css selector", "form input[name=col]"), "the column picker")
    boxes = driver.find_elements("css selector", "form input[name=col]")
    assert {"params.lr", "params.optimizer", "metrics.acc", "metrics.loss", "tags.team"} <= {b.get_attribute("value") for b in boxes}
    for box in boxes:
        if box.is_selected() != (box.get_attribute("value") in ("params.lr", "metrics.acc")):
            box.click()
    browser.shot("column-picker")
    form = boxes[0].find_element("xpath", "ancestor::form")
    form.find_element("css selector", "button[type=submit]").click()
    _wait(driver, staleness_of(form), "the page with the chosen columns")
    assert {"col", "cols"} & set(_query(driver)), driver.current_url
    browser.shot("columns")
    headers = " ".join(th.get_attribute("textContent") for th in driver.find_elements("css selector", "table.runs thead th"))
    assert "lr" in headers and "acc" in headers, headers
    assert "optimizer" not in headers and "epochs" not in headers and "loss" not in headers, headers
    # The view is a link: reloading its URL shows the same columns.
    driver.get(driver.current_url)
    assert " ".join(th.get_attribute("textContent") for th in driver.find_elements("css selector", "table.runs thead th")) == headers


def test_select_two_runs_and_compare(logged, browser):  # noqa: F811
    r = logged["runs"]
    driver = browser.open(f"/experiments/{logged['exp_id']}")
    for run in ("alpha", "beta"):
        driver.find_element("css selector", f"input[type=checkbox][value='{r[run]}']").click()
    buttons = [b for b in driver.find_elements("css selector", "button, input[type=submit]") if "ompare" in (b.text or b.get_attribute("value") or "")]
    assert buttons, "no compare button"
    buttons[0].click()
    _wait(driver, lambda d: "/compare" in d.current_url, "the compare page")
    browser.shot("compare-selected")
    assert set(",".join(_query(driver)["runs"]).split(",")) == {r["alpha"], r["beta"]}
    body = _text(driver)
    assert "alpha" in body and "beta" in body and "adam" in body and "sgd" in body


def test_zoom_a_chart_by_following_its_range_link(logged, browser):  # noqa: F811
    e, r = logged["exp_id"], logged["runs"]
    driver = browser.open(f"/experiments/{e}/runs/{r['alpha']}?tab=metrics")
    charts = [i.get_attribute("src") for i in driver.find_elements("css selector", "img[src*='metric.svg']")
              if "key=loss" in i.get_attribute("src")]
    assert charts, "no loss chart on the metrics tab"
    # The chart is an SVG document whose zoom regions and pan/zoom-out controls are links.
    driver.get(charts[-1])
    browser.shot("chart-full")
    zooms = driver.find_elements("css selector", "a")
    hrefs = [driver.execute_script("return arguments[0].getAttribute('href')", a) for a in zooms]
    regions = [(a, h) for a, h in zip(zooms, hrefs) if h and "x_min=" in h and "x_max=" in h
               and a.find_elements("css selector", "rect")]
    assert len(regions) >= 2, hrefs
    link, href = regions[len(regions) // 2]
    link.find_element("css selector", "rect").click()
    _wait(driver, lambda d: "x_min=" in d.current_url, "the zoomed URL")
    q = _query(driver)
    assert float(q["x_min"][0]) < float(q["x_max"][0]), href
    assert driver.execute_script("return document.documentElement.localName") == "svg"
    labels = [t.get_attribute("textContent") for t in driver.find_elements("css selector", "text")]
    assert "reset" in labels, labels  # a zoomed chart offers the way back
    browser.shot("zoomed")


def test_the_mlflow_fragment_link_lands_on_the_run_page(logged, browser):  # noqa: F811
    link = logged["alpha_link"]
    assert link and "/#/experiments/" in link, link
    driver = browser.open(link)
    want = f"/experiments/{logged['exp_id']}/runs/{logged['runs']['alpha']}"
    _wait(driver, lambda d: urllib.parse.urlsplit(d.current_url).path.endswith(want), want)
    assert "alpha" in _text(driver)
    browser.shot("fragment-link")
