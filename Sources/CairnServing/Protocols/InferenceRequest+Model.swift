import CairnCore
import CairnONNX
import CairnTabular
import Foundation

/// An Open Inference Protocol request as a model takes it, and its response as the model
/// answered it.
extension InferenceRequest {
    /// The request as model input: tensors when every input is one of the graph's own,
    /// else a frame (each `[rows]`/`[rows, 1]` input a column, or one `[rows, features]`
    /// input as positional columns).
    public func modelInput(for metadata: [TensorMetadata], signature: ModelSignature?, nativeTensors: Bool) throws(CairnError) -> ModelInput
    {
        let rows = inputs[0].shape.first ?? 1
        if nativeTensors {
            // An input the model does not have would be fed by position into another one: the
            // graph's inputs, or the signature's columns one input each, are the names there are.
            let columns: [String]
            if case .columns(let specs)? = signature?.inputs { columns = specs.compactMap(\.name) } else { columns = [] }
            if let unknown = inputs.first(where: { input in !metadata.contains { $0.name == input.name } && !columns.contains(input.name) })
            {
                let graph = ScoringRequest.formatKeys(metadata.map(\.name))
                let perColumn = columns.isEmpty ? "" : ", or one input per column of its signature \(ScoringRequest.formatKeys(columns))"
                throw CairnError(.badRequest, "The model has no input '\(unknown.name)'; its inputs are \(graph)\(perColumn).")
            }
        }
        if nativeTensors, inputs.allSatisfy({ input in metadata.contains { $0.name == input.name } }) {
            var tensors: [String: ONNXTensor] = [:]
            for input in inputs {
                let wanted = metadata.first { $0.name == input.name }!.datatype
                guard input.shape.first == rows else { throw CairnError(.badRequest, "Inputs disagree on the number of rows.") }
                tensors[input.name] = try tensor(input, as: wanted)
            }
            return .tensors(tensors, rows: rows)
        }
        if inputs.count == 1, inputs[0].shape.count == 2, inputs[0].shape[1] != 1 || signatureWidth(signature) == 1 {
            let frame = try inputs[0].positionalFrame()
            return .frame(try signature?.conform(frame, positional: true) ?? frame)
        }
        var columns: [Column] = []
        for input in inputs {
            guard input.shape.first == rows, input.shape.dropFirst().allSatisfy({ $0 == 1 }) else {
                throw CairnError(.badRequest, "Input '\(input.name)' must have shape [\(rows)] or [\(rows), 1] to be a column.")
            }
            var builder = ColumnBuilder(name: input.name, capacity: rows)
            for cell in input.data { try builder.append(cell) }
            columns.append(builder.build())
        }
        let frame = DataFrame(columns: columns, rowCount: rows)
        return .frame(try signature?.conform(frame, positional: false) ?? frame)
    }

    private func signatureWidth(_ signature: ModelSignature?) -> Int? {
        if case .columns(let specs)? = signature?.inputs { return specs.count }
        return nil
    }

    func tensor(_ input: Input, as datatype: String) throws(CairnError) -> ONNXTensor {
        // A tensor has no missing values: null, or digits beyond a double's range, would reach
        // the model as a NaN or an infinity the client never sent, so they are refused by
        // position. NaN and ±Infinity, bare or as proto-JSON strings, are values.
        func numbers() throws(CairnError) -> [Double] {
            var values: [Double] = []
            values.reserveCapacity(input.data.count)
            for (position, cell) in input.data.enumerated() {
                switch cell {
                case .number(let value, let raw):
                    guard value.isFinite || JSONValue.isNonFiniteLiteral(raw) else {
                        throw CairnError(
                            .badRequest, "Input '\(input.name)' element \(position): \(raw.prefix(40)) is out of range for a 64-bit float.")
                    }
                    values.append(value)
                case .bool(let flag): values.append(flag ? 1 : 0)
                case .string(let text) where JSONValue.isNonFiniteLiteral(text):
                    values.append(Double(text.replacingOccurrences(of: "Infinity", with: "inf"))!)
                case .null:
                    throw CairnError(
                        .badRequest,
                        "Input '\(input.name)' element \(position) is null; a tensor needs a value in every element (send NaN for a float that is not a number)."
                    )
                default: throw CairnError(.badRequest, "Input '\(input.name)' must hold numbers.")
                }
            }
            return values
        }
        switch datatype {
        case "FP32", "FP16":
            let values = try numbers()
            if let position = values.firstIndex(where: { $0.isFinite && abs($0) > Double(Float.greatestFiniteMagnitude) }) {
                throw CairnError(
                    .badRequest, "Input '\(input.name)' element \(position): \(values[position]) is out of range for a 32-bit float.")
            }
            return ONNXTensor(shape: input.shape, storage: .float(values.map(Float.init)))
        case "FP64": return ONNXTensor(shape: input.shape, storage: .double(try numbers()))
        case "INT64", "INT32", "INT16", "INT8", "UINT8", "UINT16", "UINT32", "UINT64":
            let values = try numbers()
            guard values.allSatisfy({ $0.isFinite && $0 == $0.rounded() && abs($0) < 9.0e18 }) else {
                throw CairnError(.badRequest, "Input '\(input.name)' must hold integers.")
            }
            return datatype == "INT32"
                ? ONNXTensor(shape: input.shape, storage: .int32(values.map { Int32(clamping: Int64($0)) }))
                : ONNXTensor(shape: input.shape, storage: .int64(values.map { Int64($0) }))
        case "BOOL":
            return ONNXTensor(shape: input.shape, storage: .bool(try numbers().map { $0 != 0 }))
        default:
            var strings: [String] = []
            for cell in input.data {
                switch cell {
                case .string(let text): strings.append(text)
                case .number(_, let raw): strings.append(raw)
                default: throw CairnError(.badRequest, "Input '\(input.name)' must hold strings.")
                }
            }
            return ONNXTensor(shape: input.shape, storage: .string(strings))
        }
    }

    /// The `infer` response body.
    public func responseBody(modelName: String, version: String, output: ModelOutput) throws(CairnError) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("model_name")
        writer.string(modelName)
        writer.key("model_version")
        writer.string(version)
        if let id {
            writer.key("id")
            writer.string(id)
        }
        writer.key("outputs")
        writer.beginArray()
        switch output {
        case .values(let values):
            if let unknown = requestedOutputs.first(where: { name in !values.contains { $0.name == name } }) {
                throw CairnError(
                    .badRequest, "The model has no output '\(unknown)'; its outputs are \(ScoringRequest.formatKeys(values.map(\.name))).")
            }
            for (name, value) in values where requestedOutputs.isEmpty || requestedOutputs.contains(name) {
                switch value {
                case .tensor(let tensor): writeTensor(name: name, tensor: tensor, into: &writer)
                case .sequenceOfMaps(let maps): writeMaps(name: name, maps: maps, into: &writer)
                }
            }
        case .predictionsJSON(let body):
            guard case .array(let predictions)? = (try? JSONValue.parse(body))?["predictions"] else {
                throw CairnError(.internalError, "The model's predictions are not a list.")
            }
            writePredictions(predictions, into: &writer)
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    func writeTensor(name: String, tensor: ONNXTensor, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("name")
        writer.string(name)
        writer.key("shape")
        writer.beginArray()
        for dim in tensor.shape { writer.int(Int64(dim)) }
        writer.endArray()
        writer.key("datatype")
        writer.string(NativeONNXRuntime.datatype(tensor.elementType))
        writer.key("data")
        writer.beginArray()
        for index in 0..<tensor.count { PredictionWriter.writeElement(tensor, index, into: &writer) }
        writer.endArray()
        writer.endObject()
    }

    /// A ZipMap's class → probability maps as an FP32 `[rows, classes]` tensor, the classes in
    /// order (numeric keys by value) and named in the output's `parameters.classes`, so an
    /// OIP client gets the probabilities as a tensor and knows which column is which class.
    func writeMaps(name: String, maps: ONNXMapSequence, into writer: inout JSONWriter) {
        let rows: Int
        let classes: [JSONValue]
        var data: [Float] = []
        switch maps {
        case .int64Keys(let all):
            let keys = Set(all.flatMap(\.keys)).sorted()
            rows = all.count
            classes = keys.map { .number(Double($0), raw: String($0)) }
            for row in all { for key in keys { data.append(row[key] ?? 0) } }
        case .stringKeys(let all):
            let keys = Set(all.flatMap(\.keys)).sorted()
            rows = all.count
            classes = keys.map { .string($0) }
            for row in all { for key in keys { data.append(row[key] ?? 0) } }
        }
        writer.beginObject()
        writer.key("name")
        writer.string(name)
        writer.key("shape")
        writer.beginArray()
        writer.int(Int64(rows))
        writer.int(Int64(classes.count))
        writer.endArray()
        writer.key("datatype")
        writer.string("FP32")
        writer.key("parameters")
        writer.beginObject()
        writer.key("classes")
        writer.value(.array(classes))
        writer.endObject()
        writer.key("data")
        writer.beginArray()
        for value in data { writer.double(Double(value), nonFinite: .bare) }
        writer.endArray()
        writer.endObject()
    }

    /// Python predictions (a JSON list) as one tensor named `predictions`.
    func writePredictions(_ predictions: [JSONValue], into writer: inout JSONWriter) {
        var flat: [JSONValue] = []
        var width: Int? = nil
        for row in predictions {
            if case .array(let cells) = row {
                width = cells.count
                flat += cells
            } else {
                flat.append(row)
            }
        }
        let allIntegers = flat.allSatisfy {
            if case .number(let v, let raw) = $0 { v.isFinite && !raw.contains(".") && !raw.contains("e") } else { false }
        }
        let allNumbers = flat.allSatisfy { if case .number = $0 { true } else { false } }
        writer.beginObject()
        writer.key("name")
        writer.string("predictions")
        writer.key("shape")
        writer.beginArray()
        writer.int(Int64(predictions.count))
        if let width { writer.int(Int64(width)) }
        writer.endArray()
        writer.key("datatype")
        writer.string(allIntegers ? "INT64" : allNumbers ? "FP64" : "BYTES")
        writer.key("data")
        writer.beginArray()
        for cell in flat {
            switch cell {
            case .number, .string, .bool, .null: writer.value(cell)
            default:
                var inner = JSONWriter()
                inner.value(cell)
                writer.string(String(decoding: inner.bytes, as: UTF8.self))
            }
        }
        writer.endArray()
        writer.endObject()
    }
}
