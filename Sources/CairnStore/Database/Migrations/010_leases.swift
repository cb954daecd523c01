extension Migration {
    /// Replicas on one database (issue 15): `cairn_leases` holds the leader's lease (one row per
    /// name, taken or renewed by one guarded upsert, expiring by the database's own clock, so
    /// replicas' clocks need not agree), and `cairn_monitor_evaluations` keys each scheduled
    /// monitor evaluation by its slot, so two leaders in a split-brain moment cannot both
    /// record one slot. A pipeline run records the replica hosting it (`host`, its election's
    /// holder), so the leader marks as interrupted only runs whose host is gone.
    static let leases = Migration(
        version: 10, name: "leases",
        statements: [
            """
            CREATE TABLE cairn_leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at BIGINT NOT NULL,
                acquired_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE cairn_monitor_evaluations (
                monitor_id TEXT NOT NULL REFERENCES cairn_monitors(monitor_id) ON DELETE CASCADE,
                scheduled_time BIGINT NOT NULL,
                evaluated_at BIGINT NOT NULL,
                PRIMARY KEY (monitor_id, scheduled_time)
            )
            """,
            "ALTER TABLE cairn_pipeline_runs ADD COLUMN host TEXT",
        ])
}
