import CairnCore
import Testing

@testable import CairnStore

/// A metric history is read in bounded chunks, in MLflow's order, with the same pages and
/// tokens as one query per page gave.
@Suite struct MetricHistoryCursorTests {
    /// 20 timestamps × 3 steps with up to three values each (a NaN among them, which sorts last
    /// in its group although it is stored as 0), and one group of 30 points, larger than a chunk.
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

    static func historyOrder(_ lhs: Metric, _ rhs: Metric) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        if lhs.step != rhs.step { return lhs.step < rhs.step }
        if lhs.value.isNaN != rhs.value.isNaN { return !lhs.value.isNaN }
        return lhs.value < rhs.value
    }

    func logged(_ store: SQLTrackingStore) async throws -> (runId: String, expected: [Metric]) {
        let run = try await store.createRun(CreateRun(experimentId: "0", userId: "u", runName: "h", startTime: 1, tags: []))
        let points = Self.points()
        // Logged in reverse, in two batches, so insertion order says nothing about history order.
        let reversed = Array(points.reversed())
        try await store.logBatch(runId: run.info.runId, metrics: Array(reversed[..<100]), params: [], tags: [])
        try await store.logBatch(runId: run.info.runId, metrics: Array(reversed[100...]), params: [], tags: [])
        return (run.info.runId, points.sorted(by: Self.historyOrder))
    }

    @Test func chunksAreBoundedAndInHistoryOrder() async throws {
        try await StoreFixture.with { store in
            let (runId, expected) = try await logged(store)
            var cursor = try store.metricHistory(runId: runId, key: "m", maxResults: nil, pageToken: nil, chunkSize: 8)
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
            let (runId, expected) = try await logged(store)
            for chunkSize in [1, 3, 8, 1000] {
                for pageSize in [1, 7, 8, 31, 500] {
                    var collected: [Metric] = []
                    var token: String?
                    var offset = 0
                    repeat {
                        var cursor = try store.metricHistory(
                            runId: runId, key: "m", maxResults: pageSize, pageToken: token, chunkSize: chunkSize)
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
            let (runId, _) = try await logged(store)
            var unknown = try store.metricHistory(runId: "deadbeef", key: "m", maxResults: nil, pageToken: nil, chunkSize: 8)
            #expect(try await unknown.next() == nil)
            var past = try store.metricHistory(
                runId: runId, key: "m", maxResults: 5, pageToken: PageToken.encode(offset: 10_000), chunkSize: 8)
            #expect(try await past.next() == nil)
            #expect(past.nextPageToken == nil)
            #expect(throws: CairnError.self) { _ = try store.metricHistory(runId: runId, key: "m", maxResults: 0, pageToken: nil) }
        }
    }
}
