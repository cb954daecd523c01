import CairnCore

/// One scalar of a tabular request, as read from JSON or CSV.
enum Cell {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    /// Numbers written without a fraction or exponent (and small enough) are integers, as
    /// pandas reads them.
    init(_ value: JSONValue) throws(CairnError) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .string(let text): self = .string(text)
        case .number(let number, let raw):
            if number.isFinite, abs(number) <= 9.0e15, !raw.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                self = .int(Int64(number))
            } else {
                self = .double(number)
            }
        case .array, .object:
            throw CairnError(.badRequest, "A nested value where a scalar was expected; Cairn scores flat tabular rows only.")
        }
    }
}

/// Accumulates one column's cells and settles its type the way pandas does when it builds
/// a frame from JSON: all integers → int64, any fraction → double, all bools → bool, any
/// text → string (object). Nulls become NaN in numeric columns and nil in text ones.
public struct ColumnBuilder {
    let name: String
    private var cells: [Cell] = []
    private var sawFraction = false
    private var sawInteger = false
    private var sawBool = false
    private var sawString = false
    private var sawNull = false

    public init(name: String, capacity: Int = 0) {
        self.name = name
        cells.reserveCapacity(capacity)
    }

    public mutating func append(_ value: JSONValue) throws(CairnError) {
        do {
            append(try Cell(value))
        } catch {
            throw CairnError(.badRequest, "Column '\(name)' holds a nested value; Cairn scores flat tabular rows only.")
        }
    }

    mutating func append(_ cell: Cell) {
        switch cell {
        case .null: sawNull = true
        case .bool: sawBool = true
        case .string: sawString = true
        case .int: sawInteger = true
        case .double: sawFraction = true
        }
        cells.append(cell)
    }

    public func build() -> Column {
        Column(name: name, values: settledValues())
    }

    private func settledValues() -> ColumnValues {
        if sawString || (sawBool && (sawInteger || sawFraction)) {
            return .string(cells.map { cell in
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
        return .double(cells.map { cell in
            switch cell {
            case .double(let value): value
            case .int(let value): Double(value)
            case .bool(let flag): flag ? 1 : 0
            default: .nan
            }
        })
    }
}
