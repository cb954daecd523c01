import CairnCore

/// Everything a runs-table view shows, read from and written back to its URL, so a view is a
/// link: `?filter=&order=&cols=&agg=&page=&size=&diff=1&view=&nested=0&picker=1`. A `page`,
/// `size`, `view` or `agg` outside its set is refused, naming it (a page that silently showed
/// something else would be a link that lies); the filter and the order are parsed by the page,
/// which reports them at the position they fail.
public struct RunsTableState: Sendable, Equatable {
    public static let pageSizes = [25, 50, 100, 200]
    public static let defaultPageSize = 50

    public var experimentIDs: [String]
    public var filter: String
    /// One MLflow `order_by` clause, e.g. ``metrics.`loss` DESC``; empty for newest first.
    public var order: String
    /// nil when the URL names no columns: the page then shows the ones its runs logged.
    public var columns: [RunColumn]?
    public var aggregate: MetricAggregate
    /// 1-based.
    public var page: Int
    public var pageSize: Int
    public var diff: Bool
    public var view: ViewType
    public var nested: Bool
    public var picker: Bool

    public init(
        experimentIDs: [String], filter: String = "", order: String = "", columns: [RunColumn]? = nil, aggregate: MetricAggregate = .last,
        page: Int = 1, pageSize: Int = RunsTableState.defaultPageSize, diff: Bool = false, view: ViewType = .activeOnly,
        nested: Bool = true, picker: Bool = false
    ) {
        self.experimentIDs = experimentIDs
        self.filter = filter
        self.order = order
        self.columns = columns
        self.aggregate = aggregate
        self.page = page
        self.pageSize = pageSize
        self.diff = diff
        self.view = view
        self.nested = nested
        self.picker = picker
    }

    /// Reads the state from query parameters: `values(name)` lists every value of `name` in
    /// the URL, in order. Columns come as `cols=a,b` (links) or repeated `col=` (the picker's
    /// checkboxes); both together are merged.
    /// An empty value (`page=`) is the default, as a form's blank field means.
    public init(experimentIDs: [String], values: (String) -> [String]) throws(CairnError) {
        func last(_ name: String) -> String? { values(name).last.flatMap { $0.isEmpty ? nil : $0 } }
        self.init(experimentIDs: experimentIDs)
        filter = values("filter").last ?? ""
        order = values("order").last ?? ""
        let named = values("cols") + values("col")
        if !named.isEmpty { columns = RunColumn.list(named.joined(separator: ",")) }
        if let text = last("agg") {
            guard let value = MetricAggregate(rawValue: text) else {
                throw .invalidParameter("Unknown agg '\(text)': metric columns show last, min or max.")
            }
            aggregate = value
        }
        if let text = last("page") {
            guard let number = Int(text), number >= 1, number <= Self.maxPage else {
                throw .invalidParameter("Invalid page '\(text)': a page is a number from 1.")
            }
            page = number
        }
        if let text = last("size") {
            guard let number = Int(text), Self.pageSizes.contains(number) else {
                throw .invalidParameter(
                    "Invalid page size '\(text)': use \(Self.pageSizes.dropLast().map(String.init).joined(separator: ", ")) or \(Self.pageSizes.last!)."
                )
            }
            pageSize = number
        }
        if let text = last("view") {
            guard let value = Self.viewType(named: text) else {
                throw .invalidParameter("Unknown view '\(text)': use active, deleted or all.")
            }
            view = value
        }
        diff = last("diff") == "1"
        nested = last("nested") != "0"
        picker = last("picker") == "1"
    }

    /// Far past any table (200 runs a page), low enough that the offset cannot overflow.
    public static let maxPage = 10_000_000

    static func viewType(named name: String) -> ViewType? {
        switch name {
        case "active": .activeOnly
        case "deleted": .deletedOnly
        case "all": .all
        default: nil
        }
    }

    static func name(of view: ViewType) -> String {
        switch view {
        case .activeOnly: "active"
        case .deletedOnly: "deleted"
        case .all: "all"
        }
    }

    /// The query parameters of this state, defaults left out so links stay short. `experiments`
    /// is written only when asked (the `/runs` page of several experiments carries it; an
    /// experiment's page has its id in the path).
    public func queryItems(includeExperiments: Bool) -> [(String, String)] {
        var items: [(String, String)] = []
        if includeExperiments { items.append(("experiments", experimentIDs.joined(separator: ","))) }
        if !filter.isEmpty { items.append(("filter", filter)) }
        if !order.isEmpty { items.append(("order", order)) }
        if let columns { items.append(("cols", RunColumn.listText(columns))) }
        if aggregate != .last { items.append(("agg", aggregate.rawValue)) }
        if view != .activeOnly { items.append(("view", Self.name(of: view))) }
        if pageSize != Self.defaultPageSize { items.append(("size", String(pageSize))) }
        if diff { items.append(("diff", "1")) }
        if !nested { items.append(("nested", "0")) }
        if picker { items.append(("picker", "1")) }
        if page != 1 { items.append(("page", String(page))) }
        return items
    }

    /// `?a=b&…` for `items` (empty values left out); empty for none.
    public static func queryString(_ items: [(String, String)]) -> String {
        UIFormat.query(items.map { ($0.0, $0.1) })
    }

    /// The `order` text that sorts by `field` (an `OrderByClause` of the runs grammar).
    public static func orderText(_ entity: SearchEntity, _ key: String, ascending: Bool) -> String {
        let prefix: String =
            switch entity {
            case .metric: "metrics."
            case .param: "params."
            case .tag: "tags."
            case .attribute, .dataset: "attributes."
            }
        // MLflow's keys hold no backtick, so quoting with them never needs an escape.
        return prefix + "`\(key)`" + (ascending ? " ASC" : " DESC")
    }
}
