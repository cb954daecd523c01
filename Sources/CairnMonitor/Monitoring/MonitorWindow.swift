import CairnCore
import CairnStatistics
import CairnTabular

/// One prediction as a monitor reads it back from a logged response.
public struct LoggedPrediction: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case number(Double)
        case text(String)
    }

    public var value: Value
    /// The positive class's probability, when the output carried one (a two-class
    /// probability vector).
    public var score: Double?

    /// The class as text: integral numbers without a fraction, so `1`, `1.0` and `"1"` agree.
    public var label: String {
        switch value {
        case .text(let text): text
        case .number(let number): LoggedPrediction.format(number)
        }
    }

    static func format(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }
}

/// The rows of a window of logged traffic, decoded back into feature columns and predictions,
/// with the request each row came from so ground truth can be joined on.
public struct MonitorWindow: Sendable {
    /// The records read, their rows released: the per-record and per-request fields below are
    /// read from it when asked for, so a window of a million one-row requests holds no
    /// million entries, id strings or dictionary keys unless a caller needs them.
    var source: LoggedWindow
    /// The window's records are `source`'s from this position on (whole requests, newest kept).
    var firstKept: Int
    /// Per request that gave the window rows, oldest first: its record (a block of `source`
    /// and an index in it), the rows its feedback must label, and the rows it has here.
    var rowSourceBlocks: [Int] = []
    var rowSourceIndexes: [Int] = []
    var labelRows: [Int] = []
    var windowRows: [Int] = []

    /// Every logged request in the window, errors included (oldest first), without their
    /// payload: built on each access.
    public var entries: [InferenceLogEntry] { source.metadata(positions: firstKept..<source.count) }
    /// Feature name → cells, one per row of the successful requests.
    public var columns: [String: WindowColumn]
    /// One per row; nil where the response could not be read back.
    public var predictions: [LoggedPrediction?]
    /// Each row's request id: built on each access.
    public var rowRequestIDs: [String] {
        var ids: [String] = []
        ids.reserveCapacity(rowCount)
        let requestIDs = rowSourceRequestIDs
        for (id, rows) in zip(requestIDs, windowRows) {
            if rows == 1 { ids.append(id) } else { ids.append(contentsOf: repeatElement(id, count: rows)) }
        }
        return ids
    }
    /// Each row's index within its request (the original index for a sampled record), for
    /// joining per-row labels.
    public var rowIndexes: [Int]
    /// The rows each request in the window carried, sampled-out rows included: what a
    /// request's feedback must hold one label each for. Built on each access.
    public var requestRows: [String: Int] {
        var rows: [String: Int] = [:]
        rows.reserveCapacity(labelRows.count)
        for (id, count) in zip(rowSourceRequestIDs, labelRows) { rows[id, default: 0] += count }
        return rows
    }
    /// Requests whose inputs could not be read back (a positional body with no names to give
    /// its columns, a foreign format).
    public var unreadableRequests: Int
    /// Successful requests left undecoded to bound memory: their payload was not read
    /// (`InferenceLogQuery.maxPayloadBytes`) or the window already held `maxRows` rows.
    public var undecodedRequests: Int

    public var rowCount: Int { rowIndexes.count }

    /// The requests in the window, errors included.
    public var requestCount: Int { source.count - firstKept }
    public var firstTimestamp: Int64? { requestCount > 0 ? source.timestamp(firstKept) : nil }
    public var lastTimestamp: Int64? { requestCount > 0 ? source.timestamp(source.count - 1) : nil }
    /// The request id of every request in the window, oldest first.
    public var requestIDs: [String] { source.values(firstKept..<source.count, \.requestIDs, \.requestID) }
    /// Every request's status and latency, oldest first: what the service statistics read.
    public var statuses: [Int] { source.values(firstKept..<source.count, \.statuses, \.status) }
    public var latencies: [Int64] { source.values(firstKept..<source.count, \.latencies, \.latencyMicroseconds) }

    /// The ids of the requests that gave the window rows, oldest first (an id logged for
    /// several requests appears once for each): what feedback is looked up for.
    public var rowSourceRequestIDs: [String] {
        var ids: [String] = []
        ids.reserveCapacity(rowSourceBlocks.count)
        var cachedBlock = -1
        var cached: [String] = []
        for (block, index) in zip(rowSourceBlocks, rowSourceIndexes) {
            if block != cachedBlock {
                cached = source.blocks[block].requestIDs
                cachedBlock = block
            }
            ids.append(cached[index])
        }
        return ids
    }

    /// Decodes `entries`; with `rowLimit` only the newest requests that together carry that
    /// many rows are kept (whole requests, so the window may hold a few more rows). A
    /// positional request's columns take `positionalNames` when it has that many columns.
    /// `maxRows` bounds the rows decoded without dropping the older entries from the
    /// service statistics.
    public init(entries: [InferenceLogEntry], rowLimit: Int? = nil, positionalNames: [String]? = nil, maxRows: Int? = nil) {
        self.init(LoggedWindow(entries: entries), rowLimit: rowLimit, positionalNames: positionalNames, maxRows: maxRows)
    }

    /// The rows a logged request carried, as feedback must label them: the count a sampled
    /// record kept, else the response's predictions, else the decoded inputs; nil for a
    /// request that was not scored or cannot be read back.
    static func rows(of entry: InferenceLogEntry) -> Int? {
        guard entry.succeeded else { return nil }
        if let rowCount = entry.rowCount { return rowCount }
        return predictions(entry.outputs)?.count ?? decode(entry.inputs)?.frame.rowCount
    }

    /// The window's column for a reference feature, typed like the reference; nil when no
    /// request carried it.
    public func featureColumn(_ name: String, kind: FeatureProfile.Kind) -> FeatureColumn? {
        guard let column = columns[name] else { return nil }
        switch kind {
        case .numeric: return .numeric(column.numbers)
        case .categorical: return .categorical(column.texts ?? column.numbers.map { $0.isNaN ? nil : LoggedPrediction.format($0) })
        }
    }

    /// The predictions as a column typed like the reference's prediction profile.
    public func predictionColumn(kind: FeatureProfile.Kind) -> FeatureColumn {
        switch kind {
        case .numeric:
            .numeric(
                predictions.map { prediction in
                    switch prediction?.value {
                    case .number(let value): value
                    case .text(let text): Double(text) ?? .nan
                    case nil: .nan
                    }
                })
        case .categorical:
            .categorical(predictions.map { $0?.label })
        }
    }

    // MARK: - Decoding logged bodies

    /// The rows of a logged request: MLflow's JSON formats, a CSV body (logged as a JSON
    /// string), or an Open Inference Protocol request with one tensor per column. A
    /// positional request's columns take `positionalNames` when it has that many columns.
    static func frame(_ inputs: ArraySlice<UInt8>, positionalNames: [String]? = nil) -> DataFrame? {
        guard let (frame, positional) = decode(inputs) else { return nil }
        return positional ? named(frame, positionalNames) : frame
    }

    /// The rows of a logged request as sent, and whether its columns are positional (then
    /// named "0", "1", … in order, as pandas names them).
    static func decode(_ inputs: ArraySlice<UInt8>) -> (frame: DataFrame, positional: Bool)? {
        guard let first = inputs.first(where: { $0 > 0x20 }) else { return nil }
        if first == UInt8(ascii: "\"") {
            guard case .string(let csv)? = try? JSONValue.parse(inputs), let request = try? ScoringRequest.parseCSV(Array(csv.utf8)) else {
                return nil
            }
            return (request.frame, false)
        }
        if let request = try? ScoringRequest.parseJSON(inputs) {
            return (request.frame, request.positional)
        }
        return openInferenceFrame(inputs)
    }

    /// A positional frame with its columns named in order, or nil when the names don't fit.
    static func named(_ frame: DataFrame?, _ names: [String]?) -> DataFrame? {
        guard let frame, let names, names.count == frame.columns.count else { return nil }
        return DataFrame(
            columns: zip(names, frame.columns).map { Column(name: $0, values: $1.values, missing: $1.missing) }, rowCount: frame.rowCount)
    }

    static func openInferenceFrame(_ inputs: ArraySlice<UInt8>) -> (frame: DataFrame, positional: Bool)? {
        guard let request = try? InferenceRequest.parse(inputs), !request.inputs.isEmpty else { return nil }
        // One `[rows, features]` tensor: the features in order, as the model reads them.
        if request.inputs.count == 1, let input = request.inputs.first, input.shape.count == 2, input.shape[1] > 1 {
            guard let frame = try? input.positionalFrame() else { return nil }
            return (frame, true)
        }
        var columns: [Column] = []
        var rows: Int?
        for input in request.inputs {
            // Only one value per row (shape [n] or [n, 1]) is a column a reference can hold.
            guard let n = input.shape.first, input.shape.dropFirst().allSatisfy({ $0 == 1 }), input.data.count == n else { return nil }
            if let rows, rows != n { return nil }
            rows = n
            var builder = ColumnBuilder(name: input.name, capacity: n)
            for value in input.data {
                guard (try? builder.append(value)) != nil else { return nil }
            }
            columns.append(builder.build())
        }
        return (DataFrame(columns: columns, rowCount: rows ?? 0), false)
    }

    /// The predictions of a logged response: MLflow's `{"predictions": [...]}` (scalars,
    /// probability vectors or records) or an OIP response's first output.
    static func predictions(_ outputs: ArraySlice<UInt8>) -> [LoggedPrediction?]? {
        guard let document = try? JSONValue.parse(outputs) else { return nil }
        if case .array(let values)? = document["predictions"] {
            return values.map(prediction)
        }
        if case .array(let tensors)? = document["outputs"], let first = tensors.first,
            case .array(let data)? = first["data"], case .array(let shape)? = first["shape"]
        {
            let dims = shape.compactMap { value -> Int? in if case .number(let n, _) = value { return Int(n) } else { return nil } }
            guard let rows = dims.first, rows > 0, data.count % rows == 0 else { return nil }
            let width = data.count / rows
            return (0..<rows).map { row in
                width == 1 ? prediction(data[row]) : prediction(.array(Array(data[row * width..<(row + 1) * width])))
            }
        }
        return nil
    }

    /// The second class's probability of a two-class vector or class → probability object.
    static func positiveScore(_ probabilities: JSONValue) -> Double? {
        let values: [JSONValue]
        switch probabilities {
        case .array(let items): values = items
        case .object(let byClass): values = byClass.values
        default: return nil
        }
        guard values.count == 2, case .number(let score, _) = values[1] else { return nil }
        return score
    }

    static func prediction(_ value: JSONValue) -> LoggedPrediction? {
        switch value {
        case .number(let number, _): return LoggedPrediction(value: .number(number))
        case .string(let text): return LoggedPrediction(value: .text(text))
        case .bool(let flag): return LoggedPrediction(value: .text(flag ? "True" : "False"))
        case .array(let items):
            // A probability vector: the class is its argmax; with two classes the second
            // entry is the positive class's score.
            let numbers = items.compactMap { item -> Double? in if case .number(let n, _) = item { return n } else { return nil } }
            guard numbers.count == items.count, let best = numbers.indices.max(by: { numbers[$0] < numbers[$1] }) else {
                return items.count == 1 ? prediction(items[0]) : nil
            }
            if numbers.count == 1 { return LoggedPrediction(value: .number(numbers[0])) }
            return LoggedPrediction(value: .number(Double(best)), score: numbers.count == 2 ? numbers[1] : nil)
        case .object(let fields):
            // A record: its `prediction`/`label` field, else its only field. A native
            // classifier's record carries its probabilities beside the label (a vector, or a
            // ZipMap's class → probability object): with two classes, the second is the score.
            if let named = fields["prediction"] ?? fields["label"] ?? fields["output_label"] {
                guard var found = prediction(named) else { return nil }
                if found.score == nil, let probabilities = fields["probabilities"] ?? fields["output_probability"] {
                    found.score = positiveScore(probabilities)
                }
                return found
            }
            guard fields.count == 1, let only = fields.values.first else { return nil }
            return prediction(only)
        case .null:
            return nil
        }
    }
}

/// One feature's cells across a window, kept as numbers (NaN where missing or not numeric)
/// and, once any cell is text or boolean, as text too: a million rows cost 8 bytes a cell,
/// not a boxed JSON value.
public struct WindowColumn: Sendable, Equatable {
    public private(set) var numbers: [Double]
    public private(set) var texts: [String?]?

    init(nulls: Int) {
        numbers = [Double](repeating: .nan, count: nulls)
    }

    public var count: Int { numbers.count }

    mutating func reserve(_ count: Int) {
        numbers.reserveCapacity(count)
    }

    mutating func appendNulls(_ count: Int) {
        numbers.append(contentsOf: repeatElement(.nan, count: count))
        texts?.append(contentsOf: repeatElement(nil, count: count))
    }

    /// Appends `values` to the texts, first writing the numbers so far as text if the
    /// column had none (a text or boolean cell after numeric ones). Call before appending the
    /// same cells' numbers.
    private mutating func appendTexts(_ values: some Collection<String?>) {
        var kept = texts.take() ?? numbers.map { $0.isNaN ? nil : LoggedPrediction.format($0) }
        kept.append(contentsOf: values)
        texts = kept
    }

    /// Appends `range` of `cells`, typed as the request sent them.
    mutating func append(_ cells: LoggedRecords.Cells, _ range: Range<Int>) {
        switch cells.kind {
        case .double:
            let v = cells.doubles[range]
            numbers.append(contentsOf: v)
            texts?.append(contentsOf: v.map { $0.isNaN ? nil : LoggedPrediction.format($0) })
        case .int64:
            let v = cells.ints[range]
            numbers.append(contentsOf: v.map(Double.init))
            texts?.append(contentsOf: v.map { String($0) })
        case .bool:
            let v = cells.bools[range]
            appendTexts(v.map { flag -> String? in flag ? "True" : "False" })
            numbers.append(contentsOf: v.map { $0 ? 1 : 0 })
        case .string:
            let v = cells.strings[range]
            appendTexts(v)
            numbers.append(contentsOf: v.map { $0.flatMap(Double.init) ?? .nan })
        }
    }
}
