import CairnCore
import CairnTabular
import Synchronization
import Testing

@testable import CairnServing

/// A runtime that records the batches it is given and can be held shut, so tests can pile
/// requests up behind a running batch deterministically.
final class RecordingRuntime: ModelRuntime {
    let acceptsMissingValues = true
    let kind = "test"
    let inputMetadata: [TensorMetadata] = []
    let outputMetadata: [TensorMetadata] = []
    let concurrency: Int
    let batches = Mutex<[[Int]]>([])
    /// Batches that reached `predict`, including those held at the gate.
    let entered = Mutex(0)
    private let gate = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((true, []))

    init(concurrency: Int = 1) { self.concurrency = concurrency }

    func close() { gate.withLock { $0.open = false } }
    func open() {
        let waiters = gate.withLock { gate in
            gate.open = true
            defer { gate.waiters = [] }
            return gate.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func predict(_ batch: [ModelInput], params: [String: JSONValue]) async -> [Result<ModelOutput, CairnError>] {
        entered.withLock { $0 += 1 }
        await withCheckedContinuation { continuation in
            let proceed = gate.withLock { gate in
                if gate.open { return true }
                gate.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        // Each request's first cell identifies it; a negative one asks for a failure.
        let ids = batch.map { input -> Int in
            if case .frame(let frame) = input, case .int64(let values) = frame.columns[0].values { return Int(values[0]) }
            return -999
        }
        batches.withLock { $0.append(ids) }
        return ids.map { id in
            id < 0
                ? .failure(CairnError(.badRequest, "bad row \(id)")) : .success(.predictionsJSON(Array("{\"predictions\": [\(id)]}".utf8)))
        }
    }

    func shutdown() async {}
}

/// Shared, lockable state for test closures (a `Mutex` itself cannot be captured by them).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

func frame(id: Int, rows: Int = 1) -> ModelInput {
    .frame(DataFrame(columns: [Column(name: "id", values: .int64(Array(repeating: Int64(id), count: rows)))]))
}

@Suite struct MicroBatcherTests {
    @Test func loneRequestIsSentAtOnce() async throws {
        let runtime = RecordingRuntime()
        let reasons = Locked<[BatchObserver.DispatchReason]>([])
        let batcher = MicroBatcher(
            runtime: runtime, options: BatchingOptions(maxBatchRows: 8, maxLatency: .seconds(5)),
            observer: BatchObserver(batch: { _, _, _, reason in reasons.withLock { $0.append(reason) } }))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await batcher.run() }
            let answer = try await batcher.submit(frame(id: 1))
            guard case .success(.predictionsJSON(let body)) = answer.result else {
                Issue.record("no result")
                return
            }
            #expect(String(decoding: body, as: UTF8.self).contains("[1]"))
            batcher.stop()
            try await group.waitForAll()
        }
        #expect(reasons.value == [.immediate])
    }

    @Test func queuedRequestsCoalesceInOrderWithinTheRowBound() async throws {
        let runtime = RecordingRuntime()
        let batcher = MicroBatcher(runtime: runtime, options: BatchingOptions(maxBatchRows: 10, maxLatency: .zero))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await batcher.run() }
            runtime.close()
            // The first request occupies the only slot; the rest pile up behind it.
            group.addTask { _ = try await batcher.submit(frame(id: 0)) }
            while runtime.entered.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
            for id in 1...9 {
                group.addTask { _ = try await batcher.submit(frame(id: id, rows: 3)) }
                while batcher.queuedRows < id * 3 { try await Task.sleep(for: .milliseconds(1)) }
            }
            runtime.open()
            while runtime.batches.withLock({ $0.flatMap { $0 }.count }) < 10 { try await Task.sleep(for: .milliseconds(1)) }
            batcher.stop()
            try await group.waitForAll()
        }
        let batches = runtime.batches.withLock { $0 }
        #expect(batches.flatMap { $0 } == Array(0...9), "first in, first out")
        #expect(batches.dropFirst().allSatisfy { $0.count * 3 <= 10 }, "at most 10 rows per batch")
        #expect(batches.count < 10, "requests were coalesced")
    }

    @Test func fullQueueIsRefusedWith503() async throws {
        let runtime = RecordingRuntime()
        let batcher = MicroBatcher(runtime: runtime, options: BatchingOptions(maxBatchRows: 1, maxLatency: .zero, maxQueueRows: 4))
        runtime.close()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await batcher.run() }
            group.addTask { _ = try await batcher.submit(frame(id: 0)) }
            while runtime.entered.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
            try await Task.sleep(for: .milliseconds(20))
            group.addTask { _ = try await batcher.submit(frame(id: 1, rows: 4)) }
            while batcher.queuedRows < 4 { try await Task.sleep(for: .milliseconds(1)) }
            do throws(CairnError) {
                _ = try await batcher.submit(frame(id: 2))
                Issue.record("expected a refusal")
            } catch {
                #expect(error.code == .temporarilyUnavailable)
            }
            runtime.open()
            batcher.stop()
            try await group.waitForAll()
        }
    }

    @Test func largeRequestsQueueBehindARunningOneWithDefaults() async throws {
        // Two clients sending 10k-row requests: one runs, one waits, and the next arrives
        // while that one waits. A bound of a few thousand rows refused it.
        let runtime = RecordingRuntime()
        let batcher = MicroBatcher(runtime: runtime, options: BatchingOptions())
        runtime.close()
        let outcomes = Locked<[Int: Bool]>([:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await batcher.run() }
            for id in 0..<3 {
                group.addTask {
                    do throws(CairnError) {
                        let answer = try await batcher.submit(frame(id: id, rows: 10_000))
                        outcomes.withLock { $0[id] = (try? answer.result.get()) != nil }
                    } catch {
                        outcomes.withLock { $0[id] = false }
                    }
                }
                // Each request in place before the next: the first running, the others queued.
                while runtime.entered.withLock({ $0 }) == 0 || (batcher.queuedRows < id * 10_000 && outcomes.withLock({ $0[id] }) == nil) {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            #expect(outcomes.value.isEmpty, "no request was refused")
            runtime.open()
            while outcomes.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(1)) }
            batcher.stop()
            try await group.waitForAll()
        }
        #expect(outcomes.value == [0: true, 1: true, 2: true])
    }

    @Test func admissionIsBoundedByExpectedWait() {
        // 10 ms a row, nothing per batch.
        var costs = BatchCostModel()
        for _ in 0..<20 {
            costs.recordBatch(rows: 10, duration: .milliseconds(100))
            costs.recordBatch(rows: 20, duration: .milliseconds(200))
        }
        let options = BatchingOptions(maxBatchRows: 64, maxQueueWait: .seconds(5))
        func refusal(_ queuedRows: Int, concurrency: Int = 1) -> CairnError? {
            MicroBatcher.refusal(
                rows: 10, queuedRows: queuedRows, queuedRequests: queuedRows / 10, costs: costs, concurrency: concurrency, options: options)
        }
        #expect(refusal(100) == nil, "1 s of queued work")
        #expect(refusal(1_000)?.code == .temporarilyUnavailable, "10 s of queued work")
        #expect(refusal(1_000)?.message.contains("--max-queue-wait-ms") == true)
        #expect(refusal(1_000, concurrency: 4) == nil, "2.5 s when four batches run at once")
        #expect(refusal(0) == nil, "an empty queue takes anything")
    }

    @Test func admissionBeforeAnyMeasurementIsBoundOnlyByRows() {
        let options = BatchingOptions(maxQueueRows: 100_000)
        let unmeasured = BatchCostModel()
        #expect(
            MicroBatcher.refusal(rows: 10_000, queuedRows: 80_000, queuedRequests: 8, costs: unmeasured, concurrency: 1, options: options)
                == nil)
        let full = MicroBatcher.refusal(
            rows: 30_000, queuedRows: 80_000, queuedRequests: 8, costs: unmeasured, concurrency: 1, options: options)
        #expect(full?.code == .temporarilyUnavailable && full?.message.contains("--max-queue-rows") == true)
        #expect(
            MicroBatcher.refusal(rows: 500_000, queuedRows: 0, queuedRequests: 0, costs: unmeasured, concurrency: 1, options: options)
                == nil)
        #expect(BatchingOptions().maxQueueRows >= 20_000, "two 10k-row requests fit the default row bound")
    }

    @Test func oneFailingRequestDoesNotFailItsBatch() async throws {
        let runtime = RecordingRuntime()
        let batcher = MicroBatcher(runtime: runtime, options: BatchingOptions(maxBatchRows: 10, maxLatency: .zero))
        runtime.close()
        let results = Locked<[Int: Bool]>([:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await batcher.run() }
            for id in [1, -1, 2] {
                group.addTask {
                    let answer = try await batcher.submit(frame(id: id))
                    results.withLock { $0[id] = (try? answer.result.get()) != nil }
                }
            }
            while batcher.queuedRows + runtime.batches.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(1)) }
            runtime.open()
            while results.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(1)) }
            batcher.stop()
            try await group.waitForAll()
        }
        #expect(results.value == [1: true, -1: false, 2: true])
    }

    @Test func costModelWaitsOnlyUnderTraffic() {
        var model = BatchCostModel()
        for _ in 0..<10 { model.recordBatch(rows: 1, duration: .milliseconds(1)) }
        let clock = ContinuousClock()
        let t0 = clock.now
        model.recordArrival(rows: 1, at: t0)
        model.recordArrival(rows: 1, at: t0 + .seconds(2))
        #expect(model.window(maxLatency: .milliseconds(5)) == .zero, "slow arrivals: no wait")
        var t = t0 + .seconds(2)
        for _ in 0..<200 {
            t = t + .microseconds(100)
            model.recordArrival(rows: 1, at: t)
        }
        #expect(model.window(maxLatency: .milliseconds(5)) > .zero, "10k rows/s with a 1 ms batch cost: wait")
        #expect(model.window(maxLatency: .microseconds(300)) == .microseconds(300), "never beyond the bound")
    }
}
