import CairnCore
import SQLKit
import Testing

@testable import CairnStore

/// Purging a deleted experiment (the UI's "purge", `mlflow gc --experiment-ids`) and counting
/// an experiment search (the UI's page links).
@Suite struct ExperimentPurgeTests {
    @Test func purgeRemovesADeletedExperimentWithEverythingLoggedToIt() async throws {
        let fixture = try await StoreFixture.make()
        do {
            let store = fixture.store
            let gone = try await store.createExperiment(name: "gone", artifactLocation: nil, tags: [KeyValue(key: "k", value: "v")])
            let kept = try await store.createExperiment(name: "kept", artifactLocation: nil, tags: [])
            var runIDs: [String] = []
            for experiment in [gone, gone, kept] {
                let run = try await store.createRun(CreateRun(experimentID: experiment, userID: "u", runName: nil, startTime: 5, tags: []))
                try await store.logBatch(
                    runID: run.info.runID, metrics: [Metric(key: "m", value: 1, timestamp: 1, step: 0)],
                    params: [KeyValue(key: "p", value: "1")],
                    tags: [KeyValue(key: "t", value: "v")])
                let dataset = Dataset(name: "d", digest: "x\(runIDs.count)", sourceType: "local", source: "{}")
                try await store.logInputs(
                    runID: run.info.runID, datasets: [DatasetInput(tags: [KeyValue(key: "c", value: "train")], dataset: dataset)],
                    models: [ModelReference(modelID: "m-\(runIDs.count)")])
                runIDs.append(run.info.runID)
            }
            let models = SQLLoggedModelStore(database: fixture.database)
            let model = try await models.createLoggedModel(
                CreateLoggedModel(
                    experimentID: gone, name: "lm", modelType: nil, sourceRunID: runIDs[0], params: [KeyValue(key: "a", value: "b")],
                    tags: [KeyValue(key: "c", value: "d")]))

            // Only a deleted experiment can be purged; an active one is left as it was.
            await #expect(throws: CairnError.self) { try await store.purgeExperiment(id: gone) }
            #expect(try await store.getRun(id: runIDs[0]).data.params == [KeyValue(key: "p", value: "1")])
            await #expect(throws: CairnError.self) { try await store.purgeExperiment(id: "404") }

            try await store.deleteExperiment(id: gone)
            let purge = try await store.purgeExperiment(id: gone)
            #expect(purge.runCount == 2)
            #expect(purge.loggedModelCount == 1)
            #expect(
                Set(purge.artifactLocations)
                    == Set(runIDs.prefix(2).map { "mlflow-artifacts:/\(gone)/\($0)/artifacts" } + [model.info.artifactUri]))

            await #expect(throws: CairnError.self) { try await store.getExperiment(id: gone) }
            for run in runIDs.prefix(2) { await #expect(throws: CairnError.self) { try await store.getRun(id: run) } }
            await #expect(throws: CairnError.self) { try await models.getLoggedModel(id: model.info.modelID, allowDeleted: true) }
            let purgedRuns = runIDs.prefix(2).map { "'\($0)'" }.joined(separator: ",")
            for table in [
                "runs", "run_params", "run_tags", "metrics", "latest_metrics", "run_dataset_inputs", "run_dataset_input_tags",
                "run_model_links", "metric_series", "metric_blocks",
            ] {
                let left = try await fixture.database.read { sql in
                    try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table) WHERE run_uuid IN (\(unsafeRaw: purgedRuns))").first()!
                        .decode(column: "n", as: Int.self)
                }
                #expect(left == 0, "\(table)")
            }
            for table in ["datasets", "logged_models", "experiment_tags"] {
                let left = try await fixture.database.read { sql in
                    try await sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table) WHERE experiment_id = \(bind: Int(gone)!)").first()!
                        .decode(column: "n", as: Int.self)
                }
                #expect(left == 0, "\(table)")
            }
            let other = try await store.getRun(id: runIDs[2])
            #expect(other.data.metrics.map(\.key) == ["m"])
            #expect(other.inputs.datasetInputs.count == 1)
            // The name is free again.
            #expect(try await store.createExperiment(name: "gone", artifactLocation: nil, tags: []) != kept)
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    @Test func countFollowsTheFilterAndTheView() async throws {
        try await StoreFixture.with { store in
            for name in ["a-1", "a-2", "b-1"] { _ = try await store.createExperiment(name: name, artifactLocation: nil, tags: []) }
            try await store.deleteExperiment(id: "3")
            func count(_ filter: String, _ view: ViewType) async throws -> Int {
                try await store.countExperiments(
                    ExperimentSearch(
                        filter: try SearchFilter.parse(filter, for: .experiments), orderBy: [], viewType: view, maxResults: 1,
                        pageToken: nil))
            }
            #expect(try await count("", .activeOnly) == 3)
            #expect(try await count("", .all) == 4)
            #expect(try await count("", .deletedOnly) == 1)
            #expect(try await count("name ILIKE '%A-%'", .all) == 2)
        }
    }
}
