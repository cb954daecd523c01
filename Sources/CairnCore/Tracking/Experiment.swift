public struct Experiment: Sendable, Equatable, JSONWritable {
    public var experimentID: String
    public var name: String
    public var artifactLocation: String
    public var lifecycleStage: LifecycleStage
    public var creationTime: Int64
    public var lastUpdateTime: Int64
    public var tags: [KeyValue]

    public init(
        experimentID: String, name: String, artifactLocation: String, lifecycleStage: LifecycleStage,
        creationTime: Int64, lastUpdateTime: Int64, tags: [KeyValue] = []
    ) {
        self.experimentID = experimentID
        self.name = name
        self.artifactLocation = artifactLocation
        self.lifecycleStage = lifecycleStage
        self.creationTime = creationTime
        self.lastUpdateTime = lastUpdateTime
        self.tags = tags
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("experiment_id", experimentID)
        writer.field("name", name)
        writer.field("artifact_location", artifactLocation)
        writer.field("lifecycle_stage", lifecycleStage.rawValue)
        writer.field("last_update_time", lastUpdateTime)
        writer.field("creation_time", creationTime)
        writer.list("tags", tags)
        writer.endObject()
    }
}
