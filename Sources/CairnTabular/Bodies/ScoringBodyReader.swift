import CairnCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the common scoring bodies (`dataframe_split`, and `instances`/`inputs` as lists of
/// rows) straight from bytes into columns, without building a JSON tree or a string per
/// number. A profile of 100-row requests showed the tree and its per-number strings taking
/// most of the time; this path avoids both.
///
/// It answers nil for anything else, or for anything malformed, and the caller falls back
/// to the general parser, which handles every shape and words the errors.
struct ScoringBodyReader {
    private var bytes: [UInt8]
    private var index = 0

    init(_ body: some Collection<UInt8>) {
        bytes = Array(body)
        // A terminator past the end, so number parsing can never read beyond the buffer.
        bytes.append(0)
    }

    private var end: Int { bytes.count - 1 }

    static func read(_ body: some Collection<UInt8>) -> ScoringRequest? {
        var reader = ScoringBodyReader(body)
        return reader.readRequest()
    }

    private mutating func readRequest() -> ScoringRequest? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var frame: (DataFrame, Bool)? = nil
        var params: [String: JSONValue] = [:]
        var sawParams = false
        if consume(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let key = readString(), consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case "dataframe_split" where frame == nil:
                guard let split = readSplit() else { return nil }
                frame = split
            case "instances" where frame == nil, "inputs" where frame == nil:
                guard let rows = readRows(names: nil) else { return nil }
                frame = (rows, true)
            case "params" where !sawParams:
                guard let value = readGeneric(), case .object(let fields) = value else { return nil }
                params = fields.dictionary
                sawParams = true
            default:
                return nil
            }
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")), let frame else { return nil }
        skipWhitespace()
        guard index == end else { return nil }
        return ScoringRequest(frame: frame.0, positional: frame.1, params: params)
    }

    private mutating func readSplit() -> (DataFrame, Bool)? {
        guard consume(UInt8(ascii: "{")) else { return nil }
        var names: [String]? = nil
        var dataRange: Range<Int>? = nil
        var indexCount: Int? = nil
        if consume(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let key = readString(), consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case "columns" where names == nil:
                guard consume(UInt8(ascii: "[")) else { return nil }
                var list: [String] = []
                if !consume(UInt8(ascii: "]")) {
                    repeat {
                        guard let name = readString() else { return nil }
                        list.append(name)
                    } while consume(UInt8(ascii: ","))
                    guard consume(UInt8(ascii: "]")) else { return nil }
                }
                // Duplicated names: the general parser words the refusal.
                guard Set(list).count == list.count else { return nil }
                names = list
            case "data" where dataRange == nil:
                // The rows are read once the column names are known, whatever the key order.
                let start = index
                guard skipValue() else { return nil }
                dataRange = start..<index
            case "index" where indexCount == nil:
                // Only its length matters: one label per row, else the general parser refuses it.
                guard let value = readGeneric(), case .array(let labels) = value else { return nil }
                indexCount = labels.count
            default:
                return nil
            }
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")), let dataRange else { return nil }
        let resume = index
        index = dataRange.lowerBound
        guard let frame = readRows(names: names), indexCount == nil || indexCount == frame.rowCount else { return nil }
        index = resume
        return (frame, names == nil)
    }

    /// A list of rows, each a list of scalars, into columns.
    private mutating func readRows(names: [String]?) -> DataFrame? {
        guard consume(UInt8(ascii: "[")) else { return nil }
        var builders: [ColumnBuilder] = names.map { $0.map { ColumnBuilder(name: $0) } } ?? []
        var rows = 0
        if !consume(UInt8(ascii: "]")) {
            repeat {
                guard consume(UInt8(ascii: "[")) else { return nil }
                var column = 0
                if !consume(UInt8(ascii: "]")) {
                    repeat {
                        guard let cell = readCell() else { return nil }
                        if rows == 0 && names == nil { builders.append(ColumnBuilder(name: String(column))) }
                        guard column < builders.count else { return nil }
                        builders[column].append(cell)
                        column += 1
                    } while consume(UInt8(ascii: ","))
                    guard consume(UInt8(ascii: "]")) else { return nil }
                }
                guard column == builders.count else { return nil }
                rows += 1
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "]")) else { return nil }
        }
        return DataFrame(columns: builders.map { $0.build() }, rowCount: rows)
    }

    // MARK: - Tokens

    private mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < end, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func readString() -> String? {
        skipWhitespace()
        guard index < end, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var cursor = start
        var escaped = false
        while cursor < end, bytes[cursor] != UInt8(ascii: "\"") {
            if bytes[cursor] == UInt8(ascii: "\\") {
                escaped = true
                cursor += 1
            } else if bytes[cursor] < 0x20 {
                return nil
            }
            cursor += 1
        }
        guard cursor < end else { return nil }
        index = cursor + 1
        if escaped {
            // Rare: let the general parser decode escapes and surrogate pairs.
            guard case .string(let text)? = try? JSONValue.parse(bytes[(start - 1)...cursor]) else { return nil }
            return text
        }
        guard let text = String(validating: bytes[start..<cursor], as: UTF8.self) else { return nil }
        return text
    }

    private mutating func readCell() -> Cell? {
        skipWhitespace()
        guard index < end else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "\""): return readString().map(Cell.string)
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        // Python's json writes these for non-finite floats, and MLflow reads them.
        case UInt8(ascii: "N"): return literal("NaN") ? .double(.nan) : nil
        case UInt8(ascii: "I"): return literal("Infinity") ? .double(.infinity) : nil
        case UInt8(ascii: "-") where bytes[index + 1] == UInt8(ascii: "I"):
            index += 1
            return literal("Infinity") ? .double(-.infinity) : nil
        default: return readNumber()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= end else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    private static let exactPowers: [Double] = (0...22).map { pow(10, Double($0)) }

    /// A JSON number. Integers (no fraction or exponent, up to 15 digits) stay integers; other
    /// numbers with at most 15 significant digits and a small exponent are computed exactly
    /// (Clinger's fast path); the rest go to `strtod`, which rounds correctly.
    private mutating func readNumber() -> Cell? {
        let start = index
        var cursor = index
        var negative = false
        if bytes[cursor] == UInt8(ascii: "-") {
            negative = true
            cursor += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var integerDigits = 0
        while cursor < end, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39 {
            if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[cursor] - 0x30) }
            if mantissa > 0 || digits > 0 { digits += 1 }
            integerDigits += 1
            cursor += 1
        }
        guard integerDigits > 0 else { return nil }
        // JSON forbids leading zeros ("01").
        if integerDigits > 1 && bytes[start + (negative ? 1 : 0)] == 0x30 { return nil }
        var isInteger = true
        if bytes[cursor] == UInt8(ascii: ".") {
            isInteger = false
            cursor += 1
            let fractionStart = cursor
            while cursor < end, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[cursor] - 0x30) }
                if mantissa > 0 || digits > 0 { digits += 1 }
                fractionDigits += 1
                cursor += 1
            }
            guard cursor > fractionStart else { return nil }
        }
        var exponent = 0
        if bytes[cursor] == UInt8(ascii: "e") || bytes[cursor] == UInt8(ascii: "E") {
            isInteger = false
            cursor += 1
            var exponentNegative = false
            if bytes[cursor] == UInt8(ascii: "+") || bytes[cursor] == UInt8(ascii: "-") {
                exponentNegative = bytes[cursor] == UInt8(ascii: "-")
                cursor += 1
            }
            let exponentStart = cursor
            while cursor < end, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39 {
                if exponent < 10_000 { exponent = exponent * 10 + Int(bytes[cursor] - 0x30) }
                cursor += 1
            }
            guard cursor > exponentStart else { return nil }
            if exponentNegative { exponent = -exponent }
        }
        index = cursor
        if isInteger && digits <= 15 {
            let value = Int64(mantissa)
            return .int(negative ? -value : value)
        }
        let scale = exponent - fractionDigits
        if digits <= 15 && abs(scale) <= 22 {
            var value = Double(mantissa)
            value = scale < 0 ? value / Self.exactPowers[-scale] : value * Self.exactPowers[scale]
            return .double(negative ? -value : value)
        }
        // The number is followed by a delimiter or the terminator, so strtod stops there.
        let value = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { strtod($0 + start, nil) }
        }
        // Digits beyond a double's range: the general parser words the refusal.
        guard value.isFinite else { return nil }
        return .double(value)
    }

    /// Skips one JSON value of any kind, checking only its bracket structure; the caller
    /// parses what it keeps properly.
    private mutating func skipValue() -> Bool {
        skipWhitespace()
        let start = index
        var depth = 0
        repeat {
            guard index < end else { return false }
            switch bytes[index] {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                index += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                index += 1
                guard depth >= 0 else { return false }
            case UInt8(ascii: "\""):
                guard readString() != nil else { return false }
            default:
                // Scalars and separators inside the value.
                let byte = bytes[index]
                if depth == 0 && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")) {
                    return index > start
                }
                index += 1
            }
            skipWhitespace()
            if depth == 0 {
                guard index < end else { return true }
                let byte = bytes[index]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") { return true }
            }
        } while true
    }

    /// One value through the general parser (for `params`).
    private mutating func readGeneric() -> JSONValue? {
        skipWhitespace()
        let start = index
        guard skipValue() else { return nil }
        return try? JSONValue.parse(bytes[start..<index])
    }
}
