import CairnCore
import Logging

/// Hears registry events after their write committed (a failed write emits nothing).
public protocol RegistryEventListener: Sendable {
    /// Must not fail the write that already happened: a listener records what it owes durably
    /// (a webhook outbox row, a trigger event) and handles its own errors.
    func registryEvent(_ event: RegistryEvent) async
}

/// A `RegistryStore` that tells its listeners about each committed change MLflow 3 announces
/// with webhooks. Prompts (registered models tagged `mlflow.prompt.is_prompt`) are not
/// announced: MLflow announces them as `prompt…` events, which Cairn does not emit.
public struct EventEmittingRegistryStore: RegistryStore {
    public let base: any RegistryStore
    let listeners: [any RegistryEventListener]
    let logger: Logger

    public init(base: any RegistryStore, listeners: [any RegistryEventListener], logger: Logger) {
        self.base = base
        self.listeners = listeners
        self.logger = logger
    }

    private func emit(_ event: RegistryEvent, prompt: Bool? = nil) async {
        guard !listeners.isEmpty else { return }
        let isPrompt: Bool
        if let prompt {
            isPrompt = prompt
        } else {
            isPrompt = (try? await base.getRegisteredModel(name: event.modelName))?.isPrompt ?? false
        }
        guard !isPrompt else { return }
        for listener in listeners { await listener.registryEvent(event) }
    }

    public func createRegisteredModel(name: String, tags: [KeyValue], description: String?) async throws -> RegisteredModel {
        let model = try await base.createRegisteredModel(name: name, tags: tags, description: description)
        await emit(
            .registeredModelCreated(name: model.name, tags: tags, description: description), prompt: RegistryValidation.isPrompt(tags))
        return model
    }

    public func createModelVersion(_ request: CreateModelVersion) async throws -> ModelVersion {
        let version = try await base.createModelVersion(request)
        await emit(
            .modelVersionCreated(
                name: version.name, version: version.version, source: version.source, runID: version.runID, tags: request.tags,
                description: request.description))
        return version
    }

    public func setModelVersionTag(name: String, version: String, tag: KeyValue) async throws {
        try await base.setModelVersionTag(name: name, version: version, tag: tag)
        await emit(.modelVersionTagSet(name: name, version: version, key: tag.key, value: tag.value))
    }

    public func deleteModelVersionTag(name: String, version: String, key: String) async throws {
        try await base.deleteModelVersionTag(name: name, version: version, key: key)
        await emit(.modelVersionTagDeleted(name: name, version: version, key: key))
    }

    public func setRegisteredModelAlias(name: String, alias: String, version: String) async throws {
        try await base.setRegisteredModelAlias(name: name, alias: alias, version: version)
        await emit(.modelVersionAliasCreated(name: name, alias: alias, version: version))
    }

    public func setRegisteredModelAlias(name: String, alias: String, version: String, expectedCurrent: String?) async throws -> Bool {
        let moved = try await base.setRegisteredModelAlias(name: name, alias: alias, version: version, expectedCurrent: expectedCurrent)
        // A refused compare-and-set changed nothing, so it announces nothing.
        if moved { await emit(.modelVersionAliasCreated(name: name, alias: alias, version: version)) }
        return moved
    }

    public func deleteRegisteredModelAlias(name: String, alias: String) async throws {
        try await base.deleteRegisteredModelAlias(name: name, alias: alias)
        await emit(.modelVersionAliasDeleted(name: name, alias: alias))
    }

    // Changes MLflow announces with no webhook event pass straight through.

    public func getRegisteredModel(name: String) async throws -> RegisteredModel { try await base.getRegisteredModel(name: name) }
    public func renameRegisteredModel(name: String, newName: String) async throws -> RegisteredModel {
        try await base.renameRegisteredModel(name: name, newName: newName)
    }
    public func updateRegisteredModel(name: String, description: String?) async throws -> RegisteredModel {
        try await base.updateRegisteredModel(name: name, description: description)
    }
    public func deleteRegisteredModel(name: String) async throws { try await base.deleteRegisteredModel(name: name) }
    public func searchRegisteredModels(_ query: RegisteredModelSearch) async throws -> Page<RegisteredModel> {
        try await base.searchRegisteredModels(query)
    }
    public func getLatestVersions(name: String, stages: [String]) async throws -> [ModelVersion] {
        try await base.getLatestVersions(name: name, stages: stages)
    }
    public func setRegisteredModelTag(name: String, tag: KeyValue) async throws {
        try await base.setRegisteredModelTag(name: name, tag: tag)
    }
    public func deleteRegisteredModelTag(name: String, key: String) async throws {
        try await base.deleteRegisteredModelTag(name: name, key: key)
    }
    public func getModelVersion(name: String, alias: String) async throws -> ModelVersion {
        try await base.getModelVersion(name: name, alias: alias)
    }
    public func getModelVersion(name: String, version: String) async throws -> ModelVersion {
        try await base.getModelVersion(name: name, version: version)
    }
    public func updateModelVersion(name: String, version: String, description: String?) async throws -> ModelVersion {
        try await base.updateModelVersion(name: name, version: version, description: description)
    }
    public func deleteModelVersion(name: String, version: String) async throws {
        try await base.deleteModelVersion(name: name, version: version)
    }
    public func searchModelVersions(_ query: ModelVersionSearch) async throws -> Page<ModelVersion> {
        try await base.searchModelVersions(query)
    }
    public func transitionModelVersionStage(name: String, version: String, stage: String, archiveExistingVersions: Bool) async throws
        -> ModelVersion
    {
        try await base.transitionModelVersionStage(
            name: name, version: version, stage: stage, archiveExistingVersions: archiveExistingVersions)
    }
    public func getModelVersionDownloadUri(name: String, version: String) async throws -> String {
        try await base.getModelVersionDownloadUri(name: name, version: version)
    }
}

/// Queues a webhook delivery for each registry event (the webhook outbox's producer).
public struct WebhookOutbox: RegistryEventListener {
    let store: any WebhookStore
    let maxAttempts: Int
    let logger: Logger
    let now: WallClock

    public init(store: any WebhookStore, maxAttempts: Int = 5, logger: Logger, now: @escaping WallClock) {
        self.store = store
        self.maxAttempts = maxAttempts
        self.logger = logger
        self.now = now
    }

    public func registryEvent(_ event: RegistryEvent) async {
        do {
            try await store.enqueue(event: event.webhookEvent, payload: event.payload, maxAttempts: maxAttempts, at: now())
        } catch {
            logger.error("Could not queue webhook deliveries", metadata: ["event": "\(event.webhookEvent)", "error": "\(error)"])
        }
    }
}
