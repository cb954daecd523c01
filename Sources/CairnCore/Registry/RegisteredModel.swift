/// An alias (`champion`, `prod`…) pointing at one version of a registered model.
public struct RegisteredModelAlias: Sendable, Equatable, JSONWritable {
    public var alias: String
    public var version: String

    public init(alias: String, version: String) {
        self.alias = alias
        self.version = version
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("alias")
        writer.string(alias)
        writer.key("version")
        writer.string(version)
        writer.endObject()
    }
}

/// A named model in the registry, with its versions summarised as the latest one per stage.
public struct RegisteredModel: Sendable, Equatable, JSONWritable {
    public var name: String
    public var creationTimestamp: Int64
    public var lastUpdatedTimestamp: Int64
    public var description: String?
    /// The highest version in each stage that has one.
    public var latestVersions: [ModelVersion]
    public var tags: [KeyValue]
    public var aliases: [RegisteredModelAlias]

    public init(
        name: String, creationTimestamp: Int64, lastUpdatedTimestamp: Int64, description: String? = nil,
        latestVersions: [ModelVersion] = [], tags: [KeyValue] = [], aliases: [RegisteredModelAlias] = []
    ) {
        self.name = name
        self.creationTimestamp = creationTimestamp
        self.lastUpdatedTimestamp = lastUpdatedTimestamp
        self.description = description
        self.latestVersions = latestVersions
        self.tags = tags
        self.aliases = aliases
    }

    /// Whether this is an MLflow prompt (a registered model tagged `mlflow.prompt.is_prompt=true`).
    public var isPrompt: Bool {
        RegistryValidation.isPrompt(tags)
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", name)
        writer.field("creation_timestamp", creationTimestamp)
        writer.field("last_updated_timestamp", lastUpdatedTimestamp)
        // MLflow omits an empty description here (but not on model versions).
        if let description, !description.isEmpty { writer.field("description", description) }
        writer.list("latest_versions", latestVersions)
        writer.list("tags", tags)
        writer.list("aliases", aliases)
        writer.endObject()
    }
}
