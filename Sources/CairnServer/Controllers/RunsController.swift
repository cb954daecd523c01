import CairnCore
import CairnStore
import Hummingbird

/// `/mlflow/runs/*` and `/mlflow/metrics/*`: runs and everything logged to them.
struct RunsController<Context: CairnRequestContext>: Sendable {
    let store: any TrackingStore
    let now: @Sendable () -> Int64

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("runs/create", use: mlflow(create))
        group.get("runs/get", use: mlflow(get))
        group.post("runs/update", use: mlflow(update))
        group.post("runs/delete", use: mlflow(delete))
        group.post("runs/restore", use: mlflow(restore))
        group.post("runs/search", use: mlflow(search))
        group.post("runs/log-metric", use: mlflow(logMetric))
        group.post("runs/log-parameter", use: mlflow(logParameter))
        group.post("runs/log-batch", use: mlflow(logBatch))
        group.post("runs/set-tag", use: mlflow(setTag))
        group.post("runs/delete-tag", use: mlflow(deleteTag))
        group.post("runs/log-inputs", use: mlflow(logInputs))
        group.post("runs/outputs", use: mlflow(logOutputs))
        // Streamed, so it answers with a Response rather than a JSONBody.
        group.get("metrics/get-history", use: mlflow(getHistory))
        group.get("metrics/get-history-bulk-interval", use: mlflow(getHistoryBulkInterval))
    }

    @Sendable func create(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let request = CreateRun(
            experimentID: try parameters.string("experiment_id").flatMap { $0.isEmpty ? nil : $0 } ?? "0",
            userID: try parameters.string("user_id") ?? "",
            runName: try parameters.string("run_name"),
            startTime: try parameters.int64("start_time") ?? now(),
            tags: try parameters.keyValues("tags")
        )
        let run = try await store.createRun(request)
        return .object {
            $0.key("run")
            $0.write(run)
        }
    }

    @Sendable func get(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let run = try await store.getRun(id: try parameters.runID())
        return .object {
            $0.key("run")
            $0.write(run)
        }
    }

    @Sendable func update(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let info = try await store.updateRun(
            id: try parameters.runID(),
            status: try parameters.enumValue("status", as: RunStatus.self),
            endTime: try parameters.int64("end_time"),
            runName: try parameters.string("run_name")
        )
        return .object {
            $0.key("run_info")
            $0.write(info)
        }
    }

    @Sendable func delete(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteRun(id: try parameters.runID())
        return .empty
    }

    @Sendable func restore(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.restoreRun(id: try parameters.runID())
        return .empty
    }

    @Sendable func search(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let maxResults = try parameters.int("max_results") ?? TrackingLimits.defaultRunSearchMaxResults
        guard (1...TrackingLimits.maxResultsThreshold).contains(maxResults) else {
            throw CairnError.invalidParameter(
                "Invalid value \(maxResults) for parameter 'max_results' supplied. It must be at most \(TrackingLimits.maxResultsThreshold), and at least 1."
            )
        }
        let query = RunSearch(
            // With --auth, experiments the caller may not read are dropped, as MLflow does.
            experimentIDs: try parameters.strings("experiment_ids").filter { context.canRead(.experiment, $0) },
            filter: try SearchRequest.filter(try parameters.string("filter"), kind: .runs),
            orderBy: try SearchRequest.orderBy(try parameters.strings("order_by"), kind: .runs),
            viewType: try parameters.enumValue("run_view_type", as: ViewType.self) ?? .activeOnly,
            maxResults: maxResults,
            pageToken: try parameters.string("page_token")
        )
        let page = try await store.searchRuns(query)
        return .object { writer in
            writer.list("runs", page.items)
            writer.field("next_page_token", page.nextPageToken)
        }
    }

    @Sendable func logMetric(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let metric = try Self.metric(from: parameters)
        try await store.logBatch(runID: try parameters.runID(), metrics: [metric], params: [], tags: [])
        return .empty
    }

    @Sendable func logParameter(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let param = KeyValue(key: try parameters.requiredString("key"), value: try Self.requiredValue(parameters))
        try await store.logBatch(runID: try parameters.runID(), metrics: [], params: [param], tags: [])
        return .empty
    }

    @Sendable func setTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let tag = KeyValue(key: try parameters.requiredString("key"), value: try Self.requiredValue(parameters))
        try await store.logBatch(runID: try parameters.runID(), metrics: [], params: [], tags: [tag])
        return .empty
    }

    @Sendable func logBatch(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let metrics = try parameters.objects("metrics").map(Self.metric(from:))
        try await store.logBatch(
            runID: try parameters.runID(),
            metrics: metrics,
            params: try parameters.keyValues("params"),
            tags: try parameters.keyValues("tags")
        )
        return .empty
    }

    @Sendable func deleteTag(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        try await store.deleteTag(runID: try parameters.runID(), key: try parameters.requiredString("key"))
        return .empty
    }

    @Sendable func logInputs(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        var datasets: [DatasetInput] = []
        for input in try parameters.objects("datasets") {
            guard let dataset = try input.object("dataset") else { throw CairnError.missingParameter("dataset") }
            datasets.append(
                DatasetInput(
                    tags: try input.keyValues("tags"),
                    dataset: Dataset(
                        name: try dataset.requiredString("name"),
                        digest: try dataset.requiredString("digest"),
                        sourceType: try dataset.requiredString("source_type"),
                        source: try dataset.requiredString("source"),
                        schema: try dataset.string("schema"),
                        profile: try dataset.string("profile")
                    )
                ))
        }
        let models = try parameters.objects("models").map { model throws(CairnError) in
            ModelReference(modelID: try model.requiredString("model_id"))
        }
        try await store.logInputs(runID: try parameters.runID(), datasets: datasets, models: models)
        return .empty
    }

    @Sendable func logOutputs(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let models = try parameters.objects("models").map { model throws(CairnError) in
            ModelReference(modelID: try model.requiredString("model_id"), step: try model.int64("step") ?? 0)
        }
        try await store.logOutputs(runID: try parameters.runID(), models: models)
        return .empty
    }

    /// Streams the page: points go out a chunk at a time as the store reads them, so the
    /// server holds one chunk however long the history (MLflow answers without `max_results`
    /// with every point). The first chunk is read before the response starts, so a failing
    /// read still gets MLflow's error shape.
    @Sendable func getHistory(_ parameters: RequestParameters, context: Context) async throws -> Response {
        var cursor = try store.metricHistory(
            runID: try parameters.runID(),
            key: try parameters.requiredString("metric_key"),
            maxResults: try parameters.int("max_results"),
            pageToken: try parameters.string("page_token")
        )
        let first = try await cursor.next()
        let body = ResponseBody { [cursor] writer in
            var cursor = cursor
            var json = JSONWriter(capacity: 1 << 16)
            json.beginObject()
            if let first {
                json.key("metrics")
                json.beginArray()
                for metric in first { json.write(metric) }
                try await writer.write(ByteBuffer(bytes: json.takeBytes()))
                while let chunk = try await cursor.next() {
                    for metric in chunk { json.write(metric) }
                    try await writer.write(ByteBuffer(bytes: json.takeBytes()))
                }
                json.endArray()
            }
            json.field("next_page_token", cursor.nextPageToken)
            json.endObject()
            try await writer.write(ByteBuffer(bytes: json.takeBytes()))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    @Sendable func getHistoryBulkInterval(_ parameters: RequestParameters, context: Context) async throws -> JSONBody {
        let runIDs = try parameters.strings("run_ids")
        guard !runIDs.isEmpty else { throw CairnError.missingParameter("run_ids") }
        guard runIDs.count <= TrackingLimits.maxRunIdsForBulkInterval else {
            throw CairnError.invalidParameter(
                "GetMetricHistoryBulkInterval request must specify at most \(TrackingLimits.maxRunIdsForBulkInterval) run_ids. Received \(runIDs.count) run_ids."
            )
        }
        let startStep = try parameters.int64("start_step")
        let endStep = try parameters.int64("end_step")
        guard (startStep == nil) == (endStep == nil) else {
            throw CairnError.invalidParameter("If either start step or end step are specified, both must be specified.")
        }
        if let startStep, let endStep, startStep > endStep {
            throw CairnError.invalidParameter(
                "end_step must be greater than start_step. Found start_step=\(startStep) and end_step=\(endStep).")
        }
        let maxResults = try parameters.int("max_results") ?? 2500
        guard (1...2500).contains(maxResults) else {
            throw CairnError.invalidParameter("max_results must be between 1 and 2500. Received \(maxResults).")
        }
        let metrics = try await store.getMetricHistoryBulkInterval(
            runIDs: runIDs, key: try parameters.requiredString("metric_key"),
            startStep: startStep, endStep: endStep, maxResults: maxResults
        )
        return .object { $0.list("metrics", metrics) }
    }

    // MARK: - Field parsing

    static func requiredValue(_ parameters: RequestParameters) throws(CairnError) -> String {
        guard let value = try parameters.string("value") else { throw .missingParameter("value") }
        return value
    }

    static func metric(from parameters: RequestParameters) throws(CairnError) -> Metric {
        Metric(
            key: try parameters.requiredString("key"),
            value: try parameters.requiredDouble("value"),
            timestamp: try parameters.requiredInt64("timestamp"),
            step: try parameters.int64("step") ?? 0,
            modelID: try parameters.string("model_id"),
            datasetName: try parameters.string("dataset_name"),
            datasetDigest: try parameters.string("dataset_digest")
        )
    }
}
