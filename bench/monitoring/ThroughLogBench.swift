import CairnMonitor
import CairnStatistics
import CairnStore
import Foundation
import Logging

/// Drift through the real path: rows logged by `InferenceLogWriter`, a monitor evaluated
/// over them by `MonitorEvaluator` with its reference in SQLite.
struct ThroughLogBench {
    let shape: String
    let reference: [String: FeatureColumn]
    let current: [String: FeatureColumn]
    let features: Int

    var names: [String] { (0..<features).map { String(format: "f%02d", $0) } }

    static func values(_ column: FeatureColumn?) -> [Double] {
        guard case .numeric(let values)? = column else { fatalError("numeric columns only") }
        return values
    }

    /// A class per row, so prediction drift is computed too: whether f00 is above its mean.
    static func predictions(_ f00: [Double]) -> [Int] { f00.map { $0 > 0 ? 1 : 0 } }

    /// `logDirectory`: keep the logs there, and reuse them if a previous run left them (for
    /// profiling the evaluation alone; they hold traffic of the hour before they were written).
    func run(repeats: Int, jsonRepeats: Int, logDirectory: String? = nil) async throws -> [String: Any] {
        let work = logDirectory ?? NSTemporaryDirectory() + "cairn-through-log-\(UUID().uuidString)"
        defer { if logDirectory == nil { try? FileManager.default.removeItem(atPath: work) } }
        let reuse = logDirectory != nil && FileManager.default.fileExists(atPath: work + "/log-json")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: work + "/cairn.db" + suffix) }
        let columns = names.map { Self.values(current[$0]) }
        let rows = columns[0].count
        let rowsPerRequest = shape == "requests" ? 10_000 : 1
        let requests = (rows + rowsPerRequest - 1) / rowsPerRequest
        let predictions = Self.predictions(columns[0])
        let logger = Logger(label: "bench")
        let sidecarDirectory = work + "/log"
        let jsonDirectory = work + "/log-json"
        let writers = try [sidecarDirectory, jsonDirectory].map { directory in
            try InferenceLogWriter(
                // A 10k-row request of 20 features is about 4 MB of JSON: the cap is raised so
                // every row is logged (the default 1 MiB keeps a sample of each).
                options: .init(
                    directory: directory, capacity: 1 << 20, capacityBytes: 1 << 30, maxRecordBytes: 16 << 20,
                    sidecar: directory == sidecarDirectory),
                logger: logger)
        }
        // One hour of traffic, ending a minute ago.
        let end = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        let spacing = 3_600_000 / Int64(requests)
        var recordSeconds = 0.0
        var flushSeconds = 0.0
        var jsonFlushSeconds = 0.0
        var pendingBytes = 0
        let header = "{\"dataframe_split\": {\"columns\": [" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "], \"data\": ["
        for request in 0..<(reuse ? 0 : requests) {
            let lower = request * rowsPerRequest
            let upper = min(rows, lower + rowsPerRequest)
            var inputs = header
            for row in lower..<upper {
                if row > lower { inputs += ", " }
                inputs += "[" + columns.map { "\($0[row])" }.joined(separator: ", ") + "]"
            }
            inputs += "]}}"
            let outputs = "{\"predictions\": [" + predictions[lower..<upper].map(String.init).joined(separator: ", ") + "]}"
            let record = InferenceRecord(
                requestID: UUID().uuidString.lowercased(), timestamp: end - Int64(requests - request) * spacing, model: "bench",
                version: "1",
                inputs: Array(inputs.utf8), outputs: Array(outputs.utf8), latencyMicroseconds: 1_000 + Int64(request % 500), status: 200)
            let start = ContinuousClock.now
            writers[0].record(record)
            recordSeconds += seconds(since: start)
            writers[1].record(record)
            pendingBytes += inputs.utf8.count + outputs.utf8.count
            // About what a 50 ms flush interval sees at a few thousand rows a second... times
            // a hundred: the writer's buffer bounds are the limit here.
            if pendingBytes > 64 << 20 || request == requests - 1 {
                let flushStart = ContinuousClock.now
                try writers[0].flush()
                flushSeconds += seconds(since: flushStart)
                let jsonStart = ContinuousClock.now
                try writers[1].flush()
                jsonFlushSeconds += seconds(since: jsonStart)
                pendingBytes = 0
            }
        }
        func size(_ directory: String, _ suffix: String) -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(suffix) }
                .reduce(0) { $0 + (((try? FileManager.default.attributesOfItem(atPath: directory + "/" + $1))?[.size] as? Int) ?? 0) }
        }

        let database = try await SQLiteMetadataDatabase.open(path: work + "/cairn.db", logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let store = SQLMonitorStore(database: database)
        let options = ProfileOptions(maxRetainedValues: MonitorReference.storedSampleLimit)
        let referencePredictions = Self.predictions(Self.values(reference["f00"]))
        let profile = MonitorReference(
            features: ReferenceProfile(columns: reference, options: options),
            prediction: FeatureProfile(
                name: MonitorReference.predictionName, column: .numeric(referencePredictions.map(Double.init)), options: options),
            predictionSource: "prediction", rowCount: referencePredictions.count, featureOrder: names)
        try await store.putReference(
            StoredReference(modelName: "bench", version: "1", profile: try profile.encoded(), rowCount: profile.rowCount, creationTime: 1))
        // The monitor follows an alias, as a production one does (README), so the version is
        // the registry's rather than looked up in the log.
        let registry = SQLRegistryStore(database: database)
        _ = try await registry.createRegisteredModel(name: "bench", tags: [], description: nil)
        _ = try await registry.createModelVersion(CreateModelVersion(name: "bench", source: "s3://bucket/bench/1"))
        try await registry.setRegisteredModelAlias(name: "bench", alias: "champion", version: "1")
        let spec = try MonitorSpec.decode(
            Array(
                #"""
                {"name": "bench", "model_name": "bench", "alias": "champion", "window": {"seconds": 7200},
                 "checks": [{"type": "feature_drift"}, {"type": "prediction_drift"}, {"type": "latency_p99", "threshold": 100}]}
                """#.utf8))
        let monitor = StoredMonitor(
            id: "bench", name: "bench", modelName: "bench", alias: "champion", spec: spec.encoded(), creationTime: 1, lastUpdateTime: 1,
            lastRunTime: nil)
        // Every row of the window decoded: the default budget (64 MiB of JSON) would decode
        // the newest ~150k rows of this data only.
        let limits = MonitorEvaluator.Limits(maxPayloadBytes: 1 << 30, maxRows: rows)
        func evaluate(_ directory: String, _ count: Int) async throws -> (times: [Double], cpu: [Double], report: MonitorReport) {
            let evaluator = MonitorEvaluator(
                store: store, registry: registry, log: InferenceLogReader(directory: directory), limits: limits,
                now: { Int64(Date().timeIntervalSince1970 * 1000) })
            var times: [Double] = []
            var cpu: [Double] = []
            var last: MonitorReport?
            for _ in 0..<count {
                let cpuStart = cpuSeconds()
                let (report, elapsed) = try await time { try await evaluator.evaluate(monitor) }
                times.append(elapsed)
                cpu.append(cpuSeconds() - cpuStart)
                last = report
            }
            return (times, cpu, last!)
        }
        let sidecar = try await evaluate(sidecarDirectory, repeats)
        // Where an evaluation's time goes (best of three): the stages it runs, timed one by one.
        var stages: [String: Double] = [:]
        func stage<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
            var best = Double.infinity
            var value: T?
            for _ in 0..<3 {
                let (result, elapsed) = try await time(body)
                best = min(best, elapsed)
                value = result
            }
            stages[name] = best
            return value!
        }
        let reader = InferenceLogReader(directory: sidecarDirectory)
        var query = InferenceLogQuery(model: "bench", version: "1", since: Int64(Date().timeIntervalSince1970 * 1000) - 7_200_000)
        query.maxPayloadBytes = limits.maxPayloadBytes
        let stored = try await stage("store.getReference") { try await store.getReference(modelName: "bench", version: "1")! }
        let decoded = try await stage("MonitorReference.decode") { try MonitorReference.decode(stored.profile) }
        _ = try await stage("readWindow (version lookup)") { try reader.readWindow(InferenceLogQuery(model: "bench", lastRecords: 1)) }
        let logged = try await stage("readWindow") { try reader.readWindow(query) }
        let window = await stage("MonitorWindow") { MonitorWindow(logged, positionalNames: names, maxRows: limits.maxRows) }
        var windowColumns: [String: FeatureColumn] = [:]
        for name in names { windowColumns[name] = window.featureColumn(name, kind: .numeric) }
        let detector = DriftDetector(reference: decoded.features, configuration: spec.drift)
        _ = try await stage("datasetDrift") { try await detector.datasetDrift(windowColumns) }
        _ = await stage("store.feedback") { try? await store.feedback(requestIDs: window.rowSourceRequestIDs) }
        let json = jsonRepeats > 0 ? try await evaluate(jsonDirectory, jsonRepeats) : nil
        try await database.shutdown()
        let report = sidecar.report
        precondition(report.window.rows == rows, "the window holds \(report.window.rows) rows, not \(rows)")
        let same = json.map {
            report.dataDrift == $0.report.dataDrift && report.predictionDrift == $0.report.predictionDrift
                && report.service == $0.report.service
        }
        return [
            "tool": "cairn-through-log",
            "shape": shape,
            "requests": requests,
            "rows_per_request": rowsPerRequest,
            "window_rows": report.window.rows,
            "window_requests": report.window.requests,
            "features": features,
            "log_jsonl_bytes": size(sidecarDirectory, ".jsonl"),
            "log_sidecar_bytes": size(sidecarDirectory, ".cols"),
            "record_seconds": recordSeconds,
            "flush_seconds": flushSeconds,
            "flush_seconds_without_sidecar": jsonFlushSeconds,
            "evaluate_seconds": sidecar.times,
            "evaluate_cpu_seconds": sidecar.cpu,
            "best_evaluate_seconds": sidecar.times.min()!,
            "median_evaluate_seconds": median(sidecar.times),
            "json_evaluate_seconds": json?.times ?? [],
            "json_evaluate_cpu_seconds": json?.cpu ?? [],
            "best_json_evaluate_seconds": json?.times.min() ?? -1,
            "same_result_as_json": same ?? false,
            "drifted": (report.dataDrift?.features ?? []).filter(\.drifted).map(\.feature).sorted(),
            "prediction_drift_score": report.predictionDrift?.score ?? .nan,
            "stage_seconds": stages,
        ]
    }

    func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
