import CairnClient
import CairnCore
import CairnServing
import CairnStore
import CairnTabular
import Crypto
import Foundation
import Logging
import NIOPosix
import Prometheus

/// The evaluation gate: scores the candidate and the alias's current version on one held-out
/// CSV through the resolver, loader and runtime `cairn serve` and `cairn predict` use, judges
/// with `ThresholdValidation`, logs the decision and, on a pass, moves the alias with a
/// compare-and-set (all in `PromotionLogStore.recordDecision`). The candidate is tagged
/// `cairn.gate` = `passed`/`rejected`/`refused`, `cairn.gate.outcome` and `cairn.gate.run_id`.
public struct EvaluationGate: GateEvaluating {
    public let registry: any RegistryStore
    public let promotions: any PromotionLogStore
    /// Downloads models through a tracking server (in the server, the server itself).
    public let resolver: ModelResolver
    public let runtime: RuntimePreference
    public let python: String
    public let now: WallClock
    let logger: Logger

    public init(
        registry: any RegistryStore, promotions: any PromotionLogStore, tracking: ClientConfiguration, modelCacheDirectory: String,
        runtime: RuntimePreference = .auto, python: String = "python3", logger: Logger = Logger(label: "cairn.gate"),
        now: @escaping WallClock = SystemClock.now
    ) {
        self.registry = registry
        self.promotions = promotions
        self.resolver = ModelResolver(tracking: tracking, cacheDirectory: modelCacheDirectory, logger: logger)
        self.runtime = runtime
        self.python = python
        self.now = now
        self.logger = logger
    }

    /// What the candidate is tagged with: what happened to it, from the log entry as stored. A
    /// candidate that passed its thresholds but lost the alias race (the alias moved while it
    /// was scored) is `refused`, not `passed`: it holds no alias.
    static func candidateTags(_ record: PromotionRecord, runID: String?) -> [KeyValue] {
        let verdict =
            switch record.outcome {
            case .promoted: "passed"
            case .rejected: "rejected"
            case .refused: "refused"
            case .rolledBack: "rolled_back"
            }
        var tags = [
            KeyValue(key: "cairn.gate", value: verdict),
            KeyValue(key: "cairn.gate.outcome", value: record.outcome.rawValue),
            KeyValue(key: "cairn.gate.entry_id", value: record.id),
        ]
        if let runID { tags.append(KeyValue(key: "cairn.gate.run_id", value: runID)) }
        return tags
    }

    public func evaluate(_ gate: GateSpec, runID: String, stageRunID: String, workingDirectory: String) async throws -> GateDecision {
        // A candidate the alias already holds has nothing to be judged against: judged against
        // itself it would fail every change limit, so a pipeline rerun with nothing changed
        // would fail. Nothing is scored or logged, and the alias stays.
        let candidate = try await candidateVersion(gate, workingDirectory: workingDirectory)
        let champion = try await registry.getRegisteredModel(name: gate.model).aliases.first { $0.alias == gate.alias }?.version
        if candidate == champion {
            return GateDecision(
                passed: true, candidateVersion: candidate, championVersion: champion, datasetDigest: "", candidateMetrics: [:],
                championMetrics: [:], failures: [], promoted: false, alreadyCurrent: true)
        }
        return try await judge(gate, runID: runID, stageRunID: stageRunID, workingDirectory: workingDirectory).decision
    }

    /// `evaluate`, also answering the log entry (for the API). `runID`/`stageRunID` are nil
    /// when a person runs the gate outside a pipeline (`cairn model evaluate`).
    public func judge(_ gate: GateSpec, runID: String?, stageRunID: String?, workingDirectory: String) async throws -> (
        decision: GateDecision, record: PromotionRecord
    ) {
        let dataPath = Self.path(gate.data, in: workingDirectory)
        let bytes = try await NIOThreadPool.singleton.runIfActive {
            guard let data = FileManager.default.contents(atPath: dataPath) else {
                throw CairnError.invalidParameter("Cannot read the gate's data \(dataPath).")
            }
            return [UInt8](data)
        }
        return try await judge(
            gate, data: bytes, dataPath: dataPath, runID: runID, stageRunID: stageRunID, workingDirectory: workingDirectory)
    }

    /// The gate on data already read (`cairn model evaluate` uploads it): `dataPath` is only
    /// logged. Without a working directory the candidate must be a version or an alias.
    public func judge(
        _ gate: GateSpec, data bytes: [UInt8], dataPath: String, runID: String?, stageRunID: String?, workingDirectory: String?
    ) async throws -> (decision: GateDecision, record: PromotionRecord) {
        let thresholds = try GateMetrics.canonical(gate.thresholds)
        guard !thresholds.isEmpty else { throw CairnError.invalidParameter("The gate on model '\(gate.model)' has no metric thresholds.") }
        let candidate = try await candidateVersion(gate, workingDirectory: workingDirectory)
        // Read before scoring: the compare-and-set moves the alias only if it still points here.
        let champion = try await registry.getRegisteredModel(name: gate.model).aliases.first { $0.alias == gate.alias }?.version
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let table = try HeldOutData(csv: bytes, target: gate.target, path: dataPath)
        let task = try GateMetrics.task(thresholds: thresholds, target: table.target)

        let candidateMetrics = try await metrics(of: gate.model, version: candidate, on: table, task: task)
        let championMetrics = try await champion.asyncMap { try await metrics(of: gate.model, version: $0, on: table, task: task) }
        let failures = ThresholdValidation.validate(candidate: candidateMetrics, baseline: championMetrics, thresholds: thresholds)
        let passed = failures.isEmpty
        let record = try await promotions.recordDecision(
            PromotionRecord(
                modelName: gate.model, kind: .decision, outcome: passed ? .promoted : .rejected, alias: gate.alias,
                candidateVersion: candidate, championVersion: champion, candidateMetrics: candidateMetrics,
                championMetrics: championMetrics ?? [:], thresholds: try Self.encode(thresholds), failures: failures,
                datasetDigest: digest, datasetPath: dataPath, pipelineRunID: runID, stageRunID: stageRunID, time: now()),
            keepPreviousAs: gate.keepPreviousAs)
        for tag in Self.candidateTags(record, runID: runID) {
            try await registry.setModelVersionTag(name: gate.model, version: candidate, tag: tag)
        }
        logger.info(
            "Gate decision",
            metadata: [
                "model": "\(gate.model)", "candidate": "\(candidate)", "champion": "\(champion ?? "none")",
                "outcome": "\(record.outcome.rawValue)",
            ])
        let decision = GateDecision(
            passed: passed, candidateVersion: candidate, championVersion: champion, datasetDigest: digest,
            candidateMetrics: candidateMetrics, championMetrics: championMetrics ?? [:], failures: record.failures,
            promoted: record.outcome == .promoted)
        return (decision, record)
    }

    /// A version number, `@alias` or an alias, or a file (relative to the working directory)
    /// an upstream stage wrote holding the version number; checked to exist.
    func candidateVersion(_ gate: GateSpec, workingDirectory: String?) async throws -> String {
        let written = gate.candidate.trimmingCharacters(in: .whitespacesAndNewlines)
        var version: String
        if Int64(written) != nil {
            version = written
        } else if !written.hasPrefix("@"), let workingDirectory,
            FileManager.default.fileExists(atPath: Self.path(written, in: workingDirectory))
        {
            let file = Self.path(written, in: workingDirectory)
            let contents = try await NIOThreadPool.singleton.runIfActive { try String(contentsOfFile: file, encoding: .utf8) }
            version = contents.trimmingCharacters(in: .whitespacesAndNewlines)
            guard Int64(version) != nil else {
                throw CairnError.invalidParameter("The candidate file \(file) should hold a version number, not '\(version.prefix(80))'.")
            }
        } else {
            let alias = written.hasPrefix("@") ? String(written.dropFirst()) : written
            version = try await registry.getModelVersion(name: gate.model, alias: alias).version
        }
        version = try await registry.getModelVersion(name: gate.model, version: version).version
        return version
    }

    /// The version scored on `table`: downloaded through the tracking server, loaded by the
    /// runtime serving would pick, features conformed to its signature.
    func metrics(of model: String, version: String, on table: HeldOutData, task: GateMetrics.Task) async throws -> [String: Double] {
        let resolved = try await resolver.fetch(.registered(name: model, selector: .version(Int64(version)!)), pinnedVersion: version)
        let mlmodel = try MLmodel(directory: resolved.directory)
        let loader = ModelLoader(
            preference: runtime, python: python, pythonWorkers: 1, metrics: ServingMetrics(registry: PrometheusCollectorRegistry()),
            logger: logger)
        let modelRuntime = try await loader.makeRuntime(mlmodel, directory: resolved.directory, name: "\(model)/\(version)")
        let rows: [[(name: String, value: JSONValue)]]
        do {
            let features = try table.features(textColumns: mlmodel.signature?.textColumns ?? [])
            rows = try await BatchPredictor(runtime: modelRuntime, signature: mlmodel.signature).predictions(for: features)
            await modelRuntime.shutdown()
        } catch {
            await modelRuntime.shutdown()
            throw CairnError.invalidParameter("Model '\(model)' version \(version) could not score \(table.path): \(error)")
        }
        // The cache lease in `resolved` kept the files from being pruned until here.
        withExtendedLifetime(resolved) {}
        return try GateMetrics.compute(task: task, target: table.target, predictions: GateMetrics.Predictions(rows))
    }

    static func path(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
    }

    /// The limits as logged: `{"accuracy_score": {"greater_is_better": true, "threshold": 0.8}}`.
    static func encode(_ thresholds: [String: MetricThreshold]) throws -> String {
        struct Limit: Encodable {
            var threshold: Double?
            var min_absolute_change: Double?
            var min_relative_change: Double?
            var greater_is_better: Bool
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let limits = thresholds.mapValues {
            Limit(
                threshold: $0.threshold, min_absolute_change: $0.minAbsoluteChange, min_relative_change: $0.minRelativeChange,
                greater_is_better: $0.greaterIsBetter)
        }
        return String(decoding: try encoder.encode(limits), as: UTF8.self)
    }
}

/// The held-out CSV: the target column as text, the header and records kept so each model's
/// features are typed by its own signature (a column one model reads as text, another as numbers).
struct HeldOutData: Sendable {
    var path: String
    var header: [String]
    var records: [[String]]
    var target: [String?]
    var targetIndex: Int

    init(csv: [UInt8], target: String, path: String) throws {
        var parser = CSVParser()
        var records = try parser.feed(csv)
        if let last = try parser.finish() { records.append(last) }
        guard let header = records.first else { throw CairnError.invalidParameter("\(path) has no header row.") }
        guard let index = header.firstIndex(of: target) else {
            throw CairnError.invalidParameter("\(path) has no target column '\(target)' (its columns: \(header.joined(separator: ", "))).")
        }
        self.path = path
        self.header = header
        self.records = Array(records.dropFirst())
        guard !self.records.isEmpty else { throw CairnError.invalidParameter("\(path) has no data rows.") }
        for (row, record) in self.records.enumerated() where record.count != header.count {
            throw CairnError.invalidParameter("\(path) data row \(row) has \(record.count) fields; the header has \(header.count).")
        }
        self.target = self.records.map { $0[index].isEmpty ? nil : $0[index] }
        self.targetIndex = index
    }

    /// Every column but the target.
    func features(textColumns: Set<String>) throws -> DataFrame {
        var header = header
        header.remove(at: targetIndex)
        let rows = records.map { record in
            var record = record
            record.remove(at: targetIndex)
            return record
        }
        return try CSVParser.frame(header: header, records: rows, textColumns: textColumns)
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
