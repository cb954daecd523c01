import CairnCore
import Foundation
import Logging
import Synchronization

/// Scores models that only Python can run (any `python_function` flavor) in a pool of
/// worker processes, one batch per worker at a time.
///
/// A worker that dies fails its batch's requests with 503 TEMPORARILY_UNAVAILABLE at once and
/// is started again before its slot takes the next batch, so a crash costs only the
/// requests that were on it.
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
    /// Each slot holds its worker; `idle` lists free slots and `waiters` those waiting for one.
    private let pool: Mutex<(workers: [PythonWorker?], idle: [Int], waiters: [CheckedContinuation<Int, Never>])>

    /// Starts `workers` processes running `python` and waits until each has loaded the model.
    public init(modelDirectory: String, signature: ModelSignature?, python: String, workers: Int, logger: Logger, onRestart: @escaping @Sendable () -> Void = {}) async throws {
        let scriptPath = NSTemporaryDirectory() + "cairn-worker-\(UUID().uuidString).py"
        try Data(PythonWorkerScript.source.utf8).write(to: URL(fileURLWithPath: scriptPath), options: .atomic)
        self.workerCount = max(1, workers)
        self.python = python
        self.scriptPath = scriptPath
        self.modelDirectory = modelDirectory
        self.logger = logger
        self.onRestart = onRestart
        if case .columns(let specs)? = signature?.inputs {
            inputMetadata = specs.enumerated().map { TensorMetadata(name: $1.name ?? String($0), datatype: Self.datatype(of: $1.type), shape: [-1]) }
        } else {
            inputMetadata = []
        }
        pool = Mutex((Array(repeating: nil, count: max(1, workers)), [], []))
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
        pool.withLock { pool in
            for worker in started { pool.workers[worker.index] = worker }
            pool.idle = Array(0..<workerCount)
        }
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
        let worker = try PythonWorker(index: index, python: python, scriptPath: scriptPath, modelDirectory: modelDirectory, logger: logger)
        switch await worker.nextAnswer() {
        case .message(let bytes):
            let hello = try? JSONValue.parse(bytes)
            if case .bool(true)? = hello?["ready"] {
                logger.debug("Python worker ready", metadata: ["worker": "\(index)", "pid": "\(worker.processIdentifier)"])
                return worker
            }
            worker.terminate()
            let message: String = if case .string(let text)? = hello?["error"] { text } else { "unexpected first message" }
            throw CairnError(.invalidParameterValue, "The Python worker could not load the model: \(message)")
        case .exited(let reason):
            throw CairnError(.invalidParameterValue, "The Python worker stopped while loading the model (\(reason)). Is `\(python)` a Python with mlflow and the model's dependencies installed?")
        }
    }

    private func acquire() async -> Int {
        await withCheckedContinuation { continuation in
            let slot: Int? = pool.withLock { pool in
                if let slot = pool.idle.popLast() { return slot }
                pool.waiters.append(continuation)
                return nil
            }
            if let slot { continuation.resume(returning: slot) }
        }
    }

    private func release(_ slot: Int) {
        let waiter = pool.withLock { pool -> CheckedContinuation<Int, Never>? in
            if !pool.waiters.isEmpty { return pool.waiters.removeFirst() }
            pool.idle.append(slot)
            return nil
        }
        waiter?.resume(returning: slot)
    }

    /// The slot's worker, started again first if it died since its last batch.
    private func worker(in slot: Int) async throws -> PythonWorker {
        if let worker = pool.withLock({ $0.workers[slot] }), worker.isAlive { return worker }
        pool.withLock { $0.workers[slot]?.terminate() }
        logger.warning("Restarting Python worker", metadata: ["worker": "\(slot)"])
        onRestart()
        let fresh = try await startWorker(index: slot)
        pool.withLock { $0.workers[slot] = fresh }
        return fresh
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
        let slot = await acquire()
        defer { release(slot) }
        let worker: PythonWorker
        do {
            worker = try await self.worker(in: slot)
        } catch {
            let failure = CairnError(.temporarilyUnavailable, "The Python worker could not be restarted: \(error)")
            return batch.map { _ in .failure(failure) }
        }
        switch await worker.exchange(payload) {
        case .exited(let reason):
            logger.error("Python worker crashed", metadata: ["worker": "\(slot)", "reason": "\(reason)"])
            let failure = CairnError(.temporarilyUnavailable, "The model's Python worker crashed while scoring (\(reason)); retry the request.")
            return batch.map { _ in .failure(failure) }
        case .message(let bytes):
            return Self.decodeAnswer(bytes, expected: batch.count)
        }
    }

    public func shutdown() async {
        let workers = pool.withLock { $0.workers }
        for worker in workers { worker?.terminate() }
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
                for value in values { writer.raw(value.isNaN ? "NaN" : value == .infinity ? "Infinity" : value == -.infinity ? "-Infinity" : "\(value)") }
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
                let code: ErrorCode = if case .string(let name)? = error?["error_code"], let known = ErrorCode(rawValue: name), known.httpStatus < 500 { known } else { .badRequest }
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
