import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// Two servers starting at once on one database migrate one after the other, and a unique
/// constraint the stores' own checks did not catch reads as RESOURCE_ALREADY_EXISTS.
struct MigrationTests {
    static func appliedVersions(_ database: any MetadataDatabase) async throws -> [Int] {
        try await database.read { sql in
            try await sql.raw("SELECT version FROM cairn_migrations ORDER BY version").all().map {
                try $0.decode(column: "version", as: Int.self)
            }
        }
    }

    @Test func migrationsAreOneFileEachInOrder() {
        // Numbers are assigned ahead to work in progress (004–006 to pipelines, 007 to the
        // run keys), so a branch may skip some; they only have to increase.
        let versions = Migrations.all.map(\.version)
        #expect(versions.first == 1 && zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 })
        #expect(Set(Migrations.all.map(\.name)).count == Migrations.all.count)
    }

    /// Several handles on one file (as several processes would have) migrating at once, on
    /// fresh files round after round: with each migration in its own transaction and the
    /// applied list read outside them, one handle would re-apply what another just applied.
    @Test func concurrentMigrationOnSQLite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        for round in 0..<20 {
            let path = directory.appendingPathComponent("cairn-\(round).db").path
            var handles: [SQLiteMetadataDatabase] = []
            for _ in 0..<4 { handles.append(try await SQLiteMetadataDatabase.open(path: path, readerCount: 1, logger: logger)) }
            let opened = handles
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, handle) in opened.enumerated() {
                    group.addTask { try await Migrations.run(on: handle, logger: logger, now: Int64(index)) }
                }
                try await group.waitForAll()
            }
            #expect(try await Self.appliedVersions(opened[0]) == Migrations.all.map(\.version))
            #expect(try await SQLTrackingStore(database: opened[3]).getExperiment(id: "0").name == "Default")
            for handle in opened { try await handle.shutdown() }
        }
    }

    /// Migration 7 rebuilds a run's params, tags and latest metrics as tables clustered on
    /// (run, key): what was logged before reads back the same, and the same writes still work.
    @Test func runKeysKeepWhatWasLogged() async throws {
        let fixture = try await StoreFixture.make()
        do {
            let store = fixture.store
            let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            let id = run.info.runID
            try await store.logBatch(
                runID: id, metrics: [Metric(key: "m", value: 0.5, timestamp: 1, step: 0)], params: [KeyValue(key: "p", value: "a")],
                tags: [KeyValue(key: "t", value: "x")])
            let before = try await store.getRun(id: id)
            // Applied again over tables holding rows: they are copied into the new layout.
            try await fixture.database.transaction { sql in
                try await sql.raw("DELETE FROM cairn_migrations WHERE version = 7").run()
            }
            try await Migrations.run(on: fixture.database, logger: Logger(label: "test"), now: 2)
            #expect(try await store.getRun(id: id).data == before.data)
            let layouts = try await fixture.database.read { sql in
                try await sql.raw("SELECT name, sql FROM sqlite_master WHERE name IN ('run_params', 'run_tags', 'latest_metrics')").all()
                    .map { try $0.decode(column: "sql", as: String.self) }
            }
            #expect(layouts.count == 3 && layouts.allSatisfy { $0.hasSuffix("WITHOUT ROWID") })
            try await store.logBatch(
                runID: id, metrics: [Metric(key: "m", value: 0.7, timestamp: 2, step: 1)], params: [],
                tags: [KeyValue(key: "t", value: "y")])
            let after = try await store.getRun(id: id).data
            #expect(after.metrics.map(\.value) == [0.7] && after.tags.first { $0.key == "t" }?.value == "y")
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    /// Migration 8: counting an experiment's runs reads the runs' index alone, and the column
    /// picker walks the metric keys through latest_metrics' key index; a filter by a param's value
    /// still starts from the param; a run joined by id still goes through the primary key, not a scan of the experiment's index.
    @Test func runTableIndexesServeTheCountAndThePicker() async throws {
        let fixture = try await StoreFixture.make()
        do {
            func plan(_ statement: String) async throws -> String {
                try await fixture.database.read { sql in
                    try await sql.raw("EXPLAIN QUERY PLAN \(unsafeRaw: statement)").all()
                        .map { try $0.decode(column: "detail", as: String.self) }.joined(separator: "\n")
                }
            }
            let count = try await plan("SELECT COUNT(*) FROM runs r WHERE r.experiment_id IN (0) AND r.lifecycle_stage IN ('active')")
            #expect(count.contains("COVERING INDEX runs_experiment_start_stage"))
            let keys = try await plan("SELECT MIN(key) FROM latest_metrics WHERE key > 'a'")
            #expect(keys.contains("COVERING INDEX latest_metrics_key"))
            // A search filtered by a param's value and a metric's range starts from the param.
            let filtered = try await plan(
                """
                SELECT r.name FROM run_params f0 JOIN latest_metrics f1 ON f1.run_uuid = f0.run_uuid AND f1.key = 'm' AND f1.value > 0.5
                CROSS JOIN runs r WHERE r.run_uuid = f0.run_uuid AND f0.key = 'p' AND f0.value = 'x'
                """)
            #expect(filtered.hasPrefix("SEARCH f0 USING COVERING INDEX run_params_key_value (key=? AND value=?)"))
            let joined = try await plan(
                """
                SELECT r.name FROM latest_metrics m CROSS JOIN runs r WHERE m.key = 'm' AND r.run_uuid = m.run_uuid
                AND r.experiment_id IN (0) AND r.lifecycle_stage IN ('active')
                """)
            #expect(joined.contains("sqlite_autoindex_runs_1 (run_uuid=?)"))
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    @Test func duplicateInsertIsAlreadyExistsOnSQLite() async throws {
        let fixture = try await StoreFixture.make()
        do {
            try await Self.expectDuplicateMapped(fixture.database)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    /// A raw duplicate of a unique column, as a lost race would write it.
    static func expectDuplicateMapped(_ database: any MetadataDatabase) async throws {
        let insert: @Sendable (any SQLDatabase) async throws -> Void = { sql in
            try await sql.raw(
                """
                INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
                VALUES (\(bind: Int64.random(in: 1000...1_000_000)), 'twice', 'x', 'active', 1, 1)
                """
            ).run()
        }
        try await database.transaction(insert)
        await expectCairnError(.resourceAlreadyExists) { try await database.transaction(insert) }
        // Other failures are not dressed up as duplicates.
        do {
            try await database.transaction { sql in try await sql.raw("INSERT INTO no_such_table VALUES (1)").run() }
            Issue.record("an insert into a missing table succeeded")
        } catch let error as CairnError {
            Issue.record("an unrelated failure became \(error.code.rawValue)")
        } catch {}
    }
}

/// The same on PostgreSQL: in the PostgreSQL suite, which runs serialized because each test
/// starts from an empty schema.
extension PostgresStoreTests {
    @Test func concurrentMigrationOnPostgres() async throws {
        let url = ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"]!
        let logger = Logger(label: "test")
        let first = try PostgresMetadataDatabase(url: url, logger: logger)
        let second = try PostgresMetadataDatabase(url: url, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            group.addTask { try await second.run() }
            defer { group.cancelAll() }
            for _ in 0..<3 {
                try await first.transaction { sql in
                    try await sql.raw("DROP SCHEMA public CASCADE").run()
                    try await sql.raw("CREATE SCHEMA public").run()
                }
                async let a: Void = Migrations.run(on: first, logger: logger, now: 1)
                async let b: Void = Migrations.run(on: second, logger: logger, now: 2)
                _ = try await (a, b)
                #expect(try await MigrationTests.appliedVersions(second) == Migrations.all.map(\.version))
                #expect(try await SQLTrackingStore(database: first).getExperiment(id: "0").name == "Default")
            }
            try await MigrationTests.expectDuplicateMapped(first)
        }
    }
}
