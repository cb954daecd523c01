import SQLKit

extension DatabaseKind {
    /// Makes transactions that pass the same `key` take turns: on PostgreSQL (several requests,
    /// or replicas, at once) a transaction-scoped advisory lock on the key's hash, released at
    /// commit or rollback; SQLite has one writer, so its transactions take turns already. For a
    /// read-then-write that must see every other one: max + 1 ids, a count against a limit.
    func takeTurns(_ sql: any SQLDatabase, on key: String) async throws {
        guard self == .postgres else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: key)))").run()
    }

    /// The next id of a table whose ids are max + 1 (as MLflow numbers experiments): unique
    /// because creations take turns on the table (`takeTurns`), else two would draw one id
    /// and the second fail as a duplicate.
    func nextID(_ sql: any SQLDatabase, column: String, table: String) async throws -> Int64 {
        try await takeTurns(sql, on: "cairn.\(table)/\(column)")
        let row = try await sql.raw("SELECT COALESCE(MAX(\(unsafeRaw: column)), 0) + 1 AS next FROM \(unsafeRaw: table)").first()
        return try row?.decode(column: "next", as: Int64.self) ?? 1
    }
}
