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
        try await PostgresFixture.withFreshDatabase { database in
            try await Migrations.run(on: database, logger: Logger(label: "test"), now: 2)
            let store = SQLTrackingStore(database: database)

            #expect(try await store.getExperiment(id: "0").name == "Default")
            let experimentID = try await store.createExperiment(name: "pg", artifactLocation: nil, tags: [KeyValue(key: "k", value: "v")])
            let run = try await store.createRun(CreateRun(experimentID: experimentID, userID: "u", runName: "r", startTime: 5, tags: []))
            try await store.logBatch(
                runID: run.info.runID,
                metrics: [Metric(key: "m", value: .nan, timestamp: 1, step: 0), Metric(key: "m", value: 0.5, timestamp: 2, step: 1)],
                params: [KeyValue(key: "p", value: "a")], tags: [KeyValue(key: "t", value: "x")]
            )
            await expectCairnError(.invalidParameterValue) {
                try await store.logBatch(runID: run.info.runID, metrics: [], params: [KeyValue(key: "p", value: "b")], tags: [])
            }
            let fetched = try await store.getRun(id: run.info.runID)
            #expect(fetched.data.metrics.first?.value == 0.5)
            let history = try await store.getMetricHistory(runID: run.info.runID, key: "m", maxResults: 1, pageToken: nil)
            #expect(history.items.first?.value.isNaN == true)
            #expect(history.nextPageToken != nil)

            let page = try await store.searchRuns(
                RunSearch(
                    experimentIDs: [experimentID],
                    filter: try SearchFilter.parse(
                        "metrics.m > 0.1 and params.p = 'a' and tags.t LIKE 'x%' and attributes.run_name ILIKE 'R'", for: .runs),
                    orderBy: try OrderByClause.parseList(["metrics.m DESC"], for: .runs), viewType: .activeOnly, maxResults: 10,
                    pageToken: nil
                ))
            #expect(page.items.map(\.info.runID) == [run.info.runID])
            let experiments = try await store.searchExperiments(
                ExperimentSearch(
                    filter: try SearchFilter.parse("tags.k = 'v'", for: .experiments), orderBy: [], viewType: .all, maxResults: 10,
                    pageToken: nil
                ))
            #expect(experiments.items.map(\.name) == ["pg"])

            // The UI's literal name search, and NUL refused before PostgreSQL would fail on it.
            for name in ["a_b%c\\d", "aXbYc\\d"] { _ = try await store.createExperiment(name: name, artifactLocation: nil, tags: []) }
            let literal = try await store.searchExperiments(
                ExperimentSearch(
                    filter: SearchFilter(clauses: [
                        FilterClause(entity: .attribute, key: "name", comparator: .containsText, value: .string("A_B%C\\"))
                    ]), orderBy: [], viewType: .all, maxResults: 10, pageToken: nil))
            #expect(literal.items.map(\.name) == ["a_b%c\\d"])
            await expectCairnError(.invalidParameterValue) {
                _ = try await store.createExperiment(name: "nul\u{0}", artifactLocation: nil, tags: [])
            }
            await expectCairnError(.invalidParameterValue) {
                try await store.logBatch(runID: run.info.runID, metrics: [], params: [], tags: [KeyValue(key: "t2", value: "a\u{0}")])
            }
        }
    }

    /// Migration 9 (users, grants, tokens, the append-only audit log) on PostgreSQL.
    @Test func authStoreHonoursTheContract() async throws {
        try await PostgresFixture.withFreshDatabase { database in
            try await AuthStoreContract.check(
                SQLAuthStore(database: database), database: database, tracking: SQLTrackingStore(database: database))
        }
    }

    /// Migration 4 and the pipeline store on PostgreSQL.
    @Test func pipelineStoreHonoursTheContract() async throws {
        try await PostgresFixture.withFreshDatabase { database in
            try await PipelineStoreContract.check(SQLPipelineStore(database: database))
        }
    }

    /// Migration 2 and the registry and logged-model stores on PostgreSQL: cascading renames,
    /// RETURNING, upserts, the prompt anti-join and the metric-ordered logged-model search.
    @Test func registryAndLoggedModelsRoundTrip() async throws {
        try await PostgresFixture.withFreshDatabase { database in
            let tracking = SQLTrackingStore(database: database)
            let registry = SQLRegistryStore(database: database)
            let logged = SQLLoggedModelStore(database: database)

            let run = try await tracking.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            let model = try await logged.createLoggedModel(
                CreateLoggedModel(
                    experimentID: "0", name: "clf", sourceRunID: run.info.runID, params: [KeyValue(key: "a", value: "1")],
                    tags: [KeyValue(key: "t", value: "v")]
                ))
            let modelID = model.info.modelID
            try await tracking.logBatch(
                runID: run.info.runID, metrics: [Metric(key: "acc", value: 0.8, timestamp: 1, step: 0)], params: [], tags: [])
            try await tracking.logBatch(
                runID: run.info.runID,
                metrics: [
                    Metric(key: "acc", value: 0.8, timestamp: 1, step: 0, modelID: modelID),
                    Metric(key: "acc", value: 0.8, timestamp: 1, step: 0, modelID: modelID),
                ], params: [], tags: [])
            _ = try await logged.finalizeLoggedModel(id: modelID, status: .ready)
            try await logged.setLoggedModelTags(id: modelID, tags: [KeyValue(key: "t", value: "w")])
            let fetched = try await logged.getLoggedModel(id: modelID, allowDeleted: false)
            #expect(fetched.data.metrics.map(\.value) == [0.8])
            #expect(fetched.info.tags == [KeyValue(key: "t", value: "w")])
            let found = try await logged.searchLoggedModels(
                LoggedModelSearch(
                    experimentIDs: ["0"],
                    filter: try SearchFilter.parse("metrics.acc > 0.5 AND params.a = '1' AND status = 'READY'", for: .loggedModels),
                    orderBy: [LoggedModelOrder(clause: try OrderByClause.loggedModelField("metrics.acc", ascending: false))]
                ))
            #expect(found.items.map(\.info.modelID) == [modelID])

            _ = try await registry.createRegisteredModel(name: "m", tags: [KeyValue(key: "k", value: "v")], description: "d")
            await expectCairnError(.resourceAlreadyExists) {
                _ = try await registry.createRegisteredModel(name: "m", tags: [], description: nil)
            }
            _ = try await registry.createRegisteredModel(
                name: "prompt", tags: [KeyValue(key: "mlflow.prompt.is_prompt", value: "true")], description: nil)
            let version = try await registry.createModelVersion(
                CreateModelVersion(name: "m", source: "models:/\(modelID)", tags: [KeyValue(key: "vt", value: "1")], modelID: modelID))
            #expect(version.version == "1" && version.runID == run.info.runID)
            _ = try await registry.createModelVersion(CreateModelVersion(name: "m", source: "models:/m/1"))
            try await registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "1")
            try await registry.setRegisteredModelAlias(name: "m", alias: "champion", version: "2")
            _ = try await registry.transitionModelVersionStage(name: "m", version: "2", stage: "production", archiveExistingVersions: true)

            let renamed = try await registry.renameRegisteredModel(name: "m", newName: "n")
            #expect(renamed.aliases == [RegisteredModelAlias(alias: "champion", version: "2")])
            #expect(renamed.latestVersions.map(\.version).sorted() == ["1", "2"])
            #expect(try await registry.getModelVersion(name: "n", version: "1").tags == [KeyValue(key: "vt", value: "1")])
            #expect(try await registry.getModelVersion(name: "n", alias: "champion").version == "2")
            #expect(try await registry.getModelVersionDownloadUri(name: "n", version: "2") == model.info.artifactUri)

            let models = try await registry.searchRegisteredModels(
                RegisteredModelSearch(
                    filter: try SearchFilter.parse("name ILIKE 'N%' AND tag.`mlflow.prompt.is_prompt` != 'true'", for: .registeredModels)
                ))
            #expect(models.items.map(\.name) == ["n"])
            let versions = try await registry.searchModelVersions(
                ModelVersionSearch(
                    filter: try SearchFilter.parse("name = 'n' AND version_number >= 1", for: .modelVersions),
                    orderBy: try OrderByClause.parseList(["version_number ASC"], for: .modelVersions)
                ))
            #expect(versions.items.map(\.version) == ["1", "2"])

            try await registry.deleteModelVersion(name: "n", version: "2")
            #expect(try await registry.createModelVersion(CreateModelVersion(name: "n", source: "s3://b/m")).version == "3")
            try await registry.deleteRegisteredModel(name: "n")
            await expectCairnError(.resourceDoesNotExist) { _ = try await registry.getRegisteredModel(name: "n") }
        }
    }
}
