extension Migration {
    /// Pipelines (issue 13's engine): registered pipelines by project directory, their runs
    /// (a run's id is its MLflow run id), one row per stage of a run, and the run cache (a
    /// cache key → the outputs a successful stage stored in the content-addressed cache).
    static let pipelines = Migration(
        version: 4, name: "pipelines",
        statements: [
            """
            CREATE TABLE cairn_pipelines (
                name TEXT PRIMARY KEY,
                project_dir TEXT NOT NULL UNIQUE,
                spec_file TEXT NOT NULL,
                concurrency BIGINT NOT NULL,
                creation_time BIGINT NOT NULL,
                last_update_time BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE cairn_pipeline_runs (
                run_id TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL REFERENCES cairn_pipelines(name) ON DELETE CASCADE ON UPDATE CASCADE,
                status TEXT NOT NULL,
                trigger_kind TEXT NOT NULL,
                trigger_event_id TEXT,
                options TEXT NOT NULL,
                reason TEXT,
                start_time BIGINT NOT NULL,
                end_time BIGINT,
                resumed_from TEXT
            )
            """,
            "CREATE INDEX cairn_pipeline_runs_pipeline ON cairn_pipeline_runs (pipeline, start_time)",
            "CREATE INDEX cairn_pipeline_runs_status ON cairn_pipeline_runs (status)",
            """
            CREATE TABLE cairn_stage_runs (
                run_id TEXT NOT NULL REFERENCES cairn_pipeline_runs(run_id) ON DELETE CASCADE,
                stage TEXT NOT NULL,
                status TEXT NOT NULL,
                cache_key TEXT,
                key_components TEXT,
                mlflow_run_id TEXT,
                cache_hit BOOLEAN NOT NULL,
                source_run TEXT,
                attempts BIGINT NOT NULL,
                job_id TEXT,
                reason TEXT,
                start_time BIGINT,
                end_time BIGINT,
                PRIMARY KEY (run_id, stage)
            )
            """,
            """
            CREATE TABLE cairn_run_cache (
                cache_key TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                stage TEXT NOT NULL,
                outs TEXT NOT NULL,
                source_run TEXT NOT NULL,
                creation_time BIGINT NOT NULL
            )
            """,
        ])
}
