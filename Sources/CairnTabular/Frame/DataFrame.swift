import CairnCore

/// A batch of rows to score, held by column.
///
/// Scoring requests arrive row-wise or column-wise in four JSON shapes and as CSV; they all
/// become this one columnar form, because both runtimes want columns: the native runtime
/// packs them into a `[rows, features]` tensor and the Python workers build a pandas frame
/// from a dict of columns. Column types follow what pandas would infer from the same JSON, so
/// a model sees the dtypes it would have seen behind `mlflow models serve`.
public struct DataFrame: Sendable, Equatable {
    public var columns: [Column]
    public private(set) var rowCount: Int

    public init(columns: [Column], rowCount: Int) {
        self.columns = columns
        self.rowCount = rowCount
    }

    public init(columns: [Column]) {
        self.columns = columns
        self.rowCount = columns.first?.values.count ?? 0
    }

    public var columnNames: [String] { columns.map(\.name) }

    public func column(named name: String) -> Column? { columns.first { $0.name == name } }

    /// Rows `range` of every column.
    public func rows(_ range: Range<Int>) -> DataFrame {
        DataFrame(
            columns: columns.map { column in
                let missing = column.missing.filter(range.contains).map { $0 - range.lowerBound }
                return Column(name: column.name, values: column.values.slice(range), missing: missing)
            }, rowCount: range.count)
    }

    /// Refuses a list of column names that holds one twice: which of the two would the model
    /// see? (MLflow refuses duplicated columns too.)
    public static func refuseDuplicateNames(_ names: some Sequence<String>, in place: String) throws(CairnError) {
        var seen: Set<String> = []
        for name in names where !seen.insert(name).inserted {
            throw CairnError(.badRequest, "Column '\(name)' appears twice in \(place).")
        }
    }

    /// Refuses a frame with a row that has no value in some column (JSON `null`, a key
    /// absent from a record, an empty CSV cell), naming the first such column and row.
    /// `firstRow` is the index of the frame's first row in the whole input, for a frame that
    /// is one chunk of a file.
    public func refuseMissingValues(firstRow: Int = 0) throws(CairnError) {
        for column in columns {
            guard let row = column.missing.first else { continue }
            let more = column.missing.count > 1 ? " (and \(column.missing.count - 1) more rows)" : ""
            throw CairnError(
                .invalidParameterValue,
                "Column '\(column.name)' has no value at row \(row + firstRow)\(more): null, an empty CSV cell or a missing key. The model needs a value in every row; send NaN for a value that is not a number, or mark the column optional (\"required\": false) in the model's signature."
            )
        }
    }

    /// The frames' rows one after another. Frames must have the same columns in the same
    /// order (every request to one model is conformed to its signature before batching);
    /// a column whose types differ between frames is widened to the common type.
    public static func concatenate(_ frames: [DataFrame]) -> DataFrame {
        guard let first = frames.first else { return DataFrame(columns: [], rowCount: 0) }
        if frames.count == 1 { return first }
        var columns: [Column] = []
        columns.reserveCapacity(first.columns.count)
        for index in first.columns.indices {
            let parts = frames.map { $0.columns[index].values }
            var missing: [Int] = []
            var offset = 0
            for frame in frames {
                missing += frame.columns[index].missing.map { $0 + offset }
                offset += frame.rowCount
            }
            columns.append(Column(name: first.columns[index].name, values: ColumnValues.concatenate(parts), missing: missing))
        }
        return DataFrame(columns: columns, rowCount: frames.reduce(0) { $0 + $1.rowCount })
    }
}

public struct Column: Sendable, Equatable {
    public var name: String
    public var values: ColumnValues
    /// Rows, in order, where the client sent no value (null, an absent key, an empty CSV
    /// cell). Their cells read as NaN or nil like pandas', but unlike a NaN the client wrote,
    /// a missing value is refused where the model needs one.
    public var missing: [Int]

    public init(name: String, values: ColumnValues, missing: [Int] = []) {
        self.name = name
        self.values = values
        self.missing = missing
    }
}

/// One column's cells. Missing numbers are NaN (as in pandas); missing strings are nil.
public enum ColumnValues: Sendable, Equatable {
    case double([Double])
    case int64([Int64])
    case bool([Bool])
    case string([String?])

    public var count: Int {
        switch self {
        case .double(let v): v.count
        case .int64(let v): v.count
        case .bool(let v): v.count
        case .string(let v): v.count
        }
    }

    /// The pandas/MLflow name of the column's type, used in schema errors.
    public var typeName: String {
        switch self {
        case .double: "double"
        case .int64: "long"
        case .bool: "boolean"
        case .string: "string"
        }
    }

    public func slice(_ range: Range<Int>) -> ColumnValues {
        switch self {
        case .double(let v): .double(Array(v[range]))
        case .int64(let v): .int64(Array(v[range]))
        case .bool(let v): .bool(Array(v[range]))
        case .string(let v): .string(Array(v[range]))
        }
    }

    /// Numbers as doubles (bools as 0/1); nil for text, which has no numeric reading.
    public var asDoubles: [Double]? {
        switch self {
        case .double(let v): v
        case .int64(let v): v.map(Double.init)
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .string: nil
        }
    }

    static func concatenate(_ parts: [ColumnValues]) -> ColumnValues {
        func all<T>(_ extract: (ColumnValues) -> [T]?) -> [T]? {
            var joined: [T] = []
            for part in parts {
                guard let values = extract(part) else { return nil }
                joined += values
            }
            return joined
        }
        if let values = all({ (part: ColumnValues) -> [Double]? in if case .double(let v) = part { return v } else { return nil } }) {
            return .double(values)
        }
        if let values = all({ (part: ColumnValues) -> [Int64]? in if case .int64(let v) = part { return v } else { return nil } }) {
            return .int64(values)
        }
        if let values = all({ (part: ColumnValues) -> [Bool]? in if case .bool(let v) = part { return v } else { return nil } }) {
            return .bool(values)
        }
        // Mixed numeric kinds widen to double; anything with text becomes text.
        if let values = all({ $0.asDoubles }) { return .double(values) }
        return .string(parts.flatMap { $0.asStrings })
    }

    /// Every cell as text, as pandas would print it into an object column.
    var asStrings: [String?] {
        switch self {
        case .string(let v): v
        case .double(let v): v.map { $0.isNaN ? nil : String($0) }
        case .int64(let v): v.map { String($0) }
        case .bool(let v): v.map { $0 ? "True" : "False" }
        }
    }
}
