import CairnCore

/// A `PromotionLogStore` whose alias moves (a gate's promotion, its `keep_previous_as`, a
/// rollback) are announced to the registry's listeners after they commit, as a move through
/// the registry API would be: MLflow webhooks hear `model_version_alias.created` and
/// pipelines triggered by the alias start. The log moves aliases inside its own transaction
/// (so entry and move are one write), which is why it cannot go through
/// `EventEmittingRegistryStore` and announces here instead.
public struct AnnouncingPromotionLogStore: PromotionLogStore {
    let base: any PromotionLogStore
    let listeners: [any RegistryEventListener]

    public init(base: any PromotionLogStore, listeners: [any RegistryEventListener]) {
        self.base = base
        self.listeners = listeners
    }

    public func recordDecision(_ record: PromotionRecord, keepPreviousAs: String?) async throws -> PromotionRecord {
        try await announce(base.recordDecision(record, keepPreviousAs: keepPreviousAs))
    }

    public func rollback(modelName: String, alias: String, time: Int64) async throws -> PromotionRecord {
        try await announce(base.rollback(modelName: modelName, alias: alias, time: time))
    }

    public func listPromotions(modelName: String, maxResults: Int, pageToken: String?) async throws -> Page<PromotionRecord> {
        try await base.listPromotions(modelName: modelName, maxResults: maxResults, pageToken: pageToken)
    }

    private func announce(_ record: PromotionRecord) async -> PromotionRecord {
        for move in record.moves {
            let event = RegistryEvent.modelVersionAliasCreated(name: record.modelName, alias: move.alias, version: move.toVersion)
            for listener in listeners { await listener.registryEvent(event) }
        }
        return record
    }
}
