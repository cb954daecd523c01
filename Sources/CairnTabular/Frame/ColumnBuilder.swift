import CairnCore

/// One scalar of a tabular request, as read from JSON or CSV.
enum Cell {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    /// Numbers written without a fraction or exponent (and small enough) are integers, as
    /// pandas reads them. Nil for a value that is not a scalar, or for digits too large for a
    /// double (`1e400`), which the caller refuses by name: only the words `NaN` and
    /// `Infinity` mean a non-finite number.
    init?(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .string(let text): self = .string(text)
        case .number(let number, let raw):
            if number.isFinite, abs(number) <= 9.0e15,
                !raw.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
            {
                self = .int(Int64(number))
            } else if number.isFinite || JSONValue.isNonFiniteLiteral(raw) {
                self = .double(number)
            } else {
                return nil
            }
        case .array, .object:
            return nil
        }
    }
}

/// Accumulates one column's cells and settles its type the way pandas does when it builds
/// a frame from JSON: all integers → int64, any fraction → double, all bools → bool, any
/// text → string (object). Nulls become NaN in numeric columns and nil in text ones.
public struct ColumnBuilder {
    let name: String
    /// The index of this column's first cell in the whole input, for error messages when a
    /// frame is one chunk of a file.
    private let firstRow: Int
    private var cells: [Cell] = []
    private var missing: [Int] = []
    private var sawFraction = false
    private var sawInteger = false
    private var sawBool = false
    private var sawString = false
    private var sawNull = false

    public init(name: String, capacity: Int = 0, firstRow: Int = 0) {
        self.name = name
        self.firstRow = firstRow
        cells.reserveCapacity(capacity)
    }

    public mutating func append(_ value: JSONValue) throws(CairnError) {
        guard let cell = Cell(value) else {
            let row = firstRow + cells.count
            if case .number(_, let raw) = value {
                throw CairnError(
                    .invalidParameterValue, "Column '\(name)' at row \(row): \(raw.prefix(40)) is out of range for a 64-bit float.")
            }
            throw CairnError(.badRequest, "Column '\(name)' at row \(row) holds a nested value; Cairn scores flat tabular rows only.")
        }
        append(cell)
    }

    mutating func append(_ cell: Cell) {
        switch cell {
        case .null:
            sawNull = true
            missing.append(cells.count)
        case .bool: sawBool = true
        case .string: sawString = true
        case .int: sawInteger = true
        case .double: sawFraction = true
        }
        cells.append(cell)
    }

    public func build() -> Column {
        Column(name: name, values: settledValues(), missing: missing)
    }

    private func settledValues() -> ColumnValues {
        if sawString || (sawBool && (sawInteger || sawFraction)) {
            return .string(
                cells.map { cell in
                    switch cell {
                    case .string(let text): text
                    case .int(let value): String(value)
                    case .double(let value): String(value)
                    case .bool(let flag): flag ? "True" : "False"
                    case .null: nil
                    }
                })
        }
        if sawBool && !sawNull {
            return .bool(cells.map { if case .bool(let flag) = $0 { flag } else { false } })
        }
        if sawInteger && !sawFraction && !sawNull && !sawBool {
            return .int64(cells.map { if case .int(let value) = $0 { value } else { 0 } })
        }
        return .double(
            cells.map { cell in
                switch cell {
                case .double(let value): value
                case .int(let value): Double(value)
                case .bool(let flag): flag ? 1 : 0
                default: .nan
                }
            })
    }
}
