import Logging
import SQLKit

/// A schema change. Migrations are numbered, append-only and never edited once shipped; the
/// SQL is the portable subset that SQLite and PostgreSQL both accept, so one list serves both.
struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: [String]
}

public enum Migrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "tracking", statements: [
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
        ]),
        Migration(version: 2, name: "registry", statements: [
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
        ]),
        // Monitoring: monitors and their alerts, ground truth sent as feedback, reference
        // profiles per model version, and the webhook outbox (a delivery row per alert event
        // and URL, retried with backoff until it succeeds or runs out of attempts).
        Migration(version: 3, name: "monitoring", statements: [
            """
            CREATE TABLE cairn_monitors (
                monitor_id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                model_name TEXT NOT NULL,
                alias TEXT,
                spec TEXT NOT NULL,
                creation_time BIGINT NOT NULL,
                last_update_time BIGINT NOT NULL,
                last_run_time BIGINT
            )
            """,
            """
            CREATE TABLE cairn_alerts (
                alert_id TEXT PRIMARY KEY,
                monitor_id TEXT NOT NULL REFERENCES cairn_monitors(monitor_id) ON DELETE CASCADE,
                check_name TEXT NOT NULL,
                state TEXT NOT NULL,
                value DOUBLE PRECISION,
                threshold DOUBLE PRECISION NOT NULL,
                message TEXT NOT NULL,
                model_name TEXT NOT NULL,
                model_version TEXT,
                fired_at BIGINT NOT NULL,
                resolved_at BIGINT
            )
            """,
            "CREATE INDEX cairn_alerts_monitor ON cairn_alerts (monitor_id, fired_at)",
            """
            CREATE TABLE cairn_alert_deliveries (
                alert_id TEXT NOT NULL REFERENCES cairn_alerts(alert_id) ON DELETE CASCADE,
                event TEXT NOT NULL,
                url TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                max_attempts BIGINT NOT NULL,
                next_attempt_time BIGINT NOT NULL,
                last_error TEXT,
                payload TEXT NOT NULL,
                PRIMARY KEY (alert_id, event, url)
            )
            """,
            "CREATE INDEX cairn_alert_deliveries_due ON cairn_alert_deliveries (state, next_attempt_time)",
            """
            CREATE TABLE cairn_feedback (
                request_id TEXT PRIMARY KEY,
                labels TEXT NOT NULL,
                creation_time BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE cairn_reference_profiles (
                model_name TEXT NOT NULL,
                version TEXT NOT NULL,
                profile TEXT NOT NULL,
                row_count BIGINT NOT NULL,
                creation_time BIGINT NOT NULL,
                PRIMARY KEY (model_name, version)
            )
            """,
        ]),
    ]

    /// Applies every migration not yet recorded, each in its own transaction, and makes sure
    /// the Default experiment exists. Safe to run on every start.
    public static func run(on database: any MetadataDatabase, logger: Logger, now: Int64) async throws {
        try await database.transaction { sql in
            try await sql.raw("""
                CREATE TABLE IF NOT EXISTS cairn_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """).run()
        }
        let applied = try await database.read { sql in
            try await sql.raw("SELECT version FROM cairn_migrations").all().map { try $0.decode(column: "version", as: Int.self) }
        }
        let known = Set(all.map(\.version))
        if let unknown = applied.first(where: { !known.contains($0) }) {
            throw CairnStoreError.migration("The database was migrated by a newer Cairn (migration \(unknown)); refusing to start.")
        }
        for migration in all where !applied.contains(migration.version) {
            logger.info("Applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            try await database.transaction { sql in
                for statement in migration.statements {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                try await sql.raw("""
                    INSERT INTO cairn_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now))
                    """).run()
            }
        }
        try await database.transaction { sql in
            try await sql.raw("""
                INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
                VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', \(bind: now), \(bind: now))
                ON CONFLICT (experiment_id) DO NOTHING
                """).run()
        }
    }
}
