import CairnCore
import CairnTabular

/// Records of the inference log with their payload already decoded the way a monitor reads
/// it (`MonitorWindow.decode` for the inputs, `MonitorWindow.predictions` for the outputs):
/// metadata one array per field, rows as typed columns. This is what a segment's columnar
/// sidecar holds, so a monitor reads a window by copying arrays instead of parsing JSON.
///
/// Rows are grouped by schema (column names, types, positional or not): the rows of every
/// record with the same schema are concatenated per column, so consecutive records that
/// share a schema (the usual case) are one contiguous slice of each column.
struct LoggedRecords: Sendable, Equatable {
    enum Kind: UInt8, Sendable {
        case double, int64, bool, string
    }

    struct Field: Sendable, Hashable {
        var name: String
        var kind: Kind
    }

    struct Schema: Sendable, Hashable {
        var positional: Bool
        var fields: [Field]
    }

    /// One column's cells, in the array its kind uses.
    struct Cells: Sendable, Equatable {
        var kind: Kind
        var doubles: [Double] = []
        var ints: [Int64] = []
        var bools: [Bool] = []
        var strings: [String?] = []

        var count: Int {
            switch kind {
            case .double: doubles.count
            case .int64: ints.count
            case .bool: bools.count
            case .string: strings.count
            }
        }

        mutating func append(_ values: ColumnValues) {
            switch values {
            case .double(let v): doubles.append(contentsOf: v)
            case .int64(let v): ints.append(contentsOf: v)
            case .bool(let v): bools.append(contentsOf: v)
            case .string(let v): strings.append(contentsOf: v)
            }
        }

        static func kind(of values: ColumnValues) -> Kind {
            switch values {
            case .double: .double
            case .int64: .int64
            case .bool: .bool
            case .string: .string
            }
        }

        /// Bitwise equality for doubles, so a NaN cell equals itself (a missing value).
        static func == (lhs: Cells, rhs: Cells) -> Bool {
            lhs.kind == rhs.kind && lhs.ints == rhs.ints && lhs.bools == rhs.bools && lhs.strings == rhs.strings
                && lhs.doubles.count == rhs.doubles.count && zip(lhs.doubles, rhs.doubles).allSatisfy { $0.bitPattern == $1.bitPattern }
        }
    }

    // One entry per record, in log order.
    var requestIDs: [String] = []
    var timestamps: [Int64] = []
    var models: [String] = []
    var versions: [String] = []
    var statuses: [Int] = []
    var latencies: [Int64] = []
    /// The record's line in the segment, without its newline: what the payload budget counts.
    var lineBytes: [Int] = []
    /// `row_count` of a sampled record, -1 when absent.
    var sampledRowCounts: [Int] = []
    /// The kept rows' original indexes of a sampled record: a range of `sampleIndexes`, or
    /// count -1 when absent.
    var sampleStarts: [Int] = []
    var sampleCounts: [Int] = []
    var sampleIndexes: [Int] = []
    /// -1 when absent.
    var omittedBytes: [Int] = []
    /// The decoded inputs: the schema (-1 when the inputs could not be read, or the request
    /// failed and is never decoded), the rows, and where they start in the schema's columns.
    var schemaIndexes: [Int] = []
    var frameRows: [Int] = []
    var cellOffsets: [Int] = []
    /// The decoded outputs: a range of `predictions`, or count -1 when unreadable.
    var predictionStarts: [Int] = []
    var predictionCounts: [Int] = []

    var schemas: [Schema] = []
    /// Per schema, per field.
    var cells: [[Cells]] = []
    var predictions: [LoggedPrediction?] = []
    /// Lines that did not parse as a record (the reader skips and counts them).
    var skippedLines = 0

    var count: Int { requestIDs.count }

    /// Record `index` as the reader hands it over without its payload.
    func entry(_ index: Int) -> InferenceLogEntry {
        var entry = InferenceLogEntry(
            requestID: requestIDs[index], timestamp: timestamps[index], model: models[index], version: versions[index],
            status: statuses[index],
            latencyMicroseconds: latencies[index], inputs: [], outputs: [], line: [])
        if sampledRowCounts[index] >= 0 { entry.rowCount = sampledRowCounts[index] }
        if sampleCounts[index] >= 0 {
            entry.rowIndexes = Array(sampleIndexes[sampleStarts[index]..<(sampleStarts[index] + sampleCounts[index])])
        }
        if omittedBytes[index] >= 0 { entry.omittedBytes = omittedBytes[index] }
        return entry
    }

    func succeeded(_ index: Int) -> Bool { (200..<300).contains(statuses[index]) }

    /// Lets the decoded rows go once no record of the block will be decoded: the metadata
    /// stays for the service statistics.
    mutating func releasePayload() {
        cells = cells.map { $0.map { LoggedRecords.Cells(kind: $0.kind) } }
        predictions = []
    }

    func predictions(of index: Int) -> ArraySlice<LoggedPrediction?>? {
        predictionCounts[index] < 0 ? nil : predictions[predictionStarts[index]..<(predictionStarts[index] + predictionCounts[index])]
    }
}

/// Builds `LoggedRecords` from log lines or parsed entries, decoding each payload exactly as
/// `MonitorWindow` does, so a window read from the sidecar equals one read from the JSON.
struct LoggedRecordsBuilder {
    private(set) var records = LoggedRecords()
    private var schemaIndex: [LoggedRecords.Schema: Int] = [:]
    private var lastSchema: (schema: LoggedRecords.Schema, index: Int)?
    /// Model and version names repeat on every record: one string each, shared.
    private var interned: Set<String> = []

    init() {}

    /// Appends one line of a segment (without its newline); a line that does not parse is
    /// counted as skipped. Records `include` turns down (another model, outside the range) are
    /// not kept.
    mutating func append(line: ArraySlice<UInt8>, where include: (InferenceLogEntry) -> Bool = { _ in true }) {
        guard let entry = InferenceLogReader.parse(line) else {
            records.skippedLines += 1
            return
        }
        guard include(entry) else { return }
        append(entry, lineBytes: line.count)
    }

    /// Appends a parsed record, decoding its payload when it succeeded and still has one.
    mutating func append(_ entry: InferenceLogEntry, lineBytes: Int) {
        records.requestIDs.append(entry.requestID)
        records.timestamps.append(entry.timestamp)
        records.models.append(intern(entry.model))
        records.versions.append(intern(entry.version))
        records.statuses.append(entry.status)
        records.latencies.append(entry.latencyMicroseconds)
        records.lineBytes.append(lineBytes)
        records.sampledRowCounts.append(entry.rowCount ?? -1)
        records.sampleStarts.append(records.sampleIndexes.count)
        records.sampleCounts.append(entry.rowIndexes?.count ?? -1)
        if let indexes = entry.rowIndexes { records.sampleIndexes.append(contentsOf: indexes) }
        records.omittedBytes.append(entry.omittedBytes ?? -1)

        let decoded = entry.succeeded && !entry.payloadOmitted ? MonitorWindow.decode(entry.inputs) : nil
        if let (frame, positional) = decoded {
            let schema = LoggedRecords.Schema(
                positional: positional, fields: frame.columns.map { .init(name: $0.name, kind: LoggedRecords.Cells.kind(of: $0.values)) })
            let index = self.index(of: schema)
            records.schemaIndexes.append(index)
            records.frameRows.append(frame.rowCount)
            records.cellOffsets.append(records.cells[index].first?.count ?? 0)
            for (field, column) in frame.columns.enumerated() { records.cells[index][field].append(column.values) }
        } else {
            records.schemaIndexes.append(-1)
            records.frameRows.append(0)
            records.cellOffsets.append(0)
        }
        let predictions = entry.succeeded && !entry.payloadOmitted ? MonitorWindow.predictions(entry.outputs) : nil
        records.predictionStarts.append(records.predictions.count)
        records.predictionCounts.append(predictions?.count ?? -1)
        if let predictions { records.predictions.append(contentsOf: predictions) }
    }

    private mutating func intern(_ text: String) -> String {
        if let known = interned.firstIndex(of: text) { return interned[known] }
        interned.insert(text)
        return text
    }

    private mutating func index(of schema: LoggedRecords.Schema) -> Int {
        if let lastSchema, lastSchema.schema == schema { return lastSchema.index }
        let index: Int
        if let known = schemaIndex[schema] {
            index = known
        } else {
            index = records.schemas.count
            schemaIndex[schema] = index
            records.schemas.append(schema)
            records.cells.append(schema.fields.map { LoggedRecords.Cells(kind: $0.kind) })
        }
        lastSchema = (schema, index)
        return index
    }
}
