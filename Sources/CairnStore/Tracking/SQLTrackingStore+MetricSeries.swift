import CairnCore
import Logging
import NIOCore
import PostgresNIO
import SQLKit
import SQLiteNIO
import Synchronization

extension SQLTrackingStore {
    public func metricSeries(runID: String, key: String, axis: MetricSeriesAxis, xRange: ClosedRange<Int64>?) async throws -> MetricSeries {
        try await metricSeries(runID: runID, key: key, axis: axis, xRange: xRange, fromBlocks: true)
    }

    /// The series from its sealed blocks (those up to the series' watermark, in order) followed
    /// by the rows past the watermark, which is the index's own sequence; with `fromBlocks`
    /// false, from the metric rows alone (what the blocks must reproduce: the tests compare).
    ///
    /// The watermark is read first and only blocks at or before it are read, so a seal
    /// committed in between cannot drop or double points: its rows are still rows past the
    /// watermark read (rows are never deleted but with their run).
    func metricSeries(
        runID: String, key: String, axis: MetricSeriesAxis, xRange: ClosedRange<Int64>?, fromBlocks: Bool
    ) async throws -> MetricSeries {
        try TrackingValidation.validateRunID(runID)
        // The column names come from the enum, never from the request.
        let column = axis.rawValue
        if let postgres = database as? PostgresMetadataDatabase {
            // PostgresNIO decodes typed rows straight from the wire; SQLKit's Codable row
            // decoding would cost microseconds per point.
            _ = try await database.read { sql in try await Self.loadRunInfo(sql, id: runID) }
            return try await postgres.client.withConnection { connection in
                var series = MetricSeries()
                var watermark: SeriesWatermark?
                if fromBlocks {
                    let rows = try await connection.query(
                        "SELECT sealed_timestamp, sealed_step FROM metric_series WHERE run_uuid = \(runID) AND key = \(key)",
                        logger: Self.seriesLogger)
                    for try await (timestamp, step) in rows.decode((Int64?, Int64?).self) {
                        if let timestamp, let step { watermark = SeriesWatermark(timestamp: timestamp, step: step) }
                    }
                }
                if let watermark {
                    var bindings = PostgresBindings()
                    bindings.append(runID)
                    bindings.append(key)
                    bindings.append(watermark.timestamp)
                    bindings.append(watermark.step)
                    var text = """
                        SELECT min_\(column), max_\(column), points FROM metric_blocks WHERE run_uuid = $1 AND key = $2
                        AND (last_timestamp, last_step) <= ($3, $4)
                        """
                    if let xRange {
                        text += " AND max_\(column) >= $5 AND min_\(column) <= $6"
                        bindings.append(xRange.lowerBound)
                        bindings.append(xRange.upperBound)
                    }
                    text += " ORDER BY last_timestamp, last_step"
                    let rows = try await connection.query(PostgresQuery(unsafeSQL: text, binds: bindings), logger: Self.seriesLogger)
                    for try await (low, high, points) in rows.decode((Int64, Int64, ByteBuffer).self) {
                        guard low <= high else { throw MetricBlockError(byteCount: points.readableBytes) }
                        try points.withUnsafeReadableBytes { bytes in
                            try MetricBlock.appendColumns(of: bytes, axis: axis, range: xRange, blockX: low...high, to: &series)
                        }
                    }
                }
                var bindings = PostgresBindings()
                bindings.append(runID)
                bindings.append(key)
                var text = "SELECT \(column), value, is_nan FROM metrics WHERE run_uuid = $1 AND key = $2"
                var next = 3
                if let watermark {
                    text += " AND (timestamp, step) > ($\(next), $\(next + 1))"
                    next += 2
                    bindings.append(watermark.timestamp)
                    bindings.append(watermark.step)
                }
                if let xRange {
                    text += " AND \(column) >= $\(next) AND \(column) <= $\(next + 1)"
                    bindings.append(xRange.lowerBound)
                    bindings.append(xRange.upperBound)
                }
                text += " ORDER BY timestamp, step, value, is_nan"
                let rows = try await connection.query(PostgresQuery(unsafeSQL: text, binds: bindings), logger: Self.seriesLogger)
                for try await (x, value, isNaN) in rows.decode((Int64, Double, Bool).self) {
                    series.xs.append(x)
                    series.values.append(isNaN ? .nan : value)
                }
                return series
            }
        }
        return try await database.read { sql in
            _ = try await Self.loadRunInfo(sql, id: runID)
            // (timestamp, step, value, is_nan) is the unique index's order after (run, key), so
            // the scan is a range of the covering index and needs no sort.
            if let direct = sql as? SQLiteDirectDatabase {
                var series = MetricSeries()
                var watermark: SeriesWatermark?
                if fromBlocks {
                    let row = try await sql.raw(
                        "SELECT sealed_timestamp, sealed_step FROM metric_series WHERE run_uuid = \(bind: runID) AND key = \(bind: key)"
                    ).first()
                    watermark = try row.flatMap(Self.watermark)
                }
                if let watermark {
                    var filter = "run_uuid = ? AND key = ? AND (last_timestamp, last_step) <= (?, ?)"
                    var binds: [SQLiteData] = [.text(runID), .text(key), .integer(Int(watermark.timestamp)), .integer(Int(watermark.step))]
                    if let xRange {
                        filter += " AND max_\(column) >= ? AND min_\(column) <= ?"
                        binds += [.integer(Int(xRange.lowerBound)), .integer(Int(xRange.upperBound))]
                    }
                    // Room for every block's points at once: the columns are then filled by
                    // one copy each per block, never regrown.
                    var total: Int64 = 0
                    try direct.connection.scanBlobs(
                        "SELECT COALESCE(SUM(point_count), 0), 0, NULL FROM metric_blocks WHERE \(filter)", binds
                    ) {
                        sum, _, _ in total = sum
                    }
                    series.xs.reserveCapacity(Int(total) + MetricBlock.capacity)
                    series.values.reserveCapacity(Int(total) + MetricBlock.capacity)
                    try direct.connection.scanBlobs(
                        "SELECT min_\(column), max_\(column), points FROM metric_blocks WHERE \(filter) ORDER BY last_timestamp, last_step",
                        binds
                    ) { low, high, bytes in
                        guard low <= high else { throw MetricBlockError(byteCount: bytes.count) }
                        try MetricBlock.appendColumns(of: bytes, axis: axis, range: xRange, blockX: low...high, to: &series)
                    }
                }
                var text = "SELECT \(column), value, is_nan FROM metrics WHERE run_uuid = ? AND key = ?"
                var binds: [SQLiteData] = [.text(runID), .text(key)]
                if let watermark {
                    text += " AND (timestamp, step) > (?, ?)"
                    binds += [.integer(Int(watermark.timestamp)), .integer(Int(watermark.step))]
                }
                if let xRange {
                    text += " AND \(column) >= ? AND \(column) <= ?"
                    binds += [.integer(Int(xRange.lowerBound)), .integer(Int(xRange.upperBound))]
                }
                text += " ORDER BY timestamp, step, value, is_nan"
                try direct.connection.scanSeries(text, binds) { x, value, isNaN in
                    series.xs.append(x)
                    series.values.append(isNaN ? .nan : value)
                }
                return series
            }
            // Any other database: SQLKit's rows, every point from the metric rows (correct,
            // the blocks being only a faster copy of them).
            var query: SQLQueryString = """
                SELECT \(unsafeRaw: column) AS x, value, is_nan FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                """
            if let xRange {
                query.appendLiteral(" AND \(column) >= ")
                query.appendInterpolation(bind: xRange.lowerBound)
                query.appendLiteral(" AND \(column) <= ")
                query.appendInterpolation(bind: xRange.upperBound)
            }
            query.appendLiteral(" ORDER BY timestamp, step, value, is_nan")
            let collector = SeriesCollector()
            try await sql.raw(query).run { row in collector.add(row) }
            return try collector.result()
        }
    }
}

extension SQLTrackingStore {
    fileprivate static let seriesLogger = Logger(label: "cairn.store.metric-series")
}

/// Rows arrive on the database's callback one at a time; this gathers them into columns.
private final class SeriesCollector: Sendable {
    private let state = Mutex<(series: MetricSeries, error: (any Error)?)>((MetricSeries(), nil))

    func add(_ row: any SQLRow) {
        state.withLock { state in
            guard state.error == nil else { return }
            do {
                let x = try row.decode(column: "x", as: Int64.self)
                let isNaN = try row.decode(column: "is_nan", as: Bool.self)
                let value = isNaN ? Double.nan : try row.decode(column: "value", as: Double.self)
                state.series.xs.append(x)
                state.series.values.append(value)
            } catch {
                state.error = error
            }
        }
    }

    func result() throws -> MetricSeries {
        try state.withLock { state in
            if let error = state.error { throw error }
            return state.series
        }
    }
}
