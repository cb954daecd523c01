/// The lifecycle of an MLflow 3 logged model: created `PENDING`, finalized `READY` once its
/// artifacts are uploaded, or `UPLOAD_FAILED`.
public enum LoggedModelStatus: String, Sendable, Equatable, CaseIterable {
    case unspecified = "LOGGED_MODEL_STATUS_UNSPECIFIED"
    case pending = "LOGGED_MODEL_PENDING"
    case ready = "LOGGED_MODEL_READY"
    case uploadFailed = "LOGGED_MODEL_UPLOAD_FAILED"

    /// The proto enum number; proto-JSON accepts it in place of the name.
    public var number: Int64 {
        switch self {
        case .unspecified: 0
        case .pending: 1
        case .ready: 2
        case .uploadFailed: 3
        }
    }

    public init?(number: Int64) {
        guard let status = Self.allCases.first(where: { $0.number == number }) else { return nil }
        self = status
    }

    /// Parses a status as filters write it: the wire name (`LOGGED_MODEL_READY`) or the short
    /// entity name MLflow's Python API uses (`READY`, `PENDING`, `FAILED`).
    public init?(filterValue: String) {
        switch filterValue.uppercased() {
        case "READY", Self.ready.rawValue: self = .ready
        case "PENDING", Self.pending.rawValue: self = .pending
        case "FAILED", "UPLOAD_FAILED", Self.uploadFailed.rawValue: self = .uploadFailed
        case "UNSPECIFIED", Self.unspecified.rawValue: self = .unspecified
        default: return nil
        }
    }
}

public struct LoggedModelInfo: Sendable, Equatable, JSONWritable {
    /// `m-` followed by 32 lowercase hex digits.
    public var modelID: String
    public var experimentID: String
    public var name: String
    public var creationTimestamp: Int64
    public var lastUpdatedTimestamp: Int64
    /// `<experiment artifact location>/models/<model_id>/artifacts`, chosen by the server.
    public var artifactUri: String
    public var status: LoggedModelStatus
    public var statusMessage: String?
    public var modelType: String
    public var sourceRunID: String
    public var tags: [KeyValue]
    public var lifecycleStage: LifecycleStage

    public init(
        modelID: String, experimentID: String, name: String, creationTimestamp: Int64, lastUpdatedTimestamp: Int64,
        artifactUri: String, status: LoggedModelStatus, statusMessage: String? = nil, modelType: String = "",
        sourceRunID: String = "", tags: [KeyValue] = [], lifecycleStage: LifecycleStage = .active
    ) {
        self.modelID = modelID
        self.experimentID = experimentID
        self.name = name
        self.creationTimestamp = creationTimestamp
        self.lastUpdatedTimestamp = lastUpdatedTimestamp
        self.artifactUri = artifactUri
        self.status = status
        self.statusMessage = statusMessage
        self.modelType = modelType
        self.sourceRunID = sourceRunID
        self.tags = tags
        self.lifecycleStage = lifecycleStage
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("model_id", modelID)
        writer.field("experiment_id", experimentID)
        writer.field("name", name)
        writer.field("creation_timestamp_ms", creationTimestamp)
        writer.field("last_updated_timestamp_ms", lastUpdatedTimestamp)
        writer.field("artifact_uri", artifactUri)
        writer.field("status", status.rawValue)
        writer.field("status_message", statusMessage)
        writer.field("model_type", modelType)
        writer.field("source_run_id", sourceRunID)
        writer.list("tags", tags)
        writer.endObject()
    }
}

public struct LoggedModelData: Sendable, Equatable, JSONWritable {
    public var params: [KeyValue]
    /// Every metric point logged against the model (through `runs/log-batch` with
    /// `model_id`), each carrying its `run_id` and `model_id`.
    public var metrics: [Metric]

    public init(params: [KeyValue] = [], metrics: [Metric] = []) {
        self.params = params
        self.metrics = metrics
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.list("params", params)
        writer.list("metrics", metrics)
        writer.endObject()
    }
}

/// An MLflow 3 logged model: a model produced by (or registered outside) a run, with its own
/// artifact location, params, tags and metrics.
public struct LoggedModel: Sendable, Equatable, JSONWritable {
    public var info: LoggedModelInfo
    public var data: LoggedModelData

    public init(info: LoggedModelInfo, data: LoggedModelData = LoggedModelData()) {
        self.info = info
        self.data = data
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("info")
        writer.write(info)
        writer.key("data")
        writer.write(data)
        writer.endObject()
    }
}
