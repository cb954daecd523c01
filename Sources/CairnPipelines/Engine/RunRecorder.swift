import CairnArtifacts
import CairnClient
import CairnCore
import CairnStore
import Foundation
import NIOCore
import NIOPosix
import Yams

/// Writes pipeline and stage runs as MLflow runs through the tracking store, so the stock
/// client's `search_runs` sees them: the pipeline run in the experiment `pipeline/<name>`,
/// each stage a nested run (`mlflow.parentRunId`) with its params, metrics files, logs and
/// lock entry as artifacts, and Cairn's tags.
struct RunRecorder: Sendable {
    let tracking: any TrackingStore
    let artifacts: any ArtifactRepository
    let threadPool: NIOThreadPool
    let now: WallClock

    static func experimentName(_ pipeline: String) -> String { "pipeline/\(pipeline)" }

    func experiment(for pipeline: String) async throws -> String {
        let name = Self.experimentName(pipeline)
        if let existing = try await tracking.getExperiment(name: name) {
            if existing.lifecycleStage == .deleted { try await tracking.restoreExperiment(id: existing.experimentID) }
            return existing.experimentID
        }
        do {
            return try await tracking.createExperiment(
                name: name, artifactLocation: nil, tags: [KeyValue(key: "cairn.pipeline", value: pipeline)])
        } catch let error as CairnError where error.code == .resourceAlreadyExists {
            // Created meanwhile by another run's first start.
            guard let existing = try await tracking.getExperiment(name: name) else { throw error }
            return existing.experimentID
        }
    }

    func startPipelineRun(experimentID: String, pipeline: String, trigger: String, options: PipelineRunOptions) async throws -> Run {
        var tags = [
            KeyValue(key: "cairn.pipeline", value: pipeline),
            KeyValue(key: "cairn.trigger", value: trigger),
            KeyValue(key: "mlflow.user", value: "cairn"),
            KeyValue(key: "mlflow.source.type", value: "PIPELINE"),
        ]
        if let resume = options.resume { tags.append(KeyValue(key: "cairn.resumed_from", value: resume)) }
        return try await tracking.createRun(
            CreateRun(experimentID: experimentID, userID: "cairn", runName: "\(pipeline)", startTime: now(), tags: tags))
    }

    func startStageRun(experimentID: String, parent: String, pipeline: String, stage: String) async throws -> Run {
        try await tracking.createRun(
            CreateRun(
                experimentID: experimentID, userID: "cairn", runName: stage, startTime: now(),
                tags: [
                    KeyValue(key: "mlflow.parentRunId", value: parent),
                    KeyValue(key: "cairn.pipeline", value: pipeline),
                    KeyValue(key: "cairn.stage", value: stage),
                    KeyValue(key: "mlflow.user", value: "cairn"),
                ]))
    }

    struct StageRecord: Sendable {
        var status: RunStatus
        var params: [String: String]
        var metrics: [String: Double]
        var tags: [String: String]
        /// Artifact name → local file to upload (absent files are skipped).
        var files: [String: String]
        /// Artifact name → text.
        var texts: [String: String]
    }

    /// Logs everything about a finished stage and ends its run. Best effort per part: a param
    /// MLflow would refuse is left out rather than losing the rest. The stage's script may have
    /// resumed the run (`MLFLOW_RUN_ID`), logged params and ended it: a param it already logged
    /// keeps the script's value (MLflow refuses changing one), and the status is set again.
    func finishStageRun(_ run: Run, _ record: StageRecord) async throws {
        let time = now()
        let logged = Set(try await tracking.getRun(id: run.info.runID).data.params.map(\.key))
        var params: [KeyValue] = []
        for (name, json) in record.params.sorted(by: { $0.key < $1.key }) {
            let key = name.hasPrefix("params.yaml:") ? String(name.dropFirst("params.yaml:".count)) : name
            guard !logged.contains(key), (try? TrackingValidation.validateKey(key, kind: "key")) != nil else { continue }
            params.append(KeyValue(key: key, value: String(Self.paramValue(json).prefix(TrackingLimits.maxParamValueLength))))
        }
        var metrics: [Metric] = []
        for (key, value) in record.metrics.sorted(by: { $0.key < $1.key }) {
            guard (try? TrackingValidation.validateKey(key, kind: "key")) != nil else { continue }
            metrics.append(Metric(key: key, value: value, timestamp: time))
        }
        let tags = record.tags.sorted(by: { $0.key < $1.key }).map {
            KeyValue(key: $0.key, value: String($0.value.prefix(TrackingLimits.maxTagValueLength)))
        }
        for start in stride(from: 0, to: max(params.count, tags.count, 1), by: TrackingLimits.maxParamsTagsPerBatch) {
            let paramChunk = Array(params.dropFirst(start).prefix(TrackingLimits.maxParamsTagsPerBatch))
            let tagChunk = Array(tags.dropFirst(start).prefix(TrackingLimits.maxParamsTagsPerBatch))
            let metricChunk = start == 0 ? Array(metrics.prefix(TrackingLimits.maxMetricsPerBatch)) : []
            if paramChunk.isEmpty, tagChunk.isEmpty, metricChunk.isEmpty { continue }
            try await tracking.logBatch(runID: run.info.runID, metrics: metricChunk, params: paramChunk, tags: tagChunk)
        }
        if let directory = try? CairnClient.artifactsPath(run.info.artifactUri), run.info.artifactUri.hasPrefix("mlflow-artifacts:") {
            for (name, text) in record.texts.sorted(by: { $0.key < $1.key }) {
                try await artifacts.write(try ArtifactPath("\(directory)/\(name)"), from: [ByteBuffer(string: text)].async)
            }
            for (name, file) in record.files.sorted(by: { $0.key < $1.key }) {
                let exists = try await threadPool.runIfActive { LocalFiles.exists(file) }
                guard exists else { continue }
                try await artifacts.write(
                    try ArtifactPath("\(directory)/\(name)"), from: LocalFileChunks(path: file, threadPool: threadPool))
            }
        }
        _ = try await tracking.updateRun(id: run.info.runID, status: record.status, endTime: now(), runName: nil)
    }

    func finishRun(id: String, status: RunStatus, tags: [String: String] = [:]) async throws {
        if !tags.isEmpty {
            try await tracking.logBatch(
                runID: id, metrics: [], params: [],
                tags: tags.sorted(by: { $0.key < $1.key }).map {
                    KeyValue(key: $0.key, value: String($0.value.prefix(TrackingLimits.maxTagValueLength)))
                })
        }
        _ = try await tracking.updateRun(id: id, status: status, endTime: now(), runName: nil)
    }

    /// A param as MLflow shows it: strings without their JSON quotes.
    static func paramValue(_ json: String) -> String {
        if json.hasPrefix("\""), case .string(let text)? = try? JSONValue.parse(json) { return text }
        return json
    }

    /// The numbers in a metrics file (JSON or YAML), nested keys joined with `.`. Blocking.
    static func metrics(inFile path: String) -> [String: Double] {
        guard let data = FileManager.default.contents(atPath: path),
            let document = try? Yams.load(yaml: String(decoding: data, as: UTF8.self))
        else { return [:] }
        var result: [String: Double] = [:]
        func walk(_ value: Any, _ prefix: String) {
            switch value {
            case let flag as Bool: _ = flag
            case let number as Int: result[prefix] = Double(number)
            case let number as Double: result[prefix] = number
            case let mapping as [String: Any]:
                for (key, item) in mapping { walk(item, prefix.isEmpty ? key : "\(prefix).\(key)") }
            case let mapping as [AnyHashable: Any]:
                for (key, item) in mapping { walk(item, prefix.isEmpty ? "\(key)" : "\(prefix).\(key)") }
            default: break
            }
        }
        walk(document, "")
        result.removeValue(forKey: "")
        return result
    }
}
