import CairnCore
import CairnStore
import Foundation
import Logging
import Synchronization
import Testing

@testable import CairnPipelines

/// Records what it is asked to dispatch and answers as the engine's `PipelineService` does:
/// a run id, skipped at the concurrency limit (`atLimit`), or an error (`failing`: down; `refusing`:
/// a CairnError for good). It leaves recording the outcome on the event to the caller.
final class RecordingDispatcher: PipelineDispatching {
    let store: any TriggerEventStore
    let dispatched = Mutex<[TriggerEvent]>([])
    let failing = Mutex(false)
    let atLimit = Mutex(false)
    let refusing = Mutex<CairnError?>(nil)

    init(store: any TriggerEventStore) {
        self.store = store
    }

    struct Down: Error {}

    func dispatch(_ event: TriggerEvent) async throws -> DispatchOutcome {
        if failing.withLock({ $0 }) { throw Down() }
        if let error = refusing.withLock({ $0 }) { throw error }
        if atLimit.withLock({ $0 }) { return .skipped(reason: "the pipeline is at its concurrency limit") }
        dispatched.withLock { $0.append(event) }
        return .started(runID: "run-\(event.id)")
    }

    var events: [TriggerEvent] { dispatched.withLock { $0 } }
}

struct InMemoryTriggerRegistry: PipelineTriggerRegistry {
    var pipelines: [PipelineTriggers]
    func pipelineTriggers() async throws -> [PipelineTriggers] { pipelines }
}

/// A settable clock.
final class TestClock: Sendable {
    let time: Mutex<Int64>
    init(_ start: Int64) { time = Mutex(start) }
    func set(_ value: Int64) { time.withLock { $0 = value } }
    var now: WallClock { { self.time.withLock { $0 } } }
}

struct TriggerHarness {
    let directory: URL
    let database: SQLiteMetadataDatabase
    let store: SQLTriggerEventStore
    let dispatcher: RecordingDispatcher
    let clock: TestClock
    let recorder: TriggerRecorder

    static func with(start: Int64 = 1_767_225_600_000, _ body: (TriggerHarness) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-triggers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let logger = Logger(label: "test")
        let database = try await SQLiteMetadataDatabase.open(path: directory.appendingPathComponent("cairn.db").path, logger: logger)
        do {
            try await Migrations.run(on: database, logger: logger, now: 1)
            let store = SQLTriggerEventStore(database: database)
            let dispatcher = RecordingDispatcher(store: store)
            let clock = TestClock(start)
            let harness = TriggerHarness(
                directory: directory, database: database, store: store, dispatcher: dispatcher, clock: clock,
                recorder: TriggerRecorder(store: store, dispatcher: dispatcher, logger: logger, now: clock.now))
            try await body(harness)
        } catch {
            try? await database.shutdown()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        try await database.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    func scheduler(_ pipelines: [PipelineTriggers], fingerprint: (@Sendable (String) async throws -> String?)? = nil) -> PipelineScheduler {
        PipelineScheduler(
            recorder: recorder, registry: InMemoryTriggerRegistry(pipelines: pipelines),
            options: PipelineScheduler.Options(dataInterval: .seconds(30)), fingerprint: fingerprint, logger: Logger(label: "test"),
            now: clock.now)
    }
}

@Suite struct TriggerTests {
    static let t0: Int64 = 1_767_225_600_000 // 2026-01-01T00:00Z

    @Test func anEventIsStoredBeforeItIsDispatchedAndADuplicateStartsNothing() async throws {
        try await TriggerHarness.with { h in
            let first = try await h.recorder.fire(pipeline: "train", kind: .manual, dedupeKey: "k", payload: "{}")
            #expect(first.state == .started)
            #expect(first.runID == "run-\(first.id)")
            let again = try await h.recorder.fire(pipeline: "train", kind: .manual, dedupeKey: "k", payload: "{}")
            #expect(again.id == first.id)
            #expect(again.runID == first.runID)
            #expect(h.dispatcher.events.map(\.id) == [first.id])
        }
    }

    @Test func theOutcomeOfADispatchIsRecordedOnTheEvent() async throws {
        try await TriggerHarness.with { h in
            h.dispatcher.atLimit.withLock { $0 = true }
            let limited = try await h.recorder.fire(pipeline: "train", kind: .schedule, dedupeKey: "a", payload: "{}")
            #expect(limited.state == .skipped)
            #expect(try await h.store.get(id: limited.id).reason == "the pipeline is at its concurrency limit")
            h.dispatcher.atLimit.withLock { $0 = false }
            h.dispatcher.refusing.withLock { $0 = .notFound("Pipeline 'gone' does not exist.") }
            let refused = try await h.recorder.fire(pipeline: "gone", kind: .schedule, dedupeKey: "b", payload: "{}")
            #expect(refused.state == .skipped)
            #expect(try await h.store.get(id: refused.id).reason == "Pipeline 'gone' does not exist.")
            // Neither is replayed.
            h.dispatcher.refusing.withLock { $0 = nil }
            #expect(try await h.recorder.replayPending() == 0)
            #expect(h.dispatcher.events.isEmpty)
        }
    }

    @Test func anEventNotDispatchedBeforeACrashRunsAtStartUp() async throws {
        try await TriggerHarness.with { h in
            // The dispatcher is down when the event arrives (or the process dies right after
            // storing it): the event stays pending.
            h.dispatcher.failing.withLock { $0 = true }
            let event = try await h.recorder.fire(pipeline: "train", kind: .monitorAlert, dedupeKey: "alert:a1", payload: "{}")
            #expect(event.state == .pending)
            #expect(try await h.store.pending(limit: 10).map(\.id) == [event.id])
            // Start-up: the scheduler's replay dispatches it, once.
            h.dispatcher.failing.withLock { $0 = false }
            let scheduler = h.scheduler([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scheduler.run() }
                scheduler.start()
                while h.dispatcher.events.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                group.cancelAll()
            }
            #expect(h.dispatcher.events.map(\.id) == [event.id])
            #expect(try await h.store.pending(limit: 10).isEmpty)
            #expect(try await h.store.get(id: event.id).runID == "run-\(event.id)")
            #expect(try await h.recorder.replayPending() == 0)
        }
    }

    @Test func aScheduleFiresAtItsTicksWithoutCatchUp() async throws {
        try await TriggerHarness.with { h in
            let scheduler = h.scheduler([
                PipelineTriggers(pipeline: "hourly", projectDirectory: "/p", schedule: "0 * * * *", triggers: []),
                PipelineTriggers(pipeline: "never", projectDirectory: "/p", schedule: "0 0 30 2 *", triggers: []),
            ])
            // Started at 00:00:20: the 00:00 tick passed before start-up and is not run.
            await scheduler.pass(at: Self.t0 + 20_000)
            #expect(h.dispatcher.events.isEmpty)
            await scheduler.pass(at: Self.t0 + 59 * 60_000)
            #expect(h.dispatcher.events.isEmpty)
            await scheduler.pass(at: Self.t0 + 3_600_000 + 500)
            await scheduler.pass(at: Self.t0 + 3_600_000 + 1500)
            #expect(h.dispatcher.events.map(\.dedupeKey) == ["schedule:2026-01-01T01:00Z"])
            #expect(h.dispatcher.events.map(\.kind) == [.schedule])
            // Down from 01:30 to 03:30: the 02:00 and 03:00 ticks are missed, not run later.
            await scheduler.pass(at: Self.t0 + 3 * 3_600_000 + 30 * 60_000)
            await scheduler.pass(at: Self.t0 + 4 * 3_600_000 + 100)
            #expect(h.dispatcher.events.map(\.dedupeKey) == ["schedule:2026-01-01T01:00Z", "schedule:2026-01-01T04:00Z"])
            // A second scheduler (another replica) at the same tick starts nothing more.
            let replica = h.scheduler([PipelineTriggers(pipeline: "hourly", projectDirectory: "/p", schedule: "0 * * * *", triggers: [])])
            await replica.pass(at: Self.t0 + 4 * 3_600_000 - 1000)
            await replica.pass(at: Self.t0 + 4 * 3_600_000 + 200)
            #expect(h.dispatcher.events.count == 2)
        }
    }

    @Test func backfillStoresOneEventPerTickExplicitly() async throws {
        try await TriggerHarness.with { h in
            let scheduler = h.scheduler([PipelineTriggers(pipeline: "daily", projectDirectory: "/p", schedule: "@daily", triggers: [])])
            let events = try await scheduler.backfill(pipeline: "daily", from: Self.t0, to: Self.t0 + 3 * 86_400_000 - 1)
            #expect(events.map(\.dedupeKey) == ["backfill:2026-01-01T00:00Z", "backfill:2026-01-02T00:00Z", "backfill:2026-01-03T00:00Z"])
            #expect(events.allSatisfy { $0.kind == .backfill && $0.state == .started })
            // Asked again, the same ticks are the same events.
            let again = try await scheduler.backfill(pipeline: "daily", from: Self.t0, to: Self.t0 + 86_400_000)
            #expect(again.map(\.id) == Array(events.prefix(2)).map(\.id))
            #expect(h.dispatcher.events.count == 3)
            await #expect(throws: CairnError.self) { _ = try await scheduler.backfill(pipeline: "nope", from: 0, to: 1) }
            await #expect(throws: CairnError.self) {
                _ = try await scheduler.backfill(pipeline: "daily", from: Self.t0, to: Self.t0 + 5000 * 86_400_000)
            }
        }
    }

    @Test func aNewModelVersionOrAnAliasMoveStartsThePipelinesThatAskForIt() async throws {
        try await TriggerHarness.with { h in
            let source = RegistryTriggerSource(
                recorder: h.recorder,
                registry: InMemoryTriggerRegistry(pipelines: [
                    PipelineTriggers(
                        pipeline: "on-version", projectDirectory: "/p", schedule: nil, triggers: [.modelVersion(model: "churn", alias: nil)]
                    ),
                    PipelineTriggers(
                        pipeline: "on-champion", projectDirectory: "/p", schedule: nil,
                        triggers: [.modelVersion(model: "churn", alias: "champion")]),
                    PipelineTriggers(
                        pipeline: "other", projectDirectory: "/p", schedule: nil, triggers: [.modelVersion(model: "fraud", alias: nil)]),
                ]), logger: Logger(label: "test"))
            await source.registryEvent(
                .modelVersionCreated(name: "churn", version: "3", source: "s", runID: nil, tags: [], description: nil))
            await source.registryEvent(.modelVersionAliasCreated(name: "churn", alias: "challenger", version: "3"))
            await source.registryEvent(.modelVersionAliasCreated(name: "churn", alias: "champion", version: "3"))
            // The same event again (a retried request) starts nothing twice.
            await source.registryEvent(.modelVersionAliasCreated(name: "churn", alias: "champion", version: "3"))
            #expect(h.dispatcher.events.map(\.pipeline) == ["on-version", "on-champion"])
            #expect(h.dispatcher.events.map(\.dedupeKey) == ["model:churn/3/", "model:churn/3/champion"])
            #expect(h.dispatcher.events.allSatisfy { $0.kind == .modelVersion })
        }
    }

    @Test func anOpenedAlertStartsEachPipelineOnce() async throws {
        try await TriggerHarness.with { h in
            let source = AlertTriggerSource(
                recorder: h.recorder,
                registry: InMemoryTriggerRegistry(pipelines: [
                    PipelineTriggers(pipeline: "retrain", projectDirectory: "/p", schedule: nil, triggers: []),
                    PipelineTriggers(
                        pipeline: "by-spec", projectDirectory: "/p", schedule: nil, triggers: [.monitorAlert(monitor: "drift")]),
                    PipelineTriggers(
                        pipeline: "unrelated", projectDirectory: "/p", schedule: nil, triggers: [.monitorAlert(monitor: "latency")]),
                ]), logger: Logger(label: "test"))
            let alert = AlertTriggerSource.Alert(
                id: "a1", monitor: "drift", check: "feature_drift", modelName: "churn", modelVersion: "2", message: "m")
            let events = await source.alertOpened(alert, pipelines: ["retrain", "not-registered"])
            #expect(events.map(\.pipeline) == ["retrain", "by-spec"])
            #expect(events.allSatisfy { $0.dedupeKey == "alert:a1" && $0.kind == .monitorAlert })
            _ = await source.alertOpened(alert, pipelines: ["retrain"])
            #expect(h.dispatcher.events.count == 2)
        }
    }

    @Test func aDataPathFiresWhenItsHashChangesNotAtFirstSight() async throws {
        try await TriggerHarness.with { h in
            let data = h.directory.appendingPathComponent("project/data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try Data("a,b\n1,2\n".utf8).write(to: data.appendingPathComponent("train.csv"))
            let pipelines = [
                PipelineTriggers(
                    pipeline: "retrain", projectDirectory: h.directory.appendingPathComponent("project").path, schedule: nil,
                    triggers: [.dataChanged(path: "data")])
            ]
            let scheduler = h.scheduler(pipelines, fingerprint: { try DataFingerprint.sha256(of: $0) })
            await scheduler.pass(at: Self.t0)
            #expect(h.dispatcher.events.isEmpty)
            try Data("a,b\n1,2\n3,4\n".utf8).write(to: data.appendingPathComponent("train.csv"))
            // Not yet due: checked on its interval.
            await scheduler.pass(at: Self.t0 + 10_000)
            #expect(h.dispatcher.events.isEmpty)
            await scheduler.pass(at: Self.t0 + 31_000)
            #expect(h.dispatcher.events.map(\.kind) == [.dataChanged])
            // A restarted scheduler (no memory) sees the same hash: nothing new.
            let restarted = h.scheduler(pipelines, fingerprint: { try DataFingerprint.sha256(of: $0) })
            await restarted.pass(at: Self.t0 + 62_000)
            #expect(h.dispatcher.events.count == 1)
            // A new file changes the folder's hash.
            try Data("x".utf8).write(to: data.appendingPathComponent("more.csv"))
            await restarted.pass(at: Self.t0 + 93_000)
            #expect(h.dispatcher.events.count == 2)
        }
    }

    @Test func aVersionRegisteredJustBeforeACrashStartsItsPipelineAtStartUp() async throws {
        try await TriggerHarness.with { h in
            let registry = SQLRegistryStore(database: h.database)
            _ = try await registry.createRegisteredModel(name: "churn", tags: [], description: nil)
            _ = try await registry.createModelVersion(CreateModelVersion(name: "churn", source: "s3://b/1"))
            let source = RegistryTriggerSource(
                recorder: h.recorder,
                registry: InMemoryTriggerRegistry(pipelines: [
                    PipelineTriggers(
                        pipeline: "retrain", projectDirectory: "/p", schedule: nil, triggers: [.modelVersion(model: "churn", alias: nil)])
                ]), logger: Logger(label: "test"))
            // First sight: version 1 predates the trigger and is its baseline, not a run.
            await source.reconcile(with: registry)
            #expect(h.dispatcher.events.isEmpty)
            // Version 2 committed, then the process died before its registry event was heard.
            _ = try await registry.createModelVersion(CreateModelVersion(name: "churn", source: "s3://b/2"))
            await source.reconcile(with: registry)
            #expect(h.dispatcher.events.map(\.dedupeKey) == ["model:churn/2/"])
            // Heard live as well (or reconciled again): still one run.
            await source.registryEvent(
                .modelVersionCreated(name: "churn", version: "2", source: "s3://b/2", runID: nil, tags: [], description: nil))
            await source.reconcile(with: registry)
            #expect(h.dispatcher.events.count == 1)
        }
    }
}
