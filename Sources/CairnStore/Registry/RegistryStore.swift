import CairnCore

/// The model registry: registered models, their versions, tags and aliases.
public protocol RegistryStore: Sendable {
    func createRegisteredModel(name: String, tags: [KeyValue], description: String?) async throws -> RegisteredModel
    func getRegisteredModel(name: String) async throws -> RegisteredModel
    func renameRegisteredModel(name: String, newName: String) async throws -> RegisteredModel
    func updateRegisteredModel(name: String, description: String?) async throws -> RegisteredModel
    func deleteRegisteredModel(name: String) async throws
    func searchRegisteredModels(_ query: RegisteredModelSearch) async throws -> Page<RegisteredModel>
    /// The highest version in each of `stages` (every stage when empty).
    func getLatestVersions(name: String, stages: [String]) async throws -> [ModelVersion]
    func setRegisteredModelTag(name: String, tag: KeyValue) async throws
    func deleteRegisteredModelTag(name: String, key: String) async throws
    func setRegisteredModelAlias(name: String, alias: String, version: String) async throws
    /// Compare-and-set: points `alias` at `version` only if it still points at
    /// `expectedCurrent` (nil: only if the alias is unset), in one transaction. Returns false,
    /// changing nothing, when the alias moved since it was read.
    func setRegisteredModelAlias(name: String, alias: String, version: String, expectedCurrent: String?) async throws -> Bool
    func deleteRegisteredModelAlias(name: String, alias: String) async throws
    func getModelVersion(name: String, alias: String) async throws -> ModelVersion

    func createModelVersion(_ request: CreateModelVersion) async throws -> ModelVersion
    func getModelVersion(name: String, version: String) async throws -> ModelVersion
    func updateModelVersion(name: String, version: String, description: String?) async throws -> ModelVersion
    func deleteModelVersion(name: String, version: String) async throws
    func searchModelVersions(_ query: ModelVersionSearch) async throws -> Page<ModelVersion>
    func setModelVersionTag(name: String, version: String, tag: KeyValue) async throws
    func deleteModelVersionTag(name: String, version: String, key: String) async throws
    func transitionModelVersionStage(name: String, version: String, stage: String, archiveExistingVersions: Bool) async throws
        -> ModelVersion
    /// Where the version's files are: its storage location, resolved when it was created.
    func getModelVersionDownloadUri(name: String, version: String) async throws -> String
}

public struct CreateModelVersion: Sendable {
    public var name: String
    public var source: String
    /// Nil when the request did not carry the field (which matters for `models:/` sources,
    /// whose lineage fills unset fields but must match set ones).
    public var runID: String?
    public var tags: [KeyValue]
    public var runLink: String?
    public var description: String?
    public var modelID: String?

    public init(
        name: String, source: String, runID: String? = nil, tags: [KeyValue] = [], runLink: String? = nil,
        description: String? = nil, modelID: String? = nil
    ) {
        self.name = name
        self.source = source
        self.runID = runID
        self.tags = tags
        self.runLink = runLink
        self.description = description
        self.modelID = modelID
    }
}

public struct RegisteredModelSearch: Sendable {
    public var filter: SearchFilter
    public var orderBy: [OrderByClause]
    public var maxResults: Int
    public var pageToken: String?

    public init(
        filter: SearchFilter = SearchFilter(), orderBy: [OrderByClause] = [],
        maxResults: Int = RegistryLimits.defaultRegisteredModelSearchMaxResults, pageToken: String? = nil
    ) {
        self.filter = filter
        self.orderBy = orderBy
        self.maxResults = maxResults
        self.pageToken = pageToken
    }
}

public struct ModelVersionSearch: Sendable {
    public var filter: SearchFilter
    public var orderBy: [OrderByClause]
    public var maxResults: Int
    public var pageToken: String?

    public init(
        filter: SearchFilter = SearchFilter(), orderBy: [OrderByClause] = [],
        maxResults: Int = RegistryLimits.defaultModelVersionSearchMaxResults, pageToken: String? = nil
    ) {
        self.filter = filter
        self.orderBy = orderBy
        self.maxResults = maxResults
        self.pageToken = pageToken
    }
}
