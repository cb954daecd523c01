import Logging
import NIOCore
import NIOPosix
import SQLKit
import Synchronization

/// SQLite in WAL mode: one writer connection behind a FIFO lock, and reader connections
/// that WAL lets run beside the writer without blocking.
public final class SQLiteMetadataDatabase: MetadataDatabase {
    public var kind: DatabaseKind { .sqlite }

    private let writer: SQLiteDirectDatabase
    private let readers: [SQLiteDirectDatabase]
    private let writeLock = AsyncLock()
    private let nextReader = Atomic<Int>(0)

    private init(writer: SQLiteDirectDatabase, readers: [SQLiteDirectDatabase]) {
        self.writer = writer
        self.readers = readers
    }

    /// Opens (creating if needed) the database file at `path`.
    public static func open(path: String, readerCount: Int = 4, logger: Logger) async throws -> SQLiteMetadataDatabase {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        func connect() throws -> SQLiteDirectDatabase {
            let database = SQLiteDirectDatabase(connection: try SQLiteDirectConnection(path: path), logger: logger, eventLoop: eventLoop)
            for pragma in connectionPragmas { try database.connection.execute(pragma, []) { _ in } }
            return database
        }
        let writer = try connect()
        // WAL lets readers proceed during writes; NORMAL syncs at checkpoints, which in WAL
        // mode never corrupts the database and loses nothing when the process dies.
        try writer.connection.execute("PRAGMA journal_mode=WAL", []) { _ in }
        let readers = try (0..<max(1, readerCount)).map { _ in try connect() }
        return SQLiteMetadataDatabase(writer: writer, readers: readers)
    }

    private static let connectionPragmas = [
        "PRAGMA synchronous=NORMAL",
        // A checkpoint can briefly hold a reader back; it waits rather than failing.
        "PRAGMA busy_timeout=10000",
        "PRAGMA foreign_keys=ON",
        "PRAGMA temp_store=MEMORY",
        // MLflow's LIKE is case-sensitive (ILIKE is the insensitive one), as in PostgreSQL.
        "PRAGMA case_sensitive_like=ON",
    ]

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await body(readers[Int(UInt(bitPattern: index) % UInt(readers.count))])
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = writer
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

    public func shutdown() async throws {
        // Waiting for the lock lets an in-flight transaction commit before the handles close.
        await writeLock.withLock {
            for reader in readers { reader.connection.close() }
            writer.connection.close()
        }
    }
}
