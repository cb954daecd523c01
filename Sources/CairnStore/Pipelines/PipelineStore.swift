import CairnCore

/// A registered pipeline: a project directory holding `cairn.yaml` or `dvc.yaml`. The spec
/// itself is read from the file on each run; only what is queried is stored.
public struct StoredPipeline: Sendable, Equatable {
    public var name: String
    /// Absolute.
    public var projectDirectory: String
    /// Absolute.
    public var specFile: String
    /// Runs allowed at once.
    public var concurrency: Int
    public var creationTime: Int64
    public var lastUpdateTime: Int64

    public init(name: String, projectDirectory: String, specFile: String, concurrency: Int, creationTime: Int64, lastUpdateTime: Int64) {
        self.name = name
        self.projectDirectory = projectDirectory
        self.specFile = specFile
        self.concurrency = concurrency
        self.creationTime = creationTime
        self.lastUpdateTime = lastUpdateTime
    }
}

/// MLflow's run statuses, which a pipeline run mirrors on its MLflow run.
public enum PipelineRunStatus: String, Sendable, Codable, CaseIterable {
    case running = "RUNNING"
    case finished = "FINISHED"
    case failed = "FAILED"
    case killed = "KILLED"

    public var isTerminal: Bool { self != .running }
}

public struct StoredPipelineRun: Sendable, Equatable {
    /// The pipeline run's MLflow run id.
    public var id: String
    public var pipeline: String
    public var status: PipelineRunStatus
    /// `TriggerEvent.Kind`'s raw value (`manual`, `schedule`…).
    public var triggerKind: String
    public var triggerEventID: String?
    /// The run options as JSON (targets, from, force…), owned by `CairnPipelines`.
    public var options: String
    /// Why the run failed or was killed.
    public var reason: String?
    public var startTime: Int64
    public var endTime: Int64?
    /// The run whose finished stages this one reused (`resume`).
    public var resumedFrom: String?
    /// The process hosting the run (its leader election's holder) when replicas share the
    /// database; nil for a server alone on its database.
    public var host: String?

    public init(
        id: String, pipeline: String, status: PipelineRunStatus, triggerKind: String, triggerEventID: String?, options: String,
        reason: String?, startTime: Int64, endTime: Int64?, resumedFrom: String?, host: String? = nil
    ) {
        self.host = host
        self.id = id
        self.pipeline = pipeline
        self.status = status
        self.triggerKind = triggerKind
        self.triggerEventID = triggerEventID
        self.options = options
        self.reason = reason
        self.startTime = startTime
        self.endTime = endTime
        self.resumedFrom = resumedFrom
    }
}

public enum StageRunStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for its upstream stages or a free slot.
    case waiting = "WAITING"
    case running = "RUNNING"
    /// Ran (or was restored from the cache, or found up to date) successfully.
    case finished = "FINISHED"
    case failed = "FAILED"
    /// Cancelled, or stopped because the server stopped.
    case killed = "KILLED"
    /// Never started: an upstream stage failed or the run was cancelled first.
    case skipped = "SKIPPED"

    public var isTerminal: Bool { self != .waiting && self != .running }
}

public struct StoredStageRun: Sendable, Equatable {
    public var runID: String
    public var stage: String
    public var status: StageRunStatus
    /// The versioned cache key (`v1:<sha256>`), once computed.
    public var cacheKey: String?
    /// The key's components as canonical JSON, for `status --why`.
    public var keyComponents: String?
    /// The stage's nested MLflow run.
    public var mlflowRunID: String?
    public var cacheHit: Bool
    /// On a cache hit or a reuse by `resume`: the stage's MLflow run the outputs came from.
    public var sourceRun: String?
    public var attempts: Int
    /// The executor's id for the running attempt (a local process group id, a Ray submission
    /// id), so a restarted server can stop what a killed one left running.
    public var jobID: String?
    public var reason: String?
    public var startTime: Int64?
    public var endTime: Int64?

    public init(
        runID: String, stage: String, status: StageRunStatus, cacheKey: String? = nil, keyComponents: String? = nil,
        mlflowRunID: String? = nil, cacheHit: Bool = false, sourceRun: String? = nil, attempts: Int = 0, jobID: String? = nil,
        reason: String? = nil, startTime: Int64? = nil, endTime: Int64? = nil
    ) {
        self.runID = runID
        self.stage = stage
        self.status = status
        self.cacheKey = cacheKey
        self.keyComponents = keyComponents
        self.mlflowRunID = mlflowRunID
        self.cacheHit = cacheHit
        self.sourceRun = sourceRun
        self.attempts = attempts
        self.jobID = jobID
        self.reason = reason
        self.startTime = startTime
        self.endTime = endTime
    }
}

/// One run-cache entry: what a successful stage with this key produced.
public struct RunCacheEntry: Sendable, Equatable {
    public var key: String
    public var pipeline: String
    public var stage: String
    /// The outputs manifest as JSON (path → object digest), owned by `CairnPipelines`.
    public var outs: String
    /// The stage's MLflow run that produced the outputs.
    public var sourceRun: String
    public var creationTime: Int64

    public init(key: String, pipeline: String, stage: String, outs: String, sourceRun: String, creationTime: Int64) {
        self.key = key
        self.pipeline = pipeline
        self.stage = stage
        self.outs = outs
        self.sourceRun = sourceRun
        self.creationTime = creationTime
    }
}

/// Pipelines, their runs and stage runs, and the run cache.
public protocol PipelineStore: Sendable {
    /// Registers the pipeline or refreshes it (by name, or by project directory when the
    /// spec's name changed). Throws `alreadyExists` when the name belongs to another directory.
    func putPipeline(_ pipeline: StoredPipeline) async throws -> StoredPipeline
    /// Throws `resourceDoesNotExist`.
    func getPipeline(name: String) async throws -> StoredPipeline
    func pipeline(projectDirectory: String) async throws -> StoredPipeline?
    func listPipelines() async throws -> [StoredPipeline]

    /// Inserts the run unless `limit` runs of its pipeline are already RUNNING, in one
    /// transaction so two requests cannot both take the last slot. Throws `resourceConflict`.
    func createRun(_ run: StoredPipelineRun, limit: Int) async throws
    func finishRun(id: String, status: PipelineRunStatus, reason: String?, endTime: Int64) async throws
    /// Throws `resourceDoesNotExist`.
    func getRun(id: String) async throws -> StoredPipelineRun
    /// The run a trigger event started, if any.
    func run(triggerEventID: String) async throws -> StoredPipelineRun?
    /// Newest first.
    func listRuns(pipeline: String?, status: PipelineRunStatus?, limit: Int) async throws -> [StoredPipelineRun]

    /// Inserts or replaces the stage's row of its run.
    func putStageRun(_ stageRun: StoredStageRun) async throws
    /// In start order (unstarted last, by name).
    func stageRuns(runID: String) async throws -> [StoredStageRun]
    /// The newest FINISHED stage run of `stage` in `pipeline`, the baseline of `status --why`.
    func lastFinishedStageRun(pipeline: String, stage: String) async throws -> StoredStageRun?

    /// Inserts or replaces the entry (a newer run of one key wins, as DVC's newest entry does).
    func putCacheEntry(_ entry: RunCacheEntry) async throws
    func cacheEntry(key: String) async throws -> RunCacheEntry?
}
