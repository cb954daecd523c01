import CairnCore

/// Accumulates one column's JSON cells and settles its type the way pandas does when it
/// builds a frame from JSON: all integers → int64, any fraction → double, all bools → bool,
/// any text → string (object). Nulls become NaN in numeric columns and nil in text ones.
struct ColumnBuilder {
    let name: String
    private var cells: [JSONValue] = []
    private var sawFraction = false
    private var sawInteger = false
    private var sawBool = false
    private var sawString = false
    private var sawNull = false

    init(name: String, capacity: Int = 0) {
        self.name = name
        cells.reserveCapacity(capacity)
    }

    mutating func append(_ cell: JSONValue) throws(CairnError) {
        switch cell {
        case .null: sawNull = true
        case .bool: sawBool = true
        case .string: sawString = true
        case .number(let value, let raw):
            if !value.isFinite || raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) || abs(value) > 9.0e15 {
                sawFraction = true
            } else {
                sawInteger = true
            }
        case .array, .object:
            throw CairnError(.badRequest, "Column '\(name)' holds a nested value; Cairn scores flat tabular rows only.")
        }
        cells.append(cell)
    }

    func build() -> Column {
        Column(name: name, values: settledValues())
    }

    private func settledValues() -> ColumnValues {
        if sawString || (sawBool && (sawInteger || sawFraction)) {
            return .string(cells.map { cell in
                switch cell {
                case .string(let text): text
                case .number(_, let raw): raw
                case .bool(let flag): flag ? "True" : "False"
                default: nil
                }
            })
        }
        if sawBool && !sawNull {
            return .bool(cells.map { if case .bool(let flag) = $0 { flag } else { false } })
        }
        if sawInteger && !sawFraction && !sawNull && !sawBool {
            return .int64(cells.map { if case .number(let value, _) = $0 { Int64(value) } else { 0 } })
        }
        return .double(cells.map { cell in
            switch cell {
            case .number(let value, _): value
            case .bool(let flag): flag ? 1 : 0
            default: .nan
            }
        })
    }
}
