import CairnCore
import Foundation
import NIOPosix

/// One record read back from the inference log. `inputs` and `outputs` stay the raw JSON the
/// writer spliced in, so an export hands them on without re-serialising them.
public struct InferenceLogEntry: Sendable, Equatable {
    public var requestID: String
    public var timestamp: Int64
    public var model: String
    public var version: String
    public var status: Int
    public var latencyMicroseconds: Int64
    public var inputs: ArraySlice<UInt8>
    public var outputs: ArraySlice<UInt8>
    /// The whole JSON Lines line, without its newline.
    public var line: ArraySlice<UInt8>
    /// Set when the record holds a sample of its request's rows: the rows the request carried
    /// and the original index of each row kept.
    public var rowCount: Int? = nil
    public var rowIndexes: [Int]? = nil
    /// Payload bytes the writer left out (over its per-record cap).
    public var omittedBytes: Int? = nil
    /// True when the reader released this record's payload to stay within the query's
    /// `maxPayloadBytes`: the metadata is there, `inputs`, `outputs` and `line` are empty.
    public var payloadOmitted = false

    public var succeeded: Bool { (200..<300).contains(status) }

    /// The same entry over its own copy of the line, so the buffer it was read from can go.
    func owningItsBytes() -> InferenceLogEntry {
        let copy = Array(line)
        func rebase(_ slice: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
            copy[(slice.startIndex - line.startIndex)..<(slice.endIndex - line.startIndex)]
        }
        var entry = self
        entry.inputs = rebase(inputs)
        entry.outputs = rebase(outputs)
        entry.line = copy[...]
        return entry
    }

    mutating func releasePayload() {
        inputs = []
        outputs = []
        line = []
        // A sample's indexes only matter for decoded rows; they can be as long as the payload.
        rowIndexes = nil
        payloadOmitted = true
    }
}

/// What the log knows of one request, for checking feedback against it.
public struct LoggedRequest: Sendable, Equatable {
    public var status: Int
    public var timestamp: Int64
    /// The rows the request carried; nil when they cannot be read back.
    public var rows: Int?
    /// The rows the log kept, ascending, for a request over the per-record cap (a sample);
    /// nil when it kept them all.
    public var keptRows: [Int]?
    /// How many records of the log carry this request id. A client that reuses its
    /// `X-Request-ID` makes it more than one, and then no label can say which request it is
    /// for (a monitor's window drops such ids too).
    public var records: Int

    public init(status: Int, timestamp: Int64, rows: Int?, keptRows: [Int]? = nil, records: Int = 1) {
        self.status = status
        self.timestamp = timestamp
        self.rows = rows
        self.keptRows = keptRows
        self.records = records
    }

    /// Whether the log holds row `row` of the request (a label for any other is never used).
    public func keeps(row: Int) -> Bool {
        guard let keptRows else { return true }
        var low = 0
        var high = keptRows.count
        while low < high {
            let middle = (low + high) / 2
            if keptRows[middle] < row { low = middle + 1 } else { high = middle }
        }
        return low < keptRows.count && keptRows[low] == row
    }
}

/// Which records to read: one model (and optionally one version), a time range, and either
/// everything in it or only the newest `lastRecords`.
public struct InferenceLogQuery: Sendable, Equatable {
    public var model: String?
    public var version: String?
    /// Milliseconds since the Unix epoch, inclusive.
    public var since: Int64?
    /// Milliseconds since the Unix epoch, exclusive.
    public var until: Int64?
    /// Keep only the newest this many records.
    public var lastRecords: Int?
    /// Keep the payload of only the newest records whose lines add up to at most this many
    /// bytes; older ones keep their metadata (status, latency) without it. Bounds the memory
    /// a read takes, however much the range holds.
    public var maxPayloadBytes: Int?

    public init(
        model: String? = nil, version: String? = nil, since: Int64? = nil, until: Int64? = nil, lastRecords: Int? = nil,
        maxPayloadBytes: Int? = nil
    ) {
        self.model = model
        self.version = version
        self.since = since
        self.until = until
        self.lastRecords = lastRecords
        self.maxPayloadBytes = maxPayloadBytes
    }
}

/// Reads the segments an `InferenceLogWriter` (in this process or in a `cairn serve` sharing
/// the directory) wrote. A line that does not parse (a torn write at a crash, a foreign file's
/// content) is skipped and counted, never fatal: the log is evidence, not a transaction.
public struct InferenceLogReader: Sendable {
    public let directory: String
    /// Where callers run this reader's blocking reads (`runIfActive`): never on the
    /// concurrency pool.
    public let threadPool: NIOThreadPool

    public init(directory: String, threadPool: NIOThreadPool = .singleton) {
        self.directory = directory
        self.threadPool = threadPool
    }

    public struct Result: Sendable {
        /// Oldest first.
        public var entries: [InferenceLogEntry]
        public var skippedLines: Int
        /// Records whose payload was released to keep within `maxPayloadBytes`.
        public var payloadOmitted: Int = 0
    }

    /// Segments are read in chunks of this size, so a read holds one chunk and the line in
    /// progress, not whole files.
    static let chunkBytes = 4 << 20

    public func read(_ query: InferenceLogQuery) throws -> Result {
        var entries: [InferenceLogEntry] = []
        var skipped = 0
        var payloadBytes = 0
        // Newest segments first, so a query for the last N records can skip every segment
        // that closed before the oldest of the N it already holds. Skip, not stop: another
        // writer's segment created earlier may still be open and hold newer records.
        for segment in try segments().reversed() {
            if let last = query.lastRecords, last > 0, entries.count >= last {
                let cutoff = entries.map(\.timestamp).sorted(by: >)[last - 1]
                if segment.modified < cutoff { continue }
            }
            // A segment is last written at its mtime: one that closed before the range holds
            // nothing for it. Its name (creation time) bounds nothing: records are stamped
            // before the flush that opens the segment they land in.
            if let since = query.since, segment.modified < since { continue }
            try Self.forEachLine(path: segment.path) { line in
                guard let entry = Self.parse(line) else {
                    skipped += 1
                    return true
                }
                if let model = query.model, entry.model != model { return true }
                if let version = query.version, entry.version != version { return true }
                if let since = query.since, entry.timestamp < since { return true }
                if let until = query.until, entry.timestamp >= until { return true }
                entries.append(entry.owningItsBytes())
                payloadBytes += line.count
                // Trimmed in steps of half the budget, so the sort behind it is paid rarely.
                if let budget = query.maxPayloadBytes, payloadBytes > budget + budget / 2 {
                    payloadBytes = Self.trimPayload(&entries, to: budget)
                }
                return true
            }
        }
        // Several writers may share the directory, so segments interleave in time.
        entries.sort { $0.timestamp != $1.timestamp ? $0.timestamp < $1.timestamp : $0.requestID < $1.requestID }
        if let last = query.lastRecords, entries.count > last {
            entries.removeFirst(entries.count - max(0, last))
        }
        if let budget = query.maxPayloadBytes { _ = Self.trimPayload(&entries, to: budget) }
        return Result(entries: entries, skippedLines: skipped, payloadOmitted: entries.count { $0.payloadOmitted })
    }

    /// Releases the payload of all but the newest entries whose lines fit in `budget` (a
    /// newest run: once one does not fit, no older one is kept); returns the bytes kept.
    /// Whatever it releases would not be kept by a later call either, as kept sets only
    /// gain newer entries.
    static func trimPayload(_ entries: inout [InferenceLogEntry], to budget: Int) -> Int {
        let newestFirst = entries.indices.filter { !entries[$0].payloadOmitted }
            .sorted {
                entries[$0].timestamp != entries[$1].timestamp
                    ? entries[$0].timestamp > entries[$1].timestamp : entries[$0].requestID > entries[$1].requestID
            }
        var kept = 0
        var full = false
        for index in newestFirst {
            if !full, kept + entries[index].line.count <= budget {
                kept += entries[index].line.count
            } else {
                full = true
                entries[index].releasePayload()
            }
        }
        return kept
    }

    /// What the log holds for each of `requestIDs` (the newest record of an id logged more
    /// than once). Reads newest segments first and stops once every id is found, so
    /// feedback for recent traffic costs a read of the recent log only; `maxBytes` bounds
    /// the read for an id that may never have been logged, which would otherwise cost a read
    /// of the whole log.
    public func lookup(_ requestIDs: Set<String>, maxBytes: Int = .max) throws -> [String: LoggedRequest] {
        var found: [String: LoggedRequest] = [:]
        guard !requestIDs.isEmpty else { return found }
        let prefix = Array(#"{"request_id":""#.utf8)
        var scanned = 0
        for segment in try segments().reversed() {
            guard scanned < maxBytes else { break }
            try Self.forEachLine(path: segment.path) { line in
                scanned += line.count + 1
                guard scanned < maxBytes else { return false }
                // The writer puts the id first: most lines are told apart without parsing.
                if line.starts(with: prefix) {
                    let start = line.startIndex + prefix.count
                    if let end = line[start...].firstIndex(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }),
                        line[end] == UInt8(ascii: "\""), !requestIDs.contains(String(decoding: line[start..<end], as: UTF8.self))
                    {
                        return true
                    }
                }
                guard let entry = Self.parse(line), requestIDs.contains(entry.requestID) else { return true }
                let records = (found[entry.requestID]?.records ?? 0) + 1
                if let known = found[entry.requestID], known.timestamp > entry.timestamp {
                    found[entry.requestID]?.records = records
                    return true
                }
                found[entry.requestID] = LoggedRequest(
                    status: entry.status, timestamp: entry.timestamp, rows: MonitorWindow.rows(of: entry), keptRows: entry.rowIndexes,
                    records: records)
                return true
            }
            // Once every id is found, older segments are left unread: a reuse of an id further back
            // than the newest segment holding it goes unseen here (a monitor window still drops it).
            if found.count == requestIDs.count { break }
        }
        return found
    }

    /// Calls `body` with each non-empty line of the file until it returns false, reading in
    /// chunks; the slice is valid only during the call.
    /// With `range`, only those bytes of the file are read (a run of whole lines).
    static func forEachLine(
        path: String, range: Range<Int>? = nil, chunkBytes: Int = chunkBytes, _ body: (ArraySlice<UInt8>) throws -> Bool
    ) throws {
        try forEachLocatedLine(path: path, range: range, chunkBytes: chunkBytes) { line, _ in try body(line) }
    }

    /// `forEachLine`, with each line's offset in the file.
    static func forEachLocatedLine(
        path: String, range: Range<Int>? = nil, chunkBytes: Int = chunkBytes, _ body: (ArraySlice<UInt8>, Int) throws -> Bool
    ) throws {
        // A segment deleted by retention between listing and opening is simply gone.
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        var scanned = 0
        // The file offset of `buffer[0]`.
        var bufferOffset = range?.lowerBound ?? 0
        var left = range.map(\.count) ?? .max
        if let range { try handle.seek(toOffset: UInt64(range.lowerBound)) }
        while true {
            let chunk = left > 0 ? try handle.read(upToCount: min(chunkBytes, left)) ?? Data() : Data()
            left -= chunk.count
            buffer.append(contentsOf: chunk)
            var start = 0
            var from = scanned
            while let end = buffer[from...].firstIndex(of: UInt8(ascii: "\n")) {
                if end > start, try !body(buffer[start..<end], bufferOffset + start) { return }
                start = end + 1
                from = start
            }
            if chunk.isEmpty {
                if start < buffer.count { _ = try body(buffer[start...], bufferOffset + start) }
                return
            }
            buffer.removeFirst(start)
            bufferOffset += start
            scanned = buffer.count
        }
    }

    struct Segment {
        var path: String
        var created: Int64
        var modified: Int64
    }

    func segments() throws -> [Segment] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            // No log yet is an empty log.
            if !FileManager.default.fileExists(atPath: directory) { return [] }
            throw CairnError(.internalError, "Cannot list the inference log directory: \(error)")
        }
        return names.compactMap { name -> Segment? in
            guard name.hasPrefix("inference-"), name.hasSuffix(".jsonl") else { return nil }
            let stamp = name.dropFirst("inference-".count).prefix { $0.isNumber }
            guard let created = Int64(stamp) else { return nil }
            let path = (directory as NSString).appendingPathComponent(name)
            let modified =
                ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date)
                .map { Int64($0.timeIntervalSince1970 * 1000) + 1 } ?? .max
            return Segment(path: path, created: created, modified: modified)
        }
        .sorted { $0.created < $1.created }
    }

    /// Reads one line as the writer lays it out: a flat object whose `inputs` and `outputs`
    /// are arbitrary JSON. Values are located by a scanner that skips JSON without building
    /// it, so a large payload costs one pass and no allocation.
    static func parse(_ line: ArraySlice<UInt8>) -> InferenceLogEntry? {
        var scanner = JSONSpanScanner(bytes: line)
        guard let fields = scanner.topLevelFields() else { return nil }
        func string(_ key: String) -> String? {
            guard let span = fields[key], let value = try? JSONValue.parse(line[span]), case .string(let text) = value else { return nil }
            return text
        }
        func integer(_ key: String) -> Int64? {
            guard let span = fields[key] else { return nil }
            return Int64(String(decoding: line[span], as: UTF8.self))
        }
        guard let requestID = string("request_id"), let timestamp = integer("timestamp_ms"), let model = string("model"),
            let version = string("version"), let status = integer("status"), let latency = integer("latency_us"),
            let inputs = fields["inputs"], let outputs = fields["outputs"]
        else { return nil }
        var entry = InferenceLogEntry(
            requestID: requestID, timestamp: timestamp, model: model, version: version, status: Int(clamping: status),
            latencyMicroseconds: latency, inputs: line[inputs], outputs: line[outputs], line: line)
        // A sample's indexes are read only when they are consistent; otherwise the record
        // reads as unsampled rather than lining feedback up wrongly.
        if let rowCount = integer("row_count"), let span = fields["row_indexes"],
            case .array(let values)? = try? JSONValue.parse(line[span])
        {
            let indexes = values.compactMap { value -> Int? in
                if case .number(let n, _) = value, n.rounded() == n, n >= 0, n < Double(rowCount) { Int(n) } else { nil }
            }
            if indexes.count == values.count {
                entry.rowCount = Int(clamping: rowCount)
                entry.rowIndexes = indexes
            }
        }
        entry.omittedBytes = integer("omitted_bytes").map { Int(clamping: $0) }
        return entry
    }
}

/// Finds the byte ranges of a JSON object's top-level values without decoding them.
struct JSONSpanScanner {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    mutating func topLevelFields() -> [String: Range<Int>]? {
        skipWhitespace()
        guard next() == UInt8(ascii: "{") else { return nil }
        var fields: [String: Range<Int>] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { return fields }
        while true {
            skipWhitespace()
            let keyStart = position
            guard skipString() else { return nil }
            guard let key = try? JSONValue.parse(bytes[keyStart..<position]), case .string(let name) = key else { return nil }
            skipWhitespace()
            guard next() == UInt8(ascii: ":") else { return nil }
            skipWhitespace()
            let valueStart = position
            guard skipValue(depth: 0) else { return nil }
            fields[name] = valueStart..<position
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return fields
            default: return nil
            }
        }
    }

    private func peek() -> UInt8? { position < bytes.endIndex ? bytes[position] : nil }

    private mutating func next() -> UInt8? {
        guard position < bytes.endIndex else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func skipString() -> Bool {
        guard next() == UInt8(ascii: "\"") else { return false }
        while let byte = next() {
            if byte == UInt8(ascii: "\\") {
                guard next() != nil else { return false }
            } else if byte == UInt8(ascii: "\"") {
                return true
            }
        }
        return false
    }

    /// Skips one value; nesting is bounded so a hostile line cannot exhaust the stack.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth < 512, let byte = peek() else { return false }
        switch byte {
        case UInt8(ascii: "\""):
            return skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            position += 1
            skipWhitespace()
            if peek() == close {
                position += 1
                return true
            }
            while true {
                skipWhitespace()
                if close == UInt8(ascii: "}") {
                    guard skipString() else { return false }
                    skipWhitespace()
                    guard next() == UInt8(ascii: ":") else { return false }
                    skipWhitespace()
                }
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                switch next() {
                case UInt8(ascii: ","): continue
                case close: return true
                default: return false
                }
            }
        default:
            // A number or a literal: everything up to the next delimiter.
            let start = position
            while let byte = peek(), byte != UInt8(ascii: ","), byte != UInt8(ascii: "}"), byte != UInt8(ascii: "]"),
                byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D
            {
                position += 1
            }
            return position > start
        }
    }
}
