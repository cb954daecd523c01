import CairnCore
import CairnUI
import Foundation
import Logging
import NIOCore
import SQLKit
import Testing

@testable import CairnStore

/// The chart's series read from sealed metric blocks plus the unsealed tail must be exactly
/// the series read from the metric rows, and so must every bucket drawn from it, whatever the
/// order points were logged in: on SQLite here, on PostgreSQL in `PostgresStoreTests`.
enum MetricBlockContract {
    /// SplitMix64: the same "random" series on every run and both databases.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A training-like series with everything that makes blocks hard: timestamps that go back
    /// (late points, after their range was sealed), steps logged twice or out of order,
    /// several values at one (timestamp, step), retried points, NaN and ±inf.
    static func points(key: String, count: Int, using random: inout SeededGenerator) -> [Metric] {
        var points: [Metric] = []
        points.reserveCapacity(count)
        for index in 0..<count {
            var timestamp = Int64(10_000 + index * 3)
            var step = Int64(index)
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<4: timestamp = Int64.random(in: 10_000...timestamp, using: &random)
            case 4..<7: step = max(0, step - 1)
            case 7..<9: step = Int64.random(in: 0...step, using: &random)
            case 9..<11 where !points.isEmpty:
                let previous = points[points.count - 1]
                (timestamp, step) = (previous.timestamp, previous.step)
            default: break
            }
            let value: Double
            switch Int.random(in: 0..<200, using: &random) {
            case 0, 1: value = .nan
            case 2: value = .infinity
            case 3: value = -.infinity
            case 4: value = 0
            default: value = Double.random(in: -5...5, using: &random) * 1 / (1 + Double(index) / 1_000)
            }
            if index > 10, Int.random(in: 0..<100, using: &random) == 0 {
                points.append(points[Int.random(in: 0..<points.count, using: &random)])
            } else {
                points.append(Metric(key: key, value: value, timestamp: timestamp, step: step))
            }
        }
        return points
    }

    /// Logs three series of a run (two long, one short) interleaved, in batches of random
    /// sizes shuffled within themselves, plus a second pass of late and retried points.
    static func logSeries(_ store: SQLTrackingStore, runID: String, seed: UInt64) async throws -> [String: Int] {
        var random = SeededGenerator(state: seed)
        let series = [
            points(key: "loss", count: 14_000, using: &random), points(key: "acc", count: 9_500, using: &random),
            points(key: "lr", count: 300, using: &random),
        ]
        // Interleaved as a training loop logs them, each key in its own order (late ones too).
        var queue: [Metric] = []
        for index in 0..<series.map(\.count).max()! {
            for points in series where index < points.count { queue.append(points[index]) }
        }
        var position = 0
        while position < queue.count {
            let size = min(Int.random(in: 1...1_000, using: &random), queue.count - position)
            var batch = Array(queue[position..<position + size])
            batch.shuffle(using: &random)
            try await store.logBatch(runID: runID, metrics: batch, params: [], tags: [])
            position += size
        }
        // Late points into the sealed past, and the same batch again (a client's retry).
        var late: [Metric] = []
        for _ in 0..<500 {
            let point = queue[Int.random(in: 0..<queue.count, using: &random)]
            late.append(
                Metric(key: point.key, value: Double.random(in: -1...1, using: &random), timestamp: point.timestamp, step: point.step))
        }
        try await store.logBatch(runID: runID, metrics: late, params: [], tags: [])
        try await store.logBatch(runID: runID, metrics: late, params: [], tags: [])
        return Dictionary(grouping: queue + late, by: \.key).mapValues(\.count)
    }

    static func check(_ store: SQLTrackingStore) async throws {
        let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 9_000, tags: []))
        let runID = run.info.runID
        _ = try await logSeries(store, runID: runID, seed: 42)

        let blocks = try await store.database.read { sql in
            try await sql.raw("SELECT key, COUNT(*) AS n FROM metric_blocks WHERE run_uuid = \(bind: runID) GROUP BY key").all()
                .map { (try $0.decode(column: "key", as: String.self), try $0.decode(column: "n", as: Int.self)) }
        }
        let blockCounts = Dictionary(uniqueKeysWithValues: blocks)
        // Two long series sealed, the short one not.
        #expect((blockCounts["loss"] ?? 0) >= 3 && (blockCounts["acc"] ?? 0) >= 2 && blockCounts["lr"] == nil)
        try await expectSealedRowsMatchBlocks(store, runID: runID)

        for key in ["loss", "acc", "lr", "missing"] {
            try await expectSameSeriesAndBuckets(store, runID: runID, key: key, startTime: 9_000)
        }
    }

    /// Every metric row at or before a series' watermark is in exactly one of its blocks.
    static func expectSealedRowsMatchBlocks(_ store: SQLTrackingStore, runID: String) async throws {
        let mismatches = try await store.database.read { sql in
            try await sql.raw(
                """
                SELECT s.key, (SELECT COUNT(*) FROM metrics m WHERE m.run_uuid = s.run_uuid AND m.key = s.key
                        AND (m.timestamp, m.step) <= (s.sealed_timestamp, s.sealed_step)) AS sealed_rows,
                    (SELECT CAST(COALESCE(SUM(b.point_count), 0) AS BIGINT) FROM metric_blocks b WHERE b.run_uuid = s.run_uuid AND b.key = s.key) AS block_points
                FROM metric_series s WHERE s.run_uuid = \(bind: runID) AND s.sealed_timestamp IS NOT NULL
                """
            ).all().compactMap { row -> String? in
                let rows = try row.decode(column: "sealed_rows", as: Int64.self)
                let points = try row.decode(column: "block_points", as: Int64.self)
                return rows == points ? nil : "\(try row.decode(column: "key", as: String.self)): \(rows) rows, \(points) in blocks"
            }
        }
        #expect(mismatches.isEmpty)
    }

    /// Series equal point for point (same order, so any fold over them agrees), and the chart's
    /// buckets by step, wall time and relative time, whole and zoomed, equal bucket for bucket.
    static func expectSameSeriesAndBuckets(_ store: SQLTrackingStore, runID: String, key: String, startTime: Int64) async throws {
        for axis in [LineChart.XAxis.step, .wall, .relative] {
            let storeAxis: MetricSeriesAxis = axis == .step ? .step : .timestamp
            let offset = axis == .relative ? startTime : 0
            let whole = try await store.metricSeries(runID: runID, key: key, axis: storeAxis, xRange: nil, fromBlocks: false)
            let low = whole.xs.min() ?? 0
            let high = whole.xs.max() ?? 1
            let span = max(high - low, 1)
            let zooms: [ClosedRange<Int64>?] = [
                nil, (low + span / 3)...(low + span / 3 + span / 50), (low + span / 2)...(high + 10), (high + 1)...(high + 100),
                (low - 50)...(low + span / 7),
            ]
            for zoom in zooms {
                let rows = try await store.metricSeries(runID: runID, key: key, axis: storeAxis, xRange: zoom, fromBlocks: false)
                let blocks = try await store.metricSeries(runID: runID, key: key, axis: storeAxis, xRange: zoom, fromBlocks: true)
                let context = "\(key) \(axis) \(String(describing: zoom))"
                #expect(rows.count == blocks.count, "\(context)")
                #expect(rows == blocks, "\(context)")
                let drawn =
                    zoom.map { (Double($0.lowerBound - offset), Double($0.upperBound - offset)) } ?? (
                        Double(low - offset), Double(high - offset)
                    )
                for width in [720, 37] {
                    var fromRows = SeriesBucketer(xMin: drawn.0, xMax: max(drawn.1, drawn.0), bucketCount: width)
                    fromRows.add(xs: rows.xs, values: rows.values, xOffset: offset)
                    var fromBlocks = SeriesBucketer(xMin: drawn.0, xMax: max(drawn.1, drawn.0), bucketCount: width)
                    fromBlocks.add(xs: blocks.xs, values: blocks.values, xOffset: offset)
                    #expect(fromRows.buckets.map(signature) == fromBlocks.buckets.map(signature), "\(context) \(width)")
                }
            }
        }
    }

    /// A bucket as text: `SeriesBucket`'s `==` fails on the NaN `last` of a bucket of no finite point.
    static func signature(_ bucket: SeriesBucket) -> String {
        "\(bucket.count) \(bucket.finiteCount) \(bucket.nanCount) \(bucket.positiveInfinityCount) \(bucket.negativeInfinityCount) "
            + "\(bucket.min) \(bucket.max) \(bucket.sum) \(bucket.minPositive) \(bucket.lastX) \(bucket.last)"
    }

    static func checkPurge(_ store: SQLTrackingStore) async throws {
        let experiment = try await store.createExperiment(name: "blocks-purge", artifactLocation: nil, tags: [])
        let run = try await store.createRun(CreateRun(experimentID: experiment, userID: "u", runName: "r", startTime: 1, tags: []))
        let metrics = (0..<5_000).map { Metric(key: "m", value: Double($0), timestamp: Int64($0), step: Int64($0)) }
        for chunk in stride(from: 0, to: metrics.count, by: 1_000) {
            try await store.logBatch(runID: run.info.runID, metrics: Array(metrics[chunk..<chunk + 1_000]), params: [], tags: [])
        }
        func left() async throws -> Int {
            try await store.database.read { sql in
                try await sql.raw(
                    """
                    SELECT (SELECT COUNT(*) FROM metric_blocks WHERE run_uuid = \(bind: run.info.runID))
                        + (SELECT COUNT(*) FROM metric_series WHERE run_uuid = \(bind: run.info.runID)) AS n
                    """
                ).first()!.decode(column: "n", as: Int.self)
            }
        }
        #expect(try await left() == 2)
        try await store.deleteExperiment(id: experiment)
        _ = try await store.purgeExperiment(id: experiment)
        #expect(try await left() == 0)
    }
}

@Suite struct MetricBlockTests {
    @Test func blocksReproduceTheRowsOnSQLite() async throws {
        try await StoreFixture.with { store in try await MetricBlockContract.check(store) }
    }

    @Test func purgingAnExperimentRemovesItsBlocks() async throws {
        try await StoreFixture.with { store in try await MetricBlockContract.checkPurge(store) }
    }

    @Test func encodingRoundTripsAndKeepsTheIndexOrder() throws {
        var block = MetricBlock()
        block.append(timestamp: 1, step: 0, storedValue: -1, isNaN: false)
        block.append(timestamp: 1, step: 0, storedValue: 0, isNaN: true)
        block.append(timestamp: 5, step: 3, storedValue: .greatestFiniteMagnitude, isNaN: false)
        // A zero beside a NaN stored as 0 is a new point; the NaN and the +inf again are retries.
        let added = block.merge([
            .init(timestamp: 5, step: 3, storedValue: .greatestFiniteMagnitude, isNaN: false),
            .init(timestamp: 1, step: 0, storedValue: 0, isNaN: false), .init(timestamp: 1, step: 0, storedValue: 0, isNaN: true),
            .init(timestamp: 4, step: 9, storedValue: 2, isNaN: false), .init(timestamp: 4, step: 9, storedValue: 2, isNaN: false),
        ])
        #expect(added)
        let retried = block.merge([.init(timestamp: 4, step: 9, storedValue: 2, isNaN: false)])
        #expect(!retried)
        #expect(block.timestamps == [1, 1, 1, 4, 5] && block.steps == [0, 0, 0, 9, 3])
        #expect(block.values[0] == -1 && block.values[1] == 0 && block.values[2].isNaN && block.values[3] == 2)
        let buffer = block.encoded()
        #expect(buffer.readableBytes == 5 * 24)
        let decoded = try MetricBlock(encoded: buffer)
        #expect(decoded.timestamps == block.timestamps && decoded.steps == block.steps)
        #expect(zip(decoded.values, block.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(block.stepRange == 0...9 && block.timestampRange == 1...5)

        var series = MetricSeries()
        try buffer.withUnsafeReadableBytes { bytes in
            try MetricBlock.appendColumns(of: bytes, axis: .step, range: 1...9, blockX: 0...9, to: &series)
            try MetricBlock.appendColumns(of: bytes, axis: .timestamp, range: nil, blockX: 1...5, to: &series)
        }
        #expect(series.xs == [9, 3, 1, 1, 1, 4, 5])
        #expect(series.values[0] == 2 && series.values[1] == .greatestFiniteMagnitude && series.values[4].isNaN)

        // Split past twice the capacity, at (timestamp, step) group ends: no group is cut in
        // two, no piece above the capacity unless one group is.
        var long = MetricBlock()
        for index in 0..<10 { long.append(timestamp: Int64(index / 3), step: 0, storedValue: Double(index), isNaN: false) }
        #expect(long.split(capacity: 4).map(\.timestamps) == [[0, 0, 0], [1, 1, 1], [2, 2, 2, 3]])
        #expect(long.split(capacity: 2).map(\.count) == [3, 3, 3, 1])
        #expect(long.split(capacity: 5).map(\.count) == [10])
        #expect(long.split(capacity: 10).map(\.count) == [10])

        var short = ByteBufferAllocator().buffer(capacity: 23)
        short.writeRepeatingByte(0, count: 23)
        #expect(throws: MetricBlockError.self) { try MetricBlock(encoded: short) }
    }

    /// Histories logged before migration 011 are sealed by it: the blocks it builds reproduce
    /// the rows, and writes after it carry on from its watermark.
    @Test func migrationSealsExistingHistories() async throws {
        let fixture = try await StoreFixture.make()
        do {
            let store = fixture.store
            let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 9_000, tags: []))
            _ = try await MetricBlockContract.logSeries(store, runID: run.info.runID, seed: 7)
            // As a database of before 011: no series table, no blocks.
            try await fixture.database.transaction { sql in
                try await sql.raw("DROP TABLE metric_blocks").run()
                try await sql.raw("DROP TABLE metric_series").run()
                try await sql.raw("DELETE FROM cairn_migrations WHERE version = 11").run()
            }
            try await Migrations.run(on: fixture.database, logger: Logger(label: "test"), now: 2)
            try await MetricBlockContract.expectSealedRowsMatchBlocks(store, runID: run.info.runID)
            let sealed = try await fixture.database.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM metric_blocks WHERE run_uuid = \(bind: run.info.runID)").first()!
                    .decode(column: "n", as: Int.self)
            }
            #expect(sealed >= 5)
            _ = try await MetricBlockContract.logSeries(store, runID: run.info.runID, seed: 8)
            try await MetricBlockContract.expectSealedRowsMatchBlocks(store, runID: run.info.runID)
            for key in ["loss", "acc", "lr"] {
                try await MetricBlockContract.expectSameSeriesAndBuckets(store, runID: run.info.runID, key: key, startTime: 9_000)
            }
            try await fixture.close()
        } catch {
            try? await fixture.close()
            throw error
        }
    }

    /// Writers logging far-apart ranges of one series at once (as bench/ui/chart.sh's loader
    /// does): each seal reaches into a later writer's range, so an earlier writer's next points
    /// are late and merge into that block, which splits rather than grows past twice the capacity.
    @Test func farApartWritersKeepBlocksBoundedAndRight() async throws {
        try await StoreFixture.with { store in
            let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 9_000, tags: []))
            let regions = (0..<4).map { $0 * 100_000 }
            for offset in stride(from: 0, to: 5_000, by: 500) {
                for region in regions {
                    let metrics = (region + offset..<region + offset + 500).map {
                        Metric(key: "m", value: Double($0 % 97), timestamp: Int64(10_000 + $0), step: Int64($0))
                    }
                    try await store.logBatch(runID: run.info.runID, metrics: metrics, params: [], tags: [])
                }
            }
            let sizes = try await store.database.read { sql in
                try await sql.raw("SELECT point_count FROM metric_blocks WHERE run_uuid = \(bind: run.info.runID)").all()
                    .map { try $0.decode(column: "point_count", as: Int.self) }
            }
            #expect(sizes.count >= 4 && sizes.allSatisfy { $0 <= 2 * MetricBlock.capacity })
            try await MetricBlockContract.expectSealedRowsMatchBlocks(store, runID: run.info.runID)
            try await MetricBlockContract.expectSameSeriesAndBuckets(store, runID: run.info.runID, key: "m", startTime: 9_000)
        }
    }

    /// The issue's bar: a one-step spike among a million points is the top of its column's band.
    @Test func aOneStepSpikeInAMillionPointsIsInTheBand() async throws {
        try await StoreFixture.with { store in
            let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "r", startTime: 1, tags: []))
            let count = 1_000_000
            let spike = 612_345
            for chunk in stride(from: 0, to: count, by: 1_000) {
                let metrics = (chunk..<chunk + 1_000).map {
                    Metric(key: "m", value: $0 == spike ? 9 : 1 + Double($0 % 7) / 100, timestamp: Int64($0), step: Int64($0))
                }
                try await store.logBatch(runID: run.info.runID, metrics: metrics, params: [], tags: [])
            }
            let series = try await store.metricSeries(runID: run.info.runID, key: "m", axis: .step, xRange: nil)
            #expect(series.count == count)
            var bucketer = SeriesBucketer(xMin: 0, xMax: Double(count - 1), bucketCount: 720)
            bucketer.add(xs: series.xs, values: series.values)
            let column = bucketer.index(of: Double(spike))!
            #expect(bucketer.buckets[column].max == 9)
            #expect(bucketer.buckets.enumerated().allSatisfy { $0.offset == column || $0.element.max < 2 })
        }
    }
}

extension PostgresStoreTests {
    @Test func metricBlocksReproduceTheRowsOnPostgreSQL() async throws {
        try await PostgresFixture.withFreshDatabase { database in
            let store = SQLTrackingStore(database: database)
            try await MetricBlockContract.check(store)
            try await MetricBlockContract.checkPurge(store)
        }
    }
}
