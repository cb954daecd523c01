import CairnArtifacts
import CairnCore
import CairnStore
import Logging
import NIOCore
import NIOPosix

/// Runs pipelines: selects stages, runs them in parallel as far as their dependencies allow,
/// skips or restores what the cache already holds, and records everything in the pipeline
/// store, the lock file and MLflow runs. The server's `PipelineService` owns one and calls it
/// from its task group; nothing here starts a task of its own beyond structured child tasks.
public struct PipelineEngine: Sendable {
    public struct Configuration: Sendable {
        /// Where per-project state (file-state tables) and stage logs live, absolute.
        public var stateDirectory: String
        /// Given to stages as `MLFLOW_TRACKING_URI`, when set.
        public var trackingURI: String?
        /// Given to stages as `MLFLOW_TRACKING_TOKEN`: the server's own credential under `--auth`.
        public var trackingToken: String?
        /// Stages at once when a run does not say (`--jobs`).
        public var defaultJobs: Int
        /// Files hashed at once.
        public var hashingParallelism: Int
        /// Recorded on each run as the process hosting it (replicas on one database: the
        /// leader election's holder).
        public var host: String?

        public init(
            stateDirectory: String, trackingURI: String? = nil, defaultJobs: Int = System.coreCount,
            hashingParallelism: Int = System.coreCount, trackingToken: String? = nil, host: String? = nil
        ) {
            self.host = host
            self.trackingToken = trackingToken
            self.stateDirectory = stateDirectory
            self.trackingURI = trackingURI
            self.defaultJobs = max(1, defaultJobs)
            self.hashingParallelism = max(1, hashingParallelism)
        }
    }

    let store: any PipelineStore
    let recorder: RunRecorder
    let cache: OutputCache
    let threadPool: NIOThreadPool
    let executors: [String: any StageExecutor]
    let gate: (any GateEvaluating)?
    public let workspaces: WorkspaceRegistry
    public let configuration: Configuration
    let logger: Logger
    let now: WallClock

    public init(
        store: any PipelineStore, tracking: any TrackingStore, artifacts: any ArtifactRepository, threadPool: NIOThreadPool,
        executors: [any StageExecutor], gate: (any GateEvaluating)?, configuration: Configuration, logger: Logger,
        now: @escaping WallClock = SystemClock.now
    ) {
        self.store = store
        self.recorder = RunRecorder(tracking: tracking, artifacts: artifacts, threadPool: threadPool, now: now)
        self.cache = OutputCache(repository: artifacts, threadPool: threadPool)
        self.threadPool = threadPool
        self.executors = Dictionary(executors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.gate = gate
        self.workspaces = WorkspaceRegistry(stateDirectory: "\(configuration.stateDirectory)/projects", threadPool: threadPool)
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    /// Registers the pipeline (or refreshes it) from its loaded spec.
    public func register(_ spec: PipelineSpec) async throws -> StoredPipeline {
        let time = now()
        return try await store.putPipeline(
            StoredPipeline(
                name: spec.name, projectDirectory: spec.projectDirectory, specFile: spec.file, concurrency: max(1, spec.concurrency),
                creationTime: time, lastUpdateTime: time))
    }

    /// Creates the run (its MLflow run, its row, a WAITING row per selected stage) and returns
    /// it; `execute` then runs it. Refused with `resourceConflict` when the pipeline already
    /// has `concurrency` active runs, and with `invalidParameterValue` for options that name
    /// unknown stages.
    public func start(_ spec: PipelineSpec, options: PipelineRunOptions, trigger: TriggerEvent?) async throws -> StoredPipelineRun {
        try options.validate()
        let selected = try StageGraph(spec).select(options)
        if let origin = options.resume {
            let originRun = try await store.getRun(id: origin)
            guard originRun.pipeline == spec.name else {
                throw CairnError.invalidParameter("Run '\(origin)' belongs to pipeline '\(originRun.pipeline)', not '\(spec.name)'.")
            }
            guard originRun.status.isTerminal else {
                throw CairnError(.resourceConflict, "Run '\(origin)' is still running; cancel it before resuming it.")
            }
        }
        let limit = max(1, spec.concurrency)
        let active = try await store.listRuns(pipeline: spec.name, status: .running, limit: limit + 1).count
        if active >= limit {
            throw CairnError(
                .resourceConflict,
                "Pipeline '\(spec.name)' already has \(active) active run\(active == 1 ? "" : "s") (concurrency \(limit)); wait for it or cancel it."
            )
        }
        let experiment = try await recorder.experiment(for: spec.name)
        let triggerText = trigger.map { "\($0.kind.rawValue):\($0.id)" } ?? "manual"
        let mlflowRun = try await recorder.startPipelineRun(
            experimentID: experiment, pipeline: spec.name, trigger: triggerText, options: options)
        let run = StoredPipelineRun(
            id: mlflowRun.info.runID, pipeline: spec.name, status: .running, triggerKind: trigger?.kind.rawValue ?? "manual",
            triggerEventID: trigger?.id, options: options.json, reason: nil, startTime: mlflowRun.info.startTime, endTime: nil,
            resumedFrom: options.resume, host: configuration.host)
        do {
            try await store.createRun(run, limit: limit)
        } catch {
            // Another run took the last slot meanwhile: the MLflow run says so and goes away.
            try? await recorder.finishRun(id: run.id, status: .killed, tags: ["cairn.reason": "\(error)"])
            throw error
        }
        for stage in selected {
            try await store.putStageRun(StoredStageRun(runID: run.id, stage: stage.name, status: .waiting))
        }
        return run
    }

    /// Runs a started run to its end and records the outcome; returns its final state. Firing
    /// `cancel` cancels the run: running stages are stopped (their process groups killed), no
    /// new one starts, and the run ends KILLED.
    @discardableResult
    public func execute(_ run: StoredPipelineRun, spec: PipelineSpec, cancel: CancelSignal = CancelSignal()) async -> StoredPipelineRun {
        let options = PipelineRunOptions.decode(run.options)
        var status = PipelineRunStatus.finished
        var reason: String?
        do {
            let failure = try await schedule(run, spec: spec, options: options, cancel: cancel)
            if cancel.isFired {
                status = .killed
                reason = "cancelled"
            } else if let failure {
                status = .failed
                reason = failure
            }
        } catch is CancellationError {
            status = .killed
            reason = "cancelled"
        } catch {
            status = .failed
            reason = "\(error)"
        }
        do {
            try await workspaces.workspace(for: spec.projectDirectory).saveFileState()
        } catch {
            logger.warning("Could not save the file-state table", metadata: ["project": "\(spec.projectDirectory)", "error": "\(error)"])
        }
        // Stages a cancel or a failure left unstarted (or a crash left running) say so.
        if let rows = try? await store.stageRuns(runID: run.id) {
            for var row in rows where !row.status.isTerminal {
                row.status = row.status == .running ? .killed : .skipped
                row.reason = row.reason ?? (status == .killed ? "cancelled" : "not started: \(reason ?? "the run ended")")
                row.endTime = row.status == .killed ? now() : nil
                try? await store.putStageRun(row)
            }
        }
        var finished = run
        finished.status = status
        finished.reason = reason
        finished.endTime = now()
        do {
            try await store.finishRun(id: run.id, status: status, reason: reason, endTime: finished.endTime!)
            let mlflowStatus: RunStatus = status == .finished ? .finished : status == .killed ? .killed : .failed
            try await recorder.finishRun(id: run.id, status: mlflowStatus, tags: reason.map { ["cairn.reason": $0] } ?? [:])
        } catch {
            logger.error("Could not record the end of a pipeline run", metadata: ["run": "\(run.id)", "error": "\(error)"])
        }
        logger.info(
            "Pipeline run ended",
            metadata: ["pipeline": "\(spec.name)", "run": "\(run.id)", "status": "\(status.rawValue)", "reason": "\(reason ?? "")"])
        return finished
    }

    // MARK: - Scheduling

    /// Runs the selected stages; returns the first failure's reason, or nil.
    func schedule(_ run: StoredPipelineRun, spec: PipelineSpec, options: PipelineRunOptions, cancel: CancelSignal) async throws -> String? {
        let graph = StageGraph(spec)
        let selected = try graph.select(options)
        let selectedNames = Set(selected.map(\.name))
        let workspace = try await workspaces.workspace(for: spec.projectDirectory)
        let experiment = try await recorder.experiment(for: spec.name)
        var origin: [String: StoredStageRun] = [:]
        if let resume = options.resume {
            for stageRun in try await store.stageRuns(runID: resume) where stageRun.status == .finished {
                origin[stageRun.stage] = stageRun
            }
        }
        let context = RunContext(
            run: run, spec: spec, options: options, experimentID: experiment, workspace: workspace,
            hasher: await workspace.hasher(parallelism: configuration.hashingParallelism), origin: origin,
            order: spec.stages.map(\.name), cancel: cancel)
        let jobs = options.jobs ?? configuration.defaultJobs

        var pending = selected
        var finished = Set<String>()
        var failure: String?
        var running = 0
        try await withThrowingTaskGroup(of: (String, StageOutcome).self) { group in
            func startReady() {
                while failure == nil, !cancel.isFired, running < jobs,
                    let index = pending.firstIndex(where: { stage in
                        (graph.upstream[stage.name] ?? []).allSatisfy { !selectedNames.contains($0) || finished.contains($0) }
                    })
                {
                    let stage = pending.remove(at: index)
                    running += 1
                    group.addTask { (stage.name, await self.runStage(stage, context)) }
                }
            }
            startReady()
            while let (name, outcome) = try await group.next() {
                running -= 1
                switch outcome {
                case .finished:
                    finished.insert(name)
                case .failed(let reason):
                    if failure == nil { failure = "stage '\(name)' failed: \(reason)" }
                case .cancelled:
                    break
                }
                startReady()
            }
        }
        if let failure {
            for stage in pending {
                try await store.putStageRun(
                    StoredStageRun(runID: run.id, stage: stage.name, status: .skipped, reason: "not started: \(failure)"))
            }
        }
        return failure
    }
}

enum StageOutcome: Sendable {
    case finished
    case failed(String)
    case cancelled
}

/// What every stage of one run shares.
struct RunContext: Sendable {
    let run: StoredPipelineRun
    let spec: PipelineSpec
    let options: PipelineRunOptions
    let experimentID: String
    let workspace: ProjectWorkspace
    let hasher: ContentHasher
    /// On `resume`: the origin run's finished stages.
    let origin: [String: StoredStageRun]
    /// Stage names in file order (the lock file's order).
    let order: [String]
    let cancel: CancelSignal
}
