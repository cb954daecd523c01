import SQLKit

/// `LeaderLease` over `cairn_leases` (migration 10): one guarded upsert per acquire or renewal,
/// with the expiry computed by the database's clock inside the statement.
public struct SQLLeaderLease: LeaderLease {
    let database: any MetadataDatabase

    public init(database: any MetadataDatabase) {
        self.database = database
    }

    /// The database's clock in epoch milliseconds, as SQL: `clock_timestamp()` rather than
    /// `now()` on PostgreSQL, which would be the start of the transaction.
    var databaseNow: SQLQueryString {
        switch database.kind {
        case .postgres: "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
        case .sqlite: "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
        }
    }

    public func acquire(name: String, holder: String, duration: Duration) async throws -> Bool {
        let milliseconds = Self.milliseconds(duration)
        let now = databaseNow
        // PostgreSQL's upsert locks the row and re-checks the WHERE against its latest version,
        // so of two replicas racing for an expired lease exactly one gets a row back; a fresh
        // row inserted by one makes the other take the conflict path and fail its guard.
        let query: SQLQueryString = """
            INSERT INTO cairn_leases (name, holder, expires_at, acquired_at)
            VALUES (\(bind: name), \(bind: holder), \(now) + \(bind: milliseconds), \(now))
            ON CONFLICT (name) DO UPDATE SET
                holder = excluded.holder,
                expires_at = excluded.expires_at,
                acquired_at = CASE WHEN cairn_leases.holder = excluded.holder THEN cairn_leases.acquired_at ELSE excluded.acquired_at END
            WHERE cairn_leases.holder = excluded.holder OR cairn_leases.expires_at <= excluded.acquired_at
            RETURNING holder
            """
        return try await database.transaction { sql in
            try await sql.raw(query).first() != nil
        }
    }

    public func release(name: String, holder: String) async throws {
        try await database.transaction { sql in
            try await sql.raw("DELETE FROM cairn_leases WHERE name = \(bind: name) AND holder = \(bind: holder)").run()
        }
    }

    public func holder(name: String) async throws -> String? {
        let now = databaseNow
        return try await database.read { sql in
            try await sql.raw("SELECT holder FROM cairn_leases WHERE name = \(bind: name) AND expires_at > \(now)").first()?
                .decode(column: "holder", as: String.self)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
