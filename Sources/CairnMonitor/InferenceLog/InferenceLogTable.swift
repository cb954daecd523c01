import CairnCore
import CairnTabular

/// The inference log as one table a spreadsheet or pandas reads directly: one row per scored
/// row with `request_id, timestamp_ms, model, version, status, latency_us, row`, a column
/// per feature (in first-seen order; a positional request's columns by the reference's
/// feature order when it fits, else `0`, `1`, …), a column per output named as `cairn
/// predict` names them (`PredictionColumns`; an Open Inference output by its name,
/// `<name>_<i>` when wider than one) and `feedback_label` from feedback. A request that
/// was refused or cannot be read back is one row with its status and empty cells; a
/// sampled record gives the rows it kept, each with its original index.
struct InferenceLogTable {
    static let fixed = ["request_id", "timestamp_ms", "model", "version", "status", "latency_us", "row"]

    struct Request {
        var entry: InferenceLogEntry
        /// Cells by column name, one array entry per row; empty when the request has no rows.
        var features: [(name: String, cells: [String])] = []
        var outputs: [(name: String, cells: [String])] = []
        var rows = 0
    }

    var requests: [Request] = []
    var featureNames: [String] = []
    var outputNames: [String] = []
    let labels: [String: [JSONValue]]

    /// With `featureNames` and `outputNames` (a chunk of a streamed export, whose columns
    /// were found over the whole export first), those are the columns.
    init(
        _ entries: [InferenceLogEntry], labels: [String: [JSONValue]], positionalNames: [String: [String]], featureNames: [String]? = nil,
        outputNames: [String]? = nil
    ) {
        self.labels = labels
        var seenFeatures: Set<String> = featureNames.map(Set.init) ?? []
        var seenOutputs: Set<String> = outputNames.map(Set.init) ?? []
        self.featureNames = featureNames ?? []
        self.outputNames = outputNames ?? []
        for entry in entries {
            var request = Request(entry: entry)
            if entry.succeeded, let (frame, positional) = MonitorWindow.decode(entry.inputs) {
                let names = positionalNames[InferenceLogExportFormat.referenceKey(model: entry.model, version: entry.version)]
                let named = positional ? MonitorWindow.named(frame, names) ?? frame : frame
                request.rows = named.rowCount
                request.features = named.columns.map { ($0.name, Self.cells($0)) }
                request.outputs = Self.outputs(entry.outputs, rows: named.rowCount) ?? []
            }
            for (name, _) in request.features where seenFeatures.insert(name).inserted { self.featureNames.append(name) }
            for (name, _) in request.outputs where seenOutputs.insert(name).inserted { self.outputNames.append(name) }
            requests.append(request)
        }
    }

    func csv(header: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        // Not `label`: a classifier's output is often named that.
        for (index, name) in (header ? Self.fixed + featureNames + outputNames + ["feedback_label"] : []).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.field(Array(name.utf8), to: &out)
        }
        if header { out.append(UInt8(ascii: "\n")) }
        for request in requests {
            let entry = request.entry
            let features = Dictionary(request.features, uniquingKeysWith: { first, _ in first })
            let outputs = Dictionary(request.outputs, uniquingKeysWith: { first, _ in first })
            let sampled = entry.rowIndexes.flatMap { $0.count == request.rows ? $0 : nil }
            let requestLabels = labels[entry.requestID]
            for row in 0..<max(1, request.rows) {
                let index: Int? = request.rows == 0 ? nil : sampled?[row] ?? row
                var cells = [
                    entry.requestID, String(entry.timestamp), entry.model, entry.version, String(entry.status),
                    String(entry.latencyMicroseconds), index.map(String.init) ?? "",
                ]
                for name in featureNames { cells.append(request.rows == 0 ? "" : features[name]?[row] ?? "") }
                for name in outputNames { cells.append(request.rows == 0 ? "" : outputs[name]?[row] ?? "") }
                if let index, let requestLabels, index < requestLabels.count {
                    cells.append(Self.text(requestLabels[index]))
                } else {
                    cells.append("")
                }
                for (position, cell) in cells.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    Self.field(Array(cell.utf8), to: &out)
                }
                out.append(UInt8(ascii: "\n"))
            }
        }
        return out
    }

    /// Cells as pandas writes them (booleans as True/False, infinities as `inf`), except that
    /// a NaN the client sent is written `NaN` and only a missing value (null, an absent key,
    /// an empty cell) is empty: pandas' `read_csv` reads both as NaN, as it does from
    /// `to_csv`'s empty cells, while Cairn's CSV reader (`cairn predict`, references) keeps
    /// them apart as it did in the request, where a missing value is refused and a NaN is not.
    static func cells(_ column: Column) -> [String] {
        var cells: [String] =
            switch column.values {
            case .double(let v): v.map { $0.isNaN ? "NaN" : "\($0)" }
            case .int64(let v): v.map { String($0) }
            case .bool(let v): v.map { $0 ? "True" : "False" }
            case .string(let v): v.map { $0 ?? "" }
            }
        for row in column.missing where cells.indices.contains(row) { cells[row] = "" }
        return cells
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .number(_, let raw): return raw
        case .string(let text): return text
        case .bool(let flag): return flag ? "True" : "False"
        case .null: return ""
        case .array, .object:
            var writer = JSONWriter()
            writer.value(value)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
    }

    /// The response's per-row columns: MLflow's `predictions` or the Open Inference
    /// Protocol's output tensors; nil when they do not have one entry per row.
    static func outputs(_ bytes: ArraySlice<UInt8>, rows: Int) -> [(name: String, cells: [String])]? {
        guard rows > 0, let document = try? JSONValue.parse(bytes) else { return nil }
        if case .array(let predictions)? = document["predictions"], predictions.count == rows {
            var columns: [(name: String, cells: [String])] = []
            var position: [String: Int] = [:]
            for (row, prediction) in predictions.enumerated() {
                for (name, value) in PredictionColumns.cells(prediction) {
                    if position[name] == nil {
                        position[name] = columns.count
                        columns.append((name, [String](repeating: "", count: rows)))
                    }
                    columns[position[name]!].cells[row] = text(value)
                }
            }
            return columns
        }
        guard case .array(let tensors)? = document["outputs"] else { return nil }
        var columns: [(name: String, cells: [String])] = []
        for tensor in tensors {
            guard case .string(let name)? = tensor["name"], case .array(let data)? = tensor["data"],
                case .array(let shape)? = tensor["shape"],
                case .number(let first, _)? = shape.first, Int(first) == rows, data.count % rows == 0
            else { return nil }
            let width = data.count / rows
            for column in 0..<width {
                columns.append((width == 1 ? name : "\(name)_\(column)", (0..<rows).map { text(data[$0 * width + column]) }))
            }
        }
        return columns
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
    static func field(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}
