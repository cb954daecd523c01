import CairnCore
import SQLKit

extension SQLTrackingStore {
    public func getMetricHistory(runId: String, key: String, maxResults: Int?, pageToken: String?) async throws -> Page<Metric> {
        try TrackingValidation.validateRunId(runId)
        let offset = try PageToken.decodeOffset(pageToken)
        if let maxResults, maxResults < 1 {
            throw CairnError.invalidParameter("max_results must be a positive integer, got \(maxResults)")
        }
        // An unknown run or key has an empty history, as in MLflow.
        return try await database.read { sql in
            var query: SQLQueryString = """
                SELECT key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest FROM metrics
                WHERE run_uuid = \(bind: runId) AND key = \(bind: key)
                ORDER BY timestamp, step, is_nan, value
                """
            // One extra row tells whether another page exists without a count query.
            if let maxResults {
                query.appendLiteral(" LIMIT ")
                query.appendInterpolation(bind: maxResults + 1)
                query.appendLiteral(" OFFSET ")
                query.appendInterpolation(bind: offset)
            } else if offset > 0 {
                // Both dialects need a LIMIT before OFFSET; this one never binds.
                query.appendLiteral(" LIMIT ")
                query.appendInterpolation(bind: Int64.max)
                query.appendLiteral(" OFFSET ")
                query.appendInterpolation(bind: offset)
            }
            var metrics = try await sql.raw(query).all().map(Self.metric(from:))
            var token: String?
            if let maxResults, metrics.count > maxResults {
                metrics.removeLast(metrics.count - maxResults)
                token = PageToken.encode(offset: offset + maxResults)
            }
            return Page(items: metrics, nextPageToken: token)
        }
    }

    public func getMetricHistoryBulkInterval(
        runIds: [String], key: String, startStep: Int64?, endStep: Int64?, maxResults: Int
    ) async throws -> [Metric] {
        for runId in runIds { try TrackingValidation.validateRunId(runId) }
        return try await database.read { sql in
            var result: [Metric] = []
            for runId in runIds {
                _ = try await Self.loadRunInfo(sql, id: runId)
                var query: SQLQueryString = """
                    SELECT DISTINCT step FROM metrics WHERE run_uuid = \(bind: runId) AND key = \(bind: key)
                    """
                if let startStep, let endStep {
                    query.appendLiteral(" AND step >= ")
                    query.appendInterpolation(bind: startStep)
                    query.appendLiteral(" AND step <= ")
                    query.appendInterpolation(bind: endStep)
                }
                query.appendLiteral(" ORDER BY step")
                let steps = try await sql.raw(query).all().map { try $0.decode(column: "step", as: Int64.self) }
                let sampled = Self.sampleSteps(steps, maxResults: maxResults)
                guard !sampled.isEmpty else { continue }
                let rows = try await sql.raw("""
                    SELECT key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest FROM metrics
                    WHERE run_uuid = \(bind: runId) AND key = \(bind: key) AND step IN \(inList(sampled))
                    ORDER BY step, timestamp, is_nan, value
                    """).all()
                for row in rows {
                    var metric = try Self.metric(from: row)
                    metric.runId = runId
                    result.append(metric)
                }
            }
            return result
        }
    }

    /// Evenly spaced steps that always include the first and last, as the MLflow UI expects
    /// from a sampled chart.
    static func sampleSteps(_ steps: [Int64], maxResults: Int) -> [Int64] {
        guard steps.count > maxResults, maxResults > 1 else { return Array(steps.prefix(max(maxResults, 0))) }
        var chosen: [Int64] = []
        let stride = Double(steps.count - 1) / Double(maxResults - 1)
        for index in 0..<maxResults {
            let step = steps[Int((Double(index) * stride).rounded())]
            if chosen.last != step { chosen.append(step) }
        }
        return chosen
    }

    static func metric(from row: any SQLRow) throws -> Metric {
        let isNaN = try row.decode(column: "is_nan", as: Bool.self)
        return Metric(
            key: try row.decode(column: "key", as: String.self),
            value: isNaN ? .nan : try row.decode(column: "value", as: Double.self),
            timestamp: try row.decode(column: "timestamp", as: Int64.self),
            step: try row.decode(column: "step", as: Int64.self),
            modelId: try row.decode(column: "model_id", as: String?.self),
            datasetName: try row.decode(column: "dataset_name", as: String?.self),
            datasetDigest: try row.decode(column: "dataset_digest", as: String?.self)
        )
    }
}
