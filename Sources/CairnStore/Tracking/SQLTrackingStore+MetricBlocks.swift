import CairnCore
import NIOCore
import SQLKit

/// Keeping `metric_blocks` in step with the metric rows, inside the transaction that writes
/// them (migration 011 has the tables).
///
/// Each series has a row in `metric_series`: the (timestamp, step) up to which its points are
/// sealed into blocks (the watermark; none yet while NULL) and `pending`, an upper bound on the
/// points past it (every point a write sends counts, duplicates and late ones too). A write
/// adds to `pending` under that row's lock, which also orders concurrent writers of one series
/// on PostgreSQL; points at or before the watermark (logged late) go into the block whose
/// range holds them; once `pending` reaches a block's worth the tail is counted for real and
/// sealed, a block per `MetricBlock.capacity` points. A block never splits a (timestamp, step)
/// group, so "past the watermark" is a plain range of the metrics index.
extension SQLTrackingStore {
    struct SeriesWatermark: Equatable, Sendable {
        var timestamp: Int64
        var step: Int64

        func covers(timestamp other: Int64, step otherStep: Int64) -> Bool {
            other < timestamp || (other == timestamp && otherStep <= step)
        }
    }

    /// Called by `insertMetrics` with the points it just wrote (one copy per unique row).
    static func updateMetricBlocks(_ sql: any SQLDatabase, runID: String, points: [Metric]) async throws {
        var byKey: [String: [Metric]] = [:]
        for point in points { byKey[point.key, default: []].append(point) }
        // Sorted, so concurrent writers of the same keys lock their series rows in one order.
        let keys = byKey.keys.sorted()
        for chunkStart in stride(from: 0, to: keys.count, by: 200) {
            let chunk = keys[chunkStart..<min(chunkStart + 200, keys.count)]
            var query: SQLQueryString = "INSERT INTO metric_series (run_uuid, key, pending) VALUES "
            for (index, key) in chunk.enumerated() {
                query.appendLiteral(index > 0 ? ", (" : "(")
                query.appendInterpolation(bind: runID)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: key)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: Int64(byKey[key]!.count))
                query.appendLiteral(")")
            }
            query.appendLiteral(
                """
                 ON CONFLICT (run_uuid, key) DO UPDATE SET pending = metric_series.pending + excluded.pending
                 RETURNING key, pending, sealed_timestamp, sealed_step
                """)
            let rows = try await sql.raw(query).all()
            for row in rows {
                let key = try row.decode(column: "key", as: String.self)
                let pending = try row.decode(column: "pending", as: Int64.self)
                let watermark = try Self.watermark(row)
                if let watermark {
                    let late = (byKey[key] ?? []).filter { watermark.covers(timestamp: $0.timestamp, step: $0.step) }
                    if !late.isEmpty { try await mergeLatePoints(sql, runID: runID, key: key, points: late) }
                }
                if pending >= MetricBlock.capacity {
                    try await sealMetricBlocks(sql, runID: runID, key: key, after: watermark)
                }
            }
        }
    }

    static func watermark(_ row: any SQLRow) throws -> SeriesWatermark? {
        guard let timestamp = try row.decode(column: "sealed_timestamp", as: Int64?.self),
            let step = try row.decode(column: "sealed_step", as: Int64?.self)
        else { return nil }
        return SeriesWatermark(timestamp: timestamp, step: step)
    }

    /// Seals the series' tail past `watermark` into blocks while it holds a block's worth, and
    /// leaves `pending` at what remains. Also what migration 011 runs over existing histories.
    static func sealMetricBlocks(_ sql: any SQLDatabase, runID: String, key: String, after watermark: SeriesWatermark?) async throws {
        var watermark = watermark
        while true {
            var query: SQLQueryString = """
                SELECT timestamp, step, value, is_nan FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                """
            if let watermark {
                query.appendLiteral(" AND (timestamp, step) > (")
                query.appendInterpolation(bind: watermark.timestamp)
                query.appendLiteral(", ")
                query.appendInterpolation(bind: watermark.step)
                query.appendLiteral(")")
            }
            query.appendLiteral(" ORDER BY timestamp, step, value, is_nan LIMIT ")
            query.appendInterpolation(bind: MetricBlock.capacity)
            var rows = try await tailPoints(sql, query)
            guard rows.count >= MetricBlock.capacity else {
                try await sql.raw(
                    "UPDATE metric_series SET pending = \(bind: Int64(rows.count)) WHERE run_uuid = \(bind: runID) AND key = \(bind: key)"
                ).run()
                return
            }
            // The last (timestamp, step) group may go on past the limit: leave it for the next
            // block, unless it is the whole block, then take all of it.
            let last = rows[rows.count - 1]
            if let groupStart = rows.lastIndex(where: { $0.timestamp != last.timestamp || $0.step != last.step }) {
                rows.removeSubrange((groupStart + 1)...)
            } else {
                rows = try await sql.raw(
                    """
                    SELECT timestamp, step, value, is_nan FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                    AND timestamp = \(bind: last.timestamp) AND step = \(bind: last.step) ORDER BY value, is_nan
                    """
                ).all().map(Self.blockPoint(from:))
            }
            var block = MetricBlock()
            for row in rows { block.append(timestamp: row.timestamp, step: row.step, storedValue: row.value, isNaN: row.isNaN) }
            let end = rows[rows.count - 1]
            try await insertBlock(sql, runID: runID, key: key, block: block)
            try await sql.raw(
                """
                UPDATE metric_series SET sealed_timestamp = \(bind: end.timestamp), sealed_step = \(bind: end.step)
                WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                """
            ).run()
            watermark = SeriesWatermark(timestamp: end.timestamp, step: end.step)
        }
    }

    /// Points at or before the watermark go into the block whose range holds them: the first
    /// block whose last (timestamp, step) is at or after the point's (ranges follow each other
    /// without gaps, so a point between two blocks' points belongs to the later block).
    static func mergeLatePoints(_ sql: any SQLDatabase, runID: String, key: String, points: [Metric]) async throws {
        let sorted = points.sorted { ($0.timestamp, $0.step) < ($1.timestamp, $1.step) }
        var index = 0
        while index < sorted.count {
            let first = sorted[index]
            guard
                let row = try await sql.raw(
                    """
                    SELECT last_timestamp, last_step, points FROM metric_blocks WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                    AND (last_timestamp, last_step) >= (\(bind: first.timestamp), \(bind: first.step))
                    ORDER BY last_timestamp, last_step LIMIT 1
                    """
                ).first()
            else {
                // The watermark is the last block's end, so a point at or before it has a block.
                throw CairnStoreError.inconsistent("metric_series of run \(runID) key \(key) is past its last metric block")
            }
            let end = SeriesWatermark(
                timestamp: try row.decode(column: "last_timestamp", as: Int64.self),
                step: try row.decode(column: "last_step", as: Int64.self))
            var block = try MetricBlock(encoded: try row.decode(column: "points", as: ByteBuffer.self))
            var late: [MetricBlock.Point] = []
            while index < sorted.count, end.covers(timestamp: sorted[index].timestamp, step: sorted[index].step) {
                let point = sorted[index]
                late.append(
                    MetricBlock.Point(
                        timestamp: point.timestamp, step: point.step, storedValue: storedValue(point.value), isNaN: point.value.isNaN))
                index += 1
            }
            guard block.merge(late) else { continue }
            // The last piece keeps the block's key (its last point is still the block's end);
            // the pieces before it are new blocks ending inside the old range.
            let pieces = block.split(capacity: MetricBlock.capacity)
            for piece in pieces.dropLast() { try await insertBlock(sql, runID: runID, key: key, block: piece) }
            let last = pieces[pieces.count - 1]
            let steps = last.stepRange
            let timestamps = last.timestampRange
            try await sql.raw(
                """
                UPDATE metric_blocks SET point_count = \(bind: Int64(last.count)), min_step = \(bind: steps.lowerBound),
                    max_step = \(bind: steps.upperBound), min_timestamp = \(bind: timestamps.lowerBound),
                    max_timestamp = \(bind: timestamps.upperBound), points = \(bind: last.encoded())
                WHERE run_uuid = \(bind: runID) AND key = \(bind: key) AND last_timestamp = \(bind: end.timestamp)
                    AND last_step = \(bind: end.step)
                """
            ).run()
        }
    }

    /// Stores a block under its last (timestamp, step).
    static func insertBlock(_ sql: any SQLDatabase, runID: String, key: String, block: MetricBlock) async throws {
        let steps = block.stepRange
        let timestamps = block.timestampRange
        try await sql.raw(
            """
            INSERT INTO metric_blocks (run_uuid, key, last_timestamp, last_step, point_count, min_step, max_step,
                min_timestamp, max_timestamp, points)
            VALUES (\(bind: runID), \(bind: key), \(bind: block.timestamps[block.count - 1]), \(bind: block.steps[block.count - 1]),
                \(bind: Int64(block.count)), \(bind: steps.lowerBound), \(bind: steps.upperBound), \(bind: timestamps.lowerBound),
                \(bind: timestamps.upperBound), \(bind: block.encoded()))
            """
        ).run()
    }

    /// Migration 011: every history that already holds a block's worth is sealed now, so no
    /// chart ever meets a long unsealed tail.
    static func sealExistingHistories(_ sql: any SQLDatabase) async throws {
        let series = try await sql.raw(
            "SELECT run_uuid, key FROM metric_series WHERE pending >= \(bind: Int64(MetricBlock.capacity)) ORDER BY run_uuid, key"
        ).all().map { (try $0.decode(column: "run_uuid", as: String.self), try $0.decode(column: "key", as: String.self)) }
        for (runID, key) in series { try await sealMetricBlocks(sql, runID: runID, key: key, after: nil) }
    }

    private struct BlockPoint {
        var timestamp: Int64
        var step: Int64
        var value: Double
        var isNaN: Bool
    }

    /// The points a query selects as (timestamp, step, value, is_nan): on SQLite straight from
    /// its columns, since this runs in the writer's transaction; elsewhere through SQLKit's rows.
    private static func tailPoints(_ sql: any SQLDatabase, _ query: SQLQueryString) async throws -> [BlockPoint] {
        guard let direct = sql as? SQLiteDirectDatabase else { return try await sql.raw(query).all().map(Self.blockPoint(from:)) }
        let (text, binds) = try direct.statement(for: query)
        var points: [BlockPoint] = []
        points.reserveCapacity(MetricBlock.capacity)
        try direct.connection.scanPoints(text, binds) { timestamp, step, value, isNaN in
            points.append(BlockPoint(timestamp: timestamp, step: step, value: value, isNaN: isNaN))
        }
        return points
    }

    private static func blockPoint(from row: any SQLRow) throws -> BlockPoint {
        BlockPoint(
            timestamp: try row.decode(column: "timestamp", as: Int64.self), step: try row.decode(column: "step", as: Int64.self),
            value: try row.decode(column: "value", as: Double.self), isNaN: try row.decode(column: "is_nan", as: Bool.self))
    }
}
