/// A parsed MLflow search `filter`: clauses joined by `AND` (MLflow has no `OR`).
///
/// ```swift
/// let filter = try SearchFilter.parse("metrics.acc > 0.9 AND tags.`mlflow.runName` LIKE 'x%'", for: .runs)
/// // [FilterClause(entity: .metric, key: "acc", comparator: .greater, value: .number(0.9)),
/// //  FilterClause(entity: .tag, key: "mlflow.runName", comparator: .like, value: .string("x%"))]
/// ```
public struct SearchFilter: Sendable, Hashable {
    public var clauses: [FilterClause]

    public init(clauses: [FilterClause] = []) {
        self.clauses = clauses
    }

    /// Parses and validates `text` against the grammar of `kind`. An empty or all-whitespace
    /// string is the empty filter. Every failure, including over-long input, is a
    /// `SearchGrammarError`; nothing here traps, and the work is linear in the input (which is
    /// capped at `SearchLimits.maxFilterBytes`).
    public static func parse(_ text: String, for kind: SearchKind) throws(SearchGrammarError) -> SearchFilter {
        var parser = try SearchParser(text, grammar: .forKind(kind), maxBytes: SearchLimits.maxFilterBytes, what: "filter")
        return SearchFilter(clauses: try parser.parseFilter())
    }
}
