import CairnCore
import CairnStore

/// The bodies of Cairn's lineage API, written by `CairnAPIBody` (snake_case keys): a model
/// version and everything that made it and happened to it, or a run and what it made.
enum LineageAPI {
    struct Dataset: Encodable, Sendable {
        var name: String
        var digest: String
        var sourceType: String
        var source: String
        /// `mlflow.data.context` (`training`, `eval`…), when logged.
        @Nullable var context: String?

        init(_ input: DatasetInput) {
            name = input.dataset.name
            digest = input.dataset.digest
            sourceType = input.dataset.sourceType
            source = input.dataset.source
            context = input.tags.first { $0.key == "mlflow.data.context" }?.value
        }
    }

    struct Run: Encodable, Sendable {
        var runID: String
        var experimentID: String
        var runName: String
        var status: String
        var startTime: Int64
        @Nullable var endTime: Int64?
        @Nullable var parentRunID: String?
        var datasets: [Dataset]

        init(_ run: CairnCore.Run) {
            runID = run.info.runID
            experimentID = run.info.experimentID
            runName = run.info.runName
            status = run.info.status.rawValue
            startTime = run.info.startTime
            endTime = run.info.endTime
            parentRunID = run.data.tags.first { $0.key == "mlflow.parentRunId" }?.value
            datasets = run.inputs.datasetInputs.map(Dataset.init)
        }
    }

    /// The pipeline run (an MLflow run too) and what started it.
    struct PipelineRun: Encodable, Sendable {
        var runID: String
        var pipeline: String
        var status: String
        var trigger: String
        @Nullable var triggerEventID: String?
        var startTime: Int64
        @Nullable var endTime: Int64?

        init(_ run: StoredPipelineRun) {
            runID = run.id
            pipeline = run.pipeline
            status = run.status.rawValue
            trigger = run.triggerKind
            triggerEventID = run.triggerEventID
            startTime = run.startTime
            endTime = run.endTime
        }
    }

    /// A stage of a pipeline run, with its cache key's components (the deps' paths and content
    /// hashes, the params, the command): the file-level inputs.
    struct StageRun: Encodable, Sendable {
        var stage: String
        @Nullable var runID: String?
        var status: String
        var cacheHit: Bool
        @Nullable var cacheSourceRun: String?
        @Nullable var cacheKey: String?
        @Nullable var keyComponents: JSONValue?

        init(_ row: StoredStageRun) {
            stage = row.stage
            runID = row.mlflowRunID
            status = row.status.rawValue
            cacheHit = row.cacheHit
            cacheSourceRun = row.sourceRun
            cacheKey = row.cacheKey
            keyComponents = row.keyComponents.flatMap { try? JSONValue.parse($0) }
        }
    }

    struct AliasMove: Encodable, Sendable {
        var alias: String
        @Nullable var fromVersion: String?
        var toVersion: String
        var time: Int64
        var entryID: String
        /// `decision` or `rollback`.
        var kind: String
    }

    struct Monitor: Encodable, Sendable {
        var monitorID: String
        var name: String
        /// The alias it follows (now on this version); nil when it follows the newest version
        /// with traffic, which may be this one.
        @Nullable var alias: String?
    }

    struct ModelVersion: Encodable, Sendable {
        var name: String
        var version: String
        var status: String
        var source: String
        @Nullable var runID: String?
        var aliases: [String]
        var creationTimestamp: Int64

        init(_ version: CairnCore.ModelVersion) {
            name = version.name
            self.version = version.version
            status = version.status.rawValue
            source = version.source
            runID = version.runID
            aliases = version.aliases
            creationTimestamp = version.creationTimestamp
        }
    }

    /// `GET /lineage/model-versions/{name}/{version}`.
    struct ModelVersionLineage: Encodable, Sendable {
        var modelVersion: ModelVersion
        /// The run the version was registered from; nil when it has none or it is gone.
        @Nullable var run: Run?
        @Nullable var pipelineRun: PipelineRun?
        @Nullable var stageRun: StageRun?
        /// Promotion-log entries that judged or moved this version, oldest first.
        var promotions: [PromotionAPI.Entry]
        var aliasMoves: [AliasMove]
        var monitors: [Monitor]
    }

    /// `GET /lineage/runs/{run_id}`.
    struct RunLineage: Encodable, Sendable {
        var run: Run
        @Nullable var pipelineRun: PipelineRun?
        @Nullable var stageRun: StageRun?
        /// For a pipeline run: each of its stages.
        var stageRuns: [StageRun]
        /// Versions registered from this run (and, for a pipeline run, from its stages' runs).
        var modelVersions: [ModelVersion]
    }
}
