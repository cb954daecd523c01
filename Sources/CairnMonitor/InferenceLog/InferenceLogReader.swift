import CairnCore
import Foundation

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

    public var succeeded: Bool { (200..<300).contains(status) }
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

    public init(model: String? = nil, version: String? = nil, since: Int64? = nil, until: Int64? = nil, lastRecords: Int? = nil) {
        self.model = model
        self.version = version
        self.since = since
        self.until = until
        self.lastRecords = lastRecords
    }
}

/// Reads the segments an `InferenceLogWriter` (in this process or in a `cairn serve` sharing
/// the directory) wrote. A line that does not parse (a torn write at a crash, a foreign file's
/// content) is skipped and counted, never fatal: the log is evidence, not a transaction.
public struct InferenceLogReader: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public struct Result: Sendable {
        /// Oldest first.
        public var entries: [InferenceLogEntry]
        public var skippedLines: Int
    }

    public func read(_ query: InferenceLogQuery) throws -> Result {
        var entries: [InferenceLogEntry] = []
        var skipped = 0
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
            guard let data = FileManager.default.contents(atPath: segment.path) else { continue }
            let bytes = [UInt8](data)
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                defer { start = end + 1 }
                guard end > start else { continue }
                guard let entry = Self.parse(bytes[start..<end]) else {
                    skipped += 1
                    continue
                }
                if let model = query.model, entry.model != model { continue }
                if let version = query.version, entry.version != version { continue }
                if let since = query.since, entry.timestamp < since { continue }
                if let until = query.until, entry.timestamp >= until { continue }
                entries.append(entry)
            }
        }
        // Several writers may share the directory, so segments interleave in time.
        entries.sort { $0.timestamp != $1.timestamp ? $0.timestamp < $1.timestamp : $0.requestID < $1.requestID }
        if let last = query.lastRecords, entries.count > last {
            entries.removeFirst(entries.count - max(0, last))
        }
        return Result(entries: entries, skippedLines: skipped)
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
            let modified = ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date)
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
              let inputs = fields["inputs"], let outputs = fields["outputs"] else { return nil }
        return InferenceLogEntry(
            requestID: requestID, timestamp: timestamp, model: model, version: version, status: Int(clamping: status),
            latencyMicroseconds: latency, inputs: line[inputs], outputs: line[outputs], line: line)
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
            if peek() == close { position += 1; return true }
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
                  byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
                position += 1
            }
            return position > start
        }
    }
}
