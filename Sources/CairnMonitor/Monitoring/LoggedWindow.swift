import CairnCore

/// A window of the inference log as the reader found it: records decoded in sidecar blocks,
/// records read from the JSON (where a segment has no sidecar, or its sidecar stops short),
/// and the window's order over both.
public struct LoggedWindow: Sendable {
    /// Sidecar blocks, whole: a record not in the window is simply not referenced.
    var blocks: [LoggedRecords]
    /// Records read from the JSON, with their payload unless it was released.
    var entries: [InferenceLogEntry]
    /// The window's records, oldest first: a block and an index in it, or block -1 and an
    /// index in `entries`.
    var blockOfRecord: [Int]
    var indexOfRecord: [Int]
    /// Per record: the payload is not to be decoded (`InferenceLogQuery.maxPayloadBytes`).
    var payloadOmitted: [Bool]
    public var skippedLines: Int

    /// Records (`InferenceLogQuery.maxPayloadBytes`) whose payload is left undecoded.
    public var payloadOmittedCount: Int { payloadOmitted.count { $0 } }

    public var count: Int { blockOfRecord.count }

    init(
        blocks: [LoggedRecords], entries: [InferenceLogEntry], blockOfRecord: [Int], indexOfRecord: [Int], payloadOmitted: [Bool],
        skippedLines: Int
    ) {
        self.blocks = blocks
        self.entries = entries
        self.blockOfRecord = blockOfRecord
        self.indexOfRecord = indexOfRecord
        self.payloadOmitted = payloadOmitted
        self.skippedLines = skippedLines
    }

    /// Parsed entries, oldest first, as one window.
    public init(entries: [InferenceLogEntry]) {
        self.init(
            blocks: [], entries: entries, blockOfRecord: [Int](repeating: -1, count: entries.count), indexOfRecord: Array(entries.indices),
            payloadOmitted: entries.map(\.payloadOmitted), skippedLines: 0)
    }

    /// Record `position` of the window without its payload.
    func metadata(_ position: Int) -> InferenceLogEntry {
        let block = blockOfRecord[position]
        let index = indexOfRecord[position]
        var entry: InferenceLogEntry
        if block >= 0 {
            entry = blocks[block].entry(index)
            // As a JSON record whose payload the budget released.
            if payloadOmitted[position] { entry.releasePayload() }
        } else {
            entry = entries[index]
            entry.inputs = []
            entry.outputs = []
            entry.line = []
        }
        return entry
    }

    func timestamp(_ position: Int) -> Int64 {
        let block = blockOfRecord[position]
        let index = indexOfRecord[position]
        return block >= 0 ? blocks[block].timestamps[index] : entries[index].timestamp
    }

    func requestID(_ position: Int) -> String {
        let block = blockOfRecord[position]
        let index = indexOfRecord[position]
        return block >= 0 ? blocks[block].requestIDs[index] : entries[index].requestID
    }

    /// The metadata of records at `positions`, reaching into each block once per run of its
    /// records rather than once per record.
    func metadata(positions: some Sequence<Int>) -> [InferenceLogEntry] {
        var result: [InferenceLogEntry] = []
        result.reserveCapacity(positions.underestimatedCount)
        var cachedBlock = -1
        var cached = LoggedRecords()
        for position in positions {
            let block = blockOfRecord[position]
            let index = indexOfRecord[position]
            guard block >= 0 else {
                result.append(metadata(position))
                continue
            }
            if block != cachedBlock {
                cached = blocks[block]
                cachedBlock = block
            }
            var entry = cached.entry(index)
            if payloadOmitted[position] { entry.releasePayload() }
            result.append(entry)
        }
        return result
    }

    /// One field of the records at `positions`: a block's column (`field`) or a JSON entry's
    /// property (`property`), reaching into each block once per run of its records.
    func values<T>(_ positions: Range<Int>, _ field: KeyPath<LoggedRecords, [T]>, _ property: KeyPath<InferenceLogEntry, T>) -> [T] {
        var result: [T] = []
        result.reserveCapacity(positions.count)
        var cachedBlock = -1
        var cached: [T] = []
        for position in positions {
            let block = blockOfRecord[position]
            let index = indexOfRecord[position]
            guard block >= 0 else {
                result.append(entries[index][keyPath: property])
                continue
            }
            if block != cachedBlock {
                cached = blocks[block][keyPath: field]
                cachedBlock = block
            }
            result.append(cached[index])
        }
        return result
    }

    /// The newest record's version, for a monitor that follows whatever version has traffic.
    public var lastVersion: String? {
        guard count > 0 else { return nil }
        let block = blockOfRecord[count - 1]
        let index = indexOfRecord[count - 1]
        return block >= 0 ? blocks[block].versions[index] : entries[index].version
    }

    /// Every record's metadata, oldest first.
    public var metadata: [InferenceLogEntry] { (0..<count).map(metadata) }
}

extension MonitorWindow {
    /// Decodes the window's records (see `init(entries:…)`): sidecar records are taken as
    /// they were decoded when written, a run of consecutive records of one schema as one
    /// slice per column; records read from the JSON are decoded here, newest first, only
    /// as far as the limits reach.
    public init(_ window: LoggedWindow, rowLimit: Int? = nil, positionalNames: [String]? = nil, maxRows: Int? = nil) {
        var blocks = window.blocks
        var scratch = LoggedRecordsBuilder()
        let scratchBlock = blocks.count
        // The newest records kept (whole requests, up to `rowLimit` rows).
        var kept = 0
        // Newest first: which records the limits keep, and which of them are decoded.
        var decodedBlocks: [Int] = []
        var decodedIndexes: [Int] = []
        var rows = 0
        var undecoded = 0
        func rowsOf(_ records: LoggedRecords, _ index: Int) -> Int {
            if Self.frameFits(records, index, positionalNames) { return records.frameRows[index] }
            return records.predictionCounts[index] >= 0 ? records.predictionCounts[index] : 0
        }
        // The block of the records at hand, held in a local: reaching into `blocks` for each of
        // a million records copies the block's arrays' references each time.
        var cachedBlock = -1
        var cached = LoggedRecords()
        for position in stride(from: window.count - 1, through: 0, by: -1) {
            if let rowLimit, rows >= rowLimit { break }
            var block = window.blockOfRecord[position]
            var index = window.indexOfRecord[position]
            if block >= 0, block != cachedBlock {
                cached = blocks[block]
                cachedBlock = block
            }
            kept += 1
            guard block >= 0 ? cached.succeeded(index) : window.entries[index].succeeded else { continue }
            if window.payloadOmitted[position] || maxRows.map({ rows >= $0 }) == true {
                undecoded += 1
                continue
            }
            if block < 0 {
                let entry = window.entries[index]
                scratch.append(entry, lineBytes: entry.line.count)
                block = scratchBlock
                index = scratch.records.count - 1
                rows += rowsOf(scratch.records, index)
            } else {
                rows += rowsOf(cached, index)
            }
            decodedBlocks.append(block)
            decodedIndexes.append(index)
        }
        cached = LoggedRecords()
        // The window keeps the records' metadata, not their rows (copied into columns below)
        // nor their payload.
        source = window
        source.blocks.append(scratch.records)
        for block in source.blocks.indices { source.blocks[block].releasePayload() }
        for index in source.entries.indices {
            source.entries[index].inputs = []
            source.entries[index].outputs = []
            source.entries[index].line = []
        }
        firstKept = window.count - kept
        undecodedRequests = undecoded
        columns = [:]
        predictions = []
        rowIndexes = []
        unreadableRequests = 0
        predictions.reserveCapacity(rows)
        rowIndexes.reserveCapacity(rows)
        rowSourceBlocks.reserveCapacity(decodedIndexes.count)
        rowSourceIndexes.reserveCapacity(decodedIndexes.count)
        labelRows.reserveCapacity(decodedIndexes.count)
        windowRows.reserveCapacity(decodedIndexes.count)
        blocks.append(scratch.records)

        // Oldest first: runs of consecutive records of one block and one schema.
        var position = decodedIndexes.count - 1
        while position >= 0 {
            let block = decodedBlocks[position]
            let first = decodedIndexes[position]
            let records = blocks[block]
            guard let names = Self.columnNames(records, first, positionalNames) else {
                unreadableRequests += 1
                position -= 1
                continue
            }
            let schema = records.schemaIndexes[first]
            var last = first
            if Self.namesAreDistinct(records.schemas[schema]) {
                while position - (last - first) - 1 >= 0, decodedBlocks[position - (last - first) - 1] == block,
                    decodedIndexes[position - (last - first) - 1] == last + 1, records.schemaIndexes[last + 1] == schema
                {
                    last += 1
                }
            }
            appendRun(records, block: block, first...last, names: names)
            position -= last - first + 1
        }
    }

    /// Whether a record's inputs were read into columns a window can name.
    static func frameFits(_ records: LoggedRecords, _ index: Int, _ positionalNames: [String]?) -> Bool {
        let schema = records.schemaIndexes[index]
        guard schema >= 0 else { return false }
        guard records.schemas[schema].positional else { return true }
        return positionalNames?.count == records.schemas[schema].fields.count
    }

    /// The window's names for a record's input columns: its own, or `positionalNames` for a
    /// positional record of that width; nil when they cannot be named (see `frameFits`).
    static func columnNames(_ records: LoggedRecords, _ index: Int, _ positionalNames: [String]?) -> [String]? {
        guard frameFits(records, index, positionalNames) else { return nil }
        let schema = records.schemas[records.schemaIndexes[index]]
        return schema.positional ? positionalNames : schema.fields.map(\.name)
    }

    /// A schema that names a column twice is appended record by record, as each record's
    /// columns were before runs.
    static func namesAreDistinct(_ schema: LoggedRecords.Schema) -> Bool {
        Set(schema.fields.map(\.name)).count == schema.fields.count
    }

    /// Appends the rows of records `run` (consecutive, one schema, all readable), whose
    /// columns the window calls `names`.
    private mutating func appendRun(_ records: LoggedRecords, block: Int, _ run: ClosedRange<Int>, names: [String]) {
        let schemaIndex = records.schemaIndexes[run.lowerBound]
        let start = rowIndexes.count
        let firstCell = records.cellOffsets[run.lowerBound]
        let cellCount = run.reduce(0) { $0 + records.frameRows[$1] }
        for (name, cells) in zip(names, records.cells[schemaIndex]) {
            // Taken out and put back, so the column's storage stays uniquely held and grows
            // in place. A new one is sized for the window at once: growing a million-row
            // column step by step copies it and faults its pages in again at each step.
            var column =
                columns.removeValue(forKey: name)
                ?? {
                    var column = WindowColumn(nulls: rowIndexes.count)
                    column.reserve(rowIndexes.capacity)
                    return column
                }()
            column.append(cells, firstCell..<(firstCell + cellCount))
            columns[name] = column
        }
        for index in run {
            let frameRows = records.frameRows[index]
            let sampleCount = records.sampleCounts[index]
            rowSourceBlocks.append(block)
            rowSourceIndexes.append(index)
            windowRows.append(frameRows)
            // One-row requests (a million of them in a window) without the generic appends.
            if frameRows == 1, sampleCount != 1 {
                rowIndexes.append(0)
                labelRows.append(1)
                if let outputs = records.predictions(of: index), outputs.count == 1 {
                    predictions.append(outputs[outputs.startIndex])
                } else {
                    predictions.append(nil)
                }
                continue
            }
            if sampleCount == frameRows {
                let sampleStart = records.sampleStarts[index]
                rowIndexes.append(contentsOf: records.sampleIndexes[sampleStart..<(sampleStart + sampleCount)])
                labelRows.append(records.sampledRowCounts[index])
            } else {
                rowIndexes.append(contentsOf: 0..<frameRows)
                labelRows.append(frameRows)
            }
            // A row count that disagrees with the inputs means the output cannot be lined up.
            if let outputs = records.predictions(of: index), outputs.count == frameRows {
                predictions.append(contentsOf: outputs)
            } else {
                predictions.append(contentsOf: repeatElement(LoggedPrediction?.none, count: frameRows))
            }
        }
        let end = rowIndexes.count
        if end > start {
            for name in Array(columns.keys) {
                if let count = columns[name]?.count, count < end { columns[name]?.appendNulls(end - count) }
            }
        }
    }
}
