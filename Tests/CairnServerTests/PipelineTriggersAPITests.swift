import CairnCore
import CairnPipelines
import CairnStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import Testing

@testable import CairnServer

/// The trigger side as the server wires it: registry writes over MLflow's API start the
/// pipelines that ask for new versions, and `backfill` stores one event per past tick.
@Suite final class PipelineTriggersAPITests: Sendable {
    let base: String

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-triggers-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Marks each event started, as the engine's `PipelineService` does.
    final class Dispatcher: PipelineDispatching {
        let store: any TriggerEventStore
        let events = Mutex<[TriggerEvent]>([])
        init(store: any TriggerEventStore) { self.store = store }
        func dispatch(_ event: TriggerEvent) async throws -> DispatchOutcome {
            events.withLock { $0.append(event) }
            let runID = try await store.markStarted(id: event.id, runID: "run-\(events.withLock { $0.count })").runID
            return runID.map { .started(runID: $0) } ?? .queued
        }
    }

    struct Registry: PipelineTriggerRegistry {
        func pipelineTriggers() async throws -> [PipelineTriggers] {
            [
                PipelineTriggers(pipeline: "nightly", projectDirectory: "/p", schedule: "0 3 * * *", triggers: []),
                PipelineTriggers(
                    pipeline: "retrain", projectDirectory: "/p", schedule: nil, triggers: [.modelVersion(model: "churn", alias: nil)]),
            ]
        }
    }

    func withApp(_ body: @Sendable (any TestClientProtocol, Dispatcher) async throws -> Void) async throws {
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: base + "/cairn.db", logger: logger)
        try await Migrations.run(on: database, logger: logger, now: 1)
        let store = SQLTriggerEventStore(database: database)
        let dispatcher = Dispatcher(store: store)
        let triggering = PipelineTriggering(store: store, dispatcher: dispatcher, registry: Registry(), logger: logger)
        let registryStore = EventEmittingRegistryStore(
            base: SQLRegistryStore(database: database), listeners: [triggering.registrySource], logger: logger)
        let router = buildRouter(
            store: SQLTrackingStore(database: database), registryStore: registryStore, triggering: triggering,
            registry: PrometheusCollectorRegistry())
        do {
            try await Application(router: router, logger: logger).test(.router) { client in try await body(client, dispatcher) }
            try await database.shutdown()
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    @Test func aVersionRegisteredOverTheAPIStartsThePipelineThatAsksForIt() async throws {
        try await withApp { client, dispatcher in
            #expect(try await client.post("/api/2.0/mlflow/registered-models/create", #"{"name": "churn"}"#).status == .ok)
            #expect(
                try await client.post("/api/2.0/mlflow/model-versions/create", #"{"name": "churn", "source": "s3://b/m"}"#).status == .ok)
            // A refused write (no such model) starts nothing.
            #expect(
                try await client.post("/api/2.0/mlflow/model-versions/create", #"{"name": "nope", "source": "s3://b/m"}"#).status != .ok)
            let events = dispatcher.events.withLock { $0 }
            #expect(events.map(\.pipeline) == ["retrain"])
            #expect(events.map(\.dedupeKey) == ["model:churn/1/"])
            let listed = try json(try await client.get("/api/cairn/v1/pipelines/retrain/events"))
            guard case .array(let items)? = listed["events"], let first = items.first else {
                Issue.record("no events in \(listed)")
                return
            }
            #expect(first["state"] == .string("started"))
            #expect(first["kind"] == .string("model_version"))
            #expect(first["payload"]?["version"] == .string("1"))
            #expect(first["run_id"] == .string("run-1"))
        }
    }

    @Test func backfillStoresAnEventPerTick() async throws {
        try await withApp { client, dispatcher in
            // 2026-01-01T00:00Z to 2026-01-03T00:00Z: the 03:00 ticks of 1 and 2 January.
            let response = try await client.post(
                "/api/cairn/v1/pipelines/nightly/backfill", #"{"from": 1767225600000, "to": 1767398400000}"#)
            #expect(response.status == .ok)
            let body = try json(response)
            guard case .array(let events)? = body["events"] else {
                Issue.record("no events in \(body)")
                return
            }
            #expect(events.map { $0["dedupe_key"] } == [.string("backfill:2026-01-01T03:00Z"), .string("backfill:2026-01-02T03:00Z")])
            #expect(dispatcher.events.withLock { $0.count } == 2)
            let unknown = try await client.post("/api/cairn/v1/pipelines/nope/backfill", #"{"from": 0, "to": 1}"#)
            #expect(unknown.status == .notFound)
            let unscheduled = try await client.post("/api/cairn/v1/pipelines/retrain/backfill", #"{"from": 0, "to": 1}"#)
            #expect(unscheduled.status == .badRequest)
            #expect(try await client.post("/api/cairn/v1/pipelines/nightly/backfill", #"{"from": 0}"#).status == .badRequest)
        }
    }
}

extension MonitorsAPITests {
    /// A monitor that names a pipeline starts it once per opened alert, and the start-up replay
    /// of firing alerts starts nothing twice.
    @Test func anOpenedAlertStartsTheMonitorsPipelines() async throws {
        _ = try writeLog([("e1", 1_000, "1", 500), ("e2", 2_000, "1", 503), ("ok", 3_000, "1", 200)])
        let triggering = Mutex<PipelineTriggering?>(nil)
        let dispatcher = Mutex<PipelineTriggersAPITests.Dispatcher?>(nil)
        try await withApp(alertListener: { database in
            let store = SQLTriggerEventStore(database: database)
            let made = PipelineTriggersAPITests.Dispatcher(store: store)
            dispatcher.withLock { $0 = made }
            let wired = PipelineTriggering(
                store: store, dispatcher: made, registry: PipelineTriggersAPITests.Registry(), logger: Logger(label: "test"))
            triggering.withLock { $0 = wired }
            return wired.alertListener
        }) { client, stores in
            let created = try json(
                try await client.post(
                    "\(Self.api)/monitors",
                    #"{"name": "errors", "model_name": "churn", "min_rows": 1, "pipelines": ["retrain"], "checks": [{"type": "error_rate", "threshold": 0.5}]}"#
                ))
            let id = try #require(Self.string(created["monitor"]?["monitor_id"]))
            _ = try await client.post("\(Self.api)/monitors/\(id)/run", "")
            _ = try await client.post("\(Self.api)/monitors/\(id)/run", "")
            let alert = try #require(try await stores.monitors.listAlerts(monitorID: id, state: .firing, limit: 10).first)
            let events = try #require(dispatcher.withLock { $0 }).events.withLock { $0 }
            #expect(events.map(\.pipeline) == ["retrain"])
            #expect(events.map(\.kind) == [.monitorAlert])
            #expect(events.map(\.dedupeKey) == ["alert:\(alert.id)"])
            let wired = try #require(triggering.withLock { $0 })
            await wired.alertListener.replayFiringAlerts(store: stores.monitors, logger: Logger(label: "test"))
            #expect(try #require(dispatcher.withLock { $0 }).events.withLock { $0 }.count == 1)
        }
    }
}
