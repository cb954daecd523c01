import CairnCore
import SQLKit

/// `PipelineStore` on any `MetadataDatabase`.
public struct SQLPipelineStore: PipelineStore {
    let database: any MetadataDatabase

    public init(database: any MetadataDatabase) {
        self.database = database
    }

    // MARK: - Pipelines

    public func putPipeline(_ pipeline: StoredPipeline) async throws -> StoredPipeline {
        try await database.transaction { sql in
            let byName = try await sql.raw("SELECT * FROM cairn_pipelines WHERE name = \(bind: pipeline.name)").first().map(Self.pipeline)
            if let byName, byName.projectDirectory != pipeline.projectDirectory {
                throw CairnError.alreadyExists(
                    "Pipeline '\(pipeline.name)' is already registered for \(byName.projectDirectory); rename it (`name:` in the spec).")
            }
            let byDirectory = try await sql.raw(
                "SELECT * FROM cairn_pipelines WHERE project_dir = \(bind: pipeline.projectDirectory)"
            ).first().map(Self.pipeline)
            var stored = pipeline
            if let existing = byDirectory ?? byName {
                stored.creationTime = existing.creationTime
                // The spec's name changed: the directory keeps its runs under the new name.
                try await sql.raw(
                    """
                    UPDATE cairn_pipelines SET name = \(bind: stored.name), spec_file = \(bind: stored.specFile),
                        concurrency = \(bind: stored.concurrency), last_update_time = \(bind: stored.lastUpdateTime)
                    WHERE project_dir = \(bind: stored.projectDirectory)
                    """
                ).run()
                if existing.name != stored.name {
                    // Runs follow by ON UPDATE CASCADE; the run cache has no foreign key.
                    try await sql.raw("UPDATE cairn_run_cache SET pipeline = \(bind: stored.name) WHERE pipeline = \(bind: existing.name)")
                        .run()
                }
            } else {
                try await sql.raw(
                    """
                    INSERT INTO cairn_pipelines (name, project_dir, spec_file, concurrency, creation_time, last_update_time)
                    VALUES (\(bind: stored.name), \(bind: stored.projectDirectory), \(bind: stored.specFile), \(bind: stored.concurrency),
                            \(bind: stored.creationTime), \(bind: stored.lastUpdateTime))
                    """
                ).run()
            }
            return stored
        }
    }

    public func getPipeline(name: String) async throws -> StoredPipeline {
        try await database.read { sql in
            guard let row = try await sql.raw("SELECT * FROM cairn_pipelines WHERE name = \(bind: name)").first() else {
                throw CairnError.notFound("Pipeline '\(name)' does not exist.")
            }
            return try Self.pipeline(row)
        }
    }

    public func pipeline(projectDirectory: String) async throws -> StoredPipeline? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM cairn_pipelines WHERE project_dir = \(bind: projectDirectory)").first().map(Self.pipeline)
        }
    }

    public func listPipelines() async throws -> [StoredPipeline] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM cairn_pipelines ORDER BY name").all().map(Self.pipeline)
        }
    }

    // MARK: - Runs

    public func createRun(_ run: StoredPipelineRun, limit: Int) async throws {
        let kind = database.kind
        try await database.transaction { sql in
            // The count and the insert must see other creations (other replicas): SQLite has
            // one writer; PostgreSQL takes a transaction-scoped lock on the pipeline's name.
            try await kind.takeTurns(sql, on: "cairn.pipeline_runs/" + run.pipeline)
            let active =
                try await sql.raw(
                    "SELECT COUNT(*) AS n FROM cairn_pipeline_runs WHERE pipeline = \(bind: run.pipeline) AND status = 'RUNNING'"
                ).first()?.decode(column: "n", as: Int.self) ?? 0
            if run.status == .running, active >= limit {
                throw CairnError(
                    .resourceConflict,
                    "Pipeline '\(run.pipeline)' already has \(active) active run\(active == 1 ? "" : "s") (concurrency \(limit)); "
                        + "wait for it or cancel it.")
            }
            try await sql.raw(
                """
                INSERT INTO cairn_pipeline_runs (run_id, pipeline, status, trigger_kind, trigger_event_id, options, reason, start_time, end_time, resumed_from, host)
                VALUES (\(bind: run.id), \(bind: run.pipeline), \(bind: run.status.rawValue), \(bind: run.triggerKind), \(bind: run.triggerEventID),
                        \(bind: run.options), \(bind: run.reason), \(bind: run.startTime), \(bind: run.endTime), \(bind: run.resumedFrom), \(bind: run.host))
                """
            ).run()
        }
    }

    public func finishRun(id: String, status: PipelineRunStatus, reason: String?, endTime: Int64) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                UPDATE cairn_pipeline_runs SET status = \(bind: status.rawValue), reason = \(bind: reason), end_time = \(bind: endTime)
                WHERE run_id = \(bind: id)
                """
            ).run()
        }
    }

    public func getRun(id: String) async throws -> StoredPipelineRun {
        try await database.read { sql in
            guard let row = try await sql.raw("SELECT * FROM cairn_pipeline_runs WHERE run_id = \(bind: id)").first() else {
                throw CairnError.notFound("Pipeline run '\(id)' does not exist.")
            }
            return try Self.run(row)
        }
    }

    public func run(triggerEventID: String) async throws -> StoredPipelineRun? {
        try await database.read { sql in
            try await sql.raw(
                "SELECT * FROM cairn_pipeline_runs WHERE trigger_event_id = \(bind: triggerEventID) ORDER BY start_time LIMIT 1"
            ).first().map(Self.run)
        }
    }

    public func listRuns(pipeline: String?, status: PipelineRunStatus?, limit: Int) async throws -> [StoredPipelineRun] {
        try await database.read { sql in
            var query: SQLQueryString = "SELECT * FROM cairn_pipeline_runs WHERE 1 = 1"
            if let pipeline {
                query.appendLiteral(" AND pipeline = ")
                query.appendInterpolation(bind: pipeline)
            }
            if let status {
                query.appendLiteral(" AND status = ")
                query.appendInterpolation(bind: status.rawValue)
            }
            query.appendLiteral(" ORDER BY start_time DESC, run_id LIMIT ")
            query.appendInterpolation(bind: max(limit, 0))
            return try await sql.raw(query).all().map(Self.run)
        }
    }

    // MARK: - Stage runs

    public func putStageRun(_ stageRun: StoredStageRun) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO cairn_stage_runs (run_id, stage, status, cache_key, key_components, mlflow_run_id, cache_hit, source_run,
                    attempts, job_id, reason, start_time, end_time)
                VALUES (\(bind: stageRun.runID), \(bind: stageRun.stage), \(bind: stageRun.status.rawValue), \(bind: stageRun.cacheKey),
                        \(bind: stageRun.keyComponents), \(bind: stageRun.mlflowRunID), \(bind: stageRun.cacheHit), \(bind: stageRun.sourceRun),
                        \(bind: stageRun.attempts), \(bind: stageRun.jobID), \(bind: stageRun.reason), \(bind: stageRun.startTime),
                        \(bind: stageRun.endTime))
                ON CONFLICT (run_id, stage) DO UPDATE SET status = excluded.status, cache_key = excluded.cache_key,
                    key_components = excluded.key_components, mlflow_run_id = excluded.mlflow_run_id, cache_hit = excluded.cache_hit,
                    source_run = excluded.source_run, attempts = excluded.attempts, job_id = excluded.job_id, reason = excluded.reason,
                    start_time = excluded.start_time, end_time = excluded.end_time
                """
            ).run()
        }
    }

    public func stageRuns(runID: String) async throws -> [StoredStageRun] {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT * FROM cairn_stage_runs WHERE run_id = \(bind: runID)
                ORDER BY CASE WHEN start_time IS NULL THEN 1 ELSE 0 END, start_time, stage
                """
            ).all().map(Self.stageRun)
        }
    }

    public func lastFinishedStageRun(pipeline: String, stage: String) async throws -> StoredStageRun? {
        try await database.read { sql in
            try await sql.raw(
                """
                SELECT s.* FROM cairn_stage_runs s JOIN cairn_pipeline_runs r ON r.run_id = s.run_id
                WHERE r.pipeline = \(bind: pipeline) AND s.stage = \(bind: stage) AND s.status = 'FINISHED' AND s.cache_key IS NOT NULL
                ORDER BY s.end_time DESC LIMIT 1
                """
            ).first().map(Self.stageRun)
        }
    }

    // MARK: - Run cache

    public func putCacheEntry(_ entry: RunCacheEntry) async throws {
        try await database.transaction { sql in
            try await sql.raw(
                """
                INSERT INTO cairn_run_cache (cache_key, pipeline, stage, outs, source_run, creation_time)
                VALUES (\(bind: entry.key), \(bind: entry.pipeline), \(bind: entry.stage), \(bind: entry.outs), \(bind: entry.sourceRun),
                        \(bind: entry.creationTime))
                ON CONFLICT (cache_key) DO UPDATE SET pipeline = excluded.pipeline, stage = excluded.stage, outs = excluded.outs,
                    source_run = excluded.source_run, creation_time = excluded.creation_time
                """
            ).run()
        }
    }

    public func cacheEntry(key: String) async throws -> RunCacheEntry? {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM cairn_run_cache WHERE cache_key = \(bind: key)").first().map { row in
                RunCacheEntry(
                    key: try row.decode(column: "cache_key", as: String.self),
                    pipeline: try row.decode(column: "pipeline", as: String.self),
                    stage: try row.decode(column: "stage", as: String.self),
                    outs: try row.decode(column: "outs", as: String.self),
                    sourceRun: try row.decode(column: "source_run", as: String.self),
                    creationTime: try row.decode(column: "creation_time", as: Int64.self))
            }
        }
    }

    // MARK: - Rows

    static func pipeline(_ row: any SQLRow) throws -> StoredPipeline {
        StoredPipeline(
            name: try row.decode(column: "name", as: String.self),
            projectDirectory: try row.decode(column: "project_dir", as: String.self),
            specFile: try row.decode(column: "spec_file", as: String.self),
            concurrency: try row.decode(column: "concurrency", as: Int.self),
            creationTime: try row.decode(column: "creation_time", as: Int64.self),
            lastUpdateTime: try row.decode(column: "last_update_time", as: Int64.self))
    }

    static func run(_ row: any SQLRow) throws -> StoredPipelineRun {
        let status = try row.decode(column: "status", as: String.self)
        return StoredPipelineRun(
            id: try row.decode(column: "run_id", as: String.self),
            pipeline: try row.decode(column: "pipeline", as: String.self),
            status: PipelineRunStatus(rawValue: status) ?? .failed,
            triggerKind: try row.decode(column: "trigger_kind", as: String.self),
            triggerEventID: try row.decode(column: "trigger_event_id", as: String?.self),
            options: try row.decode(column: "options", as: String.self),
            reason: try row.decode(column: "reason", as: String?.self),
            startTime: try row.decode(column: "start_time", as: Int64.self),
            endTime: try row.decode(column: "end_time", as: Int64?.self),
            resumedFrom: try row.decode(column: "resumed_from", as: String?.self),
            host: try row.decode(column: "host", as: String?.self))
    }

    static func stageRun(_ row: any SQLRow) throws -> StoredStageRun {
        let status = try row.decode(column: "status", as: String.self)
        return StoredStageRun(
            runID: try row.decode(column: "run_id", as: String.self),
            stage: try row.decode(column: "stage", as: String.self),
            status: StageRunStatus(rawValue: status) ?? .failed,
            cacheKey: try row.decode(column: "cache_key", as: String?.self),
            keyComponents: try row.decode(column: "key_components", as: String?.self),
            mlflowRunID: try row.decode(column: "mlflow_run_id", as: String?.self),
            cacheHit: try row.decode(column: "cache_hit", as: Bool.self),
            sourceRun: try row.decode(column: "source_run", as: String?.self),
            attempts: try row.decode(column: "attempts", as: Int.self),
            jobID: try row.decode(column: "job_id", as: String?.self),
            reason: try row.decode(column: "reason", as: String?.self),
            startTime: try row.decode(column: "start_time", as: Int64?.self),
            endTime: try row.decode(column: "end_time", as: Int64?.self))
    }
}
