import CairnCore
import CairnMonitor
import CairnStore
import Foundation
import Hummingbird
import NIOPosix

/// `/api/cairn/v1/`: monitors, their reports and alerts, ground-truth feedback, reference
/// profiles and the inference log.
struct MonitorsController<Context: RequestContext>: Sendable {
    let store: any MonitorStore
    let registry: any RegistryStore
    let service: MonitorService
    let log: InferenceLogReader
    let now: @Sendable () -> Int64

    /// Labels one feedback item may carry: a request with more rows is labelled row by row.
    static var maximumLabels: Int { 100_000 }

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

    @Sendable func create(_ request: Request, context: Context) async throws -> JSONBody {
        let spec = try MonitorSpec.decode(try await Self.jsonBody(request).readableBytesView)
        try await requireModel(spec)
        let time = now()
        let monitor = StoredMonitor(
            id: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), name: spec.name, modelName: spec.modelName,
            alias: spec.alias, spec: spec.encoded(), creationTime: time, lastUpdateTime: time, lastRunTime: nil)
        try await store.createMonitor(monitor)
        return .object { $0.key("monitor"); Self.write(monitor, to: &$0) }
    }

    @Sendable func update(_ request: Request, context: Context) async throws -> JSONBody {
        var monitor = try await store.getMonitor(idOrName: try PathParameters(context).required("monitor_id"))
        let spec = try MonitorSpec.decode(try await Self.jsonBody(request).readableBytesView)
        try await requireModel(spec)
        monitor.name = spec.name
        monitor.modelName = spec.modelName
        monitor.alias = spec.alias
        monitor.spec = spec.encoded()
        monitor.lastUpdateTime = now()
        try await store.updateMonitor(monitor)
        return .object { $0.key("monitor"); Self.write(monitor, to: &$0) }
    }

    /// A monitor of a model that does not exist is a typo, refused now rather than found
    /// empty at every evaluation.
    func requireModel(_ spec: MonitorSpec) async throws {
        _ = try await registry.getRegisteredModel(name: spec.modelName)
    }

    @Sendable func list(_ parameters: RequestParameters) async throws -> JSONBody {
        let monitors = try await store.listMonitors()
        return .object { writer in
            writer.key("monitors")
            writer.beginArray()
            for monitor in monitors { Self.write(monitor, to: &writer) }
            writer.endArray()
        }
    }

    @Sendable func get(_ parameters: RequestParameters, _ path: PathParameters) async throws -> JSONBody {
        let monitor = try await store.getMonitor(idOrName: try path.required("monitor_id"))
        return .object { $0.key("monitor"); Self.write(monitor, to: &$0) }
    }

    @Sendable func delete(_ parameters: RequestParameters, _ path: PathParameters) async throws -> JSONBody {
        let monitor = try await store.getMonitor(idOrName: try path.required("monitor_id"))
        try await store.deleteMonitor(id: monitor.id)
        service.forget(monitorID: monitor.id)
        return .empty
    }

    /// Evaluates now, as the schedule would: alerts open or resolve and webhooks are queued.
    @Sendable func runNow(_ parameters: RequestParameters, _ path: PathParameters) async throws -> JSONBody {
        let monitor = try await store.getMonitor(idOrName: try path.required("monitor_id"))
        let (report, changed) = try await service.run(monitor)
        let reportJSON = try Self.encode(report)
        return .object { writer in
            writer.key("report"); writer.raw(reportJSON)
            writer.key("alerts")
            writer.beginArray()
            for alert in changed { Self.write(alert, to: &writer) }
            writer.endArray()
        }
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
        return JSONBody(bytes: Array(try Self.encode(report).utf8)).response()
    }

    // MARK: - Alerts

    @Sendable func alerts(_ parameters: RequestParameters) async throws -> JSONBody {
        var monitorID: String?
        if let given = try parameters.string("monitor_id") { monitorID = try await store.getMonitor(idOrName: given).id }
        let state = try Self.choice(parameters, "state", as: StoredAlert.State.self)
        let limit = try parameters.int("max_results") ?? 100
        guard (1...10_000).contains(limit) else { throw CairnError.invalidParameter("'max_results' must be between 1 and 10000.") }
        let alerts = try await store.listAlerts(monitorID: monitorID, state: state, limit: limit)
        return .object { writer in
            writer.key("alerts")
            writer.beginArray()
            for alert in alerts { Self.write(alert, to: &writer) }
            writer.endArray()
        }
    }

    @Sendable func deliveries(_ parameters: RequestParameters, _ path: PathParameters) async throws -> JSONBody {
        let deliveries = try await store.listDeliveries(alertID: try path.required("alert_id"))
        return .object { writer in
            writer.key("deliveries")
            writer.beginArray()
            for delivery in deliveries {
                writer.beginObject()
                writer.key("event"); writer.string(delivery.event)
                writer.key("url"); writer.string(delivery.url)
                writer.key("state"); writer.string(delivery.state.rawValue)
                writer.key("attempts"); writer.int(Int64(delivery.attempts))
                writer.key("max_attempts"); writer.int(Int64(delivery.maxAttempts))
                writer.key("next_attempt_time"); writer.int(delivery.nextAttemptTime)
                writer.key("last_error"); if let error = delivery.lastError { writer.string(error) } else { writer.null() }
                writer.endObject()
            }
            writer.endArray()
        }
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
    @Sendable func feedback(_ parameters: RequestParameters) async throws -> JSONBody {
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
        var given: [(id: String, labels: [JSONValue], row: Int?)] = []
        for item in items {
            let id = try item.requiredString("request_id")
            guard (1...128).contains(id.utf8.count), !id.utf8.contains(0) else {
                throw CairnError.invalidParameter("'request_id' must be 1 to 128 characters.")
            }
            let labels: [JSONValue]
            switch (item.fields["label"], item.fields["labels"]) {
            case (let label?, nil): labels = [label]
            case (nil, .array(let values)?): labels = values
            default: throw CairnError.invalidParameter("Feedback for '\(id)' needs exactly one of 'label' or 'labels' (an array, one per row).")
            }
            guard !labels.isEmpty, labels.count <= Self.maximumLabels else {
                throw CairnError.invalidParameter("Feedback for '\(id)' must carry 1 to \(Self.maximumLabels) labels.")
            }
            var row: Int?
            if let value = item.fields["row"] {
                guard case .number(let number, _) = value, number.rounded() == number, number >= 0, number < 1e9 else {
                    throw CairnError.invalidParameter("'row' must be a row index, a whole number ≥ 0 (feedback for '\(id)').")
                }
                guard item.fields["labels"] == nil else {
                    throw CairnError.invalidParameter("'row' takes one 'label', not 'labels' (feedback for '\(id)').")
                }
                row = Int(number)
            }
            for label in labels {
                switch label {
                case .number(let value, _) where !value.isFinite:
                    throw CairnError.invalidParameter("A label must be a finite number (feedback for '\(id)').")
                case .number, .string, .bool, .null: continue
                default: throw CairnError.invalidParameter("A label must be a number, a string, a boolean or null (feedback for '\(id)').")
                }
            }
            given.append((id, labels, row))
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
                    results.append((id, "refused", "Request '\(id)' is not in the inference log yet (records are written asynchronously): "
                        + "a 'row' label needs its row count; send it again once the request is logged, or send all its 'labels'."))
                    continue
                }
                results.append((id, "pending", "Request '\(id)' is not in the inference log yet (records are written asynchronously); "
                    + "the labels are kept and joined when it is logged."))
                keep(id, labels)
                continue
            }
            guard (200..<300).contains(request.status) else {
                results.append((id, "refused", "Request '\(id)' was answered with status \(request.status): it has no predictions to label."))
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
                    results.append((id, "refused", "Row \(row) of request '\(id)' is not in the inference log: the request was over the per-record cap "
                        + "(--inference-log-max-record-bytes), so the log kept a sample of \(request.keptRows?.count ?? 0) of its \(rows) rows; label those rows."))
                    continue
                }
                var merged = labelsByID[id].flatMap { $0.count == rows ? $0 : nil } ?? [JSONValue](repeating: .null, count: rows)
                merged[row] = labels[0]
                keep(id, merged)
                results.append((id, "accepted", nil))
                continue
            }
            guard labels.count == rows else {
                let how = rows == 1 ? "one 'label'"
                    : rows > Self.maximumLabels ? "one item per row with 'row' and 'label' (one item carries at most \(Self.maximumLabels) labels)"
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
        return .object { writer in
            for status in ["accepted", "pending", "refused"] {
                writer.key(status); writer.int(Int64(results.count { $0.status == status }))
            }
            writer.key("results")
            writer.beginArray()
            for result in results {
                writer.beginObject()
                writer.key("request_id"); writer.string(result.id)
                writer.key("status"); writer.string(result.status)
                if let reason = result.reason { writer.key("reason"); writer.string(reason) }
                writer.endObject()
            }
            writer.endArray()
        }
    }

    // MARK: - References

    /// `POST /references?model_name=…&version=…[&target=…][&prediction=…]` with a CSV body:
    /// the training table profiled as the version's reference, replacing any earlier one.
    @Sendable func putReference(_ request: Request, context: Context) async throws -> JSONBody {
        let query = RequestParameters(fields: try QueryString.parse(request.uri.query ?? ""))
        let name = try query.requiredString("model_name")
        let version = try query.requiredString("version")
        _ = try await registry.getModelVersion(name: name, version: version)
        let body: ByteBuffer
        do {
            body = try await RequestBodyLimit(bytes: Self.maximumReferenceBytes).collect(request.body)
        } catch let error as CairnError {
            throw CairnError(error.code, error.message + " Upload a sample of the reference data.")
        }
        // Up to 512 MiB of CSV: parsed and profiled off the concurrency pool.
        let (target, prediction) = (try query.string("target"), try query.string("prediction"))
        let reference = try await log.threadPool.runIfActive { try MonitorReference(csv: body.readableBytesView, target: target, prediction: prediction) }
        try await store.putReference(StoredReference(
            modelName: name, version: version, profile: try reference.encoded(), rowCount: reference.rowCount, creationTime: now()))
        return .object { writer in
            writer.key("reference")
            Self.write(reference, name: name, version: version, to: &writer)
        }
    }

    @Sendable func getReference(_ parameters: RequestParameters) async throws -> JSONBody {
        let name = try parameters.requiredString("model_name")
        let version = try parameters.requiredString("version")
        guard let stored = try await store.getReference(modelName: name, version: version) else {
            throw CairnError.notFound("Model '\(name)' version \(version) has no reference profile.")
        }
        let reference = try MonitorReference.decode(stored.profile)
        return .object { writer in
            writer.key("reference")
            Self.write(reference, name: name, version: version, to: &writer)
        }
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
                      let order = (try? MonitorReference.decode(stored.profile))?.featureOrder else { continue }
                positionalNames[InferenceLogExportFormat.referenceKey(model: model, version: version)] = order
            }
        }
        let columns = plan.columnNames(positionalNames: positionalNames)
        let (store, names) = (self.store, positionalNames)
        return Response(status: .ok, headers: [.contentType: format.contentType], body: ResponseBody { writer in
            for range in plan.chunks() {
                var labels: [String: [JSONValue]] = [:]
                if format == .csv {
                    let ids = try await log.threadPool.runIfActive { try plan.scoredRequestIDs(range) }
                    for (id, text) in try await store.feedback(requestIDs: Array(Set(ids))) {
                        if case .array(let values)? = try? JSONValue.parse(Array(text.utf8)) { labels[id] = values }
                    }
                }
                let bytes = try await log.threadPool.runIfActive { [labels] in try plan.render(range, labels: labels, positionalNames: names, columns: columns) }
                try await writer.write(ByteBuffer(bytes: bytes))
            }
            try await writer.finish(nil)
        })
    }

    // MARK: - Encoding

    /// An enum field of Cairn's own API: unlike MLflow's lenient parsing, an unknown value
    /// is an error, so a typo never silently means the default.
    static func choice<T: RawRepresentable & CaseIterable>(_ parameters: RequestParameters, _ name: String, as type: T.Type) throws(CairnError) -> T? where T.RawValue == String {
        guard let text = try parameters.string(name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw CairnError.invalidParameter("Invalid value '\(text)' for parameter '\(name)': use one of \(T.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return value
    }

    static func jsonBody(_ request: Request) async throws -> ByteBuffer {
        let contentType = request.headers[.contentType] ?? "application/json"
        guard contentType.lowercased().hasPrefix("application/json") else {
            throw CairnError.invalidParameter("Bad Request. Content-Type must be 'application/json', got '\(contentType)'")
        }
        return try await RequestBodyLimit(bytes: 1 << 20).collect(request.body)
    }

    static func encode(_ report: MonitorReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        // As MLflow's proto-JSON writes non-finite doubles.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    static func write(_ monitor: StoredMonitor, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("monitor_id"); writer.string(monitor.id)
        writer.key("name"); writer.string(monitor.name)
        writer.key("model_name"); writer.string(monitor.modelName)
        writer.key("alias"); if let alias = monitor.alias { writer.string(alias) } else { writer.null() }
        writer.key("spec"); writer.raw(monitor.spec)
        writer.key("creation_time"); writer.int(monitor.creationTime)
        writer.key("last_update_time"); writer.int(monitor.lastUpdateTime)
        writer.key("last_run_time"); if let time = monitor.lastRunTime { writer.int(time) } else { writer.null() }
        writer.endObject()
    }

    static func write(_ alert: StoredAlert, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("alert_id"); writer.string(alert.id)
        writer.key("monitor_id"); writer.string(alert.monitorID)
        writer.key("check"); writer.string(alert.check)
        writer.key("state"); writer.string(alert.state.rawValue)
        writer.key("value"); if let value = alert.value { writer.double(value) } else { writer.null() }
        writer.key("threshold"); writer.double(alert.threshold)
        writer.key("message"); writer.string(alert.message)
        writer.key("model_name"); writer.string(alert.modelName)
        writer.key("model_version"); if let version = alert.modelVersion { writer.string(version) } else { writer.null() }
        writer.key("fired_at"); writer.int(alert.firedAt)
        writer.key("resolved_at"); if let time = alert.resolvedAt { writer.int(time) } else { writer.null() }
        writer.endObject()
    }

    /// A reference's summary: what each feature is, not its retained sample.
    static func write(_ reference: MonitorReference, name: String, version: String, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("model_name"); writer.string(name)
        writer.key("version"); writer.string(version)
        writer.key("row_count"); writer.int(Int64(reference.rowCount))
        writer.key("prediction_source"); if let source = reference.predictionSource { writer.string(source) } else { writer.null() }
        writer.key("features")
        writer.beginArray()
        for feature in reference.features.features + (reference.prediction.map { [$0] } ?? []) {
            writer.beginObject()
            writer.key("name"); writer.string(feature.name)
            writer.key("kind"); writer.string(feature.kind.rawValue)
            writer.key("null_share"); writer.double(feature.nullShare)
            if let numeric = feature.numeric {
                writer.key("mean"); writer.double(numeric.mean)
                writer.key("std"); writer.double(numeric.std)
                writer.key("min"); writer.double(numeric.min)
                writer.key("max"); writer.double(numeric.max)
            }
            if let categorical = feature.categorical {
                writer.key("distinct_count"); writer.int(Int64(categorical.distinctCount))
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}
