/// A dataset as MLflow records it: identity is (experiment, name, digest).
public struct Dataset: Sendable, Equatable, JSONWritable {
    public var name: String
    public var digest: String
    public var sourceType: String
    public var source: String
    public var schema: String?
    public var profile: String?

    public init(name: String, digest: String, sourceType: String, source: String, schema: String? = nil, profile: String? = nil) {
        self.name = name
        self.digest = digest
        self.sourceType = sourceType
        self.source = source
        self.schema = schema
        self.profile = profile
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", name)
        writer.field("digest", digest)
        writer.field("source_type", sourceType)
        writer.field("source", source)
        writer.field("schema", schema)
        writer.field("profile", profile)
        writer.endObject()
    }
}

/// A dataset used by a run, with the input tags (e.g. `mlflow.data.context`) of that use.
public struct DatasetInput: Sendable, Equatable, JSONWritable {
    public var tags: [KeyValue]
    public var dataset: Dataset

    public init(tags: [KeyValue], dataset: Dataset) {
        self.tags = tags
        self.dataset = dataset
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.list("tags", tags)
        writer.key("dataset")
        writer.write(dataset)
        writer.endObject()
    }
}
