import CairnStore

extension TriggerEvent {
    /// The event as the store keeps it.
    public var stored: StoredTriggerEvent {
        StoredTriggerEvent(
            id: id, pipeline: pipeline, kind: kind.rawValue, dedupeKey: dedupeKey, payload: payload, receivedAt: receivedAt,
            state: state.rawValue, runID: runID)
    }

    /// Nil for a kind or state this version of Cairn does not know (written by a newer one).
    public init?(_ stored: StoredTriggerEvent) {
        guard let kind = Kind(rawValue: stored.kind), let state = State(rawValue: stored.state) else { return nil }
        self.init(
            id: stored.id, pipeline: stored.pipeline, kind: kind, dedupeKey: stored.dedupeKey, payload: stored.payload,
            receivedAt: stored.receivedAt, state: state, runID: stored.runID)
    }
}
