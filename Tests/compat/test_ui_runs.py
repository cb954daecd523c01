"""The web UI's runs table (issue 14, item 3), read as HTML with `requests` after logging runs
with the stock mlflow client: filter (and its errors, with the position), sort, columns, metric
aggregates, nested runs under sorting, differing columns, page links, CSV, several experiments
and escaping of hostile names."""

from __future__ import annotations

import csv
import io
import uuid
from html.parser import HTMLParser

import pytest
import requests

# MLflow's server has no server-rendered pages to compare with.
pytestmark = pytest.mark.cairn_only


class Page(HTMLParser):
    """The runs table of a page: header labels, rows of cell texts (the run-name cell first,
    without the checkbox column), links, and the raw text of the filter error box."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self.inputs: list[dict] = []
        self.error = ""
        self._cell: list[str] | None = None
        self._section = None
        self._in_table = False
        self._in_error = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "runs" in (a.get("class") or ""):
            self._in_table = True
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "input":
            self.inputs.append(a)
        if tag == "div" and "filter-error" in (a.get("class") or ""):
            self._in_error = 1
        elif tag == "div" and self._in_error:
            self._in_error += 1
        if not self._in_table:
            return
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr" and self._section == "tbody":
            self.rows.append([])
        elif tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "div" and self._in_error:
            self._in_error -= 1
        if not self._in_table:
            return
        if tag == "table":
            self._in_table = False
        elif tag in ("th", "td") and self._cell is not None:
            text = "".join(self._cell).strip()
            if self._section == "thead":
                self.headers.append(text)
            elif self._section == "tbody" and self.rows:
                self.rows[-1].append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_error:
            self.error += data

    def column(self, label: str) -> list[str]:
        """The cells under the header that starts with `label` (after the kind prefix)."""
        index = next(i for i, h in enumerate(self.headers) if h.split(" ", 1)[-1].startswith(label) or h.startswith(label))
        # Rows have no text in the checkbox cell, headers have "Select": same positions.
        return [row[index] for row in self.rows]

    def names(self) -> list[str]:
        """Run names as shown, with the tree's indentation stripped."""
        return [row[1].lstrip("\u2003└\u00a0 ") for row in self.rows]


def get(server_url, path, **params):
    response = requests.get(f"{server_url}{path}", params=params, timeout=30)
    return response, Page(response.text)


@pytest.fixture(scope="module")
def table(client):
    """One experiment: parents p0..p2 with children, a spiky loss history, and hostile names."""
    eid = client.create_experiment(f"ui-runs-{uuid.uuid4().hex[:12]}")
    ids = {}

    def run(name, start, parent=None, params=None, losses=(), tags=None):
        all_tags = dict(tags or {})
        if parent:
            all_tags["mlflow.parentRunId"] = ids[parent]
        rid = client.create_run(eid, run_name=name, start_time=1_700_000_000_000 + start, tags=all_tags).info.run_id
        ids[name] = rid
        for key, value in (params or {}).items():
            client.log_param(rid, key, value)
        for step, value in enumerate(losses):
            client.log_metric(rid, "loss", value, timestamp=1, step=step)
        client.set_terminated(rid)
        return rid

    run("p0", 0, params={"lr": "0.1", "seed": "1"}, losses=[0.9, 0.5, 0.6])
    run("p1", 1, params={"lr": "0.3", "seed": "1"}, losses=[0.8, 5.0, 0.7])
    run("p2", 2, params={"lr": "0.2", "seed": "1"}, losses=[0.4])
    run("c0b", 3, parent="p0", params={"lr": "0.9", "seed": "1"}, losses=[0.2])
    run("c0a", 4, parent="p0", params={"lr": "0.05", "seed": "1"}, losses=[0.3])
    run("g0", 5, parent="c0a", params={"lr": "0.01", "seed": "1"}, losses=[0.1])
    # Keys cannot hold markup (MLflow's key rule refuses it); names and values can.
    run("<script>alert(1)</script>", 6, params={"note": "<script>x</script>", "seed": "1"},
        tags={"t": "<img src=x onerror=alert(1)>"})
    return eid, ids


def test_page_renders_the_runs_with_the_tree_under_any_sort(server_url, table):
    eid, ids = table
    response, page = get(server_url, f"/experiments/{eid}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Server-Timing" in response.headers
    # Newest first; children follow their parent, each level in the table's order.
    assert page.names() == ["<script>alert(1)</script>", "p2", "p1", "p0", "c0a", "g0", "c0b"]
    _, by_lr = get(server_url, f"/experiments/{eid}", order="params.`lr` ASC", cols="params.lr")
    assert by_lr.names() == ["p0", "c0a", "g0", "c0b", "p2", "p1", "<script>alert(1)</script>"]
    assert by_lr.column("lr") == ["0.1", "0.05", "0.01", "0.9", "0.2", "0.3", "—"]
    _, by_lr_desc = get(server_url, f"/experiments/{eid}", order="params.`lr` DESC", cols="params.lr")
    assert by_lr_desc.names() == ["p1", "p2", "p0", "c0b", "c0a", "g0", "<script>alert(1)</script>"]
    _, flat = get(server_url, f"/experiments/{eid}", nested="0", order="params.`lr` ASC", cols="params.lr")
    assert flat.names() == ["g0", "c0a", "p0", "p2", "p1", "c0b", "<script>alert(1)</script>"]


def test_filter_and_its_errors(server_url, table):
    eid, _ = table
    _, page = get(server_url, f"/experiments/{eid}", filter="params.lr = '0.2' ")
    assert page.names() == ["p2"]
    bad = "params.lr = '0.2' OR params.lr = '0.1'"
    response, page = get(server_url, f"/experiments/{eid}", filter=bad)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Invalid clause(s) in filter string: 'OR'" in page.error
    # The caret sits under the O of OR (offset 18).
    lines = page.error.split("\n")
    caret = next(line for line in lines if line.strip() == "^")
    assert caret.index("^") == bad.index("OR") and bad in lines
    # The form still holds the filter, so it can be fixed in place.
    assert any(i.get("name") == "filter" and i.get("value") == bad for i in page.inputs)
    response, page = get(server_url, f"/experiments/{eid}", filter="metrics.loss > 'high'")
    assert response.status_code == 400 and "numeric" in page.error


def test_columns_aggregates_and_differing_columns(server_url, table):
    eid, _ = table
    cols = "metrics.loss,params.lr,params.seed"
    _, last = get(server_url, f"/experiments/{eid}", cols=cols, filter="attributes.run_name LIKE 'p%'")
    assert last.headers[-3:] == ["metric loss ↕", "param lr ↕", "param seed ↕"]
    assert last.names() == ["p2", "p1", "p0"]
    assert last.column("loss") == ["0.4", "0.7", "0.6"]
    _, minimum = get(server_url, f"/experiments/{eid}", cols=cols, agg="min", filter="attributes.run_name LIKE 'p%'",
                     order="metrics.`loss` ASC")
    assert minimum.names() == ["p2", "p0", "p1"]
    assert minimum.column("loss (min)") == ["0.4", "0.5", "0.7"]
    _, maximum = get(server_url, f"/experiments/{eid}", cols=cols, agg="max", filter="attributes.run_name LIKE 'p%'",
                     order="metrics.`loss` DESC")
    assert maximum.names() == ["p1", "p0", "p2"]
    assert maximum.column("loss (max)") == ["5", "0.9", "0.4"]
    # seed is 1 on every shown run: hidden with diff=1.
    _, diff = get(server_url, f"/experiments/{eid}", cols=cols, diff="1", filter="attributes.run_name LIKE 'p%'")
    assert [h for h in diff.headers if h.startswith("param")] == ["param lr ↕"]
    # The picker lists the experiment's keys, the shown ones checked.
    _, picker = get(server_url, f"/experiments/{eid}", cols="params.lr", picker="1")
    boxes = {i["value"]: "checked" in i for i in picker.inputs if i.get("name") == "col"}
    assert boxes["params.lr"] and not boxes["params.seed"] and "metrics.loss" in boxes and "tags.t" in boxes


def test_page_links_reach_every_run(server_url, client):
    eid = client.create_experiment(f"ui-pages-{uuid.uuid4().hex[:12]}")
    for index in range(60):
        client.create_run(eid, run_name=f"r{index:02d}", start_time=1_700_000_000_000 + index)
    _, first = get(server_url, f"/experiments/{eid}", size="25")
    assert len(first.rows) == 25 and first.names()[0] == "r59"
    assert f"/experiments/{eid}?size=25&page=3" in first.links
    _, third = get(server_url, f"/experiments/{eid}", size="25", page="3")
    assert third.names() == [f"r{index:02d}" for index in range(9, -1, -1)]
    seen = []
    for number in (1, 2, 3):
        seen += get(server_url, f"/experiments/{eid}", size="25", page=str(number))[1].names()
    assert sorted(seen) == [f"r{index:02d}" for index in range(60)]


def test_csv_export_streams_the_whole_view(server_url, table):
    eid, ids = table
    response = requests.get(f"{server_url}/experiments/{eid}/runs.csv",
                            params={"cols": "params.lr,metrics.loss,tags.t", "agg": "max", "order": "params.`lr` ASC"},
                            timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][-3:] == ["params.lr", "metrics.loss (max)", "tags.t"]
    body = rows[1:]
    assert [r[2] for r in body] == ["g0", "c0a", "p0", "p2", "p1", "c0b", "<script>alert(1)</script>"]
    by_name = {r[2]: r for r in body}
    assert by_name["p1"][-2] == "5.0"
    assert by_name["c0a"][3] == ids["p0"]
    assert by_name["<script>alert(1)</script>"][-1] == "<img src=x onerror=alert(1)>"
    bad = requests.get(f"{server_url}/experiments/{eid}/runs.csv", params={"filter": "nope nope"}, timeout=30)
    assert bad.status_code == 400


def test_several_experiments_and_compare_selection(server_url, client, table):
    eid, ids = table
    other = client.create_experiment(f"ui-other-{uuid.uuid4().hex[:12]}")
    client.create_run(other, run_name="elsewhere", start_time=1_800_000_000_000)
    response, page = get(server_url, "/runs", experiments=f"{eid},{other}", filter="attributes.run_name LIKE 'p%' OR")
    assert response.status_code == 400
    _, page = get(server_url, "/runs", experiments=f"{eid},{other}")
    assert page.names()[0] == "elsewhere" and "p0" in page.names()
    assert "Experiment" in page.headers
    # Each row has a checkbox for the GET form that opens /compare.
    boxes = [i for i in page.inputs if i.get("name") == "runs"]
    assert ids["p0"] in {b["value"] for b in boxes}
    assert 'action="/compare"' in response_text(server_url, f"/runs?experiments={eid},{other}")


def response_text(server_url, path):
    return requests.get(f"{server_url}{path}", timeout=30).text


def test_hostile_names_come_back_inert(server_url, table):
    eid, _ = table
    text = response_text(server_url, f"/experiments/{eid}?cols=params.note,tags.t&filter=params.note+LIKE+%27%3Cscript%3E%25%27")
    assert "<script>alert(1)</script>" not in text
    assert "<script>x</script>" not in text
    assert "<img src=x" not in text
    # A filter holding markup comes back escaped in the box and the caption.
    assert "&lt;script&gt;" in text.split('name="filter"', 1)[1].split(">", 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_unknown_and_malformed_experiments_are_html_errors(server_url):
    response = requests.get(f"{server_url}/experiments/987654321", timeout=30)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    response = requests.get(f"{server_url}/experiments/abc", timeout=30)
    assert response.status_code == 400
    response = requests.get(f"{server_url}/runs", params={"experiments": ""}, timeout=30)
    assert response.status_code == 400
    response = requests.get(f"{server_url}/experiments/987654321/runs.csv", timeout=30)
    assert response.status_code == 404
