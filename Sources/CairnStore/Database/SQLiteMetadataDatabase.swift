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
    private let checkpointer: SQLiteDirectDatabase
    private let nextReader = Atomic<Int>(0)
    private let threadPool: NIOThreadPool
    private let readExecutor: ThreadPoolTaskExecutor

    private init(
        writer: SQLiteDirectDatabase, readers: [SQLiteDirectDatabase], checkpointer: SQLiteDirectDatabase, threadPool: NIOThreadPool
    ) {
        self.writer = writer
        self.readers = readers
        self.checkpointer = checkpointer
        self.writeQueue = SQLiteWriteQueue(database: writer)
        self.threadPool = threadPool
        self.readExecutor = ThreadPoolTaskExecutor(threadPool: threadPool)
    }

    /// Opens (creating if needed) the database file at `path`. Reads and checkpoints run on
    /// `threadPool`; writes run inline in the write queue (see `transaction`).
    public static func open(
        path: String, readerCount: Int = 4, threadPool: NIOThreadPool = .singleton, logger: Logger
    ) async throws -> SQLiteMetadataDatabase {
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
        // Checkpoints copy the WAL back into the database and fsync both files: tens of
        // milliseconds that, left to SQLite's auto-checkpoint, would stall the commit that
        // happens to cross the threshold and every writer queued behind it. The
        // checkpoint service runs them on its own connection instead.
        try writer.connection.execute("PRAGMA wal_autocheckpoint=0", []) { _ in }
        let readers = try (0..<max(1, readerCount)).map { _ in try connect() }
        let checkpointer = try connect()
        return SQLiteMetadataDatabase(writer: writer, readers: readers, checkpointer: checkpointer, threadPool: threadPool)
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

    /// Runs `body` on the thread pool: its statements block their thread for as long as SQLite
    /// works, which for a search page or a history chunk is milliseconds, and a reader
    /// connection shared by concurrent reads makes one wait for another on its mutex.
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        let reader = readers[Int(UInt(bitPattern: index) % UInt(readers.count))]
        return try await withTaskExecutorPreference(readExecutor) {
            try await body(reader)
        }
    }

    /// Transactions go through the write queue, which commits whatever queued up while the
    /// previous commit ran as one SQLite transaction (each body in its own savepoint). They
    /// stay inline on the caller's thread: a metadata write takes microseconds, and two
    /// thread hops per request would cost the ingestion path more than the write itself.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            return try await writeQueue.transaction(body)
        } catch {
            throw UniqueViolation.mapped(error)
        }
    }

    /// Copies committed WAL frames into the database file without blocking readers or
    /// the writer (a PASSIVE checkpoint), on a thread-pool thread because it fsyncs.
    public func checkpoint() async throws {
        let connection = checkpointer.connection
        try await threadPool.runIfActive {
            try connection.execute("PRAGMA wal_checkpoint(PASSIVE)", []) { _ in }
        }
    }

    /// A service that checkpoints every `interval` while the server runs.
    public func checkpointService(interval: Duration = .milliseconds(500)) -> SQLiteCheckpointService {
        SQLiteCheckpointService(database: self, interval: interval)
    }

    public func shutdown() async throws {
        // An empty transaction queues behind every write in flight, so they all commit
        // before the handles close.
        try await writeQueue.transaction { _ in }
        // Leave a compact database behind: fold the whole WAL in and truncate it.
        try? writer.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)", []) { _ in }
        checkpointer.connection.close()
        for reader in readers { reader.connection.close() }
        writer.connection.close()
    }
}
