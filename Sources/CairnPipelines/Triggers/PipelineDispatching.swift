/// Where stored trigger events go (implemented by the engine's `PipelineService`). Trigger
/// sources (the scheduler, monitor alerts, registry events, new data) first store the event
/// (`TriggerEvent.State.pending`), then call `dispatch`; on start-up every pending event is
/// dispatched again, so an event received just before a crash still runs.
public protocol PipelineDispatching: Sendable {
    /// Starts a run for the event unless its pipeline is at its concurrency limit, marks the
    /// event `started` with the run id (or `skipped` with the reason), and returns the run id.
    /// Idempotent: an event already started returns its run.
    func dispatch(_ event: TriggerEvent) async throws -> String?
}
