import CairnCore
import SQLKit

extension SQLTrackingStore {
    public func metricSummaries(runIDs: [String]) async throws -> [MetricSummary] {
        for runID in runIDs { try TrackingValidation.validateRunID(runID) }
        guard !runIDs.isEmpty else { return [] }
        return try await database.read { sql in
            // One aggregate per (run, key), served by the unique index that leads with
            // (run_uuid, key): the points themselves never leave the database.
            let rows = try await sql.raw(
                """
                SELECT run_uuid, key,
                    MIN(CASE WHEN is_nan THEN NULL ELSE value END) AS minimum,
                    MAX(CASE WHEN is_nan THEN NULL ELSE value END) AS maximum,
                    COUNT(*) AS points,
                    SUM(CASE WHEN is_nan THEN 1 ELSE 0 END) AS nans
                FROM metrics WHERE run_uuid IN \(inList(runIDs))
                GROUP BY run_uuid, key ORDER BY run_uuid, key
                """
            ).all()
            return try rows.map { row in
                MetricSummary(
                    runID: try row.decode(column: "run_uuid", as: String.self),
                    key: try row.decode(column: "key", as: String.self),
                    minimum: try row.decode(column: "minimum", as: Double?.self),
                    maximum: try row.decode(column: "maximum", as: Double?.self),
                    count: try row.decode(column: "points", as: Int64.self),
                    nanCount: try row.decode(column: "nans", as: Int64?.self) ?? 0)
            }
        }
    }
}
