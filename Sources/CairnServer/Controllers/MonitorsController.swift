import CairnCore
import CairnMonitor
import CairnServing
import CairnStatistics
import CairnStore
import Foundation
import Hummingbird
import NIOPosix

/// `/api/cairn/v1/`: monitors, their reports and alerts, ground-truth feedback, reference
/// profiles and the inference log.
struct MonitorsController<Context: CairnRequestContext>: Sendable {
    let store: any MonitorStore
    let registry: any RegistryStore
    let service: MonitorService
    let log: InferenceLogReader
    let signatures: RegisteredSignatures
    let now: @Sendable () -> Int64

    /// Reference tables are uploaded whole; a larger training set should be sampled first.
    static var maximumReferenceBytes: Int { 512 << 20 }
    static var maximumFeedbackItems: Int { 10_000 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("monitors", use: create)
        group.get("monitors", use: mlflow(list))
        group.get("monitors/{monitor_id}", use: mlflowWithPath(get))
        group.put("monitors/{monitor_id}", use: update)
        group.delete("monitors/{monitor_id}", use: mlflowWithPath(delete))
        group.post("monitors/{monitor_id}/run", use: mlflowWithPath(runNow))
        group.get("monitors/{monitor_id}/report", use: report)
        group.get("alerts", use: mlflow(alerts))
        group.get("alerts/{alert_id}/deliveries", use: mlflowWithPath(deliveries))
        group.post("feedback", use: mlflow(feedback))
        group.post("references", use: putReference)
        group.get("references", use: mlflow(getReference))
        group.get("inference-log", use: exportLog)
    }

    // MARK: - Monitors

    @Sendable func create(_ request: Request, context: Context) async throws -> CairnAPIBody<MonitorAPI.OneMonitor> {
        let spec = try MonitorSpec.decodeSubmitted(
            try await JSONBody.read(request, limit: Self.specLimit, untypedIsJSON: true).readableBytesView)
        try await checkAgainstRegistry(spec)
        let time = now()
        let monitor = StoredMonitor(
            id: CairnID.make(), name: spec.name, modelName: spec.modelName,
            alias: spec.alias, spec: spec.encoded(), creationTime: time, lastUpdateTime: time, lastRunTime: nil)
        try await store.createMonitor(monitor)
        return CairnAPIBody(MonitorAPI.OneMonitor(monitor: try MonitorAPI.Monitor(monitor)))
    }

    @Sendable func update(_ request: Request, context: Context) async throws -> CairnAPIBody<MonitorAPI.OneMonitor> {
        var monitor = try await store.getMonitor(idOrName: try PathParameters(context).required("monitor_id"))
        let spec = try MonitorSpec.decodeSubmitted(
            try await JSONBody.read(request, limit: Self.specLimit, untypedIsJSON: true).readableBytesView)
        try await checkAgainstRegistry(spec)
        monitor.name = spec.name
        monitor.modelName = spec.modelName
        monitor.alias = spec.alias
        monitor.spec = spec.encoded()
        monitor.lastUpdateTime = now()
        try await store.updateMonitor(monitor)
        return CairnAPIBody(MonitorAPI.OneMonitor(monitor: try MonitorAPI.Monitor(monitor)))
    }

    /// What the registry already knows is checked now rather than found wrong at every
    /// evaluation: a model that does not exist or an alias it does not have is a typo (404),
    /// and so is a per-feature drift setting for a column the watched version does not have
    /// (400), as far as its signature and reference tell. Without an alias the newest version
    /// with traffic is watched, so a column any of the model's latest versions has is allowed.
    func checkAgainstRegistry(_ spec: MonitorSpec) async throws {
        let model = try await registry.getRegisteredModel(name: spec.modelName)
        let versions: [String]
        if let alias = spec.alias {
            guard let target = model.aliases.first(where: { $0.alias == alias }) else {
                let existing = model.aliases.map { "'\($0.alias)'" }.sorted().joined(separator: ", ")
                throw CairnError.notFound(
                    "Registered model '\(spec.modelName)' has no alias '\(alias)' "
                        + (existing.isEmpty ? "(it has none)" : "(its aliases: \(existing))")
                        + "; set it first (MlflowClient().set_registered_model_alias), or leave 'alias' out to watch the newest version with traffic."
                )
            }
            versions = [target.version]
        } else {
            versions = Array(Set(try await registry.getLatestVersions(name: spec.modelName, stages: []).map(\.version))).sorted()
        }
        guard !spec.drift.methods.isEmpty || !spec.drift.thresholds.isEmpty else { return }
        var features: Set<String> = []
        var known = false
        for version in versions {
            if let inputs = try await signatures.inputs(name: spec.modelName, version: version) {
                features.formUnion(inputs.compactMap(\.name))
                known = true
            }
            if let stored = try await store.getReference(modelName: spec.modelName, version: version),
                let reference = try? MonitorReference.decode(stored.profile)
            {
                features.formUnion(reference.features.features.map(\.name))
                known = true
            }
        }
        guard known else { return }
        let described =
            versions.count == 1
            ? "model '\(spec.modelName)' version \(versions[0])"
            : "model '\(spec.modelName)''s latest versions (\(versions.joined(separator: ", ")))"
        try spec.validateDriftFeatures(features, of: described)
    }

    @Sendable func list(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<MonitorAPI.Monitors> {
        CairnAPIBody(MonitorAPI.Monitors(monitors: try await store.listMonitors().map(MonitorAPI.Monitor.init)))
    }

    @Sendable func get(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        MonitorAPI.OneMonitor
    > {
        let monitor = try await store.getMonitor(idOrName: try path.required("monitor_id"))
        return CairnAPIBody(MonitorAPI.OneMonitor(monitor: try MonitorAPI.Monitor(monitor)))
    }

    @Sendable func delete(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> JSONBody {
        let monitor = try await store.getMonitor(idOrName: try path.required("monitor_id"))
        try await store.deleteMonitor(id: monitor.id)
        service.forget(monitorID: monitor.id)
        return .empty
    }

    /// Evaluates now, as the schedule would: alerts open or resolve and webhooks are queued.
    @Sendable func runNow(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        MonitorAPI.Run
    > {
        let monitor = try await store.getMonitor(idOrName: try path.required("monitor_id"))
        let (report, changed) = try await service.run(monitor)
        return CairnAPIBody(MonitorAPI.Run(report: report, alerts: changed.map(MonitorAPI.Alert.init)))
    }

    /// The report as JSON, or as a self-contained HTML page with `?format=html` or an
    /// `Accept` that prefers HTML. Reading it changes nothing: no alert opens or resolves.
    @Sendable func report(_ request: Request, context: Context) async throws -> Response {
        let monitor = try await store.getMonitor(idOrName: try PathParameters(context).required("monitor_id"))
        let query = try QueryString.parse(request.uri.query ?? "")
        var format = "json"
        if case .string(let given)? = query["format"] {
            guard given == "json" || given == "html" else {
                throw CairnError.invalidParameter("Invalid value '\(given)' for parameter 'format': use json or html.")
            }
            format = given
        } else if let accept = request.headers[.accept], accept.contains("text/html") {
            format = "html"
        }
        let report = try await service.evaluator.evaluate(monitor)
        if format == "html" {
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: report.html())))
        }
        return try CairnAPIBody(report).response()
    }

    // MARK: - Alerts

    @Sendable func alerts(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<MonitorAPI.Alerts> {
        var monitorID: String?
        if let given = try parameters.string("monitor_id") { monitorID = try await store.getMonitor(idOrName: given).id }
        let state = try Self.choice(parameters, "state", as: StoredAlert.State.self)
        let limit = try parameters.int("max_results") ?? 100
        guard (1...10_000).contains(limit) else { throw CairnError.invalidParameter("'max_results' must be between 1 and 10000.") }
        let alerts = try await store.listAlerts(monitorID: monitorID, state: state, limit: limit)
        return CairnAPIBody(MonitorAPI.Alerts(alerts: alerts.map(MonitorAPI.Alert.init)))
    }

    @Sendable func deliveries(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        MonitorAPI.Deliveries
    > {
        let deliveries = try await store.listDeliveries(alertID: try path.required("alert_id"))
        return CairnAPIBody(MonitorAPI.Deliveries(deliveries: deliveries.map(MonitorAPI.Delivery.init)))
    }

    // MARK: - Feedback

    /// Ground truth: `{"request_id": …, "label": …}` for a one-row request, `"labels": […]`
    /// (one per row, in order) for a multi-row one, `{"request_id": …, "row": i, "label": …}`
    /// for one row of a logged request, or `{"feedback": [ … ]}` for many.
    ///
    /// A malformed body (or item) is a 400 that stores nothing. Otherwise the answer is a 200
    /// that says, item by item, what became of it: `accepted` (stored; its labels match the
    /// logged request's rows), `refused` (not stored, with the reason: the count of labels
    /// does not match the rows, a row out of range, or the request was not scored), or
    /// `pending` (stored: the request id is not in the inference log yet, which is written
    /// asynchronously, so the labels are joined when it appears, and a monitor's report
    /// names feedback that never matched a logged request).
    @Sendable func feedback(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<MonitorAPI.FeedbackResults> {
        let items: [RequestParameters]
        if parameters.fields["feedback"] != nil {
            items = try parameters.objects("feedback")
            guard !items.isEmpty else { throw CairnError.invalidParameter("'feedback' must not be empty.") }
        } else {
            items = [parameters]
        }
        guard items.count <= Self.maximumFeedbackItems else {
            throw CairnError.invalidParameter("At most \(Self.maximumFeedbackItems) feedback items per request.")
        }
        let given: [(id: String, labels: [JSONValue], row: Int?)] = try items.map { item in
            let parsed = try FeedbackItem(fields: item.fields)
            return (parsed.requestID, parsed.labels, parsed.row)
        }

        let (log, ids) = (self.log, Set(given.map(\.id)))
        let logged = try await log.threadPool.runIfActive { try log.lookup(ids) }
        // Labels to store by request id, in first-seen order; a row label lands in what is
        // already stored for its request (or in a row of nulls), items applied in order.
        var labelsByID: [String: [JSONValue]] = [:]
        var order: [String] = []
        var ordered: Set<String> = []
        let rowIDs = Set(given.filter { $0.row != nil }.map(\.id)).filter { logged[$0] != nil }
        for (id, text) in try await store.feedback(requestIDs: Array(rowIDs)) {
            if case .array(let values)? = try? JSONValue.parse(Array(text.utf8)) { labelsByID[id] = values }
        }
        func keep(_ id: String, _ labels: [JSONValue]) {
            if ordered.insert(id).inserted { order.append(id) }
            labelsByID[id] = labels
        }
        var results: [(id: String, status: String, reason: String?)] = []
        for (id, labels, row) in given {
            guard let request = logged[id] else {
                if row != nil {
                    results.append(
                        (
                            id, "refused",
                            "Request '\(id)' is not in the inference log yet (records are written asynchronously): "
                                + "a 'row' label needs its row count; send it again once the request is logged, or send all its 'labels'."
                        ))
                    continue
                }
                results.append(
                    (
                        id, "pending",
                        "Request '\(id)' is not in the inference log yet (records are written asynchronously); "
                            + "the labels are kept and joined when it is logged."
                    ))
                keep(id, labels)
                continue
            }
            guard request.records == 1 else {
                results.append(
                    (
                        id, "refused",
                        "Request id '\(id)' was logged for \(request.records) requests (a client sent the same X-Request-ID more than once), "
                            + "so a label cannot say which of them it is for; give each request its own id."
                    ))
                continue
            }
            guard (200..<300).contains(request.status) else {
                results.append(
                    (id, "refused", "Request '\(id)' was answered with status \(request.status): it has no predictions to label."))
                continue
            }
            guard let rows = request.rows else {
                results.append((id, "refused", "The rows of request '\(id)' cannot be read back from the inference log."))
                continue
            }
            if let row {
                guard row < rows else {
                    results.append((id, "refused", "Row \(row) is out of range: request '\(id)' had \(rows) row(s), numbered from 0."))
                    continue
                }
                guard request.keeps(row: row) else {
                    results.append(
                        (
                            id, "refused",
                            "Row \(row) of request '\(id)' is not in the inference log: the request was over the per-record cap "
                                + "(--inference-log-max-record-bytes), so the log kept a sample of \(request.keptRows?.count ?? 0) of its \(rows) rows; label those rows."
                        ))
                    continue
                }
                var merged = labelsByID[id].flatMap { $0.count == rows ? $0 : nil } ?? [JSONValue](repeating: .null, count: rows)
                merged[row] = labels[0]
                keep(id, merged)
                results.append((id, "accepted", nil))
                continue
            }
            guard labels.count == rows else {
                let how =
                    rows == 1
                    ? "one 'label'"
                    : rows > FeedbackItem.maximumLabels
                        ? "one item per row with 'row' and 'label' (one item carries at most \(FeedbackItem.maximumLabels) labels)"
                        : "'labels', a list of \(rows) (one per row, in order), or 'row' with one 'label'"
                results.append((id, "refused", "\(labels.count) label(s) for request '\(id)', which had \(rows) row(s): send \(how)."))
                continue
            }
            keep(id, labels)
            results.append((id, "accepted", nil))
        }
        let feedback = order.map { id in
            var writer = JSONWriter()
            writer.value(.array(labelsByID[id]!))
            return Feedback(requestID: id, labels: String(decoding: writer.bytes, as: UTF8.self))
        }
        try await store.putFeedback(feedback, at: now())
        return CairnAPIBody(
            MonitorAPI.FeedbackResults(
                results.map { MonitorAPI.FeedbackResults.Item(requestID: $0.id, status: $0.status, reason: $0.reason) }))
    }

    // MARK: - References

    /// `POST /references?model_name=…&version=…[&target=…][&prediction=…]` with a CSV body:
    /// the training table profiled as the version's reference, replacing any earlier one. A
    /// table that lacks an input the version's signature requires is refused, and the earlier
    /// reference kept: every evaluation would otherwise find those features missing.
    @Sendable func putReference(_ request: Request, context: Context) async throws -> CairnAPIBody<MonitorAPI.OneReference> {
        let query = try RequestParameters(query: request.uri.query)
        let name = try query.requiredString("model_name")
        let version = try query.requiredString("version")
        _ = try await registry.getModelVersion(name: name, version: version)
        try Self.requireCSV(request)
        let body: ByteBuffer
        do {
            body = try await RequestBodyLimit(bytes: Self.maximumReferenceBytes).collect(request.body)
        } catch let error as CairnError {
            throw CairnError(error.code, error.message + " Upload a sample of the reference data.")
        }
        // Up to 512 MiB of CSV: parsed and profiled off the concurrency pool.
        let (target, prediction) = (try query.string("target"), try query.string("prediction"))
        let reference = try await log.threadPool.runIfActive {
            try MonitorReference(csv: body.readableBytesView, target: target, prediction: prediction)
        }
        if let inputs = try await signatures.inputs(name: name, version: version) {
            let columns = Set(reference.featureOrder ?? reference.features.features.map(\.name))
            let missing = inputs.filter { $0.required && !columns.contains($0.name ?? "") }.compactMap(\.name)
            guard missing.isEmpty else {
                throw CairnError.invalidParameter(
                    "The reference data lacks \(missing.count == 1 ? "the input" : "inputs") \(missing.map { "'\($0)'" }.joined(separator: ", ")) "
                        + "of model '\(name)' version \(version), whose signature takes \(inputs.compactMap(\.name).joined(separator: ", ")); "
                        + "its feature columns are \((reference.featureOrder ?? []).joined(separator: ", ")). The earlier reference, if any, is kept."
                )
            }
        }
        try await store.putReference(
            StoredReference(
                modelName: name, version: version, profile: try reference.encoded(), rowCount: reference.rowCount, creationTime: now()))
        return CairnAPIBody(MonitorAPI.OneReference(reference: MonitorAPI.Reference(reference, name: name, version: version)))
    }

    /// Reference data is CSV (what `cairn monitor reference` sends); a body that names no
    /// type is taken as CSV, as `requests.post(data=…)` sends one. Any other type is refused
    /// before the body is read, in MLflow's words for a wrong content type.
    static func requireCSV(_ request: Request) throws(CairnError) {
        guard let given = request.headers[.contentType] else { return }
        let mediaType = given.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard mediaType == "text/csv" || mediaType == "application/csv" else {
            throw CairnError.invalidParameter("Bad Request. Content-Type must be 'text/csv', got '\(given)'")
        }
    }

    @Sendable func getReference(_ parameters: RequestParameters, context: Context) async throws -> CairnAPIBody<MonitorAPI.OneReference> {
        let name = try parameters.requiredString("model_name")
        let version = try parameters.requiredString("version")
        _ = try RegistryValidation.validateVersion(version)
        guard let stored = try await store.getReference(modelName: name, version: version) else {
            throw CairnError.notFound("Model '\(name)' version \(version) has no reference profile.")
        }
        let reference = try MonitorReference.decode(stored.profile)
        return CairnAPIBody(MonitorAPI.OneReference(reference: MonitorAPI.Reference(reference, name: name, version: version)))
    }

    // MARK: - Inference log

    /// `GET /inference-log?model=…[&version=…][&start_ms=…][&end_ms=…][&max_results=…][&format=jsonl|csv]`:
    /// the newest `max_results` records in the range, oldest first. The body is streamed a
    /// chunk at a time (`InferenceLogExportPlan`), read and rendered on the thread pool, so
    /// a million records cost the server one chunk of memory, not the export.
    @Sendable func exportLog(_ request: Request, context: Context) async throws -> Response {
        let query = RequestParameters(fields: try QueryString.parse(request.uri.query ?? ""))
        let format = try Self.choice(query, "format", as: InferenceLogExportFormat.self) ?? .jsonl
        let limit = try query.int("max_results") ?? 10_000
        guard (1...1_000_000).contains(limit) else { throw CairnError.invalidParameter("'max_results' must be between 1 and 1000000.") }
        let logQuery = InferenceLogQuery(
            model: try query.string("model"), version: try query.string("version"),
            since: try query.int64("start_ms"), until: try query.int64("end_ms"), lastRecords: limit)
        let log = self.log
        let plan = try await log.threadPool.runIfActive { try log.exportPlan(logQuery, format: format) }
        var positionalNames: [String: [String]] = [:]
        if format == .csv {
            // Positional inputs are named as the version's reference names its features.
            for (model, version) in plan.modelVersions {
                guard let stored = try await store.getReference(modelName: model, version: version),
                    let order = (try? MonitorReference.decode(stored.profile))?.featureOrder
                else { continue }
                positionalNames[InferenceLogExportFormat.referenceKey(model: model, version: version)] = order
            }
        }
        let columns = plan.columnNames(positionalNames: positionalNames)
        let (store, names) = (self.store, positionalNames)
        return Response(
            status: .ok, headers: [.contentType: format.contentType],
            body: ResponseBody { writer in
                for range in plan.chunks() {
                    var labels: [String: [JSONValue]] = [:]
                    if format == .csv {
                        let ids = try await log.threadPool.runIfActive { try plan.scoredRequestIDs(range) }
                        for (id, text) in try await store.feedback(requestIDs: Array(Set(ids))) {
                            if case .array(let values)? = try? JSONValue.parse(Array(text.utf8)) { labels[id] = values }
                        }
                    }
                    let bytes = try await log.threadPool.runIfActive { [labels] in
                        try plan.render(range, labels: labels, positionalNames: names, columns: columns)
                    }
                    try await writer.write(ByteBuffer(bytes: bytes))
                }
                try await writer.finish(nil)
            })
    }

    // MARK: - Parameters

    /// An enum field of Cairn's own API: unlike MLflow's lenient parsing, an unknown value
    /// is an error, so a typo never silently means the default.
    static func choice<T: RawRepresentable & CaseIterable>(_ parameters: RequestParameters, _ name: String, as type: T.Type)
        throws(CairnError) -> T? where T.RawValue == String
    {
        guard let text = try parameters.string(name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw CairnError.invalidParameter(
                "Invalid value '\(text)' for parameter '\(name)': use one of \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return value
    }

    /// Monitor specs are small; a megabyte is far more than any real one.
    static var specLimit: RequestBodyLimit { RequestBodyLimit(bytes: 1 << 20) }
}
