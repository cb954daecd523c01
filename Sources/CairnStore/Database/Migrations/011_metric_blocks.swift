import SQLKit

extension Migration {
    /// Metric blocks (issue 14: a chart of a 1M-point series in under 100 ms). Stepping a
    /// million rows of the metrics index costs SQLite about 157 ms however tight the loop, so
    /// long histories also get a second shape: `metric_blocks` holds each series' points sealed
    /// a few thousand at a time into one blob (see `MetricBlock`), keyed by the last
    /// (timestamp, step) each covers, with its step and time ranges so a zoomed chart decodes
    /// only the blocks it shows; `metric_series` holds each series' watermark and its count of
    /// points not yet sealed. The metric rows stay the source of truth; the blocks are kept in
    /// the same transaction as every write (`SQLTrackingStore.updateMetricBlocks`).
    ///
    /// Existing histories are sealed here, inside the migration's transaction, rather than
    /// lazily on a first chart: a chart is a read, and sealing there would turn the first view
    /// of an old run into a long write holding SQLite's one writer. The cost is one pass over
    /// the metrics index at upgrade, only for series of 4,096 points or more.
    static let metricBlocks = Migration(
        version: 11, name: "metric_blocks",
        statements: [
            """
            CREATE TABLE metric_series (
                run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
                key TEXT NOT NULL,
                sealed_timestamp BIGINT,
                sealed_step BIGINT,
                pending BIGINT NOT NULL,
                PRIMARY KEY (run_uuid, key)
            )
            """,
            "INSERT INTO metric_series (run_uuid, key, pending) SELECT run_uuid, key, COUNT(*) FROM metrics GROUP BY run_uuid, key",
        ],
        statementsFor: [
            // The blob column's type is each database's own word for bytes.
            .sqlite: [metricBlocksTable(blobType: "BLOB")],
            .postgres: [metricBlocksTable(blobType: "BYTEA")],
        ],
        backfill: { sql in try await SQLTrackingStore.sealExistingHistories(sql) })

    private static func metricBlocksTable(blobType: String) -> String {
        """
        CREATE TABLE metric_blocks (
            run_uuid TEXT NOT NULL REFERENCES runs(run_uuid),
            key TEXT NOT NULL,
            last_timestamp BIGINT NOT NULL,
            last_step BIGINT NOT NULL,
            point_count BIGINT NOT NULL,
            min_step BIGINT NOT NULL,
            max_step BIGINT NOT NULL,
            min_timestamp BIGINT NOT NULL,
            max_timestamp BIGINT NOT NULL,
            points \(blobType) NOT NULL,
            PRIMARY KEY (run_uuid, key, last_timestamp, last_step)
        )
        """
    }
}
