import CairnCore
import CairnStore
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Hosts pipeline runs in `cairn server`: each run is a child task of the task group `run()`
/// owns, so a run never outlives the server and a graceful shutdown cancels them (their
/// process groups killed). It is also where trigger sources dispatch (`PipelineDispatching`).
///
/// On start-up, runs a killed server left RUNNING are marked FAILED ("interrupted: the server
/// stopped") after their stages' process groups are killed. A run a trigger started (schedule,
/// backfill tick, alert, model or data event) is then resumed at once, as a new run of the same
/// event reusing the finished stages, since nobody is there to type `resume` and its event
/// must not be lost; a manual run is left FAILED for its person to `resume` (or not).
///
/// Backfill ticks queue (see `DispatchOutcome`): a tick that meets the concurrency limit stays
/// pending in the trigger-event store, and each run's end (and start-up, after the recovery)
/// starts the pipeline's pending ticks in tick order while it has free slots.
///
/// With replicas on one database, runs are hosted by the replica that started them; the
/// recovery and the start-up drain of queued ticks happen on the leader only (`Leadership`),
/// each time a replica becomes the leader.
public final class PipelineService: Service, PipelineDispatching, Sendable {
    /// Loads a project's spec (`PipelineSpecLoader`); throws `invalidParameterValue` with the
    /// file, line and reason for a spec it refuses.
    public typealias SpecLoader = @Sendable (_ projectDirectory: String) async throws -> PipelineSpec

    public let engine: PipelineEngine
    public let store: any PipelineStore
    /// Where queued backfill ticks wait (the trigger sources' store).
    let triggerEvents: any TriggerEventStore
    let loadSpec: SpecLoader
    let logger: Logger
    let now: WallClock
    let leadership: any Leadership

    private struct Launch: Sendable {
        var run: StoredPipelineRun
        var spec: PipelineSpec
        var cancel: CancelSignal
    }

    private let launches: (stream: AsyncStream<Launch>, continuation: AsyncStream<Launch>.Continuation) = AsyncStream.makeStream()
    private let started: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation) = AsyncStream.makeStream()
    /// Runs of this process still going, by id, with what cancels each.
    private let active = Mutex<[String: CancelSignal]>([:])
    /// Serialises starts so the concurrency check and the insert see each other.
    private let startLock = AsyncSerialQueue()
    /// Serialises queue drains so queued ticks start in tick order.
    private let queueLock = AsyncSerialQueue()
    /// Set at graceful shutdown: no queued tick starts then (its run would have no host).
    private let stopping = Mutex(false)
    /// True until this process's first term as the leader has recovered its own runs.
    private let firstTerm = Mutex(true)
    /// How often the leader looks for runs of replicas that died (replicas only).
    let recoveryInterval: Duration

    public init(
        engine: PipelineEngine, store: any PipelineStore, triggerEvents: any TriggerEventStore, loadSpec: @escaping SpecLoader,
        logger: Logger, now: @escaping WallClock = SystemClock.now, leadership: any Leadership = AlwaysLeader(),
        recoveryInterval: Duration = .seconds(10)
    ) {
        self.leadership = leadership
        self.recoveryInterval = recoveryInterval
        self.engine = engine
        self.store = store
        self.triggerEvents = triggerEvents
        self.loadSpec = loadSpec
        self.logger = logger
        self.now = now
    }

    /// Lets `run()` begin: call once the store is migrated.
    public func start() {
        started.continuation.yield()
        started.continuation.finish()
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    var began = false
                    for await _ in self.started.stream {
                        began = true
                        break
                    }
                    guard began else { return }
                    await self.leadership.whileLeading {
                        // Runs recorded without a host, or with this process's, can only be
                        // interrupted ones at this process's start; later they may be starting.
                        let includingOwn = self.firstTerm.withLock { first in
                            defer { first = false }
                            return first
                        }
                        await self.recoverLogging(includingOwn: includingOwn)
                        // The slots interrupted runs held are free now.
                        await self.startQueuedEverywhere()
                        // With replicas, a replica may die at any time: its runs are looked for
                        // again while this process leads.
                        guard self.leadership.holder != nil else { return }
                        while !Task.isCancelled {
                            try await Task.sleep(for: self.recoveryInterval)
                            await self.recoverLogging(includingOwn: false)
                        }
                    }
                }
            }
            await withGracefulShutdownHandler {
                for await launch in self.launches.stream {
                    group.addTask { await self.host(launch) }
                }
            } onGracefulShutdown: {
                self.stopping.withLock { $0 = true }
                self.launches.continuation.finish()
                for signal in self.active.withLock({ Array($0.values) }) { signal.fire() }
            }
        }
    }

    /// One run, to its end. A cancel fires its signal rather than cancelling this task, so
    /// the run's last records (stages KILLED, the MLflow runs ended) are still written.
    private func host(_ launch: Launch) async {
        _ = await engine.execute(launch.run, spec: launch.spec, cancel: launch.cancel)
        _ = active.withLock { $0.removeValue(forKey: launch.run.id) }
        await startQueuedLogging(pipeline: launch.run.pipeline)
    }

    // MARK: - Starting runs

    /// Registers (or refreshes) the pipeline in `projectDirectory` from its spec file.
    public func register(projectDirectory: String) async throws -> (StoredPipeline, PipelineSpec) {
        let spec = try await loadSpec(projectDirectory)
        return (try await engine.register(spec), spec)
    }

    /// The registered pipeline's current spec (read from its file again).
    public func spec(of pipeline: String) async throws -> (StoredPipeline, PipelineSpec) {
        let stored = try await store.getPipeline(name: pipeline)
        return try await register(projectDirectory: stored.projectDirectory)
    }

    /// Starts a run of the registered pipeline; returns it as started (RUNNING).
    public func startRun(pipeline: String, options: PipelineRunOptions, trigger: TriggerEvent? = nil) async throws -> StoredPipelineRun {
        let (_, spec) = try await spec(of: pipeline)
        return try await startRun(spec: spec, options: options, trigger: trigger)
    }

    public func startRun(spec: PipelineSpec, options: PipelineRunOptions, trigger: TriggerEvent? = nil) async throws -> StoredPipelineRun {
        try checkExecutors(spec)
        let run = try await startLock.run { try await self.engine.start(spec, options: options, trigger: trigger) }
        let signal = CancelSignal()
        active.withLock { $0[run.id] = signal }
        launches.continuation.yield(Launch(run: run, spec: spec, cancel: signal))
        return run
    }

    /// Refuses a spec whose stages name an executor this server lacks (`ray` without
    /// `--ray-address`) before anything runs, naming the stages, rather than failing midway.
    func checkExecutors(_ spec: PipelineSpec) throws {
        var missing: [String] = []
        for stage in spec.stages {
            guard case .command = stage.kind, engine.executors[stage.executor] == nil else { continue }
            missing.append("stage '\(stage.name)' (\(stage.location)) has executor '\(stage.executor)'")
        }
        guard !missing.isEmpty else { return }
        let hint =
            missing.contains { $0.hasSuffix("'ray'") }
            ? "; start `cairn server` with --ray-address URL (or CAIRN_RAY_ADDRESS) to run stages on Ray" : ""
        throw CairnError.invalidParameter(
            "Pipeline '\(spec.name)': \(missing.joined(separator: ", ")), which this server does not have (it has: \(engine.executors.keys.sorted().joined(separator: ", ")))\(hint)."
        )
    }

    /// A new run reusing every finished stage of `runID` whose key still matches. `trigger` is
    /// the event the new run is named for (the origin's, when the server resumes a triggered run).
    public func resume(runID: String, options: PipelineRunOptions = PipelineRunOptions(), trigger: TriggerEvent? = nil) async throws
        -> StoredPipelineRun
    {
        let origin = try await store.getRun(id: runID)
        var resumed = PipelineRunOptions.decode(origin.options)
        resumed.resume = runID
        resumed.force = false
        if let jobs = options.jobs { resumed.jobs = jobs }
        return try await startRun(pipeline: origin.pipeline, options: resumed, trigger: trigger)
    }

    /// Cancels a running run of this server; returns false when it is not running here.
    @discardableResult
    public func cancel(runID: String) async throws -> Bool {
        let run = try await store.getRun(id: runID)
        guard run.status == .running else { return false }
        guard let signal = active.withLock({ $0[runID] }) else { return false }
        signal.fire()
        return true
    }

    /// Waits for a run of this server to end (tests, and `--wait` style callers).
    public func isActive(runID: String) -> Bool { active.withLock { $0[runID] != nil } }

    // MARK: - PipelineDispatching

    /// Starts a run for the event, or says why not: at the concurrency limit a backfill tick is
    /// queued and any other event skipped (`DispatchOutcome`). Idempotent: an event that
    /// already started a run returns that run.
    public func dispatch(_ event: TriggerEvent) async throws -> DispatchOutcome {
        if let runID = event.runID, event.state == .started { return .started(runID: runID) }
        if let existing = try await store.run(triggerEventID: event.id) { return .started(runID: existing.id) }
        if event.kind == .backfill {
            // Through the queue, so an older tick still waiting goes first.
            try await startQueued(pipeline: event.pipeline)
            let current = try await triggerEvents.get(id: event.id)
            if let runID = current.runID, current.state == TriggerEvent.State.started.rawValue { return .started(runID: runID) }
            if current.state == TriggerEvent.State.skipped.rawValue {
                throw CairnError.invalidParameter(current.reason ?? "The backfill tick was refused.")
            }
            return .queued
        }
        do {
            return .started(runID: try await startRun(pipeline: event.pipeline, options: PipelineRunOptions(), trigger: event).id)
        } catch let error as CairnError where error.code == .resourceConflict {
            return .skipped(reason: "the pipeline is at its concurrency limit")
        }
    }

    /// Starts the pipeline's pending backfill ticks, oldest tick first, until it is at its
    /// concurrency limit. A tick refused for good (the pipeline is gone, its spec is invalid)
    /// is marked skipped so it does not block the ones after it.
    func startQueued(pipeline: String) async throws {
        try await queueLock.run {
            for stored in try await self.triggerEvents.pending(pipeline: pipeline, kind: TriggerEvent.Kind.backfill.rawValue, limit: 10_000)
            {
                guard !self.stopping.withLock({ $0 }) else { return }
                guard let event = TriggerEvent(stored) else { continue }
                if let existing = try await self.store.run(triggerEventID: event.id) {
                    _ = try await self.triggerEvents.markStarted(id: event.id, runID: existing.id)
                    continue
                }
                do {
                    let run = try await self.startRun(pipeline: pipeline, options: PipelineRunOptions(), trigger: event)
                    _ = try await self.triggerEvents.markStarted(id: event.id, runID: run.id)
                } catch let error as CairnError where error.code == .resourceConflict {
                    return
                } catch let error as CairnError where error.code == .resourceDoesNotExist || error.code == .invalidParameterValue {
                    _ = try await self.triggerEvents.markSkipped(id: event.id, reason: error.message)
                }
            }
        }
    }

    private func startQueuedLogging(pipeline: String) async {
        do {
            try await startQueued(pipeline: pipeline)
        } catch {
            logger.error(
                "Could not start queued backfill ticks; they stay pending until the next start-up",
                metadata: ["pipeline": "\(pipeline)", "error": "\(error)"])
        }
    }

    /// Every pipeline's queue (start-up).
    func startQueuedEverywhere() async {
        do {
            let pipelines = Set(
                try await triggerEvents.pending(limit: 100_000).filter { $0.kind == TriggerEvent.Kind.backfill.rawValue }.map(\.pipeline))
            for pipeline in pipelines.sorted() { await startQueuedLogging(pipeline: pipeline) }
        } catch {
            logger.error("Could not read queued backfill ticks", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Recovery

    private func recoverLogging(includingOwn: Bool) async {
        do {
            try await recoverInterruptedRuns(includingOwn: includingOwn)
        } catch {
            logger.error("Could not recover interrupted pipeline runs", metadata: ["error": "\(error)"])
        }
    }

    /// Runs left RUNNING by a server that did not stop cleanly: each marked FAILED, then the
    /// triggered ones resumed. A run hosted by another replica is left alone while that
    /// replica lives; `includingOwn` also takes runs recorded with no host or this process's.
    func recoverInterruptedRuns(includingOwn: Bool = true) async throws {
        let reason = "interrupted: the server stopped"
        var triggered: [StoredPipelineRun] = []
        for run in try await store.listRuns(pipeline: nil, status: .running, limit: 10_000) where !isActive(runID: run.id) {
            if let host = run.host, host != leadership.holder {
                if await leadership.isAlive(host: host) { continue }
            } else if !includingOwn {
                continue
            }
            if run.triggerEventID != nil, run.triggerKind != TriggerEvent.Kind.manual.rawValue { triggered.append(run) }
            let killed = (try? await engine.threadPool.runIfActive { StageProcesses.kill(runID: run.id) }) ?? 0
            if killed > 0 { logger.info("Killed processes an interrupted run left", metadata: ["run": "\(run.id)", "count": "\(killed)"]) }
            for var stage in try await store.stageRuns(runID: run.id) where !stage.status.isTerminal {
                stage.status = stage.status == .running ? .failed : .skipped
                stage.reason = reason
                stage.endTime = stage.status == .failed ? now() : nil
                try await store.putStageRun(stage)
                if stage.status == .failed, let mlflow = stage.mlflowRunID {
                    try? await engine.recorder.finishRun(id: mlflow, status: .failed, tags: ["cairn.reason": reason])
                }
            }
            try await store.finishRun(id: run.id, status: .failed, reason: reason, endTime: now())
            try? await engine.recorder.finishRun(id: run.id, status: .failed, tags: ["cairn.reason": reason])
            logger.notice("Marked an interrupted pipeline run FAILED", metadata: ["run": "\(run.id)", "pipeline": "\(run.pipeline)"])
        }
        for run in triggered.sorted(by: { $0.startTime < $1.startTime }) {
            do {
                var event: TriggerEvent?
                if let id = run.triggerEventID { event = TriggerEvent(try await triggerEvents.get(id: id)) }
                let resumed = try await resume(runID: run.id, trigger: event)
                logger.notice(
                    "Resumed an interrupted triggered pipeline run",
                    metadata: ["run": "\(run.id)", "resumed_as": "\(resumed.id)", "pipeline": "\(run.pipeline)"])
            } catch {
                logger.error(
                    "Could not resume an interrupted triggered pipeline run; `cairn pipeline resume` can",
                    metadata: ["run": "\(run.id)", "pipeline": "\(run.pipeline)", "error": "\(error)"])
            }
        }
    }
}

/// Runs one closure at a time, in arrival order.
actor AsyncSerialQueue {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
