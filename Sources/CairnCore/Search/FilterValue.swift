/// The right-hand side of a filter clause.
public enum FilterValue: Sendable, Hashable {
    /// A quoted string, exactly as written between its quotes. Like MLflow, escapes are *not*
    /// decoded: `'it''s'` is the five characters `it''s`, `'a\'b'` is `a\'b`.
    case string(String)
    /// A numeric literal (metrics and numeric attributes). Always finite.
    case number(Double)
    /// The items of an `IN (…)` / `NOT IN (…)` list. Non-empty. Items follow Python literal rules
    /// because MLflow reads lists with `ast.literal_eval`: `\'`, `\\`, `\n`… are decoded and
    /// adjacent literals concatenate (`('it''s')` is the one item `its`).
    case list([String])
    /// `IS NULL` / `IS NOT NULL`.
    case none
}
