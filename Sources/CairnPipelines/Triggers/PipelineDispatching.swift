/// Where stored trigger events go (implemented by the engine's `PipelineService`). Trigger
/// sources (the scheduler, monitor alerts, registry events, new data) first store the event
/// (`TriggerEvent.State.pending`), then call `dispatch`; on start-up every pending event is
/// dispatched again, so an event received just before a crash still runs.
public protocol PipelineDispatching: Sendable {
    /// Starts a run for the event unless its pipeline is at its concurrency limit and returns
    /// what happened; the caller records it on the event. Idempotent: an event already started
    /// returns its run.
    func dispatch(_ event: TriggerEvent) async throws -> DispatchOutcome
}

/// What a dispatch did with an event.
///
/// The rule at a pipeline's `concurrency` limit: an event that asks for "a run now" (a
/// schedule tick, an alert, new data, a model version) is coalesced into the run already going,
/// like Airflow's `max_active_runs` with a skipped tick, and is marked `skipped`; a `backfill`
/// tick asks for a run of *that* tick, so it waits its turn instead (`queued`, still pending in
/// the store) and starts, in tick order, when a run of the pipeline ends or at the next start-up.
public enum DispatchOutcome: Sendable, Equatable {
    case started(runID: String)
    /// Marked `skipped` with the reason.
    case skipped(reason: String)
    /// Left pending: the dispatcher starts it when the pipeline has a free slot.
    case queued

    public var runID: String? {
        if case .started(let runID) = self { return runID }
        return nil
    }
}
