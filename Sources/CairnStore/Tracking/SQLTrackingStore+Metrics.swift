import CairnCore
import SQLKit

extension SQLTrackingStore {
    public func getMetricHistory(runID: String, key: String, maxResults: Int?, pageToken: String?) async throws -> Page<Metric> {
        var cursor = try metricHistory(runID: runID, key: key, maxResults: maxResults, pageToken: pageToken)
        var metrics: [Metric] = []
        while let chunk = try await cursor.next() { metrics += chunk }
        return Page(items: metrics, nextPageToken: cursor.nextPageToken)
    }

    public func metricHistory(runID: String, key: String, maxResults: Int?, pageToken: String?) throws -> MetricHistoryCursor {
        try metricHistory(
            runID: runID, key: key, maxResults: maxResults, pageToken: pageToken, chunkSize: MetricHistoryCursor.defaultChunkSize)
    }

    func metricHistory(runID: String, key: String, maxResults: Int?, pageToken: String?, chunkSize: Int) throws -> MetricHistoryCursor {
        try TrackingValidation.validateRunID(runID)
        let offset = try PageToken.decodeOffset(pageToken)
        if let maxResults, maxResults < 1 {
            throw CairnError.invalidParameter("max_results must be a positive integer, got \(maxResults)")
        }
        // An unknown run or key has an empty history, as in MLflow.
        return MetricHistoryCursor(database: database, runID: runID, key: key, maxResults: maxResults, offset: offset, chunkSize: chunkSize)
    }

    public func getMetricHistoryBulkInterval(
        runIDs: [String], key: String, startStep: Int64?, endStep: Int64?, maxResults: Int
    ) async throws -> [Metric] {
        for runID in runIDs { try TrackingValidation.validateRunID(runID) }
        return try await database.read { sql in
            var result: [Metric] = []
            for runID in runIDs {
                _ = try await Self.loadRunInfo(sql, id: runID)
                var query: SQLQueryString = """
                    SELECT DISTINCT step FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
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
                let rows = try await sql.raw(
                    """
                    SELECT key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest FROM metrics
                    WHERE run_uuid = \(bind: runID) AND key = \(bind: key) AND step IN \(inList(sampled))
                    ORDER BY step, timestamp, value, is_nan
                    """
                ).all()
                for row in rows {
                    var metric = try Self.metric(from: row)
                    metric.runID = runID
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
            modelID: try row.decode(column: "model_id", as: String?.self),
            datasetName: try row.decode(column: "dataset_name", as: String?.self),
            datasetDigest: try row.decode(column: "dataset_digest", as: String?.self)
        )
    }
}

/// One metric's history in MLflow's order (timestamp, step, value with a NaN as 0, then a
/// NaN after a 0, as `mlflow server`'s SQL store answers), read from the
/// database a bounded chunk at a time, so a history of millions of points is never in memory
/// at once.
///
/// Chunks after the first continue from the last (timestamp, step) read, which the unique
/// index on (run, key, timestamp, step, value, is_nan) serves as a range; an `OFFSET` per
/// chunk would rescan everything before it. A chunk never ends inside a (timestamp, step)
/// group, so the next one can start at the group after it: a group that fills a whole chunk
/// is read on its own, whatever its size.
public struct MetricHistoryCursor: Sendable {
    static let defaultChunkSize = 2_500

    private let database: any MetadataDatabase
    private let runID: String
    private let key: String
    private let maxResults: Int?
    private let offset: Int
    private let chunkSize: Int

    /// Where the next chunk starts: `offset` points in (the page token's offset), or at a
    /// (timestamp, step) group, skipping the first `skip` points of it.
    private enum Position: Sendable {
        case offset(Int)
        case group(timestamp: Int64, step: Int64, inclusive: Bool, skip: Int)
        case end
    }

    private var position: Position
    private var returned = 0
    /// The token for the next page: set once `next()` has returned nil, when the history has
    /// points past `maxResults`.
    public private(set) var nextPageToken: String?

    init(database: any MetadataDatabase, runID: String, key: String, maxResults: Int?, offset: Int, chunkSize: Int) {
        self.database = database
        self.runID = runID
        self.key = key
        self.maxResults = maxResults
        self.offset = offset
        self.chunkSize = max(1, chunkSize)
        self.position = .offset(offset)
    }

    /// The next points, never empty; nil at the end of the page.
    public mutating func next() async throws -> [Metric]? {
        while true {
            guard let points = try await readChunk() else { return nil }
            guard !points.isEmpty else { continue }
            guard let maxResults else { return points }
            let room = maxResults - returned
            if points.count > room {
                // A point past the page exists: the next page starts right after this one.
                nextPageToken = PageToken.encode(offset: offset + maxResults)
                position = .end
                guard room > 0 else { return nil }
                returned = maxResults
                return Array(points.prefix(room))
            }
            returned += points.count
            return points
        }
    }

    private static let columns = "key, value, is_nan, timestamp, step, model_id, dataset_name, dataset_digest"

    /// Reads from `position` and moves it on; nil when the history is exhausted.
    private mutating func readChunk() async throws -> [Metric]? {
        let (runID, key, limit) = (runID, key, chunkSize)
        switch position {
        case .end:
            return nil
        case .offset(let offset):
            guard offset > 0 else {
                position = .group(timestamp: .min, step: .min, inclusive: true, skip: 0)
                return []
            }
            // Start at the group holding point `offset`, skipping the points of that group
            // that come before it; counting them walks only the index.
            let start: (timestamp: Int64, step: Int64, before: Int)? = try await database.read { sql in
                guard
                    let row = try await sql.raw(
                        """
                        SELECT timestamp, step FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                        ORDER BY timestamp, step LIMIT 1 OFFSET \(bind: offset)
                        """
                    ).first()
                else { return nil }
                let timestamp = try row.decode(column: "timestamp", as: Int64.self)
                let step = try row.decode(column: "step", as: Int64.self)
                let before = try await sql.raw(
                    """
                    SELECT COUNT(*) AS n FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                    AND (timestamp, step) < (\(bind: timestamp), \(bind: step))
                    """
                ).first()!.decode(column: "n", as: Int.self)
                return (timestamp, step, before)
            }
            guard let start else {
                position = .end
                return nil
            }
            position = .group(timestamp: start.timestamp, step: start.step, inclusive: true, skip: offset - start.before)
            return []
        case .group(let timestamp, let step, let inclusive, let skip):
            var points = try await database.read { sql in
                try await sql.raw(
                    """
                    SELECT \(unsafeRaw: Self.columns) FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                    AND (timestamp, step) \(unsafeRaw: inclusive ? ">=" : ">") (\(bind: timestamp), \(bind: step))
                    ORDER BY timestamp, step, value, is_nan LIMIT \(bind: limit)
                    """
                ).all().map(SQLTrackingStore.metric(from:))
            }
            if points.count < limit {
                position = .end
            } else {
                let last = points[points.count - 1]
                let groupStart = points.lastIndex { $0.timestamp != last.timestamp || $0.step != last.step }.map { $0 + 1 } ?? 0
                if groupStart > 0 {
                    // The last group may go on past this chunk: read it whole next time.
                    points.removeSubrange(groupStart...)
                    position = .group(timestamp: last.timestamp, step: last.step, inclusive: true, skip: 0)
                } else {
                    points = try await database.read { sql in
                        try await sql.raw(
                            """
                            SELECT \(unsafeRaw: Self.columns) FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                            AND timestamp = \(bind: last.timestamp) AND step = \(bind: last.step)
                            ORDER BY value, is_nan
                            """
                        ).all().map(SQLTrackingStore.metric(from:))
                    }
                    position = .group(timestamp: last.timestamp, step: last.step, inclusive: false, skip: 0)
                }
            }
            if skip > 0 { points.removeFirst(min(skip, points.count)) }
            return points
        }
    }
}
