/// A comparison operator of MLflow's search grammar, canonicalized (keywords upper-case,
/// `NOT IN` / `IS NOT NULL` as one operator). `rawValue` is the SQL spelling.
///
/// MLflow (through `sqlparse`) accepts nothing else: `<>`, `==`, `NOT LIKE`, `RLIKE`, `BETWEEN`
/// are rejected as invalid comparators.
public enum SearchComparator: String, Sendable, Hashable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    /// SQL `LIKE`: case-sensitive in MLflow; `%` and `_` are wildcards, there is no escape.
    case like = "LIKE"
    /// Case-insensitive `LIKE`.
    case ilike = "ILIKE"
    /// Value is always `.list`.
    case `in` = "IN"
    /// Value is always `.list`.
    case notIn = "NOT IN"
    /// Value is always `.none`: the key is absent.
    case isNull = "IS NULL"
    /// Value is always `.none`: the key is present.
    case isNotNull = "IS NOT NULL"
}
