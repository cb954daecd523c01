import CairnCore
import Foundation
import Logging
import SQLKit
import Testing
@testable import CairnStore

/// The same migrations and store code on PostgreSQL. Runs when CAIRN_TEST_POSTGRES_URL names
/// a database this test may wipe (CI starts one); skipped otherwise.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"] != nil), .serialized)
struct PostgresStoreTests {
    @Test func migrationsAndTrackingRoundTrip() async throws {
        let url = ProcessInfo.processInfo.environment["CAIRN_TEST_POSTGRES_URL"]!
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
            try await Migrations.run(on: database, logger: logger, now: 2)
            let store = SQLTrackingStore(database: database)

            #expect(try await store.getExperiment(id: "0").name == "Default")
            let experimentId = try await store.createExperiment(name: "pg", artifactLocation: nil, tags: [KeyValue(key: "k", value: "v")])
            let run = try await store.createRun(CreateRun(experimentId: experimentId, userId: "u", runName: "r", startTime: 5, tags: []))
            try await store.logBatch(
                runId: run.info.runId,
                metrics: [Metric(key: "m", value: .nan, timestamp: 1, step: 0), Metric(key: "m", value: 0.5, timestamp: 2, step: 1)],
                params: [KeyValue(key: "p", value: "a")], tags: [KeyValue(key: "t", value: "x")]
            )
            await expectCairnError(.invalidParameterValue) {
                try await store.logBatch(runId: run.info.runId, metrics: [], params: [KeyValue(key: "p", value: "b")], tags: [])
            }
            let fetched = try await store.getRun(id: run.info.runId)
            #expect(fetched.data.metrics.first?.value == 0.5)
            let history = try await store.getMetricHistory(runId: run.info.runId, key: "m", maxResults: 1, pageToken: nil)
            #expect(history.items.first?.value.isNaN == true)
            #expect(history.nextPageToken != nil)

            let page = try await store.searchRuns(RunSearch(
                experimentIds: [experimentId],
                filter: try SearchFilter.parse("metrics.m > 0.1 and params.p = 'a' and tags.t LIKE 'x%' and attributes.run_name ILIKE 'R'", for: .runs),
                orderBy: try OrderByClause.parseList(["metrics.m DESC"], for: .runs), viewType: .activeOnly, maxResults: 10, pageToken: nil
            ))
            #expect(page.items.map(\.info.runId) == [run.info.runId])
            let experiments = try await store.searchExperiments(ExperimentSearch(
                filter: try SearchFilter.parse("tags.k = 'v'", for: .experiments), orderBy: [], viewType: .all, maxResults: 10, pageToken: nil
            ))
            #expect(experiments.items.map(\.name) == ["pg"])
        }
    }
}
