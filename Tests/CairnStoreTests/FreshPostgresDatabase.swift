import CairnCore
import Foundation
import Logging
import SQLKit

@testable import CairnStore

/// A database of its own on the server CAIRN_TEST_POSTGRES_URL names (its user may create
/// databases), created empty and dropped afterwards, so tests that need PostgreSQL can run
/// beside `PostgresStoreTests`, which wipes the shared database's schema.
enum FreshPostgresDatabase {
    static var serverURL: String? { ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"] }

    /// Runs `body` with the new database's URL; `migrated` runs Cairn's migrations first.
    static func with(migrated: Bool = true, _ body: @Sendable (_ url: String) async throws -> Void) async throws {
        let server = try requireURL()
        let name = "cairn_t_\(CairnID.make().prefix(16))"
        let logger = Logger(label: "test")
        let admin = try PostgresMetadataDatabase(url: server, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await admin.run() }
            defer { group.cancelAll() }
            // CREATE DATABASE refuses to run inside a transaction: `read` is autocommit.
            try await admin.read { sql in try await sql.raw("CREATE DATABASE \(ident: name)").run() }
            let url = Self.url(server, database: name)
            do {
                if migrated {
                    let database = try PostgresMetadataDatabase(url: url, logger: logger)
                    try await withThrowingTaskGroup(of: Void.self) { inner in
                        inner.addTask { try await database.run() }
                        defer { inner.cancelAll() }
                        try await Migrations.run(on: database, logger: logger, now: 1)
                    }
                }
                try await body(url)
            } catch {
                try? await admin.read { sql in try await sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run() }
                throw error
            }
            try await admin.read { sql in try await sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run() }
        }
    }

    /// Runs `body` with a client of a fresh, migrated database, its pool running.
    static func withDatabase(_ body: @Sendable (PostgresMetadataDatabase) async throws -> Void) async throws {
        try await with { url in
            let database = try PostgresMetadataDatabase(url: url, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await database.run() }
                defer { group.cancelAll() }
                try await body(database)
            }
        }
    }

    static func url(_ server: String, database: String) -> String {
        var components = URLComponents(string: server)!
        components.path = "/" + database
        return components.string!
    }

    private static func requireURL() throws -> String {
        guard let url = serverURL else { throw CairnStoreError.configuration("CAIRN_TEST_POSTGRES_URL is not set") }
        return url
    }
}
