import CairnCore
import Foundation
import Logging
import SQLKit
import Testing

@testable import CairnStore

/// `metricSeries` (the chart's column reader) against a brute-force reading of the same points
/// through `getMetricHistory`, on SQLite here and on PostgreSQL in `PostgresStoreTests`.
enum MetricSeriesContract {
    static func points() -> [Metric] {
        var points: [Metric] = []
        // Out of order in time and step, several values at one (timestamp, step), NaN and ±inf.
        for index in Int64(0)..<300 {
            let timestamp = 1_000 + (index * 7919) % 300
            let step = (index * 31) % 50
            let value: Double
            switch index % 37 {
            case 5: value = .nan
            case 11: value = .infinity
            case 17: value = -.infinity
            default: value = sin(Double(index)) * 10
            }
            points.append(Metric(key: "loss", value: value, timestamp: timestamp, step: step))
            if index % 50 == 0 { points.append(Metric(key: "loss", value: -1, timestamp: timestamp, step: step)) }
        }
        points.append(Metric(key: "other", value: 1, timestamp: 5, step: 5))
        return points
    }

    static func pairs(_ series: MetricSeries) -> [String] {
        zip(series.xs, series.values).map { "\($0) \($1.isNaN ? "nan" : String($1))" }.sorted()
    }

    static func check(_ store: SQLTrackingStore) async throws {
        let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
        let runID = run.info.runID
        let points = points()
        for chunk in stride(from: 0, to: points.count, by: 100) {
            try await store.logBatch(runID: runID, metrics: Array(points[chunk..<min(chunk + 100, points.count)]), params: [], tags: [])
        }
        let history = try await store.getMetricHistory(runID: runID, key: "loss", maxResults: nil, pageToken: nil).items
        #expect(history.count == points.count - 1)

        for axis in [MetricSeriesAxis.step, .timestamp] {
            for range: ClosedRange<Int64>? in [nil, 10...20, 1_100...1_150, 60...70] {
                let series = try await store.metricSeries(runID: runID, key: "loss", axis: axis, xRange: range)
                let expected = history.compactMap { metric -> (Int64, Double)? in
                    let x = axis == .step ? metric.step : metric.timestamp
                    guard range.map({ $0.contains(x) }) ?? true else { return nil }
                    return (x, metric.value)
                }
                #expect(series.count == expected.count, "\(axis) \(String(describing: range))")
                #expect(pairs(series) == pairs(MetricSeries(xs: expected.map(\.0), values: expected.map(\.1))))
                if axis == .timestamp { #expect(series.xs == series.xs.sorted()) }
            }
        }
        let all = try await store.metricSeries(runID: runID, key: "loss", axis: .step, xRange: nil)
        #expect(all.values.contains { $0.isNaN })
        #expect(all.values.contains(1.7976931348623157e308) && all.values.contains(-1.7976931348623157e308))
        #expect(try await store.metricSeries(runID: runID, key: "missing", axis: .step, xRange: nil).count == 0)
        await expectCairnError(.resourceDoesNotExist) {
            _ = try await store.metricSeries(runID: String(repeating: "f", count: 32), key: "loss", axis: .step, xRange: nil)
        }
        await expectCairnError(.invalidParameterValue) {
            _ = try await store.metricSeries(runID: "../x", key: "loss", axis: .step, xRange: nil)
        }
    }
}

@Suite struct MetricSeriesTests {
    @Test func matchesTheHistoryOnSQLite() async throws {
        try await StoreFixture.with { store in try await MetricSeriesContract.check(store) }
    }

    @Test func aLongSeriesComesBackInStepOrderWhenStepsGrowWithTime() async throws {
        try await StoreFixture.with { store in
            let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            let count = 100_000
            for chunk in stride(from: 0, to: count, by: 1_000) {
                let metrics = (chunk..<chunk + 1_000).map {
                    Metric(key: "m", value: $0 == 61_234 ? 9 : 1, timestamp: Int64($0), step: Int64($0))
                }
                try await store.logBatch(runID: run.info.runID, metrics: metrics, params: [], tags: [])
            }
            let series = try await store.metricSeries(runID: run.info.runID, key: "m", axis: .step, xRange: nil)
            #expect(series.count == count)
            #expect(series.xs.first == 0 && series.xs.last == Int64(count - 1))
            #expect(series.xs == series.xs.sorted())
            #expect(series.values[61_234] == 9)
            let zoom = try await store.metricSeries(runID: run.info.runID, key: "m", axis: .step, xRange: 61_000...62_000)
            #expect(zoom.count == 1_001 && zoom.values.max() == 9)
        }
    }
}

extension PostgresStoreTests {
    @Test func metricSeriesMatchesTheHistoryOnPostgreSQL() async throws {
        try await PostgresFixture.withFreshDatabase { database in
            try await MetricSeriesContract.check(SQLTrackingStore(database: database))
        }
    }
}
