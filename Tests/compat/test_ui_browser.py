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


def test_mlflow_fragment_routes_open_the_matching_page(logged, browser):  # noqa: F811
    """MLflow 3's fragment routes (its routes.ts): metric page, run tabs, artifacts, run by id,
    the experiment page's searchFilter, compare; followed on load and on `hashchange`."""
    e, r = logged["exp_id"], logged["runs"]
    alpha = f"/experiments/{e}/runs/{r['alpha']}"

    def lands(fragment: str, path: str, query: dict[str, list[str]] | None = None, text: str | None = None, start="/"):
        driver = browser.open(start + fragment)

        def there(d):
            url = urllib.parse.urlsplit(d.current_url)
            return url.path == path and (query is None or urllib.parse.parse_qs(url.query) == query)

        _wait(driver, there, f"{fragment} -> {path} {query}")
        if text:
            assert text in _text(driver), fragment
        return driver

    runs_json = urllib.parse.quote(f'["{r["alpha"]}","{r["beta"]}"]')
    lands(f'#/metric?runs=["{r["alpha"]}"]&metric=%22loss%22&experiments=["{e}"]&plot_metric_keys=%5B%22loss%22%5D',
          alpha, {"tab": ["metrics"]}, "loss")
    lands(f"#/metric?runs={runs_json}&metric=%22loss%22&experiments=[\"{e}\"]&x_axis=step", "/compare",
          {"runs": [f"{r['alpha']},{r['beta']}"], "metric": ["loss"]}, "beta")
    lands(f"#/experiments/{e}/runs/{r['alpha']}/artifacts/notes.txt", alpha,
          {"tab": ["artifacts"], "path": ["notes.txt"]}, "hello from the artifacts tab")
    lands(f"#/experiments/{e}/runs/{r['alpha']}/artifactPath/config.json", alpha,
          {"tab": ["artifacts"], "path": ["config.json"]}, "optimizer")
    lands(f"#/experiments/{e}/runs/{r['alpha']}/model-metrics", alpha, {"tab": ["metrics"]})
    lands(f"#/runs/{r['alpha']}", alpha, {}, "alpha")
    driver = lands(f"#/experiments/{e}?searchFilter=params.optimizer+%3D+%27adam%27&orderByKey=attributes.start_time"
                   "&orderByAsc=false&lifecycleFilter=Active", f"/experiments/{e}",
                   {"filter": ["params.optimizer = 'adam'"]})
    assert _row_names(driver) == ["alpha"]
    lands(f"#/compare-runs?runs={runs_json}&experiments=[\"{e}\"]", "/compare", {"runs": [f"{r['alpha']},{r['beta']}"]})
    browser.shot("fragment-compare")

    # A fragment set while a page is open changes only the hash: followed on hashchange.
    driver = browser.open("/")
    driver.execute_script(f"window.location.hash = '#/experiments/{e}/runs/{r['beta']}';")
    _wait(driver, lambda d: urllib.parse.urlsplit(d.current_url).path == f"/experiments/{e}/runs/{r['beta']}",
          "the run page after hashchange")
    assert "beta" in _text(driver)
    # Hashes that are not MLflow routes stay where they are.
    driver = browser.open(f"{alpha}#tags")
    time.sleep(0.3)
    assert urllib.parse.urlsplit(driver.current_url).path == alpha


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'self'; "
       "form-action 'self'")


def test_every_page_carries_the_csp_and_breaks_none_of_it(server_url, logged, browser):  # noqa: F811
    """The pages' Content-Security-Policy, and no page (scripts, styles, inline charts, the
    description's markdown) tripping it: Chromium logs each violation as a console error,
    which the fixture fails on."""
    from mlflow import MlflowClient

    e, r = logged["exp_id"], logged["runs"]
    MlflowClient(server_url).set_tag(
        r["beta"], "mlflow.note.content",
        "# Notes\n\nSee <https://example.com/docs> and ![plot](https://evil.example/pixel.gif \"tracker\").\n")
    for _, path, _ in _pages(logged) + [("", f"/experiments/{e}/runs/{r['beta']}", []),
                                       ("", f"/compare?runs={r['alpha']},{r['beta']}&metric=acc&param=lr", [])]:
        answer = requests.get(server_url + path, timeout=30)
        assert answer.headers.get("Content-Security-Policy") == CSP, path
        driver = browser.open(path)
        assert not driver.execute_script(
            "return Array.prototype.some.call(document.querySelectorAll('[style]'), function () { return true; })"), path
    driver = browser.open(f"/experiments/{e}/runs/{r['beta']}")
    links = [a.get_attribute("href") for a in driver.find_elements("css selector", "a")]
    assert "https://example.com/docs" in links
    assert "https://evil.example/pixel.gif" in links  # the external image is a link, not a load
    assert not driver.find_elements("css selector", "img[src*='evil.example']")
    browser.shot("description-csp")
    # A 404 page carries it too.
    assert requests.get(f"{server_url}/experiments/999999", timeout=30).headers.get("Content-Security-Policy") == CSP


PHONE = (390, 844)


def _phone_shot(driver, name: str) -> None:
    from browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(PHONE[0], min(max(int(height or 0) + 120, PHONE[1]), 5000))
    driver.save_screenshot(str(SCREENSHOTS / f"phone-{name}.png"))
    driver.set_window_size(*PHONE)


def test_pages_fit_a_phone_without_scrolling_sideways(server_url, logged):
    """At 390 px the page itself never scrolls sideways: wide tables scroll inside their own
    container and the header wraps."""
    from browser import require_browser, start_chrome

    require_browser()
    driver = start_chrome(window=PHONE)
    try:
        problems = []
        for name, path, _ in _pages(logged):
            driver.get(server_url + path)
            # The layout viewport's width, as the page sees it on a phone.
            widths = driver.execute_script(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if widths[0] > widths[1] + 1:
                wide = driver.execute_script(
                    "var w = document.documentElement.clientWidth; return Array.prototype.filter.call("
                    "document.querySelectorAll('body *'), function (e) { var r = e.getBoundingClientRect();"
                    " return r.right > w + 1 && !e.closest('.table-wrap, pre'); }).slice(0, 5).map(function (e) {"
                    " return e.tagName + '.' + e.className; })")
                problems.append(f"{path}: {widths[0]} px wide at {widths[1]}: {wide}")
            _phone_shot(driver, name)
        assert not problems, "\n".join(problems)
        # The runs table is wider than the phone: it scrolls inside its own container.
        driver.get(f"{server_url}/experiments/{logged['exp_id']}")
        wrap = driver.find_element("css selector", ".table-wrap")
        assert driver.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", wrap)
        assert driver.execute_script("return getComputedStyle(arguments[0]).overflowX", wrap) == "auto"
    finally:
        driver.quit()


def test_model_pages_in_dark_mode(server_url, logged, browser):  # noqa: F811
    """The registry's pages with prefers-color-scheme: dark: dark surfaces, light text, and the
    alias form's fields and the aliases drawn in the dark palette too."""
    driver = browser.driver
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    model = logged["model"]

    def luminance(css: str) -> float:
        parts = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
        return sum(p * w for p, w in zip(parts, (0.2126, 0.7152, 0.0722))) / 255

    for name, path in (("models", f"/models?q={model}"), ("model", f"/models/{model}"),
                       ("model-version", f"/models/{model}/versions/1")):
        driver = browser.open(path)
        assert driver.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches")
        body = driver.execute_script("var s = getComputedStyle(document.body); return [s.backgroundColor, s.color]")
        assert luminance(body[0]) < 0.2 and luminance(body[1]) > 0.7, (path, body)
        # Every text field and every alias chip: light text on a dark ground.
        for element in driver.find_elements("css selector", "input:not([type=hidden]), .alias, table td, caption"):
            colors = driver.execute_script(
                "var e = arguments[0], s = getComputedStyle(e), bg = s.backgroundColor;"
                "while (bg === 'rgba(0, 0, 0, 0)' && e.parentElement) { e = e.parentElement; bg = getComputedStyle(e).backgroundColor; }"
                "return [s.color, bg]", element)
            assert luminance(colors[0]) - luminance(colors[1]) > 0.35, (path, element.tag_name,
                                                                        element.get_attribute("class"), colors)
        browser.shot(f"dark-{name}")
