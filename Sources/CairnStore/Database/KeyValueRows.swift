import CairnCore
import SQLKit

/// `(owner, key, value)` rows: the params and tags of runs and logged models share one
/// table shape, so they share the SQL that writes them.
enum KeyValueRows {
    /// Inserts `pairs` for `owner`; with `upsert`, an existing key takes the new value.
    static func insert(
        _ sql: any SQLDatabase, table: String, ownerColumn: String, owner: String, pairs: [KeyValue], upsert: Bool
    ) async throws {
        for chunk in chunked(pairs) {
            var query: SQLQueryString = "INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: ownerColumn), key, value) VALUES "
            for (index, pair) in chunk.enumerated() {
                query.appendLiteral(index > 0 ? ", (" : "(")
                query.appendInterpolation(bind: owner)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: pair.key)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: pair.value)
                query.appendLiteral(")")
            }
            if upsert {
                query.appendLiteral(" ON CONFLICT (\(ownerColumn), key) DO UPDATE SET value = excluded.value")
            }
            try await sql.raw(query).run()
        }
    }

    /// Write-once pairs (params): the same value again is accepted, since clients retry;
    /// another value for a logged key is refused with `conflict(pair, oldValue)` and nothing
    /// is written.
    static func insertWriteOnce(
        _ sql: any SQLDatabase, table: String, ownerColumn: String, owner: String, pairs: [KeyValue],
        conflict: (KeyValue, String) -> CairnError
    ) async throws {
        guard !pairs.isEmpty else { return }
        var existing: [String: String] = [:]
        for chunk in chunked(pairs.map(\.key)) {
            for row in try await sql.raw(
                """
                SELECT key, value FROM \(unsafeRaw: table) WHERE \(unsafeRaw: ownerColumn) = \(bind: owner) AND key IN \(inList(Array(chunk)))
                """
            ).all() {
                existing[try row.decode(column: "key", as: String.self)] = try row.decode(column: "value", as: String.self)
            }
        }
        var fresh: [KeyValue] = []
        for pair in pairs {
            if let old = existing[pair.key] {
                guard old == pair.value else { throw conflict(pair, old) }
            } else {
                fresh.append(pair)
            }
        }
        try await insert(sql, table: table, ownerColumn: ownerColumn, owner: owner, pairs: fresh, upsert: false)
    }
}
