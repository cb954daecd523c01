import Logging
import SQLKit

/// A schema change. Migrations are numbered, append-only and never edited once shipped, one
/// file each (`NNN_name.swift`); the SQL is the portable subset that SQLite and PostgreSQL both
/// accept, so one list serves both.
struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: [String]
    /// Statements for one database only, run after `statements`: a storage layout the other
    /// database has no word for.
    var statementsFor: [DatabaseKind: [String]] = [:]
    /// Work SQL alone cannot express (building blobs from rows), run last in the migration's
    /// transaction.
    var backfill: (@Sendable (any SQLDatabase) async throws -> Void)? = nil
}

public enum Migrations {
    static let all: [Migration] = [
        .tracking, .registry, .monitoring, .pipelines, .triggersWebhooks, .promotionLog, .runKeys, .runTableIndexes, .auth,
        .leases, .metricBlocks, .roles,
    ]

    /// The key of the PostgreSQL advisory lock migrations hold ("cairn-mg" in ASCII): any
    /// constant works, as long as nothing else on the database uses it.
    static let advisoryLockKey: Int64 = 0x6361_6972_6E2D_6D67

    /// Applies every migration not yet recorded and makes sure the Default experiment exists.
    /// Safe to run on every start, and by several servers starting at once on one database:
    /// the whole run is one transaction that first takes the database's lock (PostgreSQL's
    /// advisory lock; on SQLite, the write lock every transaction takes with
    /// `BEGIN IMMEDIATE`), so the second server waits, then finds everything applied.
    public static func run(on database: any MetadataDatabase, logger: Logger, now: Int64) async throws {
        let kind = database.kind
        try await database.transaction { sql in
            if kind == .postgres {
                try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: advisoryLockKey))").run()
            }
            try await sql.raw(
                """
                CREATE TABLE IF NOT EXISTS cairn_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """
            ).run()
            let applied = try await sql.raw("SELECT version FROM cairn_migrations").all().map {
                try $0.decode(column: "version", as: Int.self)
            }
            let known = Set(all.map(\.version))
            if let unknown = applied.first(where: { !known.contains($0) }) {
                throw CairnStoreError.migration("The database was migrated by a newer Cairn (migration \(unknown)); refusing to start.")
            }
            for migration in all where !applied.contains(migration.version) {
                logger.info("Applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                for statement in migration.statements + (migration.statementsFor[kind] ?? []) {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                try await migration.backfill?(sql)
                try await sql.raw(
                    """
                    INSERT INTO cairn_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now))
                    """
                ).run()
            }
            try await sql.raw(
                """
                INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
                VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', \(bind: now), \(bind: now))
                ON CONFLICT (experiment_id) DO NOTHING
                """
            ).run()
        }
    }
}
