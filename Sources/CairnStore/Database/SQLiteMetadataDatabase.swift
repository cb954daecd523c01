import Logging
import SQLKit
import SQLiteKit
import Synchronization

/// SQLite in WAL mode: one writer connection behind a FIFO lock, and a few reader connections
/// that WAL lets run beside the writer without blocking.
public final class SQLiteMetadataDatabase: MetadataDatabase {
    public var kind: DatabaseKind { .sqlite }

    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncLock()
    private let nextReader = Atomic<Int>(0)

    private init(writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.writer = writer
        self.readers = readers
    }

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, readerCount: Int = 4, logger: Logger) async throws -> SQLiteMetadataDatabase {
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            // WAL lets readers proceed during writes; NORMAL syncs at checkpoints, which in
            // WAL mode still never corrupts the database and loses nothing on a process crash.
            _ = try await writer.query("PRAGMA journal_mode=WAL")
            for pragma in Self.connectionPragmas { _ = try await writer.query(pragma) }
            var readers: [SQLiteConnection] = []
            for _ in 0..<max(1, readerCount) {
                let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                for pragma in Self.connectionPragmas { _ = try await reader.query(pragma) }
                readers.append(reader)
            }
            return SQLiteMetadataDatabase(writer: writer, readers: readers)
        } catch {
            try? await writer.close()
            throw error
        }
    }

    private static let connectionPragmas = [
        "PRAGMA synchronous=NORMAL",
        // Replaces SQLiteNIO's spin-forever busy handler: a checkpoint can briefly block a
        // reader, which then sleeps instead of spinning.
        "PRAGMA busy_timeout=10000",
        "PRAGMA foreign_keys=ON",
        "PRAGMA temp_store=MEMORY",
        // MLflow's LIKE is case-sensitive (ILIKE is the insensitive one), as in PostgreSQL.
        "PRAGMA case_sensitive_like=ON",
    ]

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        let reader = readers[Int(UInt(bitPattern: index) % UInt(readers.count))]
        return try await body(reader.sql(queryLogLevel: nil))
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = writer.sql(queryLogLevel: nil)
        return try await writeLock.withLock {
            // IMMEDIATE takes the write lock up front, so a transaction never fails half-way
            // on a lock upgrade.
            try await database.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    deinit {
        // A start-up failure (say, the port is taken) can drop the database before its
        // closing service ever runs; close the handles rather than leak them. The close
        // closures keep each connection alive until it is done.
        for connection in readers + [writer] where !connection.isClosed {
            _ = connection.close()
        }
    }

    public func shutdown() async throws {
        // Waiting for the lock lets an in-flight transaction commit before the handle closes.
        try await writeLock.withLock {
            for reader in readers { try await reader.close() }
            try await writer.close()
        }
    }
}
