import CairnCore
import CairnPipelines
import CairnStore

/// The bodies of Cairn's pipeline API, written by `CairnAPIBody` (snake_case keys).
enum PipelineAPI {
    struct Pipeline: Encodable, Sendable {
        var name: String
        var projectDir: String
        var specFile: String
        var concurrency: Int
        var creationTime: Int64
        var lastUpdateTime: Int64

        init(_ pipeline: StoredPipeline) {
            name = pipeline.name
            projectDir = pipeline.projectDirectory
            specFile = pipeline.specFile
            concurrency = pipeline.concurrency
            creationTime = pipeline.creationTime
            lastUpdateTime = pipeline.lastUpdateTime
        }
    }

    struct Stage: Encodable, Sendable {
        var name: String
        var kind: String
        @Nullable var cmd: String?
        var wdir: String
        var deps: [String]
        var outs: [String]
        var upstream: [String]
        var frozen: Bool
        var executor: String
        var line: Int
    }

    struct PipelineDetail: Encodable, Sendable {
        var pipeline: Pipeline
        var stages: [Stage]
        @Nullable var lastRun: Run?
    }

    struct OnePipeline: Encodable, Sendable { var pipeline: Pipeline }
    struct Pipelines: Encodable, Sendable { var pipelines: [Pipeline] }

    struct StageRun: Encodable, Sendable {
        var stage: String
        var status: String
        var cacheHit: Bool
        @Nullable var cacheKey: String?
        @Nullable var mlflowRunID: String?
        @Nullable var sourceRun: String?
        var attempts: Int
        @Nullable var jobID: String?
        @Nullable var reason: String?
        @Nullable var startTime: Int64?
        @Nullable var endTime: Int64?
        @Nullable var durationMs: Int64?

        init(_ row: StoredStageRun) {
            stage = row.stage
            status = row.status.rawValue
            cacheHit = row.cacheHit
            cacheKey = row.cacheKey
            mlflowRunID = row.mlflowRunID
            sourceRun = row.sourceRun
            attempts = row.attempts
            jobID = row.jobID
            reason = row.reason
            startTime = row.startTime
            endTime = row.endTime
            durationMs = row.startTime.flatMap { start in row.endTime.map { $0 - start } }
        }
    }

    struct Run: Encodable, Sendable {
        var runID: String
        var pipeline: String
        var status: String
        var trigger: String
        @Nullable var triggerEventID: String?
        var options: JSONValue
        @Nullable var reason: String?
        var startTime: Int64
        @Nullable var endTime: Int64?
        @Nullable var resumedFrom: String?
        @Nullable var stages: [StageRun]?

        init(_ run: StoredPipelineRun, stages: [StoredStageRun]?) {
            runID = run.id
            pipeline = run.pipeline
            status = run.status.rawValue
            trigger = run.triggerKind
            triggerEventID = run.triggerEventID
            options = (try? JSONValue.parse(run.options)) ?? .object([:])
            reason = run.reason
            startTime = run.startTime
            endTime = run.endTime
            resumedFrom = run.resumedFrom
            self.stages = stages?.map(StageRun.init)
        }
    }

    struct OneRun: Encodable, Sendable { var run: Run }
    struct Runs: Encodable, Sendable { var runs: [Run] }
    struct Cancelled: Encodable, Sendable {
        var run: Run
        var cancelled: Bool
    }

    struct Status: Encodable, Sendable {
        var pipeline: String
        var stages: [StageStatus]
    }

    struct Logs: Encodable, Sendable {
        var runID: String
        var stage: String
        var stdout: String
        var stderr: String
        var truncated: Bool
    }
}
