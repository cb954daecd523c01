import CairnCore
import CairnTabular

extension InferenceRecord {
    /// This record with its payload brought under `maxBytes`, and how many of its rows were
    /// left out. A record within the cap is returned as it is.
    ///
    /// A scored request keeps a uniform sample of its rows (without replacement, in their
    /// original order) with their predictions, and the original index of each, so drift
    /// sees the request's distribution and per-row feedback still lines up. A request whose
    /// rows cannot be read back (a refused body, an unknown format), or whose single row is
    /// over the cap, keeps no inputs: `omittedBytes` says how much was left out.
    ///
    /// Why a cap: six scoring requests of 8–65 MB grew the log by 205 MB and every
    /// evaluation of the window decoded all of it; a monitor learns as much from a sample.
    func bounded(maxBytes: Int) -> (record: InferenceRecord, rowsOmitted: Int) {
        let size = inputs.count + outputs.count
        guard size > maxBytes else { return (self, 0) }
        if (200..<300).contains(status), let (frame, positional) = MonitorWindow.decode(inputs[...]), frame.rowCount > 1 {
            let predictions = Self.rowOutputs(outputs, rows: frame.rowCount)
            var keep = max(1, min(frame.rowCount - 1, Int(Double(frame.rowCount) * Double(maxBytes) / Double(size))))
            // Rows differ in size, so a sample sized by the average may still be over: shrink
            // it by what it overshot until it fits (a few rounds at most).
            for _ in 0..<8 {
                let indexes = Self.uniformSample(keep, of: frame.rowCount)
                var record = self
                record.inputs = Self.encode(frame, rows: indexes, positional: positional)
                record.outputs = predictions.map { $0(indexes) } ?? []
                let kept = record.inputs.count + record.outputs.count
                if kept <= maxBytes {
                    record.rowCount = frame.rowCount
                    record.rowIndexes = indexes
                    record.omittedBytes = predictions == nil && !outputs.isEmpty ? outputs.count : nil
                    return (record, frame.rowCount - keep)
                }
                guard keep > 1 else { break }
                keep = max(1, min(keep - 1, Int(Double(keep) * Double(maxBytes) / Double(kept) * 0.95)))
            }
        }
        var record = self
        record.inputs = []
        // The outputs of a refused request are its error message, worth keeping when small.
        if outputs.count > maxBytes / 2 { record.outputs = [] }
        record.omittedBytes = size - record.outputs.count
        return (record, 0)
    }

    /// `count` distinct indexes of `0..<total`, each equally likely, ascending (Knuth's
    /// selection sampling: one pass, no index table).
    static func uniformSample(_ count: Int, of total: Int) -> [Int] {
        var chosen: [Int] = []
        chosen.reserveCapacity(count)
        var generator = SystemRandomNumberGenerator()
        for index in 0..<total where chosen.count < count {
            let needed = count - chosen.count
            if Int.random(in: 0..<(total - index), using: &generator) < needed { chosen.append(index) }
        }
        return chosen
    }

    /// The rows at `rows` as a JSON scoring body that reads back the same way: named columns
    /// as `dataframe_split`, positional ones as `instances` rows.
    static func encode(_ frame: DataFrame, rows: [Int], positional: Bool) -> [UInt8] {
        var writer = JSONWriter(capacity: rows.count * frame.columns.count * 8 + 64)
        writer.beginObject()
        if positional {
            writer.key("instances")
        } else {
            writer.key("dataframe_split")
            writer.beginObject()
            writer.key("columns")
            writer.beginArray()
            for column in frame.columns { writer.string(column.name) }
            writer.endArray()
            writer.key("data")
        }
        writer.beginArray()
        for row in rows {
            writer.beginArray()
            for column in frame.columns {
                switch column.values {
                case .double(let values):
                    // NaN is pandas' missing number; JSON has null for it.
                    if values[row].isFinite { writer.double(values[row]) } else { writer.null() }
                case .int64(let values): writer.int(values[row])
                case .bool(let values): writer.bool(values[row])
                case .string(let values): if let text = values[row] { writer.string(text) } else { writer.null() }
                }
            }
            writer.endArray()
        }
        writer.endArray()
        if !positional { writer.endObject() }
        writer.endObject()
        return writer.bytes
    }

    /// A function giving the response cut down to the rows at the indexes it is passed: MLflow's
    /// `predictions` list or every OIP output tensor with one entry per row. Nil when the
    /// response has no per-row shape to cut.
    static func rowOutputs(_ outputs: [UInt8], rows: Int) -> (([Int]) -> [UInt8])? {
        guard case .object(let parsed)? = try? JSONValue.parse(outputs) else { return nil }
        if case .array(let predictions)? = parsed["predictions"], predictions.count == rows {
            return { indexes in
                var document = parsed
                document["predictions"] = .array(indexes.map { predictions[$0] })
                return Self.bytes(.object(document))
            }
        }
        guard case .array(let tensors)? = parsed["outputs"], !tensors.isEmpty else { return nil }
        var cuts: [(fields: JSONObject, data: [JSONValue], width: Int)] = []
        for tensor in tensors {
            guard case .object(let fields) = tensor, case .array(let data)? = fields["data"], case .array(let shape)? = fields["shape"],
                case .number(let first, _)? = shape.first, Int(first) == rows, rows > 0, data.count % rows == 0
            else { return nil }
            cuts.append((fields, data, data.count / rows))
        }
        return { indexes in
            var document = parsed
            document["outputs"] = .array(
                cuts.map { cut in
                    var fields = cut.fields
                    if case .array(var shape)? = fields["shape"] {
                        shape[0] = .number(Double(indexes.count), raw: String(indexes.count))
                        fields["shape"] = .array(shape)
                    }
                    fields["data"] = .array(indexes.flatMap { cut.data[($0 * cut.width)..<(($0 + 1) * cut.width)] })
                    return .object(fields)
                })
            return Self.bytes(.object(document))
        }
    }

    private static func bytes(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(value)
        return writer.bytes
    }
}
