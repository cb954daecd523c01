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
    /// Not MLflow's, and no filter text parses to it: a case-insensitive substring test where
    /// `%` and `_` are the characters themselves. The UI's name searches use it, so a search
    /// for `a_b` or `50%` finds exactly that text.
    case containsText = "CONTAINS"

    /// `text` as a `LIKE` pattern of itself under `ESCAPE '\'`: `\`, `%` and `_` escaped.
    public static func likeLiteral(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
