import CairnCore

/// A parsed `/invocations` request: the rows, whether their columns were named or only
/// positional, and the `params` passed through to the model.
public struct ScoringRequest: Sendable {
    public var frame: DataFrame
    /// True when the client sent no column names (`dataframe_split` without `columns`,
    /// `instances`/`inputs` as lists of rows, headerless data): columns are matched to the
    /// signature by position.
    public var positional: Bool
    public var params: [String: JSONValue]

    public static let inputKeys = ["dataframe_split", "dataframe_records", "instances", "inputs"]

    public init(frame: DataFrame, positional: Bool, params: [String: JSONValue]) {
        self.frame = frame
        self.positional = positional
        self.params = params
    }

    /// A CSV body with a header row (MLflow's `text/csv`); `textColumns` stay text (see
    /// `CSVParser.frame`).
    public static func parseCSV(_ bytes: some Sequence<UInt8>, textColumns: Set<String> = []) throws(CairnError) -> ScoringRequest {
        ScoringRequest(frame: try CSVParser.parseDocument(bytes, textColumns: textColumns), positional: false, params: [:])
    }

    /// Parses MLflow's JSON scoring body. Errors carry MLflow's codes and wording so a client
    /// written against `mlflow models serve` sees the same failures.
    public static func parseJSON(_ bytes: some Collection<UInt8>) throws(CairnError) -> ScoringRequest {
        if let request = ScoringBodyReader.read(bytes) { return request }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw CairnError(.badRequest, "Invalid input. Ensure that input is a valid JSON formatted string. Error: \(error)")
        }
        guard case .object(let fields) = document else {
            throw CairnError(
                .badRequest,
                "The input must be a JSON dictionary with exactly one of the input fields \(formatKeys(inputKeys)). Received a \(kind(of: document))."
            )
        }
        let present = fields.keys.filter { $0 != "params" }.sorted()
        guard present.count == 1, let key = present.first, inputKeys.contains(key), let payload = fields[key] else {
            throw CairnError(
                .badRequest,
                "The input must be a JSON dictionary with exactly one of the input fields \(formatKeys(inputKeys)). Received dictionary with input fields: \(formatKeys(present))."
            )
        }
        var params: [String: JSONValue] = [:]
        // A null `params` is no params, as MLflow reads it.
        if let given = fields["params"], given != .null {
            guard case .object(let values) = given else {
                throw CairnError(.badRequest, "'params' must be a JSON object.")
            }
            params = values.dictionary
        }
        let (frame, positional) = try decode(key: key, payload: payload)
        return ScoringRequest(frame: frame, positional: positional, params: params)
    }

    static func decode(key: String, payload: JSONValue) throws(CairnError) -> (DataFrame, Bool) {
        switch key {
        case "dataframe_split":
            guard case .object(let split) = payload else {
                throw CairnError(.badRequest, "'dataframe_split' must be an object with 'columns' and 'data'.")
            }
            guard case .array(let rows)? = split["data"] else {
                throw CairnError(.badRequest, "'dataframe_split' needs a 'data' list of rows.")
            }
            var names: [String]? = nil
            if let given = split["columns"] {
                guard case .array(let list) = given else {
                    throw CairnError(.badRequest, "'dataframe_split.columns' must be a list of column names.")
                }
                names = try list.map { value throws(CairnError) in try columnName(value) }
                try DataFrame.refuseDuplicateNames(names!, in: "'dataframe_split.columns'")
            }
            if let index = split["index"], index != .null {
                guard case .array(let labels) = index, labels.count == rows.count else {
                    throw CairnError(
                        .badRequest, "'dataframe_split.index' must be a list with one label per row of 'data' (\(rows.count)).")
                }
            }
            return try fromRows(rows, names: names)
        case "dataframe_records":
            guard case .array(let records) = payload else {
                throw CairnError(.badRequest, "'dataframe_records' must be a list of objects.")
            }
            return (try fromRecords(records), false)
        default:
            // `instances` and `inputs` (TF-serving): a list of rows, a list of records, a
            // dict of columns, or a list of scalars (one unnamed column).
            switch payload {
            case .object(let columns):
                return (try fromColumns(columns), false)
            case .array(let items):
                if let first = items.first, case .object = first { return (try fromRecords(items), false) }
                if let first = items.first, case .array = first { return try fromRows(items, names: nil) }
                var builder = ColumnBuilder(name: "0", capacity: items.count)
                for item in items { try builder.append(item) }
                return (DataFrame(columns: [builder.build()], rowCount: items.count), true)
            default:
                throw CairnError(.badRequest, "'\(key)' must be a list of rows or an object of columns.")
            }
        }
    }

    static func fromRows(_ rows: [JSONValue], names: [String]?) throws(CairnError) -> (DataFrame, Bool) {
        let width: Int
        if let names { width = names.count } else if case .array(let first)? = rows.first { width = first.count } else { width = 0 }
        var builders = (0..<width).map { ColumnBuilder(name: names?[$0] ?? String($0), capacity: rows.count) }
        for (index, row) in rows.enumerated() {
            guard case .array(let cells) = row else {
                throw CairnError(.badRequest, "Row \(index) is not a list.")
            }
            guard cells.count == width else {
                throw CairnError(.badRequest, "Row \(index) has \(cells.count) values; expected \(width).")
            }
            for column in 0..<width { try builders[column].append(cells[column]) }
        }
        return (DataFrame(columns: builders.map { $0.build() }, rowCount: rows.count), names == nil)
    }

    static func fromRecords(_ records: [JSONValue]) throws(CairnError) -> DataFrame {
        // Columns in the order their keys were first sent, as pandas orders them: for a model
        // whose signature names no columns that order is the feature order. A key missing
        // from a record is a missing value.
        var order: [String] = []
        var seen: Set<String> = []
        for (index, record) in records.enumerated() {
            guard case .object(let fields) = record else {
                throw CairnError(.badRequest, "Record \(index) is not an object.")
            }
            for key in fields.keys where !seen.contains(key) {
                seen.insert(key)
                order.append(key)
            }
        }
        var builders = order.map { ColumnBuilder(name: $0, capacity: records.count) }
        for record in records {
            guard case .object(let fields) = record else { continue }
            for index in builders.indices { try builders[index].append(fields[builders[index].name] ?? .null) }
        }
        return DataFrame(columns: builders.map { $0.build() }, rowCount: records.count)
    }

    static func fromColumns(_ columns: JSONObject) throws(CairnError) -> DataFrame {
        var built: [Column] = []
        var rowCount: Int? = nil
        for (name, value) in columns {
            var builder = ColumnBuilder(name: name)
            switch value {
            case .array(let cells):
                for cell in cells { try builder.append(cell) }
                if let rowCount, rowCount != cells.count {
                    throw CairnError(.badRequest, "Column '\(name)' has \(cells.count) values; other columns have \(rowCount).")
                }
                rowCount = cells.count
            case let scalar:
                try builder.append(scalar)
                if let rowCount, rowCount != 1 {
                    throw CairnError(.badRequest, "Column '\(name)' has 1 value; other columns have \(rowCount).")
                }
                rowCount = 1
            }
            built.append(builder.build())
        }
        return DataFrame(columns: built, rowCount: rowCount ?? 0)
    }

    static func columnName(_ value: JSONValue) throws(CairnError) -> String {
        switch value {
        case .string(let name): name
        case .number(_, let raw): raw
        default: throw CairnError(.badRequest, "Column names must be strings.")
        }
    }

    public static func formatKeys(_ keys: [String]) -> String {
        "[" + keys.map { "'\($0)'" }.joined(separator: ", ") + "]"
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .array: "list"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        case .object: "dictionary"
        }
    }
}
