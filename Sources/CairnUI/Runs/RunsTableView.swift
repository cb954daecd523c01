import CairnCore

/// The runs table page as Mustache reads it: every string here is plain text that the
/// template escapes, every link is built from escaped-by-encoding parts.
public struct RunsTableView: Sendable {
    public struct ExperimentLink: Sendable, Equatable {
        public var id: String
        public var name: String
        public var href: String
    }

    public struct Header: Sendable, Equatable {
        public var label: String
        /// `param`, `metric`, `tag` or `attribute`: a CSS class and the group shown above it.
        public var kind: String
        public var sortHref: String?
        /// `ascending` / `descending` on the sorted column only (WAI-ARIA sortable table).
        public var ariaSort: String?
        /// ▲ / ▼ on the sorted column, ↕ on the others.
        public var arrow: String
        public var numeric: Bool
    }

    public struct Cell: Sendable, Equatable {
        public var text: String
        public var title: String
        public var numeric: Bool
        public var missing: Bool
    }

    public struct Row: Sendable, Equatable {
        public var runID: String
        public var name: String
        public var href: String
        /// Text drawn before a nested run's name (`└`, indented by depth).
        public var indent: String
        public var depth: Int
        public var hasChildren: Bool
        public var parentHref: String?
        public var status: String
        public var statusClass: String
        public var started: String
        public var startedTitle: String
        public var duration: String
        public var user: String
        public var experimentName: String?
        public var deleted: Bool
        public var selectLabel: String
        public var cells: [Cell]
        /// `cells` as `<td>`s, built here from escaped parts: a page of 200 runs × 30 columns
        /// is 6,000 cells, and reading each through Mustache's reflection costs more than the
        /// query that loaded them.
        public var cellsHTML: String
    }

    /// A filter that does not parse, shown under the box with a caret at its position.
    public struct FilterError: Sendable, Equatable {
        public var message: String
        /// The filter on one line, and a line of spaces ending in `^` under the culprit.
        public var line: String
        public var caret: String?
    }

    public struct Option: Sendable, Equatable {
        public var value: String
        public var label: String
        public var selected: Bool
    }

    public struct PageError: Sendable, Equatable {
        public var message: String
        public var lastPageText: String
        public var lastPageHref: String
    }

    public struct Hidden: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct PickerGroup: Sendable, Equatable {
        public var label: String
        public var keys: [PickerKey]
    }

    public struct PickerKey: Sendable, Equatable {
        public var value: String
        public var label: String
        public var checked: Bool
    }

    public var title: String
    public var caption: String
    public var experiments: [ExperimentLink]
    public var severalExperiments: Bool
    public var filter: String
    public var filterError: FilterError?
    /// A bad `order` (from a hand-edited URL): the page falls back to the default order.
    public var orderError: String?
    /// The state the filter form does not show as a control, carried as hidden fields.
    public var formHidden: [Hidden]
    public var aggregateOptions: [Option]
    public var viewOptions: [Option]
    public var sizeOptions: [Option]
    public var diff: Bool
    public var nested: Bool
    public var attributeHeaders: [Header]
    public var columnHeaders: [Header]
    public var rows: [Row]
    public var hasRows: Bool
    public var equalColumnsHidden: Int
    public var equalColumnsNote: String?
    public var omittedNested: Bool
    public var total: Int
    /// Page links over the top-level runs.
    public var pager: Pager
    /// The page asked for is past the end (the page answers 404): what there is instead.
    public var pageError: PageError?
    public var csvHref: String
    public var compareAction: String
    public var pickerHref: String
    public var pickerOpen: Bool
    public var picker: [PickerGroup]
    public var pickerHidden: [Hidden]
    public var clearColumnsHref: String
}

/// Where the runs table of some experiments lives under the UI's static prefix.
public struct RunsTablePaths: Sendable, Equatable {
    public var prefix: String
    /// `/experiments/{id}` for one experiment, `/runs?experiments=…` for several.
    public var single: Bool

    public init(prefix: String, single: Bool) {
        self.prefix = prefix
        self.single = single
    }

    func base(_ state: RunsTableState) -> String {
        single ? "\(prefix)/experiments/\(UIFormat.pathSegment(state.experimentIDs.first ?? ""))" : "\(prefix)/runs"
    }

    func csv(_ state: RunsTableState) -> String {
        single ? base(state) + "/runs.csv" : "\(prefix)/runs.csv"
    }

    func link(_ state: RunsTableState) -> String {
        base(state) + RunsTableState.queryString(state.queryItems(includeExperiments: !single))
    }

    func run(experimentID: String, runID: String) -> String {
        "\(prefix)/experiments/\(UIFormat.pathSegment(experimentID))/runs/\(UIFormat.pathSegment(runID))"
    }
}

extension RunsTableView {
    /// Builds the page. `page` is nil when the search could not run (a filter error);
    /// `experiments` are (id, name) in the order asked; `keys` fill the column picker when it is open.
    public static func make(
        state: RunsTableState, order: OrderByClause?, page: RunTablePage?, experiments: [(id: String, name: String)],
        keys: RunColumnKeys?, filterError: SearchGrammarError?, orderError: String?, paths: RunsTablePaths, now: Int64
    ) -> RunsTableView {
        let names = Dictionary(experiments.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let several = experiments.count > 1
        let rows = page?.rows ?? []
        let columns = page?.columns ?? state.columns ?? []
        let shownColumns = state.diff && rows.count > 1 ? differingColumns(columns, rows: rows) : columns

        func link(_ change: (inout RunsTableState) -> Void) -> String {
            var next = state
            change(&next)
            return paths.link(next)
        }

        func header(_ label: String, kind: String, entity: SearchEntity, key: String, numeric: Bool, sortable: Bool = true) -> Header {
            let current: Bool
            let ascending: Bool
            if let order {
                current = order.entity == entity && order.key == key
                ascending = order.ascending
            } else {
                // Newest first is the default order.
                current = entity == .attribute && key == "start_time"
                ascending = false
            }
            let href: String? =
                sortable
                ? link {
                    $0.order = RunsTableState.orderText(entity, key, ascending: !(current && ascending))
                    $0.page = 1
                } : nil
            return Header(
                label: label, kind: kind, sortHref: href, ariaSort: current ? (ascending ? "ascending" : "descending") : nil,
                arrow: current ? (ascending ? "▲" : "▼") : "↕", numeric: numeric)
        }

        let attributeHeaders = [
            header("Run", kind: "attribute", entity: .attribute, key: "run_name", numeric: false),
            header("Created", kind: "attribute", entity: .attribute, key: "start_time", numeric: false),
            header("Duration", kind: "attribute", entity: .attribute, key: "end_time", numeric: true, sortable: false),
            header("Status", kind: "attribute", entity: .attribute, key: "status", numeric: false),
            header("User", kind: "attribute", entity: .attribute, key: "user_id", numeric: false),
        ]
        let aggregateSuffix = state.aggregate == .last ? "" : " (\(state.aggregate.rawValue))"
        let columnHeaders = shownColumns.map { column in
            header(
                column.key + (column.kind == .metric ? aggregateSuffix : ""), kind: String(column.kind.rawValue.dropLast()),
                entity: column.kind.entity, key: column.key, numeric: column.kind == .metric)
        }

        let viewRows = rows.map { row -> Row in
            let cells = shownColumns.map { cell(row.value($0)) }
            return Row(
                runID: row.info.runID, name: row.info.runName, href: paths.run(experimentID: row.info.experimentID, runID: row.info.runID),
                indent: row.depth == 0 ? "" : String(repeating: "\u{2003}", count: row.depth - 1) + "└\u{00A0}", depth: row.depth,
                hasChildren: row.hasChildren,
                parentHref: row.parentRunID.map { paths.run(experimentID: row.info.experimentID, runID: $0) },
                status: row.info.status.rawValue.prefix(1) + row.info.status.rawValue.dropFirst().lowercased(),
                statusClass: row.info.status.rawValue.lowercased(),
                started: UIFormat.time(milliseconds: row.info.startTime),
                startedTitle: UIFormat.relative(milliseconds: row.info.startTime, now: now),
                duration: row.info.endTime.map { UIFormat.duration(milliseconds: max(0, $0 - row.info.startTime)) } ?? "",
                user: row.info.userID, experimentName: several ? names[row.info.experimentID] ?? row.info.experimentID : nil,
                deleted: row.info.lifecycleStage == .deleted, selectLabel: "Select run \(row.info.runName)",
                cells: cells, cellsHTML: cellsHTML(cells))
        }

        let hidden = columns.count - shownColumns.count
        let total = page?.total ?? 0
        let pager = Pager(page: state.page, pageSize: state.pageSize, total: total) { number in link { $0.page = number } }
        var pageError: PageError?
        if page != nil, pager.pastEnd {
            let runs = "\(grouped(total)) \(state.nested ? "top-level run" : "run")\(total == 1 ? "" : "s")"
            pageError = PageError(
                message:
                    "There is no page \(state.page) of this view: it has \(pager.pageCount) page\(pager.pageCount == 1 ? "" : "s") of up to \(state.pageSize) (\(runs)).",
                lastPageText: pager.pageCount == 1 ? "Go to the first page" : "Go to the last page, \(pager.pageCount)",
                lastPageHref: link { $0.page = pager.pageCount })
        }

        var formHidden: [Hidden] = []
        if !paths.single { formHidden.append(Hidden(name: "experiments", value: state.experimentIDs.joined(separator: ","))) }
        if !state.order.isEmpty { formHidden.append(Hidden(name: "order", value: state.order)) }
        if let chosen = state.columns { formHidden.append(Hidden(name: "cols", value: RunColumn.listText(chosen))) }

        var picker: [PickerGroup] = []
        if let keys {
            let chosen = Set(columns)
            func group(_ label: String, _ kind: RunColumn.Kind, _ names: [String]) -> PickerGroup {
                PickerGroup(
                    label: label,
                    keys: names.map {
                        PickerKey(value: RunColumn(kind, $0).description, label: $0, checked: chosen.contains(RunColumn(kind, $0)))
                    })
            }
            picker = [group("Metrics", .metric, keys.metrics), group("Params", .param, keys.params), group("Tags", .tag, keys.tags)]
        }
        var pickerHidden: [Hidden] = []
        if !paths.single { pickerHidden.append(Hidden(name: "experiments", value: state.experimentIDs.joined(separator: ","))) }
        for (name, value) in state.queryItems(includeExperiments: false) where !["cols", "picker", "page"].contains(name) {
            pickerHidden.append(Hidden(name: name, value: value))
        }

        let experimentLinks = experiments.map {
            ExperimentLink(id: $0.id, name: $0.name, href: "\(paths.prefix)/experiments/\(UIFormat.pathSegment($0.id))")
        }
        let title = several ? "Runs of \(experiments.count) experiments" : "Runs · \(experiments.first?.name ?? "")"
        var caption = "\(grouped(total)) \(state.nested ? "top-level runs" : "runs")"
        if !state.filter.isEmpty, filterError == nil { caption += " matching \(state.filter)" }
        if let order {
            caption +=
                ", sorted by \(order.entity == .attribute ? "" : order.entity.rawValue + " ")\(order.key) \(order.ascending ? "ascending" : "descending")"
        }

        return RunsTableView(
            title: title, caption: caption, experiments: experimentLinks, severalExperiments: several, filter: state.filter,
            filterError: filterError.map { Self.filterError($0, filter: state.filter) }, orderError: orderError,
            formHidden: formHidden,
            aggregateOptions: MetricAggregate.allCases.map {
                Option(value: $0.rawValue, label: "metrics: \($0.rawValue)", selected: $0 == state.aggregate)
            },
            viewOptions: [ViewType.activeOnly, .deletedOnly, .all].map {
                let name = RunsTableState.name(of: $0)
                return Option(value: name, label: name, selected: $0 == state.view)
            },
            sizeOptions: RunsTableState.pageSizes.map {
                Option(value: String($0), label: "\($0) per page", selected: $0 == state.pageSize)
            },
            diff: state.diff, nested: state.nested, attributeHeaders: attributeHeaders, columnHeaders: columnHeaders, rows: viewRows,
            hasRows: !viewRows.isEmpty, equalColumnsHidden: hidden,
            equalColumnsNote: hidden == 0 ? nil : "\(hidden) column\(hidden == 1 ? "" : "s") equal across these runs hidden",
            omittedNested: page?.omittedNested ?? false, total: total, pager: pager, pageError: pageError,
            csvHref: paths.csv(state)
                + RunsTableState.queryString(
                    state.queryItems(includeExperiments: !paths.single).filter { $0.0 != "page" && $0.0 != "picker" }),
            compareAction: "\(paths.prefix)/compare",
            pickerHref: link { $0.picker.toggle() }, pickerOpen: keys != nil, picker: picker, pickerHidden: pickerHidden,
            clearColumnsHref: link {
                $0.columns = nil
                $0.picker = false
            })
    }

    /// The columns whose value differs between at least two of `rows` (a missing value
    /// differs from any value).
    public static func differingColumns(_ columns: [RunColumn], rows: [RunTableRow]) -> [RunColumn] {
        columns.filter { column in
            guard let first = rows.first?.value(column) else { return rows.contains { $0.value(column) != nil } }
            return rows.contains { $0.value(column) != first }
        }
    }

    /// `<td class="num mono" title="…">…</td>` per cell, every text through `HTMLText.escape`.
    static func cellsHTML(_ cells: [Cell]) -> String {
        var html = ""
        for cell in cells {
            let classes = [cell.numeric ? "num mono" : nil, cell.missing ? "muted" : nil].compactMap { $0 }.joined(separator: " ")
            html += "<td class=\"\(classes)\" title=\"\(HTMLText.escape(cell.title))\">\(HTMLText.escape(cell.text))</td>"
        }
        return html
    }

    static func cell(_ value: RunTableValue?) -> Cell {
        switch value {
        case nil:
            return Cell(text: "—", title: "not logged", numeric: false, missing: true)
        case .text(let text):
            return Cell(text: text, title: text, numeric: false, missing: false)
        case .number(let number):
            let text = UIFormat.metric(number)
            // The tooltip holds the value as logged; the cell, MLflow's rounding.
            return Cell(text: text, title: text.hasSuffix("∞") || number.isNaN ? text : "\(number)", numeric: true, missing: false)
        }
    }

    /// The message, and the filter drawn on one line (controls as spaces) with a caret under
    /// the character at the error's byte offset.
    static func filterError(_ error: SearchGrammarError, filter: String) -> FilterError {
        let line = String(filter.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        var caret: String?
        if let position = error.position, position <= filter.utf8.count {
            let before = String(decoding: filter.utf8.prefix(position), as: UTF8.self)
            caret = String(repeating: " ", count: before.count) + "^"
        }
        return FilterError(message: error.message, line: line, caret: caret)
    }

    /// `100,000`.
    static func grouped(_ number: Int) -> String {
        let digits = String(number.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return number < 0 ? "-" + out : out
    }
}
