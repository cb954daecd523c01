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

    /// The UTF-8 byte-order mark Excel's "CSV UTF-8" puts before the header.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Consumes `bytes` and returns the records completed by them. A byte-order mark at the
    /// very start of the input (in its first chunk) is skipped, so it never becomes part of the
    /// first column's name.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(CairnError) -> [[String]] {
        var records: [[String]] = []
        let skip = !sawAnyByte && bytes.starts(with: Self.byteOrderMark) ? Self.byteOrderMark.count : 0
        for byte in bytes.dropFirst(skip) {
            sawAnyByte = true
            if pendingCR {
                pendingCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            if inQuotes {
                if quoteInQuoted {
                    quoteInQuoted = false
                    if byte == UInt8(ascii: "\"") {
                        field.append(byte)
                        continue
                    }
                    inQuotes = false
                    // Falls through: the byte after a closing quote is a separator or an error.
                } else if byte == UInt8(ascii: "\"") {
                    quoteInQuoted = true
                    continue
                } else {
                    field.append(byte)
                    guard field.count <= Self.maximumFieldBytes else {
                        throw CairnError(.badRequest, "CSV field longer than \(Self.maximumFieldBytes) bytes.")
                    }
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
                guard field.count <= Self.maximumFieldBytes else {
                    throw CairnError(.badRequest, "CSV field longer than \(Self.maximumFieldBytes) bytes.")
                }
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
    /// Columns named in `textColumns` (the signature's string columns) keep their cells as
    /// text, as pandas reads a CSV with the signature's dtypes: a code such as `007` or `123`
    /// stays the text it was.
    public static func frame(header: [String], records: [[String]], firstRow: Int = 0, textColumns: Set<String> = []) throws(CairnError)
        -> DataFrame
    {
        try DataFrame.refuseDuplicateNames(header, in: "the CSV header")
        var builders = header.map { ColumnBuilder(name: $0, capacity: records.count, firstRow: firstRow) }
        let isText = header.map { textColumns.contains($0) }
        for (index, record) in records.enumerated() {
            guard record.count == header.count else {
                throw CairnError(
                    .badRequest, "CSV data row \(firstRow + index) has \(record.count) fields; the header has \(header.count).")
            }
            for column in header.indices {
                let text = record[column]
                try builders[column].append(isText[column] ? (missingMarkers.contains(text) ? .null : .string(text)) : cell(text))
            }
        }
        return DataFrame(columns: builders.map { $0.build() }, rowCount: records.count)
    }

    /// The cells `pandas.read_csv` reads as missing, except `NaN`, which is how a CSV writes
    /// a float that is not a number on purpose and is kept as one.
    static let missingMarkers: Set<String> = ["", "NA", "N/A", "n/a", "NULL", "null", "None", "<NA>", "#N/A", "#NA", "#N/A N/A"]

    public static func cell(_ text: String) -> JSONValue {
        if missingMarkers.contains(text) { return .null }
        // Numbers are decimal, as pandas reads them: Swift's own parser would also take hex
        // ("0x10" → 16) and "nan(…)", which no CSV writer means. Spaces around a number are
        // ignored, as pandas ignores them.
        let number = text.trimmingASCIISpaces()
        switch number.lowercased() {
        case "nan", "-nan", "+nan": return .number(.nan, raw: "NaN")
        case "inf", "+inf", "infinity", "+infinity": return .number(.infinity, raw: "Infinity")
        case "-inf", "-infinity": return .number(-.infinity, raw: "-Infinity")
        default:
            if isDecimal(number), let value = Double(number) { return .number(value, raw: String(number)) }
        }
        switch text {
        case "True", "TRUE", "true": return .bool(true)
        case "False", "FALSE", "false": return .bool(false)
        default: return .string(text)
        }
    }

    /// An optional sign, digits with at most one point, and an optional exponent.
    static func isDecimal(_ text: Substring) -> Bool {
        var bytes = text.utf8[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        var digits = 0
        var sawPoint = false
        while let byte = bytes.first {
            if byte >= 0x30 && byte <= 0x39 {
                digits += 1
            } else if byte == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                break
            }
            bytes = bytes.dropFirst()
        }
        guard digits > 0 else { return false }
        guard let marker = bytes.first else { return true }
        guard marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") else { return false }
        bytes = bytes.dropFirst()
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        return !bytes.isEmpty && bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Parses a whole CSV body with a header row.
    public static func parseDocument(_ bytes: some Sequence<UInt8>, textColumns: Set<String> = []) throws(CairnError) -> DataFrame {
        var parser = CSVParser()
        var records = try parser.feed(bytes)
        if let last = try parser.finish() { records.append(last) }
        guard let header = records.first else { throw CairnError(.badRequest, "CSV input has no header row.") }
        return try frame(header: header, records: Array(records.dropFirst()), textColumns: textColumns)
    }
}

extension String {
    /// Without the spaces and tabs around it.
    func trimmingASCIISpaces() -> Substring {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
