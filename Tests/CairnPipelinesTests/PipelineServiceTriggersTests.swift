import CairnCore
import CairnStore
import Logging
import Testing

@testable import CairnPipelines

/// The pipeline service as the server wires it: the registry trigger sources read, and the
/// executor check at run start.
@Suite struct PipelineServiceTriggersTests {
    static func service(_ fixture: EngineFixture, specs: [String: PipelineSpec]) -> PipelineService {
        PipelineService(
            engine: fixture.engine, store: fixture.store, triggerEvents: SQLTriggerEventStore(database: fixture.database),
            loadSpec: { directory in
                guard let spec = specs[directory] else { throw CairnError.invalidParameter("\(directory)/cairn.yaml:1:1: unreadable") }
                return spec
            }, logger: Logger(label: "test"))
    }

    static func stage(_ name: String, executor: String = "local", line: Int) -> StageSpec {
        StageSpec(
            name: name, kind: .command(["echo \(name)"]), executor: executor, location: SourceLocation(file: "cairn.yaml", line: line))
    }

    @Test func registeredPipelinesTriggersAreReadFromTheirSpecsSkippingUnreadableOnes() async throws {
        try await EngineFixture.with { fixture in
            var retrain = fixture.spec([Self.stage("train", line: 3)], name: "retrain")
            retrain.schedule = "0 * * * *"
            retrain.triggers = [.monitorAlert(monitor: "watch"), .modelVersion(model: "m", alias: "champion")]
            let broken = PipelineSpec(
                name: "broken", projectDirectory: fixture.root + "/broken", file: "x", stages: [Self.stage("a", line: 1)])
            _ = try await fixture.engine.register(retrain)
            _ = try await fixture.engine.register(broken)
            // Only `retrain` can be read now: `broken`'s project lost its spec.
            let service = Self.service(fixture, specs: [retrain.projectDirectory: retrain])
            let triggers = try await service.pipelineTriggers()
            #expect(
                triggers == [
                    PipelineTriggers(
                        pipeline: "retrain", projectDirectory: fixture.project, schedule: "0 * * * *",
                        triggers: [.monitorAlert(monitor: "watch"), .modelVersion(model: "m", alias: "champion")])
                ])
        }
    }

    @Test func aStageNamingAnExecutorTheServerLacksIsRefusedAtRunStartNamingTheStage() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([Self.stage("prepare", line: 3), Self.stage("train", executor: "ray", line: 7)])
            _ = try await fixture.engine.register(spec)
            let service = Self.service(fixture, specs: [spec.projectDirectory: spec])
            do {
                _ = try await service.startRun(spec: spec, options: PipelineRunOptions())
                Issue.record("a run started without a ray executor")
            } catch let error as CairnError {
                #expect(error.code == .invalidParameterValue)
                #expect(error.message.contains("stage 'train' (cairn.yaml:7:1) has executor 'ray'"))
                #expect(error.message.contains("--ray-address"))
                #expect(!error.message.contains("'prepare'"))
            }
            #expect(try await fixture.store.listRuns(pipeline: "demo", status: nil, limit: 10).isEmpty)
        }
    }

    @Test func aTriggeredRunAKilledServerLeftIsResumedAtStartUpAndAManualOneIsNot() async throws {
        try await EngineFixture.with { fixture in
            var spec = fixture.spec([
                CairnPipelinesTests.stage("a", "echo a > a.txt", outs: ["a.txt"]),
                CairnPipelinesTests.stage("b", "cat a.txt > b.txt", deps: ["a.txt"], outs: ["b.txt"]),
            ])
            spec.concurrency = 2
            _ = try await fixture.engine.register(spec)
            let events = SQLTriggerEventStore(database: fixture.database)
            let tick = TriggerEvent(
                id: "tick", pipeline: "demo", kind: .schedule, dedupeKey: "schedule:2026-01-01T00:00Z", payload: "{}", receivedAt: 1)
            _ = try await events.insertIfNew(tick.stored)
            // What a server killed with -9 leaves: two RUNNING runs nobody hosts.
            let scheduled = try await fixture.engine.start(spec, options: PipelineRunOptions(), trigger: tick)
            _ = try await events.markStarted(id: tick.id, runID: scheduled.id)
            let manual = try await fixture.engine.start(spec, options: PipelineRunOptions(), trigger: nil)

            let loaded = spec
            let service = PipelineService(
                engine: fixture.engine, store: fixture.store, triggerEvents: events, loadSpec: { _ in loaded },
                logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                try await service.recoverInterruptedRuns()
                #expect(try await fixture.store.getRun(id: scheduled.id).status == .failed)
                #expect(try await fixture.store.getRun(id: manual.id).status == .failed)
                let runs = try await fixture.store.listRuns(pipeline: "demo", status: nil, limit: 10)
                let resumed = try #require(runs.first { $0.resumedFrom == scheduled.id })
                #expect(resumed.triggerEventID == tick.id && resumed.triggerKind == "schedule")
                #expect(!runs.contains { $0.resumedFrom == manual.id })
                while try await fixture.store.getRun(id: resumed.id).status == .running { try await Task.sleep(for: .milliseconds(20)) }
                #expect(try await fixture.store.getRun(id: resumed.id).status == .finished)
                #expect(fixture.read("b.txt") == "a\n")
                // The event keeps its first run.
                #expect(try await events.get(id: tick.id).runID == scheduled.id)
                group.cancelAll()
            }
        }
    }

    /// Replicas: the leader marks interrupted only the runs whose host is gone; a live
    /// replica's runs, and (after this process's first term) its own, are left alone.
    @Test func theLeaderRecoversOnlyRunsOfReplicasThatAreGone() async throws {
        try await EngineFixture.with { fixture in
            let spec = fixture.spec([CairnPipelinesTests.stage("a", "echo a > a.txt", outs: ["a.txt"])])
            _ = try await fixture.engine.register(spec)
            // What replicas leave in the store: RUNNING runs, each recorded with its host.
            func run(hostedBy host: String) async throws -> StoredPipelineRun {
                let run = StoredPipelineRun(
                    id: CairnID.make(), pipeline: "demo", status: .running, triggerKind: "manual", triggerEventID: nil, options: "{}",
                    reason: nil, startTime: 1, endTime: nil, resumedFrom: nil, host: host)
                try await fixture.store.createRun(run, limit: 3)
                return run
            }
            let alive = try await run(hostedBy: "replica-alive")
            let dead = try await run(hostedBy: "replica-dead")
            let own = try await run(hostedBy: "replica-me")
            #expect(try await fixture.store.getRun(id: alive.id).host == "replica-alive")

            let service = PipelineService(
                engine: fixture.engine, store: fixture.store, triggerEvents: SQLTriggerEventStore(database: fixture.database),
                loadSpec: { _ in spec }, logger: Logger(label: "test"),
                leadership: Replicas(me: "replica-me", alive: ["replica-alive"]))
            try await service.recoverInterruptedRuns(includingOwn: false)
            #expect(try await fixture.store.getRun(id: alive.id).status == .running)
            #expect(try await fixture.store.getRun(id: dead.id).status == .failed)
            #expect(try await fixture.store.getRun(id: own.id).status == .running)
            // At this process's first term its own leftovers are interrupted ones too.
            try await service.recoverInterruptedRuns(includingOwn: true)
            #expect(try await fixture.store.getRun(id: own.id).status == .failed)
            #expect(try await fixture.store.getRun(id: alive.id).status == .running)
        }
    }
}

/// A fixed view of the replicas: this process leads, the named hosts live.
private struct Replicas: Leadership {
    let me: String
    let alive: Set<String>

    var isLeading: Bool { true }
    var holder: String? { me }
    func isAlive(host: String) async -> Bool { alive.contains(host) || host == me }
    func whileLeading(_ work: @escaping @Sendable () async throws -> Void) async { try? await work() }
}
