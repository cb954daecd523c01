/// A model version's stage in MLflow's (deprecated but still used) stage workflow.
public enum ModelVersionStage: String, Sendable, Equatable, CaseIterable {
    case none = "None"
    case staging = "Staging"
    case production = "Production"
    case archived = "Archived"

    /// The stages clients may name, in MLflow's order (for messages).
    public static let userStages: [ModelVersionStage] = [.none, .staging, .production, .archived]

    /// Stages `archive_existing_versions` may be used with.
    public var isActive: Bool { self == .staging || self == .production }

    /// Parses a stage case-insensitively, as MLflow's `get_canonical_stage` does.
    public static func canonical(_ text: String) throws(CairnError) -> ModelVersionStage {
        let lowered = text.lowercased()
        guard let stage = allCases.first(where: { $0.rawValue.lowercased() == lowered }) else {
            throw .invalidParameter(
                "Invalid Model Version stage: \(text). Value must be one of \(userStages.map(\.rawValue).joined(separator: ", "))."
            )
        }
        return stage
    }
}

/// A model version's registration status. Cairn registers synchronously, so every stored
/// version is `READY`; the other values exist because the wire format has them.
public enum ModelVersionStatus: String, Sendable, Equatable {
    case pendingRegistration = "PENDING_REGISTRATION"
    case failedRegistration = "FAILED_REGISTRATION"
    case ready = "READY"
}

/// One version of a registered model.
public struct ModelVersion: Sendable, Equatable, JSONWritable {
    public var name: String
    /// Integer versions travel as strings.
    public var version: String
    public var creationTimestamp: Int64
    public var lastUpdatedTimestamp: Int64
    public var currentStage: ModelVersionStage
    /// Nil after an update that cleared it (MLflow then omits the field).
    public var description: String?
    public var source: String
    public var runID: String?
    public var status: ModelVersionStatus
    public var runLink: String?
    public var tags: [KeyValue]
    public var aliases: [String]
    /// The MLflow 3 logged model this version was registered from, if any.
    public var modelID: String?

    public init(
        name: String, version: String, creationTimestamp: Int64, lastUpdatedTimestamp: Int64,
        currentStage: ModelVersionStage = .none, description: String? = "", source: String, runID: String? = nil,
        status: ModelVersionStatus = .ready, runLink: String? = "", tags: [KeyValue] = [], aliases: [String] = [],
        modelID: String? = nil
    ) {
        self.name = name
        self.version = version
        self.creationTimestamp = creationTimestamp
        self.lastUpdatedTimestamp = lastUpdatedTimestamp
        self.currentStage = currentStage
        self.description = description
        self.source = source
        self.runID = runID
        self.status = status
        self.runLink = runLink
        self.tags = tags
        self.aliases = aliases
        self.modelID = modelID
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", name)
        writer.field("version", version)
        writer.field("creation_timestamp", creationTimestamp)
        writer.field("last_updated_timestamp", lastUpdatedTimestamp)
        writer.field("current_stage", currentStage.rawValue)
        writer.field("description", description)
        writer.field("source", source)
        writer.field("run_id", runID)
        writer.field("status", status.rawValue)
        writer.field("run_link", runLink)
        writer.list("tags", tags)
        if !aliases.isEmpty {
            writer.key("aliases")
            writer.beginArray()
            for alias in aliases { writer.string(alias) }
            writer.endArray()
        }
        writer.field("model_id", modelID)
        writer.endObject()
    }
}
