import CairnCore

/// A trigger event as stored: `CairnPipelines.TriggerEvent` in the store's terms (kind and
/// state as their raw values, which `CairnPipelines` owns), plus why it was skipped.
public struct StoredTriggerEvent: Sendable, Equatable {
    public var id: String
    public var pipeline: String
    /// `schedule`, `monitor_alert`, `model_version`, `data_changed`, `backfill`, `manual`.
    public var kind: String
    public var dedupeKey: String
    public var payload: String
    public var receivedAt: Int64
    /// `pending`, `started` or `skipped`.
    public var state: String
    public var runID: String?
    public var reason: String?

    public init(
        id: String, pipeline: String, kind: String, dedupeKey: String, payload: String, receivedAt: Int64, state: String = "pending",
        runID: String? = nil, reason: String? = nil
    ) {
        self.id = id
        self.pipeline = pipeline
        self.kind = kind
        self.dedupeKey = dedupeKey
        self.payload = payload
        self.receivedAt = receivedAt
        self.state = state
        self.runID = runID
        self.reason = reason
    }
}

/// Where trigger events are kept from receipt until they have started a run (or were
/// skipped): the durable half of "store, then act".
public protocol TriggerEventStore: Sendable {
    /// Stores the event unless one with its (pipeline, dedupe key) exists. Returns the stored
    /// event (the existing one for a duplicate) and whether this call inserted it.
    func insertIfNew(_ event: StoredTriggerEvent) async throws -> (event: StoredTriggerEvent, inserted: Bool)
    /// Pending events, oldest first.
    func pending(limit: Int) async throws -> [StoredTriggerEvent]
    /// The pipeline's pending events of `kind` in dedupe-key order (a backfill's key is its
    /// tick, `backfill:2026-01-31T12:05Z`, so this is tick order).
    func pending(pipeline: String, kind: String, limit: Int) async throws -> [StoredTriggerEvent]
    /// Throws `resourceDoesNotExist` for an unknown id.
    func get(id: String) async throws -> StoredTriggerEvent
    /// The pipeline's events, newest first.
    func list(pipeline: String, limit: Int) async throws -> [StoredTriggerEvent]
    /// Marks a pending event started with its run. An event already started keeps its run and
    /// is returned unchanged, so a replayed dispatch cannot start a second run.
    func markStarted(id: String, runID: String) async throws -> StoredTriggerEvent
    func markSkipped(id: String, reason: String) async throws -> StoredTriggerEvent
    /// Whether the pipeline has any event of `kind` whose dedupe key starts with `prefix`.
    func hasEvent(pipeline: String, kind: String, dedupePrefix prefix: String) async throws -> Bool
}
