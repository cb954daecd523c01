/// Something that asks for a pipeline run. Stored before it acts (so a kill -9 after receipt
/// still runs it on restart), de-duplicated by `dedupeKey`, and named on the run it starts
/// (tag `cairn.trigger`).
public struct TriggerEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case manual, schedule
        case monitorAlert = "monitor_alert"
        case modelVersion = "model_version"
        case dataChanged = "data_changed"
        case
            backfill
    }
    public enum State: String, Sendable, Codable {
        /// Stored, not yet acted on.
        case pending
        /// A run was started for it (`runID`).
        case started
        /// Refused (the pipeline is at its concurrency limit and the event was coalesced, or invalid).
        case skipped
    }

    public var id: String
    public var pipeline: String
    public var kind: Kind
    /// Two events with one key are one event: a schedule tick's minute, an alert id, a model
    /// version, a data hash.
    public var dedupeKey: String
    /// What the trigger carries, as JSON text (alert id and monitor, model and version…).
    public var payload: String
    /// Milliseconds since the epoch.
    public var receivedAt: Int64
    public var state: State
    public var runID: String?

    public init(
        id: String, pipeline: String, kind: Kind, dedupeKey: String, payload: String, receivedAt: Int64,
        state: State = .pending, runID: String? = nil
    ) {
        self.id = id
        self.pipeline = pipeline
        self.kind = kind
        self.dedupeKey = dedupeKey
        self.payload = payload
        self.receivedAt = receivedAt
        self.state = state
        self.runID = runID
    }
}
