extension Migration {
    /// The model registry (registered models, versions, tags, aliases) and logged models.
    static let registry = Migration(
        version: 2, name: "registry",
        statements: [
            // Registered models are keyed by name: renames cascade to every child row, so a
            // rename is one UPDATE and versions, tags and aliases move with the model.
            """
            CREATE TABLE registered_models (
                name TEXT PRIMARY KEY,
                creation_time BIGINT NOT NULL,
                last_updated_time BIGINT NOT NULL,
                description TEXT
            )
            """,
            "CREATE INDEX registered_models_last_updated ON registered_models (last_updated_time)",
            """
            CREATE TABLE registered_model_tags (
                name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (name, key)
            )
            """,
            // Version numbers are per model and never reused: a deleted version stays as a
            // redacted row in stage 'Deleted_Internal', as in MLflow. `storage_location` is
            // resolved once, at creation (models:/ sources point at other locations).
            """
            CREATE TABLE model_versions (
                name TEXT NOT NULL REFERENCES registered_models(name) ON UPDATE CASCADE ON DELETE CASCADE,
                version BIGINT NOT NULL,
                creation_time BIGINT NOT NULL,
                last_updated_time BIGINT NOT NULL,
                description TEXT,
                user_id TEXT,
                current_stage TEXT NOT NULL,
                source TEXT NOT NULL,
                storage_location TEXT NOT NULL,
                run_id TEXT,
                run_link TEXT,
                status TEXT NOT NULL,
                status_message TEXT,
                model_id TEXT,
                PRIMARY KEY (name, version)
            )
            """,
            "CREATE INDEX model_versions_run_id ON model_versions (run_id)",
            "CREATE INDEX model_versions_last_updated ON model_versions (last_updated_time)",
            """
            CREATE TABLE model_version_tags (
                name TEXT NOT NULL,
                version BIGINT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (name, version, key),
                FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON UPDATE CASCADE ON DELETE CASCADE
            )
            """,
            """
            CREATE TABLE registered_model_aliases (
                name TEXT NOT NULL,
                alias TEXT NOT NULL,
                version BIGINT NOT NULL,
                PRIMARY KEY (name, alias),
                FOREIGN KEY (name, version) REFERENCES model_versions(name, version) ON UPDATE CASCADE ON DELETE CASCADE
            )
            """,
            // MLflow 3 logged models. Deletion is soft (lifecycle_stage), like runs.
            """
            CREATE TABLE logged_models (
                model_id TEXT PRIMARY KEY,
                experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
                name TEXT NOT NULL,
                artifact_location TEXT NOT NULL,
                creation_timestamp_ms BIGINT NOT NULL,
                last_updated_timestamp_ms BIGINT NOT NULL,
                status TEXT NOT NULL,
                status_message TEXT,
                model_type TEXT NOT NULL,
                source_run_id TEXT NOT NULL,
                lifecycle_stage TEXT NOT NULL
            )
            """,
            "CREATE INDEX logged_models_experiment_created ON logged_models (experiment_id, creation_timestamp_ms, model_id)",
            """
            CREATE TABLE logged_model_tags (
                model_id TEXT NOT NULL REFERENCES logged_models(model_id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (model_id, key)
            )
            """,
            """
            CREATE TABLE logged_model_params (
                model_id TEXT NOT NULL REFERENCES logged_models(model_id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (model_id, key)
            )
            """,
            // A logged model's metrics are the points of `metrics` logged with its model_id.
            "CREATE INDEX metrics_model_key ON metrics (model_id, key)",
        ])
}
