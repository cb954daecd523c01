/// One page of the runs table: the runs a search selects, as a tree of nested runs
/// (`mlflow.parentRunId`), with only the chosen columns loaded.
public struct RunTableQuery: Sendable {
    public var experimentIDs: [String]
    public var filter: SearchFilter
    /// One sort key (a column header); nil sorts newest first, as MLflow does.
    public var order: OrderByClause?
    public var viewType: ViewType
    /// The params, metrics and tags to load; nil picks the metrics and params that the page's
    /// runs logged, up to `defaultColumnLimit` of each.
    public var columns: [RunColumn]?
    public var aggregate: MetricAggregate
    /// Pages count top-level runs; each brings its nested runs along.
    public var offset: Int
    public var limit: Int
    /// When false, nested runs are rows of their own, sorted with the rest.
    public var nested: Bool
    /// Whether to count the runs of every page (page links need it; a CSV export does not).
    public var counts: Bool

    public static let defaultColumnLimit = 12
    /// Nested runs shown under the page's top-level runs, at most: a page stays bounded even
    /// when one parent has thousands of children.
    public static let maxNestedRows = 1_000
    /// Levels of nesting followed below a top-level run.
    public static let maxDepth = 16

    public init(
        experimentIDs: [String], filter: SearchFilter = SearchFilter(), order: OrderByClause? = nil, viewType: ViewType = .activeOnly,
        columns: [RunColumn]? = nil, aggregate: MetricAggregate = .last, offset: Int = 0, limit: Int = 50, nested: Bool = true,
        counts: Bool = true
    ) {
        self.experimentIDs = experimentIDs
        self.filter = filter
        self.order = order
        self.viewType = viewType
        self.columns = columns
        self.aggregate = aggregate
        self.offset = offset
        self.limit = limit
        self.nested = nested
        self.counts = counts
    }
}
