import CairnCore
import CairnTabular
import Foundation
import Logging
import Synchronization

/// Scores models that only Python can run (any `python_function` flavor) in a pool of
/// worker processes, one batch per worker at a time.
///
/// A worker that dies, busy or idle, is logged (pid and how it ended) and started again by
/// `run()`, at once the first time and with a growing pause when it keeps dying young (a
/// model that crashes at load must not spin). Only the batch it was scoring fails, with 503
/// TEMPORARILY_UNAVAILABLE; the other workers keep serving, and requests wait for a
/// restarting worker unless every worker is down and failing to start, when they get 503
/// at once.
public final class PythonRuntime: ModelRuntime {
    public let kind = "python"
    public let acceptsMissingValues = true
    public let inputMetadata: [TensorMetadata]
    public let outputMetadata = [TensorMetadata(name: "predictions", datatype: "BYTES", shape: [-1])]
    public var concurrency: Int { workerCount }

    let workerCount: Int
    private let python: String
    private let scriptPath: String
    private let modelDirectory: String
    private let logger: Logger
    private let onRestart: @Sendable () -> Void
    private let onWorkerCount: @Sendable (Int) -> Void
    private let pool: Mutex<Pool>
    /// Slots whose worker died, for `run()` to start again.
    private let restarts: AsyncStream<Int>
    private let restartQueue: AsyncStream<Int>.Continuation
    private let clock = ContinuousClock()

    /// A worker younger than this at its death counts towards a crash loop.
    static let shortLife: Duration = .seconds(10)
    static let longestPause: Duration = .seconds(30)

    /// Each slot holds its worker and is in exactly one of: idle, busy (taken by a batch),
    /// or restarting.
    private struct Pool {
        var workers: [PythonWorker?]
        var idle: [Int] = []
        var waiters: [CheckedContinuation<Int?, Never>] = []
        /// Slots being started again, with whether their last attempt failed.
        var restarting: [Int: Bool] = [:]
        /// Workers being started, so shutdown can stop them too.
        var starting: [Int: PythonWorker] = [:]
        var startedAt: [ContinuousClock.Instant]
        /// Deaths in a row of each slot's workers that were younger than `shortLife`.
        var crashStreak: [Int]
        var supervised = false
        var shuttingDown = false

        /// With every slot restarting and none able to start (or nothing restarting them), a
        /// request would wait for nothing.
        var allDown: Bool {
            shuttingDown || (restarting.count == workers.count && (!supervised || restarting.values.allSatisfy { $0 }))
        }

        var liveWorkers: Int { workers.count(where: { $0?.isAlive == true }) }

        mutating func markDown(_ slot: Int, at now: ContinuousClock.Instant) {
            restarting[slot] = false
            crashStreak[slot] = now - startedAt[slot] < PythonRuntime.shortLife ? crashStreak[slot] + 1 : 1
        }
    }

    /// Starts `workers` processes running `python` and waits until each has loaded the model.
    public init(
        modelDirectory: String, signature: ModelSignature?, python: String, workers: Int, logger: Logger,
        onRestart: @escaping @Sendable () -> Void = {}, onWorkerCount: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        let scriptPath = NSTemporaryDirectory() + "cairn-worker-\(UUID().uuidString).py"
        try Data(PythonWorkerScript.source.utf8).write(to: URL(fileURLWithPath: scriptPath), options: .atomic)
        self.workerCount = max(1, workers)
        self.python = python
        self.scriptPath = scriptPath
        self.modelDirectory = modelDirectory
        self.logger = logger
        self.onRestart = onRestart
        self.onWorkerCount = onWorkerCount
        (restarts, restartQueue) = AsyncStream.makeStream(of: Int.self)
        if case .columns(let specs)? = signature?.inputs {
            inputMetadata = specs.enumerated().map {
                TensorMetadata(name: $1.name ?? String($0), datatype: Self.datatype(of: $1.type), shape: [-1])
            }
        } else {
            inputMetadata = []
        }
        let count = max(1, workers)
        pool = Mutex(
            Pool(
                workers: Array(repeating: nil, count: count), startedAt: Array(repeating: ContinuousClock.now, count: count),
                crashStreak: Array(repeating: 0, count: count)))
        var started: [PythonWorker] = []
        do {
            for index in 0..<workerCount {
                started.append(try await startWorker(index: index))
            }
        } catch {
            for worker in started { worker.terminate() }
            try? FileManager.default.removeItem(atPath: scriptPath)
            throw error
        }
        let now = clock.now
        pool.withLock { pool in
            for worker in started {
                pool.workers[worker.index] = worker
                pool.startedAt[worker.index] = now
            }
            pool.idle = Array(0..<workerCount)
        }
        onWorkerCount(workerCount)
    }

    static func datatype(of type: String) -> String {
        switch type {
        case "double": "FP64"
        case "float": "FP32"
        case "long": "INT64"
        case "integer": "INT32"
        case "boolean": "BOOL"
        default: "BYTES"
        }
    }

    private func startWorker(index: Int) async throws -> PythonWorker {
        let worker = try PythonWorker(
            index: index, python: python, scriptPath: scriptPath, modelDirectory: modelDirectory, logger: logger,
            onExit: { [weak self] worker, reason in self?.workerExited(worker, reason: reason) }
        )
        let abandoned = pool.withLock { pool in
            if pool.shuttingDown { return true }
            pool.starting[index] = worker
            return false
        }
        defer { pool.withLock { _ = $0.starting.removeValue(forKey: index) } }
        if abandoned {
            worker.terminate()
            throw CairnError(.temporarilyUnavailable, "The model is shutting down.")
        }
        switch await worker.nextAnswer() {
        case .message(let bytes):
            let hello = try? JSONValue.parse(bytes)
            if case .bool(true)? = hello?["ready"] {
                worker.markReady()
                logger.debug("Python worker ready", metadata: ["worker": "\(index)", "pid": "\(worker.processIdentifier)"])
                return worker
            }
            worker.terminate()
            let message: String = if case .string(let text)? = hello?["error"] { text } else { "unexpected first message" }
            throw CairnError(.invalidParameterValue, "The Python worker could not load the model: \(message)")
        case .exited(let reason):
            // Killed by a signal is someone stopping it, not a Python that cannot load the model.
            let hint = reason.contains("signal") ? "" : " Is `\(python)` a Python with mlflow and the model's dependencies installed?"
            throw CairnError(.invalidParameterValue, "The Python worker stopped while loading the model (\(reason)).\(hint)")
        }
    }

    /// A slot for one batch; nil when every worker is down and none is coming back soon.
    private func acquire() async -> Int? {
        await withCheckedContinuation { continuation in
            let now = clock.now
            let (slot, dead): (Int??, [Int]) = pool.withLock { pool in
                var dead: [Int] = []
                // A worker can die idle just before its exit is reported; skip it here.
                while let slot = pool.idle.popLast() {
                    if pool.workers[slot]?.isAlive == true { return (.some(slot), dead) }
                    pool.markDown(slot, at: now)
                    dead.append(slot)
                }
                if pool.allDown { return (.some(nil), dead) }
                pool.waiters.append(continuation)
                return (nil, dead)
            }
            for slot in dead { restartQueue.yield(slot) }
            if let slot { continuation.resume(returning: slot) }
        }
    }

    /// Returns a slot after its batch; a worker that died meanwhile goes to be restarted.
    private func release(_ slot: Int) {
        let now = clock.now
        let (waiter, dead) = pool.withLock { pool -> (CheckedContinuation<Int?, Never>?, Bool) in
            if !pool.shuttingDown, pool.workers[slot]?.isAlive != true {
                pool.markDown(slot, at: now)
                return (nil, true)
            }
            if !pool.waiters.isEmpty { return (pool.waiters.removeFirst(), false) }
            pool.idle.append(slot)
            return (nil, false)
        }
        if dead { restartQueue.yield(slot) }
        waiter?.resume(returning: slot)
    }

    /// Called on a worker's reader thread when its process has exited.
    private func workerExited(_ worker: PythonWorker, reason: String) {
        let now = clock.now
        let (report, restart, live) = pool.withLock { pool -> (Bool, Bool, Int) in
            guard !pool.shuttingDown, !worker.wasTerminated, worker.isReady else { return (false, false, 0) }
            guard pool.workers[worker.index] === worker, let position = pool.idle.firstIndex(of: worker.index) else {
                // Busy: its batch fails and `release` sends the slot to be restarted.
                return (true, false, pool.liveWorkers)
            }
            pool.idle.remove(at: position)
            pool.markDown(worker.index, at: now)
            return (true, true, pool.liveWorkers)
        }
        guard report else { return }
        logger.warning(
            "Python worker died; starting another",
            metadata: [
                "worker": "\(worker.index)", "pid": "\(worker.processIdentifier)", "exit": "\(reason)",
                "live_workers": "\(live) of \(workerCount)",
            ])
        onWorkerCount(live)
        if restart { restartQueue.yield(worker.index) }
    }

    /// Restarts dead workers until `shutdown()`.
    public func run() async {
        pool.withLock { $0.supervised = true }
        await withDiscardingTaskGroup { group in
            for await slot in restarts {
                group.addTask { [self] in await revive(slot) }
            }
            group.cancelAll()
        }
    }

    /// The pause before starting a slot's worker again after `streak` young deaths (or
    /// failed starts) in a row: none after one, so a rare crash costs nothing, then from
    /// 0.5 s doubling to `longestPause`, so a model that crashes at load does not spin.
    static func pause(afterCrashes streak: Int) -> Duration {
        guard streak > 1 else { return .zero }
        return min(longestPause, .milliseconds(500) * (1 << min(streak - 2, 10)))
    }

    /// Process ids of the slots' workers, nil for a slot without a live one.
    var workerProcessIdentifiers: [Int32?] {
        pool.withLock { pool in pool.workers.map { $0?.isAlive == true ? $0?.processIdentifier : nil } }
    }

    /// Starts the slot's worker again, pausing first when its workers keep dying young.
    private func revive(_ slot: Int) async {
        while !Task.isCancelled {
            let pause = Self.pause(afterCrashes: pool.withLock { $0.crashStreak[slot] })
            if pause > .zero {
                do { try await Task.sleep(for: pause) } catch { return }
            }
            if pool.withLock({ $0.shuttingDown }) { return }
            onRestart()
            do {
                let worker = try await startWorker(index: slot)
                let (installed, live) = pool.withLock { pool -> (Bool, Int) in
                    guard !pool.shuttingDown else { return (false, 0) }
                    pool.workers[slot] = worker
                    pool.startedAt[slot] = clock.now
                    pool.restarting[slot] = nil
                    return (true, pool.liveWorkers)
                }
                guard installed else {
                    worker.terminate()
                    return
                }
                logger.notice(
                    "Python worker restarted",
                    metadata: [
                        "worker": "\(slot)", "pid": "\(worker.processIdentifier)", "live_workers": "\(live) of \(workerCount)",
                    ])
                onWorkerCount(live)
                release(slot)
                return
            } catch {
                let stranded = pool.withLock { pool -> [CheckedContinuation<Int?, Never>] in
                    pool.restarting[slot] = true
                    pool.crashStreak[slot] += 1
                    guard pool.allDown else { return [] }
                    defer { pool.waiters = [] }
                    return pool.waiters
                }
                if pool.withLock({ $0.shuttingDown }) { return }
                logger.error("Python worker could not be restarted; trying again", metadata: ["worker": "\(slot)", "error": "\(error)"])
                for waiter in stranded { waiter.resume(returning: nil) }
            }
        }
    }

    public func predict(_ batch: [ModelInput], params: [String: JSONValue]) async -> [Result<ModelOutput, CairnError>] {
        var frames: [DataFrame] = []
        for input in batch {
            guard case .frame(let frame) = input else {
                return batch.map { _ in .failure(CairnError(.badRequest, "This model runs in Python and takes tabular input.")) }
            }
            frames.append(frame)
        }
        let payload = Self.encode(DataFrame.concatenate(frames), parts: frames.map(\.rowCount), params: params)
        guard let slot = await acquire() else {
            let failure = CairnError(
                .temporarilyUnavailable,
                "No Python worker is running: they are being restarted after crashing (see the server log); retry shortly.")
            return batch.map { _ in .failure(failure) }
        }
        defer { release(slot) }
        guard let worker = pool.withLock({ $0.workers[slot] }) else {
            return batch.map { _ in .failure(CairnError(.temporarilyUnavailable, "The model's Python worker is restarting; retry shortly."))
            }
        }
        switch await worker.exchange(payload) {
        case .exited(let reason):
            logger.error(
                "Python worker crashed while scoring",
                metadata: ["worker": "\(slot)", "pid": "\(worker.processIdentifier)", "exit": "\(reason)"])
            let failure = CairnError(
                .temporarilyUnavailable, "The model's Python worker crashed while scoring (\(reason)); retry the request.")
            return batch.map { _ in .failure(failure) }
        case .message(let bytes):
            return Self.decodeAnswer(bytes, expected: batch.count)
        }
    }

    public func shutdown() async {
        let (workers, waiters) = pool.withLock { pool in
            pool.shuttingDown = true
            defer { pool.waiters = [] }
            return (pool.workers.compactMap { $0 } + pool.starting.values, pool.waiters)
        }
        restartQueue.finish()
        for waiter in waiters { waiter.resume(returning: nil) }
        for worker in workers { worker.terminate() }
        try? FileManager.default.removeItem(atPath: scriptPath)
    }

    // MARK: - Wire format

    static func encode(_ frame: DataFrame, parts: [Int], params: [String: JSONValue]) -> [UInt8] {
        var writer = JSONWriter(capacity: 64 + frame.rowCount * frame.columns.count * 8)
        writer.beginObject()
        writer.key("columns")
        writer.beginArray()
        for column in frame.columns {
            writer.beginObject()
            writer.key("name")
            writer.string(column.name)
            writer.key("type")
            switch column.values {
            case .double(let values):
                writer.string("double")
                writer.key("values")
                writer.beginArray()
                // Python's json reads NaN and Infinity tokens; proto-JSON's quoted forms would be text.
                for value in values {
                    writer.raw(value.isNaN ? "NaN" : value == .infinity ? "Infinity" : value == -.infinity ? "-Infinity" : "\(value)")
                }
                writer.endArray()
            case .int64(let values):
                writer.string("long")
                writer.key("values")
                writer.beginArray()
                for value in values { writer.int(value) }
                writer.endArray()
            case .bool(let values):
                writer.string("bool")
                writer.key("values")
                writer.beginArray()
                for value in values { writer.bool(value) }
                writer.endArray()
            case .string(let values):
                writer.string("string")
                writer.key("values")
                writer.beginArray()
                for value in values { if let value { writer.string(value) } else { writer.null() } }
                writer.endArray()
            }
            writer.endObject()
        }
        writer.endArray()
        writer.key("parts")
        writer.beginArray()
        for rows in parts { writer.int(Int64(rows)) }
        writer.endArray()
        if !params.isEmpty {
            writer.key("params")
            writer.value(.object(JSONObject(params)))
        }
        writer.endObject()
        return writer.bytes
    }

    static func decodeAnswer(_ bytes: [UInt8], expected: Int) -> [Result<ModelOutput, CairnError>] {
        var reader = ByteReader(bytes: bytes)
        guard let count = reader.uint32(), Int(count) == expected else {
            let failure = CairnError(.internalError, "The Python worker sent a malformed answer.")
            return (0..<expected).map { _ in .failure(failure) }
        }
        var results: [Result<ModelOutput, CairnError>] = []
        for _ in 0..<expected {
            guard let status = reader.uint8(), let length = reader.uint32(), let body = reader.bytes(Int(length)) else {
                results.append(.failure(CairnError(.internalError, "The Python worker sent a truncated answer.")))
                continue
            }
            if status == 0 {
                results.append(.success(.predictionsJSON(body)))
            } else {
                let error = try? JSONValue.parse(body)
                let code: ErrorCode =
                    if case .string(let name)? = error?["error_code"], let known = ErrorCode(rawValue: name), known.httpStatus < 500 {
                        known
                    } else { .badRequest }
                let message: String = if case .string(let text)? = error?["message"] { text } else { "The model failed." }
                results.append(.failure(CairnError(code, message)))
            }
        }
        return results
    }
}

/// Reads little-endian integers and byte runs, refusing to read past the end.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func uint8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        defer { offset += 4 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, offset + count <= bytes.count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
