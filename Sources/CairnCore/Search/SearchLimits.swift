/// Bounds on search input. MLflow has none; these exist so that hostile input costs a bounded,
/// linear amount of work and never reaches the SQL layer as a monster query. Real filters are
/// well under 1 KB, so the limits are far above anything a client sends.
public enum SearchLimits {
    /// A filter longer than this many UTF-8 bytes is refused before it is tokenized.
    public static let maxFilterBytes = 100_000
    /// `AND`-joined clauses per filter.
    public static let maxFilterClauses = 1_000
    /// Items in one `IN (…)` list. Keeps the SQL layer under SQLite's/PostgreSQL's bind limits.
    public static let maxListItems = 10_000
    /// One `order_by` entry, in UTF-8 bytes.
    public static let maxOrderByBytes = 10_000
    /// Entries in one `order_by` list.
    public static let maxOrderByClauses = 100
}
