import Logging
import NIOCore
import NIOPosix
import SQLKit
import Synchronization

/// SQLite in WAL mode: one writer connection fed by a group-commit queue, and reader connections
/// that WAL lets run beside the writer without blocking.
public final class SQLiteMetadataDatabase: MetadataDatabase {
    public var kind: DatabaseKind { .sqlite }

    private let writer: SQLiteDirectDatabase
    private let readers: [SQLiteDirectDatabase]
    private let writeQueue: SQLiteWriteQueue
    private let nextReader = Atomic<Int>(0)

    private init(writer: SQLiteDirectDatabase, readers: [SQLiteDirectDatabase]) {
        self.writer = writer
        self.readers = readers
        self.writeQueue = SQLiteWriteQueue(database: writer)
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
        // The writer keeps the hot part of the indexes it appends to in memory; pages
        // are allocated only as the database grows, so an idle server stays small.
        try writer.connection.execute("PRAGMA cache_size=-65536", []) { _ in }
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

    /// Transactions go through the write queue, which commits whatever queued up while the
    /// previous commit ran as one SQLite transaction (each body in its own savepoint).
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writeQueue.transaction(body)
    }

    public func shutdown() async throws {
        // An empty transaction queues behind every write in flight, so they all commit
        // before the handles close.
        try await writeQueue.transaction { _ in }
        for reader in readers { reader.connection.close() }
        writer.connection.close()
    }
}
