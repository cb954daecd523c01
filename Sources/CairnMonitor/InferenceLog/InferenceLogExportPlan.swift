import CairnCore
import CairnTabular
import Foundation

/// An export of the inference log, streamed: one pass over the log finds the records the
/// query selects and where each line is (32 bytes a record, never the record), then the body
/// is read and rendered a bounded chunk at a time, so exporting a million records holds one
/// chunk, not the log. The records and their order are `InferenceLogReader.read`'s.
public struct InferenceLogExportPlan: Sendable {
    struct Located: Sendable {
        var timestamp: Int64
        var offset: Int64
        var segment: Int32
        var length: Int32
        /// CSV only: the record's input and output column names (`names`), -1 for none.
        var inputs: Int32 = -1
        var outputs: Int32 = -1
    }

    /// The column names a record's inputs give: named columns, or positional ones that take
    /// the names of the version's reference when their count fits.
    enum InputNames: Hashable, Sendable {
        case named([String])
        case positional(width: Int, reference: String)
    }

    public let format: InferenceLogExportFormat
    let segments: [String]
    /// Export order.
    var records: [Located]
    var inputNames: [InputNames] = []
    var outputNames: [[String]] = []

    public var count: Int { records.count }

    /// The (model, version) pairs the records belong to, keyed as `positionalNames` is.
    public var modelVersions: [(model: String, version: String)] = []

    /// CSV: the feature and output columns, in first-seen order over the export.
    public func columnNames(positionalNames: [String: [String]]) -> (features: [String], outputs: [String]) {
        var features: [String] = []
        var outputs: [String] = []
        var seenFeatures: Set<String> = []
        var seenOutputs: Set<String> = []
        var seenInputs: Set<Int32> = []
        var seenOutputLists: Set<Int32> = []
        for record in records {
            if record.inputs >= 0, seenInputs.insert(record.inputs).inserted {
                let names: [String] =
                    switch inputNames[Int(record.inputs)] {
                    case .named(let names): names
                    case .positional(let width, let reference):
                        positionalNames[reference].flatMap { $0.count == width ? $0 : nil } ?? (0..<width).map(String.init)
                    }
                for name in names where seenFeatures.insert(name).inserted { features.append(name) }
            }
            if record.outputs >= 0, seenOutputLists.insert(record.outputs).inserted {
                for name in outputNames[Int(record.outputs)] where seenOutputs.insert(name).inserted { outputs.append(name) }
            }
        }
        return (features, outputs)
    }

    /// Consecutive ranges of records whose lines add up to about `bytes`, at least one record each.
    public func chunks(bytes: Int = 1 << 20) -> [Range<Int>] {
        var chunks: [Range<Int>] = []
        var start = 0
        var size = 0
        for (index, record) in records.enumerated() {
            size += Int(record.length) + 1
            if size >= bytes {
                chunks.append(start..<(index + 1))
                start = index + 1
                size = 0
            }
        }
        // An empty export is one empty chunk: a CSV still has its header.
        if start < records.count || records.isEmpty { chunks.append(start..<records.count) }
        return chunks
    }

    /// The lines of records `range`, each without its newline, read with one read per run of
    /// adjacent lines. A record whose segment retention removed since the plan was made is
    /// left out. Blocking.
    func lines(_ range: Range<Int>) throws -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        lines.reserveCapacity(range.count)
        var position = range.lowerBound
        while position < range.upperBound {
            let first = records[position]
            var end = position + 1
            var bytes = Int(first.length)
            while end < range.upperBound, records[end].segment == first.segment, records[end].offset == first.offset + Int64(bytes) + 1 {
                bytes += 1 + Int(records[end].length)
                end += 1
            }
            if let handle = FileHandle(forReadingAtPath: segments[Int(first.segment)]) {
                defer { try? handle.close() }
                try handle.seek(toOffset: UInt64(first.offset))
                let run = Array(try handle.read(upToCount: bytes) ?? Data())
                var start = 0
                for record in records[position..<end] {
                    guard start + Int(record.length) <= run.count else { break }
                    lines.append(run[start..<(start + Int(record.length))])
                    start += Int(record.length) + 1
                }
            }
            position = end
        }
        return lines
    }

    /// The body of records `range` (and the CSV header first when `range` starts the export).
    /// `labels` are the feedback of the range's requests. Blocking.
    public func render(
        _ range: Range<Int>, labels: [String: [JSONValue]] = [:], positionalNames: [String: [String]] = [:],
        columns: (features: [String], outputs: [String])
    ) throws -> [UInt8] {
        let lines = try lines(range)
        switch format {
        case .jsonl:
            var out: [UInt8] = []
            out.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
            for line in lines {
                out.append(contentsOf: line)
                out.append(UInt8(ascii: "\n"))
            }
            return out
        case .csv:
            let table = InferenceLogTable(
                lines.compactMap(InferenceLogReader.parse), labels: labels, positionalNames: positionalNames,
                featureNames: columns.features,
                outputNames: columns.outputs)
            return table.csv(header: range.lowerBound == 0)
        }
    }

    /// The request ids of records `range` that scored, whose feedback a CSV chunk carries.
    public func scoredRequestIDs(_ range: Range<Int>) throws -> [String] {
        try lines(range).compactMap { line in InferenceLogReader.parse(line).flatMap { $0.succeeded ? $0.requestID : nil } }
    }
}

extension InferenceLogReader {
    /// The plan of an export of `query` in `format`: one pass over the segments in range,
    /// keeping where each selected record's line is (and, for CSV, which columns it has).
    /// Blocking: call it on the thread pool.
    /// The index of `value` in `list`, appended the first time it is seen: each distinct set of
    /// column names is kept once, and a record holds its index.
    private static func intern<Value: Hashable>(_ value: Value, in index: inout [Value: Int32], _ list: inout [Value]) -> Int32 {
        if let known = index[value] { return known }
        list.append(value)
        index[value] = Int32(list.count - 1)
        return Int32(list.count - 1)
    }

    public func exportPlan(_ query: InferenceLogQuery, format: InferenceLogExportFormat) throws -> InferenceLogExportPlan {
        // As `read`: newest segments first, so that records tied on time and id keep its order.
        let segments = try self.segments().reversed().filter { segment in query.since.map { segment.modified >= $0 } ?? true }
        var plan = InferenceLogExportPlan(format: format, segments: segments.map(\.path), records: [])
        var inputIndex: [InferenceLogExportPlan.InputNames: Int32] = [:]
        var outputIndex: [[String]: Int32] = [:]
        var modelVersions: Set<[String]> = []
        for (segmentIndex, segment) in segments.enumerated() {
            try Self.forEachLocatedLine(path: segment.path) { line, offset in
                guard let entry = Self.parse(line) else { return true }
                if let model = query.model, entry.model != model { return true }
                if let version = query.version, entry.version != version { return true }
                if let since = query.since, entry.timestamp < since { return true }
                if let until = query.until, entry.timestamp >= until { return true }
                var located = InferenceLogExportPlan.Located(
                    timestamp: entry.timestamp, offset: Int64(offset), segment: Int32(segmentIndex), length: Int32(line.count))
                if format == .csv {
                    modelVersions.insert([entry.model, entry.version])
                    if entry.succeeded, let (frame, positional) = MonitorWindow.decode(entry.inputs) {
                        let names: InferenceLogExportPlan.InputNames =
                            positional
                            ? .positional(
                                width: frame.columns.count,
                                reference: InferenceLogExportFormat.referenceKey(model: entry.model, version: entry.version))
                            : .named(frame.columns.map(\.name))
                        located.inputs = Self.intern(names, in: &inputIndex, &plan.inputNames)
                        let outputs = (InferenceLogTable.outputs(entry.outputs, rows: frame.rowCount) ?? []).map(\.name)
                        located.outputs = Self.intern(outputs, in: &outputIndex, &plan.outputNames)
                    }
                }
                plan.records.append(located)
                return true
            }
        }
        plan.modelVersions = modelVersions.map { (model: $0[0], version: $0[1]) }.sorted { ($0.model, $0.version) < ($1.model, $1.version) }

        // Oldest first, ties on time broken by request id as `read` does; the ids are read
        // back only for records that share a millisecond.
        plan.records.sort { a, b in
            a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.segment != b.segment ? a.segment < b.segment : a.offset < b.offset
        }
        var start = 0
        while start < plan.records.count {
            var end = start + 1
            while end < plan.records.count, plan.records[end].timestamp == plan.records[start].timestamp { end += 1 }
            if end - start > 1 {
                let ids = try plan.lines(start..<end).map { InferenceLogReader.parse($0)?.requestID ?? "" }
                if ids.count == end - start {
                    let order = ids.indices.sorted { ids[$0] != ids[$1] ? ids[$0] < ids[$1] : $0 < $1 }
                    let group = Array(plan.records[start..<end])
                    for (position, index) in order.enumerated() { plan.records[start + position] = group[index] }
                }
            }
            start = end
        }
        if let last = query.lastRecords, plan.records.count > last {
            plan.records.removeFirst(plan.records.count - max(0, last))
        }
        return plan
    }
}
