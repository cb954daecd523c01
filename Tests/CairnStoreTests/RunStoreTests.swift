import CairnCore
import Testing

@testable import CairnStore

@Suite struct RunStoreTests {
    func makeRun(_ store: SQLTrackingStore, name: String? = nil, tags: [KeyValue] = []) async throws -> Run {
        try await store.createRun(CreateRun(experimentID: "0", userID: "alice", runName: name, startTime: 1000, tags: tags))
    }

    @Test func createAssignsIdNameAndArtifactUri() async throws {
        try await StoreFixture.with { store in
            let run = try await makeRun(store, name: "first")
            #expect(run.info.runID.count == 32)
            #expect(run.info.runName == "first")
            #expect(run.info.status == .running)
            #expect(run.info.artifactUri == "mlflow-artifacts:/0/\(run.info.runID)/artifacts")
            #expect(run.data.tags.contains(KeyValue(key: "mlflow.runName", value: "first")))
            let generated = try await makeRun(store)
            #expect(!generated.info.runName.isEmpty)
            let fromTag = try await makeRun(store, tags: [KeyValue(key: "mlflow.runName", value: "tagged")])
            #expect(fromTag.info.runName == "tagged")
            await expectCairnError(.invalidParameterValue) {
                _ = try await makeRun(store, name: "a", tags: [KeyValue(key: "mlflow.runName", value: "b")])
            }
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await store.createRun(CreateRun(experimentID: "42", userID: "u", runName: nil, startTime: 0, tags: []))
            }
        }
    }

    @Test func paramsAreImmutableButIdempotent() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            try await store.logBatch(runID: id, metrics: [], params: [KeyValue(key: "alpha", value: "0.5")], tags: [])
            try await store.logBatch(runID: id, metrics: [], params: [KeyValue(key: "alpha", value: "0.5")], tags: [])
            await expectCairnError(.invalidParameterValue) {
                try await store.logBatch(
                    runID: id, metrics: [], params: [KeyValue(key: "alpha", value: "0.7"), KeyValue(key: "beta", value: "1")], tags: [])
            }
            // The refused batch wrote nothing, not even its valid param.
            let run = try await store.getRun(id: id)
            #expect(run.data.params == [KeyValue(key: "alpha", value: "0.5")])
            await expectCairnError(.invalidParameterValue) {
                try await store.logBatch(
                    runID: id, metrics: [], params: [KeyValue(key: "d", value: "1"), KeyValue(key: "d", value: "1")], tags: [])
            }
        }
    }

    @Test func latestMetricIsMaxByStepThenTimestamp() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            try await store.logBatch(
                runID: id,
                metrics: [
                    Metric(key: "loss", value: 3, timestamp: 10, step: 2),
                    Metric(key: "loss", value: 1, timestamp: 50, step: 1),
                ], params: [], tags: [])
            try await store.logBatch(runID: id, metrics: [Metric(key: "loss", value: 2, timestamp: 20, step: 2)], params: [], tags: [])
            var run = try await store.getRun(id: id)
            #expect(run.data.metrics == [Metric(key: "loss", value: 2, timestamp: 20, step: 2)])
            try await store.logBatch(runID: id, metrics: [Metric(key: "loss", value: 9, timestamp: 1, step: 1)], params: [], tags: [])
            run = try await store.getRun(id: id)
            #expect(run.data.metrics.first?.value == 2)
        }
    }

    @Test func nonFiniteMetricsRoundTrip() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            try await store.logBatch(
                runID: id,
                metrics: [
                    Metric(key: "n", value: .nan, timestamp: 1, step: 0),
                    Metric(key: "p", value: .infinity, timestamp: 1, step: 0),
                    Metric(key: "m", value: -.infinity, timestamp: 1, step: 0),
                ], params: [], tags: [])
            let metrics = try await store.getRun(id: id).data.metrics
            #expect(metrics.first { $0.key == "n" }?.value.isNaN == true)
            // As MLflow's SQL store keeps them: clamped to the largest finite doubles.
            #expect(metrics.first { $0.key == "p" }?.value == .greatestFiniteMagnitude)
            #expect(metrics.first { $0.key == "m" }?.value == -.greatestFiniteMagnitude)
            let history = try await store.getMetricHistory(runID: id, key: "n", maxResults: nil, pageToken: nil)
            #expect(history.items.count == 1 && history.items[0].value.isNaN)
        }
    }

    @Test func historyPagesInOrderAndRetriesAreNoOps() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            let points = (0..<250).map { Metric(key: "acc", value: Double($0) / 10, timestamp: Int64(1000 - $0), step: Int64($0)) }
            try await store.logBatch(runID: id, metrics: Array(points[0..<200]), params: [], tags: [])
            try await store.logBatch(runID: id, metrics: Array(points[150..<250]), params: [], tags: [])
            var collected: [Metric] = []
            var token: String?
            repeat {
                let page = try await store.getMetricHistory(runID: id, key: "acc", maxResults: 100, pageToken: token)
                collected += page.items
                token = page.nextPageToken
            } while token != nil
            #expect(collected.count == 250)
            #expect(collected.map(\.timestamp) == points.map(\.timestamp).sorted())
            await expectCairnError(.invalidParameterValue) {
                _ = try await store.getMetricHistory(runID: id, key: "acc", maxResults: 10, pageToken: "garbage!")
            }
            #expect(try await store.getMetricHistory(runID: "deadbeef", key: "acc", maxResults: nil, pageToken: nil).items.isEmpty)
        }
    }

    @Test func batchLimitsAreEnforced() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            let tooMany = (0..<1001).map { Metric(key: "m", value: 1, timestamp: 1, step: Int64($0)) }
            await expectCairnError(.invalidParameterValue) { try await store.logBatch(runID: id, metrics: tooMany, params: [], tags: []) }
            let params = (0..<101).map { KeyValue(key: "p\($0)", value: "v") }
            await expectCairnError(.invalidParameterValue) { try await store.logBatch(runID: id, metrics: [], params: params, tags: []) }
            await expectCairnError(.invalidParameterValue) {
                try await store.logBatch(runID: id, metrics: [Metric(key: "m", value: 1, timestamp: -1)], params: [], tags: [])
            }
            #expect(try await store.getRun(id: id).data.metrics.isEmpty)
        }
    }

    @Test func lifecycleGuardsWrites() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            let info = try await store.updateRun(id: id, status: .finished, endTime: 2000, runName: "done")
            #expect(info.status == .finished && info.endTime == 2000 && info.runName == "done")
            // Finished runs still accept logging.
            try await store.logBatch(runID: id, metrics: [Metric(key: "m", value: 1, timestamp: 1)], params: [], tags: [])
            try await store.deleteRun(id: id)
            await expectCairnError(.invalidParameterValue) {
                try await store.logBatch(runID: id, metrics: [Metric(key: "m", value: 2, timestamp: 2)], params: [], tags: [])
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await store.updateRun(id: id, status: .failed, endTime: nil, runName: nil)
            }
            try await store.restoreRun(id: id)
            try await store.logBatch(runID: id, metrics: [], params: [], tags: [KeyValue(key: "t", value: "v")])
            try await store.deleteTag(runID: id, key: "t")
            await expectCairnError(.resourceDoesNotExist) { try await store.deleteTag(runID: id, key: "t") }
            await expectCairnError(.resourceDoesNotExist) { _ = try await store.getRun(id: "0123456789abcdef") }
        }
    }

    @Test func datasetsAndModelsAreRecorded() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            let dataset = Dataset(
                name: "train", digest: "abc123", sourceType: "local", source: "{\"uri\": \"x\"}", schema: "{}", profile: "{\"num_rows\": 3}"
            )
            let input = DatasetInput(tags: [KeyValue(key: "mlflow.data.context", value: "training")], dataset: dataset)
            try await store.logInputs(runID: id, datasets: [input, input], models: [ModelReference(modelID: "m-1")])
            try await store.logOutputs(runID: id, models: [ModelReference(modelID: "m-2", step: 3)])
            let run = try await store.getRun(id: id)
            #expect(run.inputs.datasetInputs == [input])
            #expect(run.inputs.modelInputs == [ModelReference(modelID: "m-1")])
            #expect(run.outputs.modelOutputs == [ModelReference(modelID: "m-2", step: 3)])
            let long = Dataset(name: "d", digest: String(repeating: "x", count: 37), sourceType: "local", source: "s")
            await expectCairnError(.invalidParameterValue) {
                try await store.logInputs(runID: id, datasets: [DatasetInput(tags: [], dataset: long)], models: [])
            }
        }
    }

    @Test func concurrentWritersLoseNothing() async throws {
        try await StoreFixture.with { store in
            let shared = try await makeRun(store).info.runID
            var own: [String] = []
            for _ in 0..<8 { own.append(try await makeRun(store).info.runID) }
            let owned = own
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in 0..<40 {
                            let step = Int64(writer * 1000 + index)
                            try await store.logBatch(
                                runID: shared, metrics: [Metric(key: "m", value: 1, timestamp: step, step: step)], params: [], tags: [])
                            try await store.logBatch(
                                runID: owned[writer], metrics: [Metric(key: "m", value: 1, timestamp: step, step: step)], params: [],
                                tags: [])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.getMetricHistory(runID: shared, key: "m", maxResults: nil, pageToken: nil).items.count == 320)
            for id in owned {
                #expect(try await store.getMetricHistory(runID: id, key: "m", maxResults: nil, pageToken: nil).items.count == 40)
            }
        }
    }

    /// Group commit must keep each caller's transaction its own: concurrent failing writes
    /// roll back alone while their neighbours in the same commit land.
    @Test func concurrentFailuresRollBackAlone() async throws {
        try await StoreFixture.with { store in
            let id = try await makeRun(store).info.runID
            try await store.logBatch(runID: id, metrics: [], params: [KeyValue(key: "fixed", value: "1")], tags: [])
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        // Odd writers also try to change the fixed param, so their whole batch fails.
                        let params = index % 2 == 1 ? [KeyValue(key: "fixed", value: "2")] : []
                        do {
                            try await store.logBatch(
                                runID: id, metrics: [Metric(key: "m", value: Double(index), timestamp: Int64(index), step: Int64(index))],
                                params: params, tags: [KeyValue(key: "t\(index)", value: "v")]
                            )
                            return true
                        } catch let error as CairnError {
                            #expect(error.code == .invalidParameterValue)
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 30)
            let history = try await store.getMetricHistory(runID: id, key: "m", maxResults: nil, pageToken: nil)
            #expect(history.items.map(\.step).sorted() == stride(from: 0, to: 60, by: 2).map(Int64.init))
            let run = try await store.getRun(id: id)
            #expect(run.data.tags.filter { $0.key.hasPrefix("t") }.count == 30)
            #expect(run.data.params == [KeyValue(key: "fixed", value: "1")])
        }
    }
}
