public struct RunInfo: Sendable, Equatable, JSONWritable {
    public var runID: String
    public var experimentID: String
    public var runName: String
    public var userID: String
    public var status: RunStatus
    public var startTime: Int64
    public var endTime: Int64?
    public var artifactUri: String
    public var lifecycleStage: LifecycleStage

    public init(
        runID: String, experimentID: String, runName: String, userID: String, status: RunStatus,
        startTime: Int64, endTime: Int64?, artifactUri: String, lifecycleStage: LifecycleStage
    ) {
        self.runID = runID
        self.experimentID = experimentID
        self.runName = runName
        self.userID = userID
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.artifactUri = artifactUri
        self.lifecycleStage = lifecycleStage
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        // `run_uuid` is the deprecated twin of `run_id`; older clients still read it.
        writer.field("run_uuid", runID)
        writer.field("run_id", runID)
        writer.field("experiment_id", experimentID)
        writer.field("run_name", runName)
        writer.field("user_id", userID)
        writer.field("status", status.rawValue)
        writer.field("start_time", startTime)
        writer.field("end_time", endTime)
        writer.field("artifact_uri", artifactUri)
        writer.field("lifecycle_stage", lifecycleStage.rawValue)
        writer.endObject()
    }
}

public struct RunData: Sendable, Equatable, JSONWritable {
    /// The latest value of each metric key, as MLflow reports it on a run.
    public var metrics: [Metric]
    public var params: [KeyValue]
    public var tags: [KeyValue]

    public init(metrics: [Metric] = [], params: [KeyValue] = [], tags: [KeyValue] = []) {
        self.metrics = metrics
        self.params = params
        self.tags = tags
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.list("metrics", metrics)
        writer.list("params", params)
        writer.list("tags", tags)
        writer.endObject()
    }
}

public struct RunInputs: Sendable, Equatable, JSONWritable {
    public var datasetInputs: [DatasetInput]
    public var modelInputs: [ModelReference]

    public init(datasetInputs: [DatasetInput] = [], modelInputs: [ModelReference] = []) {
        self.datasetInputs = datasetInputs
        self.modelInputs = modelInputs
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.list("dataset_inputs", datasetInputs)
        writer.list("model_inputs", modelInputs)
        writer.endObject()
    }
}

public struct RunOutputs: Sendable, Equatable, JSONWritable {
    public var modelOutputs: [ModelReference]

    public init(modelOutputs: [ModelReference] = []) {
        self.modelOutputs = modelOutputs
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.list("model_outputs", modelOutputs)
        writer.endObject()
    }
}

/// A logged model used or produced by a run (`model_inputs` / `model_outputs`).
public struct ModelReference: Sendable, Equatable, JSONWritable {
    public var modelID: String
    public var step: Int64?

    public init(modelID: String, step: Int64? = nil) {
        self.modelID = modelID
        self.step = step
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("model_id", modelID)
        writer.field("step", step)
        writer.endObject()
    }
}

public struct Run: Sendable, Equatable, JSONWritable {
    public var info: RunInfo
    public var data: RunData
    public var inputs: RunInputs
    public var outputs: RunOutputs

    public init(info: RunInfo, data: RunData = RunData(), inputs: RunInputs = RunInputs(), outputs: RunOutputs = RunOutputs()) {
        self.info = info
        self.data = data
        self.inputs = inputs
        self.outputs = outputs
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("info")
        writer.write(info)
        writer.key("data")
        writer.write(data)
        writer.key("inputs")
        writer.write(inputs)
        writer.key("outputs")
        writer.write(outputs)
        writer.endObject()
    }
}
