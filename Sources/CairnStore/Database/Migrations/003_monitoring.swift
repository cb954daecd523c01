extension Migration {
    /// Monitoring: monitors and their alerts, ground truth sent as feedback, reference
    /// profiles per model version, and the webhook outbox (a delivery row per alert event
    /// and URL, retried with backoff until it succeeds or runs out of attempts).
    static let monitoring = Migration(
        version: 3, name: "monitoring",
        statements: [
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
        ])
}
