extension Migration {
    /// The evaluation gate's promotion log: every decision (promoted, rejected, or refused
    /// because the alias moved meanwhile) and every rollback, with the numbers it was judged
    /// on, and each alias move made with it (from → to). Append-only: nothing updates or
    /// deletes these rows, and they outlive the model (no foreign key to the registry), so the
    /// history stays readable after a rename or a delete. `seq` orders one model's entries.
    static let promotionLog = Migration(
        version: 6, name: "promotion_log",
        statements: [
            """
            CREATE TABLE cairn_promotion_log (
                entry_id TEXT PRIMARY KEY,
                model_name TEXT NOT NULL,
                seq BIGINT NOT NULL,
                kind TEXT NOT NULL,
                outcome TEXT NOT NULL,
                alias TEXT NOT NULL,
                candidate_version TEXT,
                champion_version TEXT,
                candidate_metrics TEXT NOT NULL,
                champion_metrics TEXT NOT NULL,
                thresholds TEXT NOT NULL,
                failures TEXT NOT NULL,
                dataset_digest TEXT,
                dataset_path TEXT,
                pipeline_run_id TEXT,
                stage_run_id TEXT,
                creation_time BIGINT NOT NULL,
                UNIQUE (model_name, seq)
            )
            """,
            """
            CREATE TABLE cairn_alias_moves (
                entry_id TEXT NOT NULL REFERENCES cairn_promotion_log(entry_id),
                position BIGINT NOT NULL,
                model_name TEXT NOT NULL,
                alias TEXT NOT NULL,
                seq BIGINT NOT NULL,
                from_version TEXT,
                to_version TEXT NOT NULL,
                PRIMARY KEY (entry_id, position)
            )
            """,
            "CREATE INDEX cairn_alias_moves_alias ON cairn_alias_moves (model_name, alias, seq)",
        ])
}
