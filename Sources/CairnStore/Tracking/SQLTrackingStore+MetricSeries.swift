import CairnCore
import Logging
import PostgresNIO
import SQLKit
import SQLiteNIO
import Synchronization

extension SQLTrackingStore {
    public func metricSeries(runID: String, key: String, axis: MetricSeriesAxis, xRange: ClosedRange<Int64>?) async throws -> MetricSeries {
        try TrackingValidation.validateRunID(runID)
        // The column name comes from the enum, never from the request.
        let column = axis.rawValue
        if let postgres = database as? PostgresMetadataDatabase {
            // PostgresNIO decodes typed rows straight from the wire; SQLKit's Codable row
            // decoding would cost microseconds per point.
            _ = try await database.read { sql in try await Self.loadRunInfo(sql, id: runID) }
            var bindings = PostgresBindings()
            bindings.append(runID)
            bindings.append(key)
            var text = "SELECT \(column), value, is_nan FROM metrics WHERE run_uuid = $1 AND key = $2"
            if let xRange {
                text += " AND \(column) >= $3 AND \(column) <= $4"
                bindings.append(xRange.lowerBound)
                bindings.append(xRange.upperBound)
            }
            text += " ORDER BY timestamp, step"
            let query = PostgresQuery(unsafeSQL: text, binds: bindings)
            return try await postgres.client.withConnection { connection in
                var series = MetricSeries()
                let rows = try await connection.query(query, logger: Self.seriesLogger)
                for try await (x, value, isNaN) in rows.decode((Int64, Double, Bool).self) {
                    series.xs.append(x)
                    series.values.append(isNaN ? .nan : value)
                }
                return series
            }
        }
        return try await database.read { sql in
            _ = try await Self.loadRunInfo(sql, id: runID)
            // (timestamp, step) is the unique index's order after (run, key), so the scan is a
            // range of the covering index and needs no sort.
            if let direct = sql as? SQLiteDirectDatabase {
                var text = "SELECT \(column), value, is_nan FROM metrics WHERE run_uuid = ? AND key = ?"
                var binds: [SQLiteData] = [.text(runID), .text(key)]
                if let xRange {
                    text += " AND \(column) >= ? AND \(column) <= ?"
                    binds += [.integer(Int(xRange.lowerBound)), .integer(Int(xRange.upperBound))]
                }
                text += " ORDER BY timestamp, step"
                var series = MetricSeries()
                try direct.connection.scanSeries(text, binds) { x, value, isNaN in
                    series.xs.append(x)
                    series.values.append(isNaN ? .nan : value)
                }
                return series
            }
            // Any other database: SQLKit's rows.
            var query: SQLQueryString = """
                SELECT \(unsafeRaw: column) AS x, value, is_nan FROM metrics WHERE run_uuid = \(bind: runID) AND key = \(bind: key)
                """
            if let xRange {
                query.appendLiteral(" AND \(column) >= ")
                query.appendInterpolation(bind: xRange.lowerBound)
                query.appendLiteral(" AND \(column) <= ")
                query.appendInterpolation(bind: xRange.upperBound)
            }
            query.appendLiteral(" ORDER BY timestamp, step")
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
