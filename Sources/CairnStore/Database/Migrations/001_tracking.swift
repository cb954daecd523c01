extension Migration {
    /// MLflow's tracking schema: experiments, runs, params, tags, metrics, datasets and inputs.
    static let tracking = Migration(
        version: 1, name: "tracking",
        statements: [
            """
            CREATE TABLE experiments (
                experiment_id BIGINT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                artifact_location TEXT NOT NULL,
                lifecycle_stage TEXT NOT NULL,
                creation_time BIGINT NOT NULL,
                last_update_time BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE experiment_tags (
                experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (experiment_id, key)
            )
            """,
            """
            CREATE TABLE runs (
                run_uuid TEXT PRIMARY KEY,
                experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
                name TEXT NOT NULL,
                user_id TEXT NOT NULL,
                status TEXT NOT NULL,
                start_time BIGINT NOT NULL,
                end_time BIGINT,
                lifecycle_stage TEXT NOT NULL,
                artifact_uri TEXT NOT NULL,
                deleted_time BIGINT
            )
            """,
            "CREATE INDEX runs_experiment_start ON runs (experiment_id, start_time, run_uuid)",
            """
            CREATE TABLE run_params (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_uuid, key)
            )
            """,
            "CREATE INDEX run_params_key_value ON run_params (key, value)",
            """
            CREATE TABLE run_tags (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_uuid, key)
            )
            """,
            "CREATE INDEX run_tags_key_value ON run_tags (key, value)",
            // Every point of every metric. The unique key makes a retried write a no-op (the
            // client retries log calls on timeouts) and, in history order, serves get-history.
            """
            CREATE TABLE metrics (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                key TEXT NOT NULL,
                timestamp BIGINT NOT NULL,
                step BIGINT NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                is_nan BOOLEAN NOT NULL,
                model_id TEXT,
                dataset_name TEXT,
                dataset_digest TEXT,
                UNIQUE (run_uuid, key, timestamp, step, value, is_nan)
            )
            """,
            // The latest value per (run, key), which is what searches filter and order on.
            """
            CREATE TABLE latest_metrics (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                key TEXT NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                is_nan BOOLEAN NOT NULL,
                timestamp BIGINT NOT NULL,
                step BIGINT NOT NULL,
                PRIMARY KEY (run_uuid, key)
            )
            """,
            """
            CREATE TABLE datasets (
                dataset_uuid TEXT PRIMARY KEY,
                experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
                name TEXT NOT NULL,
                digest TEXT NOT NULL,
                source_type TEXT NOT NULL,
                source TEXT NOT NULL,
                schema TEXT,
                profile TEXT,
                UNIQUE (experiment_id, name, digest)
            )
            """,
            """
            CREATE TABLE run_dataset_inputs (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                dataset_uuid TEXT NOT NULL REFERENCES datasets(dataset_uuid),
                PRIMARY KEY (run_uuid, dataset_uuid)
            )
            """,
            """
            CREATE TABLE run_dataset_input_tags (
                run_uuid TEXT NOT NULL,
                dataset_uuid TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_uuid, dataset_uuid, key),
                FOREIGN KEY (run_uuid, dataset_uuid) REFERENCES run_dataset_inputs(run_uuid, dataset_uuid)
            )
            """,
            // Logged models a run consumed ('input') or produced ('output').
            """
            CREATE TABLE run_model_links (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                model_id TEXT NOT NULL,
                direction TEXT NOT NULL,
                step BIGINT,
                PRIMARY KEY (run_uuid, model_id, direction)
            )
            """,
        ])
}
