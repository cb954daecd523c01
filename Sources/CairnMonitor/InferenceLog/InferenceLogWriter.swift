import CairnCore
import Foundation
import Logging
import NIOPosix
import Prometheus
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
/// `record` never blocks the request path: it serialises the record to its line (a
/// microsecond, spent evenly on every request) and appends the line to a bounded in-memory
/// buffer; a full buffer drops the record and counts it. `run()` (a Service) hands the
/// buffered lines to the segment in one `write` per flush and, at shutdown, writes what is
/// left, so nothing below the bound is lost.
///
/// Serialising at flush time instead made each flush a burst of work on the same cores as
/// the handlers: one batch every 200 ms doubled p99 at 4 connections on one core, and even
/// 20 ms batches in yielding slices added 19%. With the work moved to `record`, a flush is
/// a buffer swap and one system call.
public final class InferenceLogWriter: Service, Sendable {
    public struct Options: Sendable {
        public var directory: String
        /// Records held in memory between writes; beyond it records are dropped and counted.
        public var capacity: Int
        /// The same bound in bytes, for large payloads.
        public var capacityBytes: Int
        /// Share of requests logged, 0–1.
        public var sampleRate: Double
        /// Segments whose last write is older than this are deleted.
        public var retention: Duration
        public var flushInterval: Duration
        /// A segment is closed and a new one started at this size or this age, so retention,
        /// which deletes whole segments, also reaches a log that fills slowly.
        public var segmentBytes: Int
        public var segmentAge: Duration
        /// Most payload bytes (inputs and outputs) one record keeps; a larger request keeps a
        /// uniform sample of its rows (see `InferenceRecord.bounded`), so one huge request
        /// costs the log, and every evaluation that reads it, at most this much.
        public var maxRecordBytes: Int
        /// Whether each segment gets a columnar sidecar (`InferenceLogSidecar`): the records
        /// decoded once, at flush, so monitors read windows without parsing the JSON.
        public var sidecar: Bool

        public static let defaultMaxRecordBytes = 1 << 20

        public init(
            directory: String, capacity: Int = 65_536, capacityBytes: Int = 256 << 20, sampleRate: Double = 1,
            retention: Duration = .seconds(7 * 86_400), flushInterval: Duration = .milliseconds(50), segmentBytes: Int = 64 << 20,
            segmentAge: Duration = .seconds(3_600), maxRecordBytes: Int = defaultMaxRecordBytes, sidecar: Bool = true
        ) {
            self.sidecar = sidecar
            self.maxRecordBytes = max(1 << 10, maxRecordBytes)
            self.directory = directory
            self.capacity = max(1, capacity)
            self.capacityBytes = max(1, capacityBytes)
            self.sampleRate = min(1, max(0, sampleRate))
            self.retention = retention
            self.flushInterval = flushInterval
            self.segmentBytes = max(1 << 10, segmentBytes)
            self.segmentAge = segmentAge
        }
    }

    /// Serialised lines waiting for the next flush, and the records over the per-record cap,
    /// which the flush cuts down: sampling decodes the whole body again, a cost that belongs
    /// off the request path (a 10k-row request took 2.6 times as long when it was paid there).
    private struct Pending {
        var bytes: [UInt8] = []
        var records = 0
        var oversized: [InferenceRecord] = []
        var oversizedBytes = 0
    }

    public let options: Options
    private let logger: Logger
    /// Flushes run here: they write files and decode the records for the sidecar.
    private let threadPool: NIOThreadPool
    private let pending = Mutex(Pending())
    private let dropped = Atomic<Int>(0)
    private let written = Atomic<Int>(0)
    private let truncated = Atomic<Int>(0)
    private let rowsOmitted = Atomic<Int>(0)
    /// The same counts in `/metrics`, when a registry is given.
    private let writtenCounter: Counter?
    private let droppedCounter: Counter?
    private let truncatedCounter: Counter?
    private let rowsOmittedCounter: Counter?
    /// The open segment file, and the emptied buffer of the previous flush, which is swapped
    /// back in so the request path rarely regrows it. Touched only by flushes.
    private struct Segment {
        var handle: FileHandle?
        var path = ""
        /// The segment's sidecar; nil once a write to it failed (what it would have held is
        /// read from the JSON).
        var sidecar: FileHandle?
        var bytes = 0
        /// The segment as this writer left it after its last write: anything else found
        /// before the next one means another process wrote to it.
        var state: SegmentState?
        var opened = ContinuousClock.now
        var lastPrune: ContinuousClock.Instant?
        var spare: [UInt8] = []
    }

    private let segment = Mutex(Segment())
    private static let prefix = "inference-"
    /// A spare larger than this (left by a burst) is let go rather than kept.
    private static let spareLimit = 4 << 20

    public init(options: Options, logger: Logger, metrics: PrometheusCollectorRegistry? = nil, threadPool: NIOThreadPool = .singleton)
        throws
    {
        self.options = options
        self.logger = logger
        self.threadPool = threadPool
        writtenCounter = metrics?.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "cairn_inference_log_records_written_total", helpText: "Records written to the inference log."))
        droppedCounter = metrics?.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "cairn_inference_log_records_dropped_total",
                helpText: "Records dropped: the inference log buffer was full or a write failed."))
        truncatedCounter = metrics?.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "cairn_inference_log_records_truncated_total",
                helpText: "Records over the per-record cap, logged with a sample of their rows or without their payload."))
        rowsOmittedCounter = metrics?.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "cairn_inference_log_rows_omitted_total",
                helpText: "Rows left out of records over the per-record cap by sampling."))
        try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
    }

    public var droppedCount: Int { dropped.load(ordering: .relaxed) }
    public var writtenCount: Int { written.load(ordering: .relaxed) }
    public var truncatedCount: Int { truncated.load(ordering: .relaxed) }
    public var rowsOmittedCount: Int { rowsOmitted.load(ordering: .relaxed) }

    /// Whether this request should be logged, by the sample rate.
    public func sampled() -> Bool {
        options.sampleRate >= 1 || (options.sampleRate > 0 && Double.random(in: 0..<1) < options.sampleRate)
    }

    /// Queues a record; false when the buffer is full and the record was dropped.
    @discardableResult
    public func record(_ record: InferenceRecord) -> Bool {
        let size = record.inputs.count + record.outputs.count
        let accepted: Bool
        if size > options.maxRecordBytes {
            accepted = pending.withLock { pending -> Bool in
                guard pending.records < options.capacity, pending.bytes.count + pending.oversizedBytes + size <= options.capacityBytes
                else { return false }
                pending.oversized.append(record)
                pending.oversizedBytes += size
                pending.records += 1
                return true
            }
        } else {
            let line = record.line()
            accepted = pending.withLock { pending -> Bool in
                guard pending.records < options.capacity, pending.bytes.count + pending.oversizedBytes + line.count <= options.capacityBytes
                else { return false }
                pending.bytes.append(contentsOf: line)
                pending.records += 1
                return true
            }
        }
        if !accepted {
            dropped.wrappingAdd(1, ordering: .relaxed)
            droppedCounter?.increment()
        }
        return accepted
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.options.flushInterval)
                // A failed write (a full disk) loses that batch, counted as dropped, but
                // never stops the log: the next flush tries again.
                do { try await self.threadPool.runIfActive { try self.flush() } } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    self.logger.error("Could not write the inference log", metadata: ["error": "\(error)"])
                }
            }
        }
        // Shutdown: what is buffered still reaches the disk. Inline, not on the pool: the
        // pool refuses work from a cancelled task, and this last write must not be lost.
        do { try flush() } catch {
            logger.error("Could not write the inference log at shutdown", metadata: ["error": "\(error)"])
        }
        segment.withLock { segment in
            try? segment.handle?.synchronize()
            try? segment.handle?.close()
            segment.handle = nil
            try? segment.sidecar?.close()
            segment.sidecar = nil
        }
    }

    /// Writes everything buffered now, appending to the open segment and rotating and
    /// pruning segments as they fill. Blocking: `run()` calls it on the thread pool.
    public func flush() throws {
        try segment.withLock { segment in
            // Taken out, not copied, so the buffer is uniquely held and keeps its capacity.
            var lines: [UInt8] = []
            swap(&lines, &segment.spare)
            lines.removeAll(keepingCapacity: true)
            let (records, oversized) = pending.withLock { pending in
                swap(&lines, &pending.bytes)
                defer {
                    pending.records = 0
                    pending.oversized = []
                    pending.oversizedBytes = 0
                }
                return (pending.records, pending.oversized)
            }
            for record in oversized {
                let (bounded, omitted) = record.bounded(maxBytes: options.maxRecordBytes)
                lines.append(contentsOf: bounded.line())
                truncated.wrappingAdd(1, ordering: .relaxed)
                truncatedCounter?.increment()
                rowsOmitted.wrappingAdd(omitted, ordering: .relaxed)
                rowsOmittedCounter?.increment(by: Int64(omitted))
            }
            defer { segment.spare = lines.capacity <= Self.spareLimit ? lines : [] }
            // Pruning also runs on its own, a minute apart, for a log that gets no traffic.
            if segment.lastPrune.map({ ContinuousClock.now - $0 > .seconds(60) }) ?? true {
                pruneExpired(&segment)
                segment.lastPrune = .now
            }
            guard records > 0 else { return }
            // Decoded before the lines are written, so their block follows them at once: a
            // reader that finds the segment longer than its sidecar waits for no decoding.
            let decoded = options.sidecar ? Self.decode(lines) : nil
            let start: Int
            do {
                start = try append(lines, to: &segment)
            } catch {
                // The segment may now end in a partial line: later lines go to a new one.
                try? segment.handle?.close()
                segment.handle = nil
                try? segment.sidecar?.close()
                segment.sidecar = nil
                dropped.wrappingAdd(records, ordering: .relaxed)
                droppedCounter?.increment(by: Int64(records))
                throw error
            }
            written.wrappingAdd(records, ordering: .relaxed)
            writtenCounter?.increment(by: Int64(records))
            if let decoded { appendSidecar(decoded, segmentRange: start..<segment.bytes, to: &segment) }
        }
    }

    /// The records of `lines` as the sidecar keeps them.
    static func decode(_ lines: [UInt8]) -> LoggedRecords {
        var builder = LoggedRecordsBuilder()
        var start = lines.startIndex
        while start < lines.endIndex {
            let end = lines[start...].firstIndex(of: UInt8(ascii: "\n")) ?? lines.endIndex
            if end > start { builder.append(line: lines[start..<end]) }
            start = end + 1
        }
        return builder.records
    }

    /// Appends the records of the lines just written to the segment's sidecar as one block,
    /// with the segment's state after them. Never fails the flush: the lines are safe in the
    /// segment, and a sidecar that could not be written is only slower to read.
    private func appendSidecar(_ records: LoggedRecords, segmentRange: Range<Int>, to segment: inout Segment) {
        guard let sidecar = segment.sidecar else { return }
        do {
            guard let state = segment.state else { throw CairnError(.internalError, "Cannot stat \(segment.path).") }
            try sidecar.write(
                contentsOf: InferenceLogSidecar.block(
                    records, segment: (segment.path as NSString).lastPathComponent, segmentRange: segmentRange, state: state))
        } catch {
            // A partial block ends the sidecar for readers; later blocks would not be read.
            try? sidecar.close()
            segment.sidecar = nil
            logger.warning("Could not write the inference log sidecar", metadata: ["path": "\(segment.path)", "error": "\(error)"])
        }
    }

    /// Appends to the open segment (a new one when it is full or old); returns the offset
    /// the lines start at.
    private func append(_ lines: [UInt8], to segment: inout Segment) throws -> Int {
        // A segment another process wrote to since this writer's last write is left as it is:
        // its sidecar ends with the writer's last block, which readers no longer trust.
        var touched = false
        if let handle = segment.handle, SegmentState(descriptor: handle.fileDescriptor) != segment.state {
            touched = true
            logger.warning(
                "The inference log segment was written to by another process; the next records go to a new segment",
                metadata: ["path": "\(segment.path)"])
        }
        if touched || segment.handle == nil || segment.bytes >= options.segmentBytes
            || ContinuousClock.now - segment.opened >= options.segmentAge
        {
            try? segment.handle?.close()
            segment.handle = nil
            try? segment.sidecar?.close()
            segment.sidecar = nil
            let name = "\(Self.prefix)\(Int64(Date().timeIntervalSince1970 * 1000))-\(UUID().uuidString.prefix(8)).jsonl"
            let path = (options.directory as NSString).appendingPathComponent(name)
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw CairnError(.internalError, "Cannot create the inference log segment \(path).")
            }
            segment.handle = handle
            segment.path = path
            segment.bytes = 0
            segment.opened = .now
            if options.sidecar {
                let sidecarPath = InferenceLogSidecar.path(ofSegment: path)
                if FileManager.default.createFile(atPath: sidecarPath, contents: nil) {
                    segment.sidecar = FileHandle(forWritingAtPath: sidecarPath)
                }
            }
        }
        let start = segment.bytes
        segment.state = nil
        try segment.handle!.write(contentsOf: lines)
        segment.bytes += lines.count
        // Longer than what this writer wrote: another process appended meanwhile.
        segment.state = SegmentState(descriptor: segment.handle!.fileDescriptor).flatMap { $0.size == segment.bytes ? $0 : nil }
        return start
    }

    /// The segment files, oldest first.
    public func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: options.directory)
            .filter { $0.hasPrefix(Self.prefix) && $0.hasSuffix(".jsonl") }
            .sorted()
            .map { (options.directory as NSString).appendingPathComponent($0) }
    }

    /// Deletes segments last written before the retention cutoff, the open one included
    /// (it is closed first; the next record starts a new one), each with its sidecar, and
    /// sidecars whose segment is gone.
    private func pruneExpired(_ segment: inout Segment) {
        let cutoff = Date().addingTimeInterval(-Double(options.retention.components.seconds))
        for path in (try? segments()) ?? [] {
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff
            else { continue }
            if path == segment.path, segment.handle != nil {
                try? segment.handle?.close()
                segment.handle = nil
                try? segment.sidecar?.close()
                segment.sidecar = nil
            }
            do {
                try FileManager.default.removeItem(atPath: path)
                logger.info("Removed an expired inference log segment", metadata: ["path": "\(path)"])
            } catch {
                logger.warning("Could not remove an expired inference log segment", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            try? FileManager.default.removeItem(atPath: InferenceLogSidecar.path(ofSegment: path))
        }
        // A sidecar left by a crash between removing a segment and its sidecar.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: options.directory)) ?? []
        where name.hasPrefix(Self.prefix) && name.hasSuffix(InferenceLogSidecar.suffix) {
            let path = (options.directory as NSString).appendingPathComponent(name)
            if !FileManager.default.fileExists(atPath: String(path.dropLast(InferenceLogSidecar.suffix.count)) + ".jsonl") {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }
}
