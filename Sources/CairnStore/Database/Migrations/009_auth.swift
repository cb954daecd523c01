extension Migration {
    /// Users and permissions (issue 15), as `mlflow server --app-name basic-auth` keeps them:
    /// users with a bcrypt hash and an admin flag; per-user grants on one experiment or one
    /// registered model (one table keyed by resource type, the shape of MLflow 3.17's
    /// per-user grants, so a second grant on one resource is a primary-key violation);
    /// personal access tokens stored as the SHA-256 of a random secret (the secret is shown
    /// once); the UI's sign-in sessions, likewise stored as the SHA-256 of the cookie's secret;
    /// and the audit log of writes, append-only: each database refuses updates and deletes of
    /// its rows.
    static let auth = Migration(
        version: 9, name: "auth",
        statements: [
            """
            CREATE TABLE cairn_users (
                user_id BIGINT PRIMARY KEY,
                username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                is_admin BOOLEAN NOT NULL,
                creation_time BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE cairn_user_permissions (
                user_id BIGINT NOT NULL REFERENCES cairn_users(user_id) ON DELETE CASCADE,
                resource_type TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                permission TEXT NOT NULL,
                PRIMARY KEY (user_id, resource_type, resource_id)
            )
            """,
            "CREATE INDEX cairn_user_permissions_resource ON cairn_user_permissions (resource_type, resource_id)",
            """
            CREATE TABLE cairn_access_tokens (
                token_id TEXT PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES cairn_users(user_id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                creation_time BIGINT NOT NULL,
                last_used_time BIGINT,
                revoked_time BIGINT
            )
            """,
            "CREATE INDEX cairn_access_tokens_user ON cairn_access_tokens (user_id, creation_time)",
            """
            CREATE TABLE cairn_sessions (
                session_hash TEXT PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES cairn_users(user_id) ON DELETE CASCADE,
                creation_time BIGINT NOT NULL,
                expiry_time BIGINT NOT NULL
            )
            """,
            "CREATE INDEX cairn_sessions_user ON cairn_sessions (user_id)",
            """
            CREATE TABLE cairn_audit_log (
                audit_id TEXT PRIMARY KEY,
                time BIGINT NOT NULL,
                username TEXT,
                address TEXT,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                resource TEXT,
                status BIGINT NOT NULL
            )
            """,
            "CREATE INDEX cairn_audit_log_time ON cairn_audit_log (time, audit_id)",
            "CREATE INDEX cairn_audit_log_user ON cairn_audit_log (username, time)",
        ],
        statementsFor: [
            .sqlite: [
                """
                CREATE TRIGGER cairn_audit_log_no_update BEFORE UPDATE ON cairn_audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """,
                """
                CREATE TRIGGER cairn_audit_log_no_delete BEFORE DELETE ON cairn_audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                """,
            ],
            .postgres: [
                """
                CREATE FUNCTION cairn_audit_log_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END
                $$ LANGUAGE plpgsql
                """,
                """
                CREATE TRIGGER cairn_audit_log_no_change BEFORE UPDATE OR DELETE ON cairn_audit_log
                FOR EACH ROW EXECUTE FUNCTION cairn_audit_log_append_only()
                """,
            ],
        ])
}
