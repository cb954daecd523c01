import Foundation
import Logging
import NIOPosix
import SQLKit
import Testing

@testable import CairnStore

/// Reads run on the injected thread pool, never on a Swift concurrency thread: a page of a
/// thousand runs holds its thread for milliseconds.
@Suite struct SQLiteReadThreadTests {
    @Test func readsRunOnTheInjectedThreadPool() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try await SQLiteMetadataDatabase.open(
            path: directory.appendingPathComponent("cairn.db").path, threadPool: pool, logger: Logger(label: "test")
        )
        let poolThread = try await pool.runIfActive { pthread_self() }
        let (readThread, value) = try await database.read { sql in
            (pthread_self(), try await sql.raw("SELECT 41 + 1 AS n").first()!.decode(column: "n", as: Int.self))
        }
        #expect(value == 42)
        #expect(pthread_equal(readThread, poolThread) != 0)
        try await database.shutdown()
        try await pool.shutdownGracefully()
    }
}
