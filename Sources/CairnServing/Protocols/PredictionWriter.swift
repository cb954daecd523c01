import CairnCore
import CairnONNX
import CairnTabular

/// Writes model outputs in the two wire protocols.
public enum PredictionWriter {
    /// `{"predictions": …}` for MLflow's `/invocations`.
    ///
    /// Every output of a native model is answered, as MLflow's onnx flavor answers a frame
    /// with a column per output: several outputs become records (a classifier's label beside
    /// its probabilities, a ZipMap's as a class → probability object), one output a list (a
    /// `[rows, 1]` output flattened). `params: {"outputs": [...]}` picks outputs (see
    /// `selectOutputs`). A Python worker's body is passed through as it wrote it.
    public static func mlflowBody(_ output: ModelOutput, params: [String: JSONValue] = [:]) throws(CairnError) -> [UInt8] {
        switch output {
        case .predictionsJSON(let body):
            return body
        case .values(let all):
            let values = try selectOutputs(all, params: params)
            var writer = JSONWriter(capacity: 256)
            writer.beginObject()
            writer.key("predictions")
            if values.count == 1 {
                writeColumn(values[0].value, into: &writer)
            } else {
                writeRecords(values, into: &writer)
            }
            writer.endObject()
            return writer.bytes
        }
    }

    /// The outputs named by `params["outputs"]` (one name or a list), in the model's order;
    /// all of them when it is absent. An unknown name is refused with the outputs there are.
    public static func selectOutputs(_ values: [(name: String, value: ONNXValue)], params: [String: JSONValue]) throws(CairnError) -> [(
        name: String, value: ONNXValue
    )] {
        guard let given = params["outputs"], given != .null else { return values }
        var names: [String] = []
        switch given {
        case .string(let name): names = [name]
        case .array(let items):
            for item in items {
                guard case .string(let name) = item else {
                    throw CairnError(.invalidParameterValue, "'params.outputs' must be an output name or a list of output names.")
                }
                names.append(name)
            }
        default:
            throw CairnError(.invalidParameterValue, "'params.outputs' must be an output name or a list of output names.")
        }
        let available = values.map(\.name)
        guard !names.isEmpty else {
            throw CairnError(
                .invalidParameterValue, "'params.outputs' is empty; the model's outputs are \(ScoringRequest.formatKeys(available)).")
        }
        if let unknown = names.first(where: { !available.contains($0) }) {
            throw CairnError(
                .invalidParameterValue, "The model has no output '\(unknown)'; its outputs are \(ScoringRequest.formatKeys(available)).")
        }
        return values.filter { names.contains($0.name) }
    }

    static func writeColumn(_ value: ONNXValue, into writer: inout JSONWriter) {
        switch value {
        case .tensor(let tensor):
            // [rows, 1] reads as a plain list, like sklearn's 1-D predict output.
            if tensor.shape.count == 2 && tensor.shape[1] == 1 || tensor.shape.count <= 1 {
                writer.beginArray()
                for index in 0..<tensor.count { writeElement(tensor, index, into: &writer) }
                writer.endArray()
            } else {
                writeNested(tensor, dimension: 0, offset: 0, into: &writer)
            }
        case .sequenceOfMaps(let maps):
            writeMaps(maps, into: &writer)
        }
    }

    static func writeRecords(_ values: [(name: String, value: ONNXValue)], into writer: inout JSONWriter) {
        let rows = values.map { $0.value.rowCount }.max() ?? 0
        writer.beginArray()
        for row in 0..<rows {
            writer.beginObject()
            for (name, value) in values {
                writer.key(name)
                switch value {
                case .tensor(let tensor):
                    let stride = tensor.rowStride
                    if tensor.shape.count <= 1 || stride == 1 {
                        writeElement(tensor, row, into: &writer)
                    } else {
                        writer.beginArray()
                        for index in row * stride..<(row + 1) * stride { writeElement(tensor, index, into: &writer) }
                        writer.endArray()
                    }
                case .sequenceOfMaps(let maps):
                    switch maps {
                    case .int64Keys(let rows): writeMaps(.int64Keys([rows[row]]), into: &writer, unwrapSingle: true)
                    case .stringKeys(let rows): writeMaps(.stringKeys([rows[row]]), into: &writer, unwrapSingle: true)
                    }
                }
            }
            writer.endObject()
        }
        writer.endArray()
    }

    static func writeNested(_ tensor: ONNXTensor, dimension: Int, offset: Int, into writer: inout JSONWriter) {
        writer.beginArray()
        let size = tensor.shape[dimension]
        let stride = tensor.shape[(dimension + 1)...].reduce(1, *)
        for index in 0..<size {
            if dimension == tensor.shape.count - 1 {
                writeElement(tensor, offset + index, into: &writer)
            } else {
                writeNested(tensor, dimension: dimension + 1, offset: offset + index * stride, into: &writer)
            }
        }
        writer.endArray()
    }

    static func writeElement(_ tensor: ONNXTensor, _ index: Int, into writer: inout JSONWriter) {
        switch tensor.storage {
        case .float(let v): writer.double(Double(v[index]), nonFinite: .bare)
        case .double(let v): writer.double(v[index], nonFinite: .bare)
        case .int64(let v): writer.int(v[index])
        case .int32(let v): writer.int(Int64(v[index]))
        case .string(let v): writer.string(v[index])
        case .bool(let v): writer.bool(v[index])
        case .uint8(let v): writer.int(Int64(v[index]))
        }
    }

    static func writeMaps(_ maps: ONNXMapSequence, into writer: inout JSONWriter, unwrapSingle: Bool = false) {
        switch maps {
        case .int64Keys(let rows):
            if !unwrapSingle { writer.beginArray() }
            for row in rows {
                writer.beginObject()
                for key in row.keys.sorted() {
                    writer.key(String(key))
                    writer.double(Double(row[key]!), nonFinite: .bare)
                }
                writer.endObject()
            }
            if !unwrapSingle { writer.endArray() }
        case .stringKeys(let rows):
            if !unwrapSingle { writer.beginArray() }
            for row in rows {
                writer.beginObject()
                for key in row.keys.sorted() {
                    writer.key(key)
                    writer.double(Double(row[key]!), nonFinite: .bare)
                }
                writer.endObject()
            }
            if !unwrapSingle { writer.endArray() }
        }
    }
}

extension ONNXValue {
    var rowCount: Int {
        switch self {
        case .tensor(let tensor): tensor.shape.first ?? 1
        case .sequenceOfMaps(let maps): maps.count
        }
    }
}
