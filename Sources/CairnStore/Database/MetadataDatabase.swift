import SQLKit

/// The relational database that holds Cairn's metadata.
///
/// Stores never hold a connection themselves: they ask for a read or for a transaction, and
/// the database decides how. SQLite funnels every transaction through one writer connection
/// (SQLite allows one writer at a time; queueing writers here instead of in SQLite's busy
/// loop is what keeps "database is locked" from ever reaching a client), while PostgreSQL
/// leases pooled connections.
public protocol MetadataDatabase: Sendable {
    var kind: DatabaseKind { get }

    /// Runs `body` against a connection for reads. Statements run in autocommit mode.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Runs `body` in one transaction: it commits if `body` returns and rolls back if it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Closes every connection. No call may follow.
    func shutdown() async throws
}

public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}
