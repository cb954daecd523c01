import CairnCore
import DequeModule
import Synchronization

/// What the batcher reports about each batch and request, for metrics.
public struct BatchObserver: Sendable {
    public enum DispatchReason: String, Sendable, CaseIterable {
        /// The batch reached `maxBatchRows` (or the next request had other params).
        case full
        /// Nothing suggested waiting: sent at once.
        case immediate
        /// The batch waited for company and its window ran out.
        case window
    }

    public var batch: @Sendable (_ rows: Int, _ requests: Int, _ duration: Duration, _ reason: DispatchReason) -> Void
    public var queueDepth: @Sendable (_ rows: Int) -> Void

    public init(
        batch: @escaping @Sendable (Int, Int, Duration, DispatchReason) -> Void = { _, _, _, _ in },
        queueDepth: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.batch = batch
        self.queueDepth = queueDepth
    }
}

/// Coalesces concurrent requests into batches counted in rows, serves them first in, first
/// out, and runs up to the runtime's concurrency batches at once.
///
/// `run()` is the dispatch loop and must be running for submissions to complete; it ends
/// once `stop()` was called and every queued request was served. It wakes on events
/// (arrival, batch end, window expiry), never by polling.
public final class MicroBatcher: Sendable {
    public struct Answer: Sendable {
        public var result: Result<ModelOutput, CairnError>
        public var queueTime: Duration
    }

    private struct Item {
        var input: ModelInput
        var params: [String: JSONValue]
        var enqueued: ContinuousClock.Instant
        var continuation: CheckedContinuation<Answer, Never>
    }

    private struct State {
        var queue: Deque<Item> = []
        var queuedRows = 0
        var running = 0
        var stopping = false
        var finished = false
        var woken = false
        var loopWaiter: CheckedContinuation<Void, Never>?
        var timerArmedUntil: ContinuousClock.Instant?
        var costs = BatchCostModel()
    }

    public let options: BatchingOptions
    private let runtime: any ModelRuntime
    private let observer: BatchObserver
    private let state = Mutex(State())
    private let clock = ContinuousClock()

    public init(runtime: any ModelRuntime, options: BatchingOptions, observer: BatchObserver = BatchObserver()) {
        self.runtime = runtime
        self.options = options
        self.observer = observer
    }

    /// Queues `input` and waits for its result. Refuses at once with 503 when the work ahead
    /// of it would take too long (see `refusal`), rather than letting latency grow without
    /// bound.
    public func submit(_ input: ModelInput, params: [String: JSONValue] = [:]) async throws(CairnError) -> Answer {
        let rows = input.rowCount
        let now = clock.now
        // Nothing queued, a slot free and no reason to wait: score in the caller's own task.
        // This is the low-traffic case, and skipping the hand-offs to the dispatch loop and
        // back is what keeps it from adding latency.
        let inline = state.withLock { state -> Bool in
            guard !state.finished, state.queue.isEmpty, state.running < runtime.concurrency,
                state.costs.window(maxLatency: options.maxLatency) == .zero
            else { return false }
            state.costs.recordArrival(rows: rows, at: now)
            state.running += 1
            return true
        }
        if inline {
            let results = await runtime.predict([input], params: params)
            let duration = clock.now - now
            state.withLock { state in
                state.running -= 1
                state.costs.recordBatch(rows: rows, duration: duration)
            }
            observer.batch(rows, 1, duration, .immediate)
            // Requests that queued meanwhile were waiting for this slot.
            wake()
            return Answer(
                result: results.first ?? .failure(CairnError(.internalError, "The runtime returned no result.")), queueTime: .zero)
        }
        var refusal: CairnError?
        let answer = await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
            let (rejection, depth, waiter) = state.withLock { state -> (CairnError?, Int, CheckedContinuation<Void, Never>?) in
                if state.finished {
                    return (CairnError(.temporarilyUnavailable, "The model is shutting down; retry shortly."), state.queuedRows, nil)
                }
                if let reason = Self.refusal(
                    rows: rows, queuedRows: state.queuedRows, queuedRequests: state.queue.count, costs: state.costs,
                    concurrency: runtime.concurrency, options: options
                ) {
                    return (reason, state.queuedRows, nil)
                }
                state.queue.append(Item(input: input, params: params, enqueued: now, continuation: continuation))
                state.queuedRows += rows
                state.costs.recordArrival(rows: rows, at: now)
                return (nil, state.queuedRows, Self.takeWaiter(&state))
            }
            observer.queueDepth(depth)
            if let rejection {
                refusal = rejection
                continuation.resume(returning: Answer(result: .failure(rejection), queueTime: .zero))
            } else {
                waiter?.resume()
            }
        }
        if let refusal { throw refusal }
        return answer
    }

    /// Why a request of `rows` rows may not join a queue of `queuedRows` rows in
    /// `queuedRequests` requests, or nil to admit it.
    ///
    /// The bound is on time: the queued work's expected duration at the measured cost, so
    /// where a model scores 10k rows in milliseconds, several such requests queue, and where
    /// it is slow, a few are refused early. Until a batch has been measured nothing is known
    /// to refuse on, and only the row bound (memory) applies. An empty queue takes any
    /// request, however large: it runs next.
    static func refusal(
        rows: Int, queuedRows: Int, queuedRequests: Int, costs: BatchCostModel, concurrency: Int, options: BatchingOptions
    ) -> CairnError? {
        guard queuedRows > 0 else { return nil }
        if queuedRows + rows > options.maxQueueRows {
            return CairnError(
                .temporarilyUnavailable,
                "The model's queue is full: \(queuedRows) rows are waiting and --max-queue-rows is \(options.maxQueueRows); retry shortly.")
        }
        // Each queued request joins at most one batch, and batches hold up to maxBatchRows.
        let batches = min(queuedRequests, (queuedRows + options.maxBatchRows - 1) / options.maxBatchRows)
        if let wait = costs.expectedDuration(rows: queuedRows, batches: batches, concurrency: concurrency), wait > options.maxQueueWait {
            return CairnError(
                .temporarilyUnavailable,
                "The model is behind: the \(queuedRows) rows queued are expected to take \(Int(wait.seconds * 1000)) ms, "
                    + "over --max-queue-wait-ms \(Int(options.maxQueueWait.seconds * 1000)); retry shortly.")
        }
        return nil
    }

    /// Stops taking the loop's wait as a reason to linger: queued requests are still
    /// served, then `run()` returns.
    public func stop() {
        let waiter = state.withLock { state in
            state.stopping = true
            return Self.takeWaiter(&state)
        }
        waiter?.resume()
    }

    public var queuedRows: Int { state.withLock { $0.queuedRows } }

    private static func takeWaiter(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        if let waiter = state.loopWaiter {
            state.loopWaiter = nil
            return waiter
        }
        state.woken = true
        return nil
    }

    private func wake() {
        let waiter = state.withLock { Self.takeWaiter(&$0) }
        waiter?.resume()
    }

    private enum Step {
        case dispatch([Item], rows: Int, BatchObserver.DispatchReason)
        case sleep(until: ContinuousClock.Instant, armTimer: Bool)
        case wait
        case done
    }

    private func decide() -> Step {
        state.withLock { state in
            if state.queue.isEmpty {
                if state.stopping && state.running == 0 {
                    state.finished = true
                    return .done
                }
                return .wait
            }
            guard state.running < runtime.concurrency else { return .wait }
            let now = clock.now
            // FIFO: take from the head while rows fit and params match the oldest request.
            let head = state.queue[0]
            var rows = head.input.rowCount
            var count = 1
            var blocked = false
            while count < state.queue.count {
                let next = state.queue[count]
                if next.params != head.params || rows + next.input.rowCount > options.maxBatchRows {
                    blocked = true
                    break
                }
                rows += next.input.rowCount
                count += 1
            }
            let full = blocked || rows >= options.maxBatchRows
            var reason = BatchObserver.DispatchReason.full
            if !full && !state.stopping {
                let window = state.costs.window(maxLatency: options.maxLatency)
                let deadline = head.enqueued + window
                if now < deadline {
                    let arm = state.timerArmedUntil.map { $0 > deadline || $0 < now } ?? true
                    if arm { state.timerArmedUntil = deadline }
                    return .sleep(until: deadline, armTimer: arm)
                }
                reason = window == .zero ? .immediate : .window
            }
            var items: [Item] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(state.queue.removeFirst()) }
            state.queuedRows -= rows
            state.running += 1
            return .dispatch(items, rows: rows, reason)
        }
    }

    private func waitForEvent() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.woken {
                    state.woken = false
                    return true
                }
                state.loopWaiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// The dispatch loop.
    public func run() async {
        await withDiscardingTaskGroup { group in
            while true {
                switch decide() {
                case .done:
                    return
                case .wait:
                    await waitForEvent()
                case .sleep(let deadline, let armTimer):
                    if armTimer {
                        group.addTask { [self] in
                            try? await Task.sleep(until: deadline, clock: clock)
                            wake()
                        }
                    }
                    await waitForEvent()
                case .dispatch(let items, let rows, let reason):
                    group.addTask { [self] in await execute(items, rows: rows, reason: reason) }
                }
            }
        }
    }

    private func execute(_ items: [Item], rows: Int, reason: BatchObserver.DispatchReason) async {
        let start = clock.now
        var results = await runtime.predict(items.map(\.input), params: items[0].params)
        if results.count != items.count {
            // A runtime bug must not leave callers waiting forever.
            let failure = CairnError(.internalError, "The runtime returned \(results.count) results for \(items.count) requests.")
            results = items.map { _ in .failure(failure) }
        }
        let duration = clock.now - start
        state.withLock { state in
            state.running -= 1
            state.costs.recordBatch(rows: rows, duration: duration)
        }
        observer.batch(rows, items.count, duration, reason)
        for (item, result) in zip(items, results) {
            item.continuation.resume(returning: Answer(result: result, queueTime: start - item.enqueued))
        }
        wake()
    }
}
