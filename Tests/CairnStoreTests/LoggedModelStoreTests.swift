import CairnCore
import Testing

@testable import CairnStore

@Suite struct LoggedModelStoreTests {
    @Test func createGetFinalizeAndSoftDelete() async throws {
        try await RegistryFixture.with { stores in
            let experiment = try await stores.tracking.createExperiment(name: "e", artifactLocation: nil, tags: [])
            let model = try await stores.logged.createLoggedModel(
                CreateLoggedModel(
                    experimentID: experiment, name: "clf", modelType: "sklearn", sourceRunID: "r1",
                    params: [KeyValue(key: "alpha", value: "0.5")], tags: [KeyValue(key: "mlflow.user", value: "me")]
                ))
            let id = model.info.modelID
            #expect(id.hasPrefix("m-") && id.count == 34 && id.dropFirst(2).allSatisfy(\.isHexDigit))
            #expect(model.info.status == .pending)
            #expect(model.info.artifactUri == "mlflow-artifacts:/\(experiment)/models/\(id)/artifacts")
            #expect(model.info.experimentID == experiment)

            let fetched = try await stores.logged.getLoggedModel(id: id, allowDeleted: false)
            #expect(fetched.info.name == "clf" && fetched.info.modelType == "sklearn" && fetched.info.sourceRunID == "r1")
            #expect(fetched.info.tags == [KeyValue(key: "mlflow.user", value: "me")])
            #expect(fetched.data.params == [KeyValue(key: "alpha", value: "0.5")])

            let ready = try await stores.logged.finalizeLoggedModel(id: id, status: .ready)
            #expect(ready.info.status == .ready)
            #expect(ready.info.lastUpdatedTimestamp > model.info.lastUpdatedTimestamp)

            try await stores.logged.deleteLoggedModel(id: id)
            await expectCairnError(.resourceDoesNotExist) { _ = try await stores.logged.getLoggedModel(id: id, allowDeleted: false) }
            #expect(try await stores.logged.getLoggedModel(id: id, allowDeleted: true).info.lifecycleStage == .deleted)
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.logged.getLoggedModel(id: "m-missing", allowDeleted: true)
            }
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.logged.finalizeLoggedModel(id: "m-missing", status: .ready)
            }
            await expectCairnError(.resourceDoesNotExist) { try await stores.logged.deleteLoggedModel(id: "m-missing") }

            let unnamed = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: experiment))
            #expect(!unnamed.info.name.isEmpty)
        }
    }

    @Test func createIsCheckedFirst() async throws {
        try await RegistryFixture.with { stores in
            await expectCairnError(.resourceDoesNotExist) {
                _ = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: "99"))
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: "x y"))
            }
            for bad in ["", "a/b", "a.b", "a:b", "50%", "it's"] {
                await expectCairnError(.invalidParameterValue) {
                    _ = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: "0", name: bad))
                }
            }
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.logged.createLoggedModel(
                    CreateLoggedModel(experimentID: "0", params: [KeyValue(key: "a", value: "1"), KeyValue(key: "a", value: "2")]))
            }
            let experiment = try await stores.tracking.createExperiment(name: "gone", artifactLocation: nil, tags: [])
            try await stores.tracking.deleteExperiment(id: experiment)
            await expectCairnError(.invalidParameterValue) {
                _ = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: experiment))
            }
            #expect(try await stores.logged.searchLoggedModels(LoggedModelSearch(experimentIDs: ["0", experiment])).items.isEmpty)
        }
    }

    @Test func tagsAndParams() async throws {
        try await RegistryFixture.with { stores in
            let id = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: "0", name: "m")).info.modelID
            try await stores.logged.setLoggedModelTags(id: id, tags: [KeyValue(key: "a", value: "1"), KeyValue(key: "b", value: "2")])
            try await stores.logged.setLoggedModelTags(id: id, tags: [KeyValue(key: "a", value: "3")])
            #expect(
                try await stores.logged.getLoggedModel(id: id, allowDeleted: false).info.tags == [
                    KeyValue(key: "a", value: "3"), KeyValue(key: "b", value: "2"),
                ])
            try await stores.logged.deleteLoggedModelTag(id: id, key: "a")
            await expectCairnError(.resourceDoesNotExist) { try await stores.logged.deleteLoggedModelTag(id: id, key: "a") }
            await expectCairnError(.resourceDoesNotExist) {
                try await stores.logged.setLoggedModelTags(id: "m-missing", tags: [KeyValue(key: "a", value: "1")])
            }
            await expectCairnError(.invalidParameterValue) {
                try await stores.logged.setLoggedModelTags(id: id, tags: [KeyValue(key: "../x", value: "1")])
            }

            let params = (0..<250).map { KeyValue(key: "p\($0)", value: "\($0)") }
            for start in stride(from: 0, to: params.count, by: 100) {
                try await stores.logged.logLoggedModelParams(id: id, params: Array(params[start..<min(start + 100, params.count)]))
            }
            try await stores.logged.logLoggedModelParams(id: id, params: [KeyValue(key: "p1", value: "1")])
            await expectCairnError(.invalidParameterValue) {
                try await stores.logged.logLoggedModelParams(id: id, params: [KeyValue(key: "p1", value: "changed")])
            }
            #expect(try await stores.logged.getLoggedModel(id: id, allowDeleted: false).data.params.count == 250)
        }
    }

    @Test func runMetricsWithModelIdBecomeModelMetrics() async throws {
        try await RegistryFixture.with { stores in
            let run = try await stores.tracking.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            let runID = run.info.runID
            let id = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: "0", name: "m", sourceRunID: runID)).info
                .modelID
            try await stores.tracking.logBatch(
                runID: runID, metrics: [Metric(key: "loss", value: 1.5, timestamp: 10, step: 0)], params: [], tags: [])
            // The client re-logs the run's metrics with the model id after logging a model.
            try await stores.tracking.logBatch(
                runID: runID,
                metrics: [
                    Metric(key: "loss", value: 1.5, timestamp: 10, step: 0, modelID: id),
                    Metric(key: "loss", value: 1.5, timestamp: 10, step: 0, modelID: id),
                    Metric(key: "acc", value: .nan, timestamp: 11, step: 1, modelID: id, datasetName: "train", datasetDigest: "abc"),
                ], params: [], tags: [])
            let metrics = try await stores.logged.getLoggedModel(id: id, allowDeleted: false).data.metrics
            #expect(metrics.count == 2)
            #expect(metrics[0].key == "acc" && metrics[0].value.isNaN && metrics[0].datasetName == "train" && metrics[0].runID == runID)
            #expect(metrics[1] == Metric(key: "loss", value: 1.5, timestamp: 10, step: 0, modelID: id, runID: runID))
            // The run's own history is unchanged in size.
            #expect(try await stores.tracking.getMetricHistory(runID: runID, key: "loss", maxResults: nil, pageToken: nil).items.count == 1)
        }
    }

    @Test func searchFiltersOrdersAndPages() async throws {
        try await RegistryFixture.with { stores in
            let other = try await stores.tracking.createExperiment(name: "other", artifactLocation: nil, tags: [])
            let run = try await stores.tracking.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            var ids: [String: String] = [:]
            for (name, experiment, accuracy) in [("a", "0", 0.9), ("b", "0", 0.5), ("c", other, 0.7), ("d", "0", Double.nan)] {
                let model = try await stores.logged.createLoggedModel(
                    CreateLoggedModel(
                        experimentID: experiment, name: name, modelType: name == "a" ? "special" : "",
                        params: [KeyValue(key: "p", value: name)], tags: [KeyValue(key: "t", value: name == "b" ? "x" : "y")]
                    ))
                ids[name] = model.info.modelID
                try await stores.tracking.logBatch(
                    runID: run.info.runID,
                    metrics: [
                        Metric(
                            key: "acc", value: accuracy, timestamp: 5, step: 0, modelID: model.info.modelID,
                            datasetName: name == "c" ? "eval" : "train")
                    ], params: [], tags: [])
            }
            _ = try await stores.logged.createLoggedModel(CreateLoggedModel(experimentID: "0", name: "e"))
            _ = try await stores.logged.finalizeLoggedModel(id: ids["a"]!, status: .ready)
            try await stores.logged.deleteLoggedModel(id: ids["b"]!)

            func search(
                _ filter: String = "", experiments: [String] = ["0", other], datasets: [LoggedModelDatasetFilter] = [],
                order: [LoggedModelOrder] = [], max: Int = 50, token: String? = nil
            ) async throws -> Page<LoggedModel> {
                try await stores.logged.searchLoggedModels(
                    LoggedModelSearch(
                        experimentIDs: experiments, filter: try SearchFilter.parse(filter, for: .loggedModels),
                        datasets: datasets, orderBy: order, maxResults: max, pageToken: token
                    ))
            }
            func names(_ page: Page<LoggedModel>) -> [String] { page.items.map(\.info.name) }
            func order(_ field: String, _ ascending: Bool = true, dataset: String? = nil) throws -> LoggedModelOrder {
                LoggedModelOrder(clause: try OrderByClause.loggedModelField(field, ascending: ascending), datasetName: dataset)
            }

            // Newest first by default; deleted models are gone.
            #expect(names(try await search()) == ["e", "d", "c", "a"])
            #expect(names(try await search(experiments: [other])) == ["c"])
            #expect(names(try await search(experiments: [])).isEmpty)
            #expect(names(try await search("name = 'a'")) == ["a"])
            #expect(names(try await search("name IN ('a', 'c')")) == ["c", "a"])
            #expect(names(try await search("status = 'READY'")) == ["a"])
            #expect(names(try await search("attributes.model_type = 'special'")) == ["a"])
            #expect(names(try await search("metrics.acc > 0.6")) == ["c", "a"])
            #expect(names(try await search("metrics.acc > 0.6", datasets: [LoggedModelDatasetFilter(name: "train")])) == ["a"])
            #expect(names(try await search(datasets: [LoggedModelDatasetFilter(name: "eval")])) == ["c"])
            #expect(names(try await search("params.p = 'c' AND tags.t = 'y'")) == ["c"])
            #expect(names(try await search("creation_time > 0 AND name LIKE '%'")) == ["e", "d", "c", "a"])
            // Models without the metric (or with NaN) come last, newest first.
            #expect(names(try await search(order: [try order("metrics.acc", false)])) == ["a", "c", "e", "d"])
            #expect(names(try await search(order: [try order("metrics.acc")])) == ["c", "a", "e", "d"])
            #expect(names(try await search(order: [try order("metrics.acc", dataset: "train")])) == ["a", "e", "d", "c"])
            #expect(names(try await search(order: [try order("name")])) == ["a", "c", "d", "e"])

            let first = try await search(order: [try order("name")], max: 3)
            #expect(names(first) == ["a", "c", "d"])
            let second = try await search(order: [try order("name")], max: 3, token: first.nextPageToken)
            #expect(names(second) == ["e"])
            #expect(second.nextPageToken == nil)
            await expectCairnError(.invalidParameterValue) { _ = try await search(datasets: [LoggedModelDatasetFilter(name: "")]) }
        }
    }
}
