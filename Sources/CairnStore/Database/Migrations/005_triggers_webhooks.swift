extension Migration {
    /// Triggers and MLflow webhooks (issue 13): every trigger event a pipeline receives, stored
    /// before it acts and unique by (pipeline, dedupe key); MLflow 3 webhooks with the events
    /// they subscribe to; and their delivery outbox (one row per event and webhook, retried with
    /// backoff until delivered or out of attempts, so a restart loses none).
    static let triggersWebhooks = Migration(
        version: 5, name: "triggers_webhooks",
        statements: [
            """
            CREATE TABLE cairn_trigger_events (
                event_id TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                kind TEXT NOT NULL,
                dedupe_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                state TEXT NOT NULL,
                run_id TEXT,
                reason TEXT,
                UNIQUE (pipeline, dedupe_key)
            )
            """,
            "CREATE INDEX cairn_trigger_events_state ON cairn_trigger_events (state, received_at)",
            """
            CREATE TABLE cairn_webhooks (
                webhook_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                description TEXT,
                url TEXT NOT NULL,
                secret TEXT,
                status TEXT NOT NULL,
                creation_timestamp BIGINT NOT NULL,
                last_updated_timestamp BIGINT NOT NULL,
                deleted_timestamp BIGINT
            )
            """,
            """
            CREATE TABLE cairn_webhook_events (
                webhook_id TEXT NOT NULL REFERENCES cairn_webhooks(webhook_id) ON DELETE CASCADE,
                entity TEXT NOT NULL,
                action TEXT NOT NULL,
                position BIGINT NOT NULL,
                PRIMARY KEY (webhook_id, entity, action)
            )
            """,
            """
            CREATE TABLE cairn_webhook_deliveries (
                delivery_id TEXT PRIMARY KEY,
                webhook_id TEXT NOT NULL REFERENCES cairn_webhooks(webhook_id) ON DELETE CASCADE,
                entity TEXT NOT NULL,
                action TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                max_attempts BIGINT NOT NULL,
                next_attempt_time BIGINT NOT NULL,
                last_error TEXT,
                creation_time BIGINT NOT NULL
            )
            """,
            "CREATE INDEX cairn_webhook_deliveries_due ON cairn_webhook_deliveries (state, next_attempt_time)",
        ])
}
