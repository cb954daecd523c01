import CairnCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The inference log: every scored request (or a sampled share of them) appended to JSON
/// Lines segment files under one directory.
///
/// Why files and not the metadata store: the log is written on every request and read
/// rarely, in bulk, by time range; append-only segments cost one `write` per batch with no
/// index upkeep and no contention with the tracking store's single SQLite writer, retention
/// is deleting whole old files, and export as JSONL is the files themselves.
///
/// `record` never blocks the request path: it appends to a bounded in-memory buffer, and a
/// full buffer drops the record and counts it. `run()` (a Service) writes the buffer out in
/// batches and, at shutdown, writes what is left, so nothing below the bound is lost.
public final class InferenceLogWriter: Service, Sendable {
    public struct Options: Sendable {
        public var directory: String
        /// Records held in memory between writes; beyond it records are dropped and counted.
        public var capacity: Int
        /// Share of requests logged, 0–1.
        public var sampleRate: Double
        /// Segments whose last write is older than this are deleted.
        public var retention: Duration
        public var flushInterval: Duration
        public var segmentBytes: Int

        public init(directory: String, capacity: Int = 65_536, sampleRate: Double = 1, retention: Duration = .seconds(7 * 86_400), flushInterval: Duration = .milliseconds(200), segmentBytes: Int = 64 << 20) {
            self.directory = directory
            self.capacity = max(1, capacity)
            self.sampleRate = min(1, max(0, sampleRate))
            self.retention = retention
            self.flushInterval = flushInterval
            self.segmentBytes = max(1 << 10, segmentBytes)
        }
    }

    public let options: Options
    private let logger: Logger
    private let buffer = Mutex<[InferenceRecord]>([])
    private let dropped = Atomic<Int>(0)
    private let written = Atomic<Int>(0)
    /// The open segment; touched only by `run()`'s flushes, which never overlap.
    private let segment = Mutex<(handle: FileHandle?, path: String, bytes: Int)>((nil, "", 0))
    private static let prefix = "inference-"

    public init(options: Options, logger: Logger) throws {
        self.options = options
        self.logger = logger
        try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
    }

    public var droppedCount: Int { dropped.load(ordering: .relaxed) }
    public var writtenCount: Int { written.load(ordering: .relaxed) }

    /// Whether this request should be logged, by the sample rate.
    public func sampled() -> Bool {
        options.sampleRate >= 1 || (options.sampleRate > 0 && Double.random(in: 0..<1) < options.sampleRate)
    }

    /// Queues a record; false when the buffer is full and the record was dropped.
    @discardableResult
    public func record(_ record: InferenceRecord) -> Bool {
        let accepted = buffer.withLock { buffer -> Bool in
            guard buffer.count < options.capacity else { return false }
            buffer.append(record)
            return true
        }
        if !accepted { dropped.wrappingAdd(1, ordering: .relaxed) }
        return accepted
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.options.flushInterval)
                try self.flush()
            }
        }
        // Shutdown: what is buffered still reaches the disk.
        try flush()
        segment.withLock { segment in
            try? segment.handle?.synchronize()
            try? segment.handle?.close()
            segment.handle = nil
        }
    }

    /// Writes everything buffered now, rotating and pruning segments as they fill.
    public func flush() throws {
        let records = buffer.withLock { buffer in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        guard !records.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * 256)
        for record in records { record.appendLine(to: &bytes) }
        try segment.withLock { segment in
            if segment.handle == nil || segment.bytes >= options.segmentBytes {
                try? segment.handle?.close()
                let name = "\(Self.prefix)\(Int64(Date().timeIntervalSince1970 * 1000))-\(UUID().uuidString.prefix(8)).jsonl"
                let path = (options.directory as NSString).appendingPathComponent(name)
                guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                    throw CairnError(.internalError, "Cannot create the inference log segment \(path).")
                }
                segment = (handle, path, 0)
                pruneExpired(keeping: path)
            }
            try segment.handle!.write(contentsOf: bytes)
            segment.bytes += bytes.count
        }
        written.wrappingAdd(records.count, ordering: .relaxed)
    }

    /// The segment files, oldest first.
    public func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: options.directory)
            .filter { $0.hasPrefix(Self.prefix) && $0.hasSuffix(".jsonl") }
            .sorted()
            .map { (options.directory as NSString).appendingPathComponent($0) }
    }

    private func pruneExpired(keeping current: String) {
        let cutoff = Date().addingTimeInterval(-Double(options.retention.components.seconds))
        for path in (try? segments()) ?? [] where path != current {
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff else { continue }
            do {
                try FileManager.default.removeItem(atPath: path)
                logger.info("Removed an expired inference log segment", metadata: ["path": "\(path)"])
            } catch {
                logger.warning("Could not remove an expired inference log segment", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }
}
