extension Migration {
    /// SQLite: a run's params, tags and latest metrics stored clustered on their (run, key)
    /// primary key (`WITHOUT ROWID`). In a rowid table every lookup by (run, key) descended two
    /// B-trees, the primary key's index to find the rowid and the table to find the value, and
    /// the (key, value) index held a rowid rather than the run id, so a filtered search paid a
    /// second descent per candidate run for each clause; now the primary key is the table and
    /// the (key, value) index carries the run id. A filtered search over 2,000 runs
    /// (`metrics.m > 0.5 and params.p = 'a' and tags.t = 'x'`) probes each candidate's
    /// 32-character run id about half as often. PostgreSQL keeps its heap tables: its primary
    /// key is an index beside the heap either way, and it has no such layout to change to.
    static let runKeys = Migration(
        version: 7, name: "run_keys", statements: [],
        statementsFor: [
            .sqlite: ["run_params", "run_tags"].flatMap { table in
                [
                    """
                    CREATE TABLE \(table)_by_run (
                        run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (run_uuid, key)
                    ) WITHOUT ROWID
                    """,
                    "INSERT INTO \(table)_by_run (run_uuid, key, value) SELECT run_uuid, key, value FROM \(table)",
                    "DROP TABLE \(table)",
                    "ALTER TABLE \(table)_by_run RENAME TO \(table)",
                    "CREATE INDEX \(table)_key_value ON \(table) (key, value)",
                ]
            } + [
                """
                CREATE TABLE latest_metrics_by_run (
                    run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                    key TEXT NOT NULL,
                    value DOUBLE PRECISION NOT NULL,
                    is_nan BOOLEAN NOT NULL,
                    timestamp BIGINT NOT NULL,
                    step BIGINT NOT NULL,
                    PRIMARY KEY (run_uuid, key)
                ) WITHOUT ROWID
                """,
                """
                INSERT INTO latest_metrics_by_run (run_uuid, key, value, is_nan, timestamp, step)
                SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics
                """,
                "DROP TABLE latest_metrics",
                "ALTER TABLE latest_metrics_by_run RENAME TO latest_metrics",
            ]
        ])
}
