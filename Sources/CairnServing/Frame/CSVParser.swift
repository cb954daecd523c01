import CairnCore

/// An incremental RFC 4180 CSV parser: bytes go in as they arrive, complete records come
/// out. Incremental so that `cairn predict` can stream a file larger than memory and so that
/// a quoted field may span chunk boundaries.
public struct CSVParser: Sendable {
    private var field: [UInt8] = []
    private var record: [String] = []
    private var inQuotes = false
    private var quoteInQuoted = false
    private var fieldWasQuoted = false
    private var pendingCR = false
    private var sawAnyByte = false

    /// Bounds a single field so a file with an unterminated quote cannot grow without limit.
    public static let maximumFieldBytes = 1 << 20

    public init() {}

    /// Consumes `bytes` and returns the records completed by them.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(CairnError) -> [[String]] {
        var records: [[String]] = []
        for byte in bytes {
            sawAnyByte = true
            if pendingCR {
                pendingCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            if inQuotes {
                if quoteInQuoted {
                    quoteInQuoted = false
                    if byte == UInt8(ascii: "\"") { field.append(byte); continue }
                    inQuotes = false
                    // Falls through: the byte after a closing quote is a separator or an error.
                } else if byte == UInt8(ascii: "\"") {
                    quoteInQuoted = true
                    continue
                } else {
                    field.append(byte)
                    guard field.count <= Self.maximumFieldBytes else { throw CairnError(.badRequest, "CSV field longer than \(Self.maximumFieldBytes) bytes.") }
                    continue
                }
            }
            switch byte {
            case UInt8(ascii: ","):
                endField()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                pendingCR = byte == UInt8(ascii: "\r")
                endField()
                records.append(record)
                record = []
            case UInt8(ascii: "\"") where field.isEmpty && !fieldWasQuoted:
                inQuotes = true
                fieldWasQuoted = true
            default:
                if fieldWasQuoted { throw CairnError(.badRequest, "CSV: unexpected character after a closing quote.") }
                field.append(byte)
                guard field.count <= Self.maximumFieldBytes else { throw CairnError(.badRequest, "CSV field longer than \(Self.maximumFieldBytes) bytes.") }
            }
        }
        return records.filter { !($0.count == 1 && $0[0].isEmpty) }
    }

    /// Ends the input: returns the last record if the data did not end with a newline.
    public mutating func finish() throws(CairnError) -> [String]? {
        if inQuotes && !quoteInQuoted { throw CairnError(.badRequest, "CSV: unterminated quoted field.") }
        inQuotes = false
        quoteInQuoted = false
        guard !field.isEmpty || !record.isEmpty || fieldWasQuoted else { return nil }
        endField()
        defer { record = [] }
        return record
    }

    private mutating func endField() {
        record.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        fieldWasQuoted = false
    }

    /// Turns a header and data records into a frame, typing each column from its text the
    /// way `pandas.read_csv` does: integers, then floats, else text; empty cells and pandas'
    /// other missing-value markers are missing. `firstRow` is the index of the first record
    /// among all the file's data rows, for messages about a chunk of a larger file.
    public static func frame(header: [String], records: [[String]], firstRow: Int = 0) throws(CairnError) -> DataFrame {
        var builders = header.map { ColumnBuilder(name: $0, capacity: records.count, firstRow: firstRow) }
        for (index, record) in records.enumerated() {
            guard record.count == header.count else {
                throw CairnError(.badRequest, "CSV data row \(firstRow + index) has \(record.count) fields; the header has \(header.count).")
            }
            for column in header.indices { try builders[column].append(cell(record[column])) }
        }
        return DataFrame(columns: builders.map { $0.build() }, rowCount: records.count)
    }

    /// The cells `pandas.read_csv` reads as missing, except `NaN`, which is how a CSV writes
    /// a float that is not a number on purpose and is kept as one.
    static let missingMarkers: Set<String> = ["", "NA", "N/A", "n/a", "NULL", "null", "None", "<NA>", "#N/A", "#NA", "#N/A N/A"]

    static func cell(_ text: String) -> JSONValue {
        if missingMarkers.contains(text) { return .null }
        if let value = Double(text), text.first != "+" || text.count > 1 {
            switch text.lowercased() {
            case "nan", "-nan", "+nan": return .number(.nan, raw: "NaN")
            case "inf", "+inf", "infinity", "+infinity": return .number(.infinity, raw: "Infinity")
            case "-inf", "-infinity": return .number(-.infinity, raw: "-Infinity")
            default: return .number(value, raw: text)
            }
        }
        switch text {
        case "True", "TRUE", "true": return .bool(true)
        case "False", "FALSE", "false": return .bool(false)
        default: return .string(text)
        }
    }

    /// Parses a whole CSV body with a header row.
    public static func parseDocument(_ bytes: some Sequence<UInt8>) throws(CairnError) -> DataFrame {
        var parser = CSVParser()
        var records = try parser.feed(bytes)
        if let last = try parser.finish() { records.append(last) }
        guard let header = records.first else { throw CairnError(.badRequest, "CSV input has no header row.") }
        return try frame(header: header, records: Array(records.dropFirst()))
    }
}
