import CairnCore
import Testing

@testable import CairnStore

/// A metric history is read in bounded chunks, in MLflow's order, with the same pages and
/// tokens as one query per page gave.
@Suite struct MetricHistoryCursorTests {
    /// 20 timestamps × 3 steps with up to three values each (a NaN among them, which sorts as
    /// the 0 it is stored as), and one group of 30 points, larger than a chunk.
    static func points() -> [Metric] {
        var points: [Metric] = []
        for timestamp in Int64(0)..<20 {
            for step in Int64(0)..<3 {
                let count = Int((timestamp + step) % 3) + 1
                for index in 0..<count {
                    let value = index == 1 && timestamp % 4 == 0 ? Double.nan : Double(count - index) - 1.5
                    points.append(Metric(key: "m", value: value, timestamp: timestamp, step: step))
                }
            }
        }
        for index in 0..<30 {
            points.append(Metric(key: "m", value: index == 7 ? .nan : Double(29 - index), timestamp: 9, step: 7))
        }
        return points
    }

    /// `mlflow server`'s order (its SQL store: `ORDER BY timestamp, step, value` over values
    /// stored with a NaN as 0, and a stored 0 before a NaN).
    static func historyOrder(_ lhs: Metric, _ rhs: Metric) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        if lhs.step != rhs.step { return lhs.step < rhs.step }
        let (left, right) = (lhs.value.isNaN ? 0 : lhs.value, rhs.value.isNaN ? 0 : rhs.value)
        if left != right { return left < right }
        return !lhs.value.isNaN && rhs.value.isNaN
    }

    /// What `mlflow server` 3.17.2 (SQLite) answered for these points logged with the stock
    /// client's `log_metric`, one by one, at one timestamp and step: infinities come back as
    /// the largest finite doubles, a NaN sits where a 0 would, after a real 0, and the latest
    /// value is the largest.
    @Test func tiedPointsWithNaNAndInfinitiesReadAsMLflowAnswers() async throws {
        try await StoreFixture.with { store in
            let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "t", startTime: 1, tags: []))
            let id = run.info.runID
            for value in [2.0, .nan, -1.0, .infinity, 0.0, -.infinity, 0.5] {
                try await store.logBatch(runID: id, metrics: [Metric(key: "m", value: value, timestamp: 10, step: 1)], params: [], tags: [])
            }
            var cursor = try store.metricHistory(runID: id, key: "m", maxResults: nil, pageToken: nil)
            var values: [Double] = []
            while let chunk = try await cursor.next() { values += chunk.map(\.value) }
            let max = Double.greatestFiniteMagnitude
            #expect(values.map(\.bitPattern) == [-max, -1, 0, .nan, 0.5, 2, max].map(\.bitPattern))
            #expect(try await store.getRun(id: id).data.metrics.map(\.value) == [max])
        }
    }

    func logged(_ store: SQLTrackingStore) async throws -> (runID: String, expected: [Metric]) {
        let run = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "h", startTime: 1, tags: []))
        let points = Self.points()
        // Logged in reverse, in two batches, so insertion order says nothing about history order.
        let reversed = Array(points.reversed())
        try await store.logBatch(runID: run.info.runID, metrics: Array(reversed[..<100]), params: [], tags: [])
        try await store.logBatch(runID: run.info.runID, metrics: Array(reversed[100...]), params: [], tags: [])
        return (run.info.runID, points.sorted(by: Self.historyOrder))
    }

    @Test func chunksAreBoundedAndInHistoryOrder() async throws {
        try await StoreFixture.with { store in
            let (runID, expected) = try await logged(store)
            var cursor = try store.metricHistory(runID: runID, key: "m", maxResults: nil, pageToken: nil, chunkSize: 8)
            var chunks: [[Metric]] = []
            while let chunk = try await cursor.next() { chunks.append(chunk) }
            #expect(chunks.joined().elementsEqual(expected))
            #expect(cursor.nextPageToken == nil)
            #expect(chunks.count > 10)
            for chunk in chunks where chunk.count > 8 {
                // Only a single (timestamp, step) group may exceed the chunk size.
                #expect(Set(chunk.map { "\($0.timestamp)/\($0.step)" }).count == 1)
                #expect(chunk.count == 30)
            }
        }
    }

    @Test func pagesMatchOffsetsWhateverTheChunkSize() async throws {
        try await StoreFixture.with { store in
            let (runID, expected) = try await logged(store)
            for chunkSize in [1, 3, 8, 1000] {
                for pageSize in [1, 7, 8, 31, 500] {
                    var collected: [Metric] = []
                    var token: String?
                    var offset = 0
                    repeat {
                        var cursor = try store.metricHistory(
                            runID: runID, key: "m", maxResults: pageSize, pageToken: token, chunkSize: chunkSize)
                        var page: [Metric] = []
                        while let chunk = try await cursor.next() { page += chunk }
                        #expect(
                            page.elementsEqual(expected[offset..<min(offset + pageSize, expected.count)]),
                            "chunk \(chunkSize), page \(pageSize), offset \(offset)")
                        offset += page.count
                        collected += page
                        token = cursor.nextPageToken
                        #expect(token == (offset < expected.count ? PageToken.encode(offset: offset) : nil))
                    } while token != nil && collected.count <= expected.count
                    #expect(collected.elementsEqual(expected))
                }
            }
        }
    }

    @Test func unknownRunOrOffsetPastTheEndIsEmpty() async throws {
        try await StoreFixture.with { store in
            let (runID, _) = try await logged(store)
            var unknown = try store.metricHistory(runID: "deadbeef", key: "m", maxResults: nil, pageToken: nil, chunkSize: 8)
            #expect(try await unknown.next() == nil)
            var past = try store.metricHistory(
                runID: runID, key: "m", maxResults: 5, pageToken: PageToken.encode(offset: 10_000), chunkSize: 8)
            #expect(try await past.next() == nil)
            #expect(past.nextPageToken == nil)
            #expect(throws: CairnError.self) { _ = try store.metricHistory(runID: runID, key: "m", maxResults: 0, pageToken: nil) }
        }
    }
}
