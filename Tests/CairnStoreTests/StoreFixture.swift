import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// A migrated SQLite database in a fresh temporary directory.
struct StoreFixture {
    let directory: URL
    let database: SQLiteMetadataDatabase
    let store: SQLTrackingStore

    static func make(now: @escaping WallClock = SystemClock.now) async throws -> StoreFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        return StoreFixture(directory: directory, database: database, store: SQLTrackingStore(database: database, now: now))
    }

    func close() async throws {
        try await database.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` with a fresh fixture and always cleans up.
    static func with(_ body: (SQLTrackingStore) async throws -> Void) async throws {
        let fixture = try await make()
        do {
            try await body(fixture.store)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }
}

func expectCairnError(_ code: ErrorCode, _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        try await body()
        Issue.record("expected \(code.rawValue), got success", sourceLocation: sourceLocation)
    } catch let error as CairnError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected CairnError \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
}

/// The PostgreSQL database CAIRN_TEST_POSTGRES_URL names, wiped and migrated, for one test's
/// body. Every caller sits in `PostgresStoreTests`' serialized suite (directly or by an
/// extension), because each wipes the one database the CI starts.
enum PostgresFixture {
    static func withFreshDatabase(_ body: (PostgresMetadataDatabase) async throws -> Void) async throws {
        let url = try #require(ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"])
        let logger = Logger(label: "test")
        let database = try PostgresMetadataDatabase(url: url, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            defer { group.cancelAll() }
            try await database.transaction { sql in
                try await sql.raw("DROP SCHEMA public CASCADE").run()
                try await sql.raw("CREATE SCHEMA public").run()
            }
            try await Migrations.run(on: database, logger: logger, now: 1)
            try await body(database)
        }
    }
}
