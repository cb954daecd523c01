import CairnCore
import CairnPipelines
import CairnStore
import Logging
import Testing

/// Backfill ticks queue at the concurrency limit: every tick runs, one after another, in tick
/// order, also when they were pending across a restart; other events still skip.
@Suite struct BackfillQueueTests {
    static func tick(_ hour: Int) -> String { "backfill:2026-01-01T0\(hour):00Z" }

    /// The service hosting runs (as in `cairn server`) around `body`, with a recorder dispatching to it.
    static func withService(
        _ fixture: EngineFixture, _ spec: PipelineSpec, _ body: (TriggerRecorder, SQLTriggerEventStore) async throws -> Void
    ) async throws {
        _ = try await fixture.engine.register(spec)
        let events = SQLTriggerEventStore(database: fixture.database)
        let service = PipelineService(
            engine: fixture.engine, store: fixture.store, triggerEvents: events, loadSpec: { _ in spec }, logger: Logger(label: "test"))
        let recorder = TriggerRecorder(store: events, dispatcher: service, logger: Logger(label: "test"), now: SystemClock.now)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            service.start()
            try await body(recorder, events)
            group.cancelAll()
        }
    }

    /// Waits (no time limit: a lost tick hangs the test rather than passing it) until no event
    /// is pending and no run is active, then returns the runs oldest tick first.
    static func settledRuns(_ fixture: EngineFixture, _ events: SQLTriggerEventStore) async throws -> [(String, StoredPipelineRun)] {
        while true {
            let pending = try await events.pending(limit: 10)
            let running = try await fixture.store.listRuns(pipeline: "demo", status: .running, limit: 1)
            if pending.isEmpty && running.isEmpty { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        var result: [(String, StoredPipelineRun)] = []
        for run in try await fixture.store.listRuns(pipeline: "demo", status: nil, limit: 100) {
            guard let id = run.triggerEventID else { continue }
            result.append((try await events.get(id: id).dedupeKey, run))
        }
        return result.sorted { $0.0 < $1.0 }
    }

    static func expectOneAfterAnother(_ runs: [(String, StoredPipelineRun)], ticks: [String]) {
        #expect(runs.map(\.0) == ticks)
        #expect(runs.allSatisfy { $0.1.status == .finished })
        for (earlier, later) in zip(runs, runs.dropFirst()) {
            #expect(later.1.startTime >= earlier.1.endTime ?? .max, "\(later.0) started before \(earlier.0) ended")
        }
    }

    /// One stage that waits for the file `release`, so a run stays active for as long as a
    /// test needs it to.
    static func gatedSpec(_ fixture: EngineFixture) -> PipelineSpec {
        var gated = stage("work", "while [ ! -e release ]; do sleep 0.05; done")
        gated.alwaysChanged = true
        return fixture.spec([gated])
    }

    @Test func backfillTicksAtTheLimitQueueAndRunInTickOrderWhileAScheduleTickIsSkipped() async throws {
        try await EngineFixture.with { fixture in
            try await Self.withService(fixture, Self.gatedSpec(fixture)) { recorder, events in
                var fired: [TriggerEvent] = []
                for hour in 1...3 {
                    fired.append(try await recorder.fire(pipeline: "demo", kind: .backfill, dedupeKey: Self.tick(hour), payload: "{}"))
                }
                #expect(fired.map(\.state) == [.started, .pending, .pending])
                // A scheduled tick meeting the limit is coalesced into the running run.
                let scheduled = try await recorder.fire(pipeline: "demo", kind: .schedule, dedupeKey: "schedule:x", payload: "{}")
                #expect(scheduled.state == .skipped)
                try fixture.write("release", "")
                let runs = try await Self.settledRuns(fixture, events)
                Self.expectOneAfterAnother(runs, ticks: (1...3).map(Self.tick))
                #expect(fixture.executor.maxRunning == 1)
                #expect(fixture.executor.invocations("work") == 3)
            }
        }
    }

    @Test func backfillTicksPendingAtStartUpAllRunInTickOrder() async throws {
        try await EngineFixture.with { fixture in
            let events = SQLTriggerEventStore(database: fixture.database)
            // Stored by a server that died before running them, the newest tick received first.
            for (index, hour) in [3, 1, 2].enumerated() {
                _ = try await events.insertIfNew(
                    StoredTriggerEvent(
                        id: "e\(hour)", pipeline: "demo", kind: "backfill", dedupeKey: Self.tick(hour), payload: "{}",
                        receivedAt: Int64(index)))
            }
            try fixture.write("release", "")
            try await Self.withService(fixture, Self.gatedSpec(fixture)) { recorder, events in
                #expect(try await recorder.replayPending() == 3)
                Self.expectOneAfterAnother(try await Self.settledRuns(fixture, events), ticks: (1...3).map(Self.tick))
            }
        }
    }
}
