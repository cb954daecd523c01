/// One logged metric point.
public struct Metric: Sendable, Equatable, JSONWritable {
    public var key: String
    public var value: Double
    public var timestamp: Int64
    public var step: Int64
    /// Set when the point was logged against an MLflow 3 logged model.
    public var modelID: String?
    public var datasetName: String?
    public var datasetDigest: String?
    /// Present in bulk-interval and logged-model responses, which mix runs.
    public var runID: String?

    public init(
        key: String, value: Double, timestamp: Int64, step: Int64 = 0, modelID: String? = nil,
        datasetName: String? = nil, datasetDigest: String? = nil, runID: String? = nil
    ) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.step = step
        self.modelID = modelID
        self.datasetName = datasetName
        self.datasetDigest = datasetDigest
        self.runID = runID
    }

    // NaN != NaN would make every equality check on NaN metrics fail.
    public static func == (lhs: Metric, rhs: Metric) -> Bool {
        lhs.key == rhs.key && (lhs.value == rhs.value || (lhs.value.isNaN && rhs.value.isNaN))
            && lhs.timestamp == rhs.timestamp && lhs.step == rhs.step && lhs.modelID == rhs.modelID
            && lhs.datasetName == rhs.datasetName && lhs.datasetDigest == rhs.datasetDigest && lhs.runID == rhs.runID
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("key")
        writer.string(key)
        writer.key("value")
        writer.double(value)
        writer.key("timestamp")
        writer.int(timestamp)
        writer.key("step")
        writer.int(step)
        writer.field("model_id", modelID)
        writer.field("dataset_name", datasetName)
        writer.field("dataset_digest", datasetDigest)
        writer.field("run_id", runID)
        writer.endObject()
    }
}
