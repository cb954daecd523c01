import CairnCore
import CairnStore
import Foundation
import Logging

/// Every trigger source's one way to act: store the event first (de-duplicated by pipeline
/// and dedupe key), then ask the dispatcher to run it. An event stored but not dispatched
/// (the process died in between, or dispatch failed) stays pending and `replayPending` runs
/// it at the next start-up, so no trigger is lost across a kill -9.
public struct TriggerRecorder: Sendable {
    let store: any TriggerEventStore
    let dispatcher: any PipelineDispatching
    let logger: Logger
    let now: WallClock

    public init(store: any TriggerEventStore, dispatcher: any PipelineDispatching, logger: Logger, now: @escaping WallClock) {
        self.store = store
        self.dispatcher = dispatcher
        self.logger = logger
        self.now = now
    }

    /// Stores the event and, when it is new, dispatches it. A duplicate is returned as stored
    /// (with its run, once started) and not dispatched again.
    @discardableResult
    public func fire(pipeline: String, kind: TriggerEvent.Kind, dedupeKey: String, payload: String) async throws -> TriggerEvent {
        let candidate = TriggerEvent(
            id: UUID().uuidString.lowercased(), pipeline: pipeline, kind: kind, dedupeKey: dedupeKey, payload: payload, receivedAt: now())
        let (stored, inserted) = try await store.insertIfNew(candidate.stored)
        guard let event = TriggerEvent(stored) else {
            throw CairnError(
                .internalError, "Trigger event '\(stored.id)' has kind '\(stored.kind)' or state '\(stored.state)' unknown here.")
        }
        guard inserted else { return event }
        logger.info(
            "Trigger event stored", metadata: ["pipeline": "\(pipeline)", "kind": "\(kind.rawValue)", "dedupe_key": "\(dedupeKey)"])
        _ = await dispatch(event)
        return TriggerEvent(try await store.get(id: event.id)) ?? event
    }

    /// Stores a first observation without acting on it (a data trigger's baseline), so the
    /// next different observation is the first to fire.
    public func recordBaseline(pipeline: String, kind: TriggerEvent.Kind, dedupeKey: String, payload: String, reason: String) async throws {
        let event = StoredTriggerEvent(
            id: UUID().uuidString.lowercased(), pipeline: pipeline, kind: kind.rawValue, dedupeKey: dedupeKey, payload: payload,
            receivedAt: now(), state: TriggerEvent.State.skipped.rawValue, reason: reason)
        _ = try await store.insertIfNew(event)
    }

    func hasEvents(pipeline: String, dedupePrefix: String, kind: TriggerEvent.Kind = .dataChanged) async throws -> Bool {
        try await store.hasEvent(pipeline: pipeline, kind: kind.rawValue, dedupePrefix: dedupePrefix)
    }

    /// Dispatches the event and records the outcome on it: started with its run, skipped with
    /// the dispatcher's reason (the pipeline is at its concurrency limit), left pending when the
    /// dispatcher queued it (a backfill tick waiting for a free slot), or skipped when refused for
    /// good (the pipeline does not exist, the event is invalid). Any other failure is logged and
    /// leaves it pending for the next replay. Recording here as well as in the dispatcher is
    /// harmless: a started event keeps its first run.
    func dispatch(_ event: TriggerEvent) async -> String? {
        do {
            switch try await dispatcher.dispatch(event) {
            case .started(let runID):
                return try await store.markStarted(id: event.id, runID: runID).runID
            case .skipped(let reason):
                _ = try await store.markSkipped(id: event.id, reason: reason)
                logger.info("Trigger event skipped", metadata: ["pipeline": "\(event.pipeline)", "reason": "\(reason)"])
                return nil
            case .queued:
                logger.info(
                    "Trigger event queued until the pipeline has a free slot",
                    metadata: ["pipeline": "\(event.pipeline)", "event_id": "\(event.id)"])
                return nil
            }
        } catch let error as CairnError where error.code == .resourceDoesNotExist || error.code == .invalidParameterValue {
            _ = try? await store.markSkipped(id: event.id, reason: error.message)
            logger.warning(
                "Trigger event refused",
                metadata: ["pipeline": "\(event.pipeline)", "event_id": "\(event.id)", "error": "\(error.message)"])
            return nil
        } catch {
            logger.error(
                "Trigger event could not be dispatched; it stays pending until the next start-up",
                metadata: ["pipeline": "\(event.pipeline)", "event_id": "\(event.id)", "error": "\(error)"])
            return nil
        }
    }

    /// Dispatches every pending event, oldest first (the start-up replay). Returns how many
    /// were dispatched.
    @discardableResult
    public func replayPending() async throws -> Int {
        var count = 0
        for stored in try await store.pending(limit: 100_000) {
            guard let event = TriggerEvent(stored) else { continue }
            logger.notice("Replaying a pending trigger event", metadata: ["pipeline": "\(event.pipeline)", "event_id": "\(event.id)"])
            _ = await dispatch(event)
            count += 1
        }
        return count
    }
}
