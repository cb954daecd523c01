import CairnCore
import CairnONNX
import CairnTabular

/// Scores ONNX models in process with Cairn's own runtime: no Python on the request path.
///
/// Requests are packed into the model's input tensors: one `[rows, features]` tensor when
/// the graph has a single 2-D input (skl2onnx's `float_input`), or one `[rows, 1]` tensor per
/// column when the graph has an input per column (a ColumnTransformer export). A batch runs
/// as one call; its outputs are cut back into each request's rows.
public final class NativeONNXRuntime: ModelRuntime {
    public let kind = "onnx"
    public let acceptsMissingValues = false
    public let inputMetadata: [TensorMetadata]
    public let outputMetadata: [TensorMetadata]
    public let concurrency: Int
    let model: ONNXModel
    let feeding: Feeding

    enum Feeding {
        /// All frame columns, in order, packed into one tensor.
        case packed(name: String, type: ONNXElementType, width: Int?)
        /// One graph input per frame column, matched by name.
        case perColumn([(name: String, type: ONNXElementType, rank: Int)])
    }

    public init(model: ONNXModel, signature: ModelSignature?, concurrency: Int) throws {
        self.model = model
        self.concurrency = max(1, concurrency)
        inputMetadata = model.inputs.map {
            TensorMetadata(name: $0.name, datatype: Self.datatype($0.elementType), shape: $0.shape.map { $0 ?? -1 })
        }
        // A ZipMap's maps are answered on OIP as a [rows, classes] tensor (InferenceRequest.writeMaps).
        outputMetadata = model.outputs.map { output in
            if case .sequenceOfMaps = output.kind { return TensorMetadata(name: output.name, datatype: "FP32", shape: [-1, -1]) }
            return TensorMetadata(name: output.name, datatype: Self.datatype(output.elementType), shape: output.shape.map { $0 ?? -1 })
        }
        if model.inputs.count == 1, let input = model.inputs.first, input.shape.count == 2 {
            feeding = .packed(name: input.name, type: input.elementType, width: input.shape[1])
        } else {
            feeding = .perColumn(model.inputs.map { ($0.name, $0.elementType, max(1, $0.shape.count)) })
        }
        if case .columns(let specs)? = signature?.inputs, case .packed(_, _, let width?) = feeding, width != specs.count {
            throw CairnError(
                .invalidParameterValue, "The model's signature has \(specs.count) columns but its ONNX input takes \(width) features.")
        }
    }

    static func datatype(_ type: ONNXElementType) -> String {
        switch type {
        case .float: "FP32"
        case .double: "FP64"
        case .int64: "INT64"
        case .int32: "INT32"
        case .bool: "BOOL"
        case .string: "BYTES"
        default: "BYTES"
        }
    }

    public func predict(_ batch: [ModelInput], params: [String: JSONValue]) async -> [Result<ModelOutput, CairnError>] {
        let rows = batch.map(\.rowCount)
        if batch.count > 1, let outputs = try? run(batch) {
            if let split = try? Self.split(outputs, rows: rows) { return split.map { .success(.values($0)) } }
        }
        // One request, or the batch failed as a whole: score each alone so that one bad
        // request cannot fail the others.
        return batch.map { input in
            Result { () throws(CairnError) in
                let outputs = try run([input])
                return .values(outputs)
            }
        }
    }

    public func shutdown() async {}

    func run(_ batch: [ModelInput]) throws(CairnError) -> [(name: String, value: ONNXValue)] {
        let feeds = try self.feeds(for: batch)
        let results: [String: ONNXValue]
        do {
            results = try model.run(feeds)
        } catch {
            throw CairnError(.badRequest, "The model could not score this input: \(error)")
        }
        return model.outputs.compactMap { info in results[info.name].map { (info.name, $0) } }
    }

    // MARK: - Inputs

    func feeds(for batch: [ModelInput]) throws(CairnError) -> [String: ONNXTensor] {
        if case .tensors = batch[0] {
            var parts: [[String: ONNXTensor]] = []
            for input in batch {
                guard case .tensors(let tensors, _) = input else { throw CairnError(.badRequest, "Mixed input kinds in one batch.") }
                parts.append(tensors)
            }
            var feeds: [String: ONNXTensor] = [:]
            for info in model.inputs {
                let pieces = parts.compactMap { $0[info.name] }
                guard pieces.count == parts.count else { throw CairnError(.invalidParameterValue, "Missing input '\(info.name)'.") }
                do {
                    feeds[info.name] = try ONNXTensor.concatenatingRows(pieces)
                } catch {
                    throw CairnError(.invalidParameterValue, "Input '\(info.name)': \(error)")
                }
            }
            return feeds
        }
        var frames: [DataFrame] = []
        for input in batch {
            guard case .frame(let frame) = input else { throw CairnError(.badRequest, "Mixed input kinds in one batch.") }
            frames.append(frame)
        }
        let frame = DataFrame.concatenate(frames)
        switch feeding {
        case .packed(let name, let type, let width):
            if let width, width != frame.columns.count {
                throw CairnError(.invalidParameterValue, "The model takes \(width) features; the input has \(frame.columns.count) columns.")
            }
            return [name: try Self.pack(frame, as: type)]
        case .perColumn(let inputs):
            var feeds: [String: ONNXTensor] = [:]
            for input in inputs {
                guard let column = frame.column(named: input.name) else {
                    throw CairnError(.invalidParameterValue, "Model is missing inputs ['\(input.name)'].")
                }
                var tensor = try Self.pack(DataFrame(columns: [column], rowCount: frame.rowCount), as: input.type)
                if input.rank == 1 { tensor.shape = [frame.rowCount] }
                feeds[input.name] = tensor
            }
            return feeds
        }
    }

    /// Columns → one row-major `[rows, columns]` tensor of the graph's element type.
    static func pack(_ frame: DataFrame, as type: ONNXElementType) throws(CairnError) -> ONNXTensor {
        let rows = frame.rowCount
        let width = frame.columns.count
        let shape = [rows, width]
        switch type {
        case .string:
            var values = [String](repeating: "", count: rows * width)
            for (c, column) in frame.columns.enumerated() {
                guard case .string(let cells) = column.values else {
                    throw CairnError(.invalidParameterValue, "Column '\(column.name)' must be text for this model.")
                }
                for r in 0..<rows { values[r * width + c] = cells[r] ?? "" }
            }
            return ONNXTensor(shape: shape, storage: .string(values))
        case .int64:
            var values = [Int64](repeating: 0, count: rows * width)
            for (c, column) in frame.columns.enumerated() {
                guard let cells = column.values.asDoubles else {
                    throw CairnError(.invalidParameterValue, "Column '\(column.name)' must be numeric for this model.")
                }
                for r in 0..<rows {
                    guard cells[r].isFinite else {
                        throw CairnError(.invalidParameterValue, "Column '\(column.name)' has a missing value; the model takes integers.")
                    }
                    values[r * width + c] = Int64(cells[r])
                }
            }
            return ONNXTensor(shape: shape, storage: .int64(values))
        case .double:
            var values = [Double](repeating: 0, count: rows * width)
            for (c, column) in frame.columns.enumerated() {
                guard let cells = column.values.asDoubles else {
                    throw CairnError(.invalidParameterValue, "Column '\(column.name)' must be numeric for this model.")
                }
                for r in 0..<rows { values[r * width + c] = cells[r] }
            }
            return ONNXTensor(shape: shape, storage: .double(values))
        case .float:
            var values = [Float](repeating: 0, count: rows * width)
            for (c, column) in frame.columns.enumerated() {
                switch column.values {
                case .double(let cells):
                    for r in 0..<rows {
                        // Beyond a float the value would reach the model as an infinity the client never sent.
                        guard !cells[r].isFinite || abs(cells[r]) <= Double(Float.greatestFiniteMagnitude) else {
                            throw CairnError(
                                .invalidParameterValue,
                                "Column '\(column.name)' at row \(r): \(cells[r]) is out of range for the model's 32-bit float input.")
                        }
                        values[r * width + c] = Float(cells[r])
                    }
                case .int64(let cells): for r in 0..<rows { values[r * width + c] = Float(cells[r]) }
                case .bool(let cells): for r in 0..<rows { values[r * width + c] = cells[r] ? 1 : 0 }
                case .string: throw CairnError(.invalidParameterValue, "Column '\(column.name)' must be numeric for this model.")
                }
            }
            return ONNXTensor(shape: shape, storage: .float(values))
        default:
            throw CairnError(.invalidParameterValue, "Cairn cannot feed inputs of type \(type) from tabular requests.")
        }
    }

    // MARK: - Outputs

    /// Cuts each output's leading dimension back into the requests' row counts.
    static func split(_ outputs: [(name: String, value: ONNXValue)], rows: [Int]) throws(CairnError) -> [[(name: String, value: ONNXValue)]]
    {
        var perRequest = Array(repeating: [(name: String, value: ONNXValue)](), count: rows.count)
        let total = rows.reduce(0, +)
        for output in outputs {
            var start = 0
            for (index, count) in rows.enumerated() {
                perRequest[index].append((output.name, try output.value.rows(start..<start + count, of: total)))
                start += count
            }
        }
        return perRequest
    }
}
