import CairnCore
import Testing

@testable import CairnUI

/// The runs table's view model: URL state, sort links, differing columns, metric aggregates,
/// page links, filter errors and CSV.
@Suite struct RunsTableViewTests {
    static let paths = RunsTablePaths(prefix: "/ui", single: true)

    func info(_ id: String, _ name: String, start: Int64 = 0) -> RunInfo {
        RunInfo(
            runID: id, experimentID: "1", runName: name, userID: "u", status: .finished, startTime: start, endTime: start + 1500,
            artifactUri: "", lifecycleStage: .active)
    }

    func view(
        _ state: RunsTableState, page: RunTablePage?, order: OrderByClause? = nil, keys: RunColumnKeys? = nil,
        error: SearchGrammarError? = nil
    ) -> RunsTableView {
        RunsTableView.make(
            state: state, order: order, page: page, experiments: [(id: "1", name: "exp")], keys: keys, filterError: error,
            orderError: nil, paths: Self.paths, now: 120_000)
    }

    @Test func stateRoundTripsThroughItsURL() throws {
        let state = RunsTableState(
            experimentIDs: ["1", "2"], filter: "params.a = 'x y' AND metrics.m > 0.5", order: "metrics.`loss` DESC",
            columns: [RunColumn(.param, "a"), RunColumn(.metric, "loss"), RunColumn(.tag, "mlflow.source.name")], aggregate: .min,
            page: 3, pageSize: 100, diff: true, view: .all, nested: false, picker: true)
        var fields: [String: [String]] = [:]
        for (name, value) in state.queryItems(includeExperiments: true) { fields[name, default: []].append(value) }
        let read = try RunsTableState(experimentIDs: ["1", "2"], values: { fields[$0] ?? [] })
        #expect(read == state)
        #expect(RunsTableState.queryString([("filter", "a = 'x&y' ü")]) == "?filter=a%20%3D%20%27x%26y%27%20%C3%BC")
        // Blank fields are the defaults; unknown column names are left out.
        let blank = try RunsTableState(experimentIDs: ["1"]) { name in
            ["page": [""], "size": [""], "agg": [""], "view": [""], "col": ["params.a", "bogus", "metrics.m"]][name] ?? []
        }
        #expect(blank.page == 1 && blank.pageSize == 50 && blank.aggregate == .last && blank.view == .activeOnly)
        #expect(blank.columns == [RunColumn(.param, "a"), RunColumn(.metric, "m")])
    }

    @Test(arguments: [
        ("page", "-4", "Invalid page '-4'"), ("page", "two", "Invalid page 'two'"), ("page", "0", "Invalid page '0'"),
        ("page", "99999999999999999999", "Invalid page"), ("size", "7", "Invalid page size '7': use 25, 50, 100 or 200."),
        ("size", "lots", "Invalid page size 'lots'"), ("agg", "median", "Unknown agg 'median'"), ("view", "gone", "Unknown view 'gone'"),
    ])
    func outOfRangeStateIsRefusedNamingTheValue(_ name: String, _ value: String, _ message: String) {
        let error = #expect(throws: CairnError.self) { _ = try RunsTableState(experimentIDs: ["1"]) { $0 == name ? [value] : [] } }
        #expect(error?.code == .invalidParameterValue)
        #expect(error?.message.hasPrefix(message) == true, "\(error?.message ?? "")")
    }

    @Test func aPagePastTheEndSaysWhatThereIs() {
        let page = RunTablePage(rows: [], columns: [], total: 120)
        let model = view(RunsTableState(experimentIDs: ["1"], page: 9), page: page)
        #expect(model.pager.pastEnd)
        #expect(model.pager.summary == "No page 9: 3 pages, 120 in all")
        #expect(model.pageError?.message == "There is no page 9 of this view: it has 3 pages of up to 50 (120 top-level runs).")
        #expect(model.pageError?.lastPageHref == "/ui/experiments/1?page=3")
        let empty = view(RunsTableState(experimentIDs: ["1"], page: 2), page: RunTablePage(rows: [], columns: [], total: 0))
        #expect(empty.pageError?.lastPageHref == "/ui/experiments/1")
        #expect(empty.pager.hasPages)
        #expect(view(RunsTableState(experimentIDs: ["1"]), page: RunTablePage(rows: [], columns: [], total: 0)).pageError == nil)
    }

    @Test func headersLinkToTheirSortAndMarkTheCurrentOne() {
        let state = RunsTableState(experimentIDs: ["1"], order: "metrics.`loss` ASC", columns: [RunColumn(.metric, "loss")])
        let page = RunTablePage(
            rows: [RunTableRow(info: info("a", "a"), metrics: ["loss": 1])], columns: [RunColumn(.metric, "loss")], total: 1)
        let model = view(state, page: page, order: OrderByClause(entity: .metric, key: "loss", ascending: true))
        let loss = model.columnHeaders[0]
        #expect(loss.ariaSort == "ascending")
        #expect(loss.sortHref == "/ui/experiments/1?order=metrics.%60loss%60%20DESC&cols=metrics.loss")
        #expect(model.attributeHeaders.allSatisfy { $0.ariaSort == nil })
        let unsorted = view(RunsTableState(experimentIDs: ["1"]), page: page)
        #expect(unsorted.attributeHeaders[1].label == "Created" && unsorted.attributeHeaders[1].ariaSort == "descending")
    }

    @Test func differingColumnsHideWhatEveryShownRunShares() {
        let columns = [RunColumn(.param, "same"), RunColumn(.param, "differs"), RunColumn(.metric, "nan"), RunColumn(.tag, "partly")]
        let rows = [
            RunTableRow(info: info("a", "a"), params: ["same": "1", "differs": "x"], metrics: ["nan": .nan], tags: ["partly": "t"]),
            RunTableRow(info: info("b", "b"), params: ["same": "1", "differs": "y"], metrics: ["nan": .nan]),
        ]
        #expect(RunsTableView.differingColumns(columns, rows: rows) == [RunColumn(.param, "differs"), RunColumn(.tag, "partly")])
        let model = view(
            RunsTableState(experimentIDs: ["1"], columns: columns, diff: true), page: RunTablePage(rows: rows, columns: columns, total: 2))
        #expect(model.columnHeaders.map(\.label) == ["differs", "partly"])
        #expect(model.equalColumnsHidden == 2)
        #expect(model.rows[1].cells.map(\.text) == ["y", "—"])
        #expect(model.rows[1].cellsHTML == #"<td class="" title="y">y</td><td class="muted" title="not logged">—</td>"#)
        let hostile = RunsTableView.cellsHTML([RunsTableView.cell(.text("<b title=\"x\">&'"))])
        #expect(hostile == #"<td class="" title="&lt;b title=&quot;x&quot;&gt;&amp;&#39;">&lt;b title=&quot;x&quot;&gt;&amp;&#39;</td>"#)
    }

    @Test func nestedRowsKeepTheirDepthAndMetricsTheirAggregate() {
        let rows = [
            RunTableRow(info: info("p", "parent"), hasChildren: true, metrics: ["loss": 0.25]),
            RunTableRow(info: info("c", "child"), parentRunID: "p", depth: 1, metrics: ["loss": .greatestFiniteMagnitude]),
            RunTableRow(info: info("g", "grandchild"), parentRunID: "c", depth: 2, metrics: ["loss": -.greatestFiniteMagnitude]),
        ]
        let columns = [RunColumn(.metric, "loss")]
        let model = view(
            RunsTableState(experimentIDs: ["1"], columns: columns, aggregate: .max),
            page: RunTablePage(rows: rows, columns: columns, total: 1))
        #expect(model.columnHeaders[0].label == "loss (max)")
        #expect(model.rows.map(\.indent) == ["", "└\u{00A0}", "\u{2003}└\u{00A0}"])
        #expect(model.rows.map { $0.cells[0].text } == ["0.25", "∞", "-∞"])
        #expect(model.rows[1].parentHref == "/ui/experiments/1/runs/p")
        #expect(model.rows.map(\.cells[0].title) == ["0.25", "∞", "-∞"])
        #expect(model.pager.summary == "1–1 of 1")
    }

    @Test func pageLinksCoverEveryPageOfTopLevelRuns() {
        let page = RunTablePage(
            rows: (0..<50).flatMap { [RunTableRow(info: info("r\($0)", "r\($0)")), RunTableRow(info: info("c\($0)", "c"), depth: 1)] },
            columns: [], total: 100_000)
        let model = view(RunsTableState(experimentIDs: ["1"], filter: "tags.a = 'b'", page: 50), page: page)
        // Nested rows ride along with their parent: 50 top-level runs make the page.
        #expect(model.pager.summary == "2451–2500 of 100000")
        #expect(model.pager.items.map(\.number) == [1, 48, 49, 50, 51, 52, 2000])
        #expect(model.pager.items.map(\.gapBefore) == [false, true, false, false, false, false, true])
        #expect(model.pager.items.first { $0.current }?.number == 50)
        #expect(model.pager.previousHref == "/ui/experiments/1?filter=tags.a%20%3D%20%27b%27&page=49")
        #expect(model.pager.items[0].href == "/ui/experiments/1?filter=tags.a%20%3D%20%27b%27")
        #expect(model.pager.nextHref == "/ui/experiments/1?filter=tags.a%20%3D%20%27b%27&page=51")
        #expect(model.csvHref == "/ui/experiments/1/runs.csv?filter=tags.a%20%3D%20%27b%27")
        #expect(model.caption.hasPrefix("100,000 top-level runs matching tags.a = 'b'"))
        let several = RunsTableView.make(
            state: RunsTableState(experimentIDs: ["1", "2"], page: 2), order: nil, page: page,
            experiments: [(id: "1", name: "a"), (id: "2", name: "b")], keys: nil, filterError: nil, orderError: nil,
            paths: RunsTablePaths(prefix: "", single: false), now: 0)
        #expect(several.pager.nextHref == "/runs?experiments=1%2C2&page=3")
        #expect(several.rows[0].experimentName == "a")
    }

    @Test func filterErrorsPutACaretUnderTheCulprit() {
        let filter = "tags.é = 'x'\nOR b"
        let error = SearchGrammarError(.invalidClause, "Invalid clause(s) in filter string: 'OR'", at: 14)
        let model = view(RunsTableState(experimentIDs: ["1"], filter: filter), page: nil, error: error)
        #expect(model.filterError?.line == "tags.é = 'x' OR b")
        #expect(model.filterError?.caret == String(repeating: " ", count: 13) + "^")
        #expect(model.filter == filter)
        #expect(model.hasRows == false)
    }

    @Test func pickerListsTheKeysWithTheShownOnesChecked() {
        let columns = [RunColumn(.metric, "loss")]
        let model = view(
            RunsTableState(experimentIDs: ["1"], columns: columns, picker: true), page: RunTablePage(rows: [], columns: columns, total: 0),
            keys: RunColumnKeys(params: ["lr"], metrics: ["acc", "loss"], tags: []))
        #expect(model.pickerOpen)
        #expect(model.picker[0].keys.map(\.checked) == [false, true])
        #expect(model.picker[1].keys.map(\.value) == ["params.lr"])
        #expect(!model.pickerHidden.contains { $0.name == "cols" || $0.name == "picker" })
    }

    @Test func csvQuotesWhatNeedsQuotingAndDefusesFormulas() {
        #expect(
            RunsTableCSV.line(["plain", "a,b", "say \"hi\"", "two\r\nlines", "=HYPERLINK(\"x\")", "-1.5", "@x"])
                == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",\"'=HYPERLINK(\"\"x\"\")\",-1.5,'@x\r\n")
        let row = RunTableRow(
            info: info("id", "name, with comma"), parentRunID: "p", params: ["lr": "0.1"],
            metrics: ["m": .nan, "i": .greatestFiniteMagnitude])
        let columns = [RunColumn(.param, "lr"), RunColumn(.metric, "m"), RunColumn(.metric, "i"), RunColumn(.tag, "none")]
        #expect(RunsTableCSV.header(columns, aggregate: .min).hasSuffix("params.lr,metrics.m (min),metrics.i (min),tags.none\r\n"))
        #expect(
            RunsTableCSV.row(row, columns: columns)
                == "id,1,\"name, with comma\",p,FINISHED,u,1970-01-01 00:00:00,1970-01-01 00:00:01,active,0.1,NaN,inf,\r\n")
    }
}
