import CairnCore
import CairnPipelines
import CairnStore
import Hummingbird

/// `/api/cairn/v1/pipelines/{name}/backfill` and `/events`: explicit runs of a schedule's past
/// ticks, and the trigger events a pipeline received (what started each run, or why not).
struct PipelineTriggersController<Context: CairnRequestContext>: Sendable {
    let triggering: PipelineTriggering

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("pipelines/{name}/backfill", use: mlflowWithPath(backfill))
        group.get("pipelines/{name}/events", use: mlflowWithPath(events))
    }

    /// `{"from": ms, "to": ms}`: one `backfill` event per tick of the pipeline's schedule in
    /// `[from, to]`, each dispatched in order.
    @Sendable func backfill(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineTriggersAPI.Events
    > {
        let events = try await triggering.scheduler.backfill(
            pipeline: try path.required("name"), from: try parameters.requiredInt64("from"), to: try parameters.requiredInt64("to"))
        return CairnAPIBody(PipelineTriggersAPI.Events(events: events.map(PipelineTriggersAPI.Event.init)))
    }

    @Sendable func events(_ parameters: RequestParameters, _ path: PathParameters, context: Context) async throws -> CairnAPIBody<
        PipelineTriggersAPI.Events
    > {
        let limit = try parameters.int("max_results") ?? 100
        guard (1...1000).contains(limit) else { throw CairnError.invalidParameter("'max_results' must be between 1 and 1000.") }
        let stored = try await triggering.store.list(pipeline: try path.required("name"), limit: limit)
        return CairnAPIBody(PipelineTriggersAPI.Events(events: stored.map(PipelineTriggersAPI.Event.init)))
    }
}

enum PipelineTriggersAPI {
    struct Event: Encodable, Sendable {
        var eventID: String
        var pipeline: String
        var kind: String
        var dedupeKey: String
        /// What the trigger carried, as the JSON it is.
        var payload: JSONValue
        var receivedAt: Int64
        var state: String
        @Nullable var runID: String?
        @Nullable var reason: String?

        init(_ event: TriggerEvent) {
            self.init(event.stored)
        }

        init(_ stored: StoredTriggerEvent) {
            eventID = stored.id
            pipeline = stored.pipeline
            kind = stored.kind
            dedupeKey = stored.dedupeKey
            payload = (try? JSONValue.parse(Array(stored.payload.utf8))) ?? .string(stored.payload)
            receivedAt = stored.receivedAt
            state = stored.state
            runID = stored.runID
            reason = stored.reason
        }
    }

    struct Events: Encodable, Sendable { var events: [Event] }
}
