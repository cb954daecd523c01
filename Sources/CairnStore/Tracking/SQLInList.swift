import SQLKit

/// `(?, ?, …)` for an `IN` clause: `SQLList` alone renders without the parentheses.
func inList<T: Encodable & Sendable>(_ values: [T]) -> SQLGroupExpression {
    SQLGroupExpression(SQLList(values.map { SQLBind($0) }))
}
