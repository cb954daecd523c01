/// A page of the runs table, rows in display order (each parent followed by its nested runs).
public struct RunTablePage: Sendable, Equatable {
    public var rows: [RunTableRow]
    /// The columns loaded: the query's, or the default the page's runs suggested.
    public var columns: [RunColumn]
    /// Top-level runs the search selects over every page: what page links count.
    public var total: Int
    /// Nested runs left out because the page reached `RunTableQuery.maxNestedRows`.
    public var omittedNested: Bool

    public init(rows: [RunTableRow], columns: [RunColumn], total: Int, omittedNested: Bool = false) {
        self.rows = rows
        self.columns = columns
        self.total = total
        self.omittedNested = omittedNested
    }
}

/// The keys a column picker offers: every param, metric and tag key logged in the experiments.
public struct RunColumnKeys: Sendable, Equatable {
    public var params: [String]
    public var metrics: [String]
    public var tags: [String]

    public init(params: [String] = [], metrics: [String] = [], tags: [String] = []) {
        self.params = params
        self.metrics = metrics
        self.tags = tags
    }
}
