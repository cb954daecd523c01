// ai.onnx.ml feature preprocessing: Scaler, Normalizer, Imputer, Binarizer.

/// y = (x - offset) · scale, per column or with one value for all columns.
struct ScalerKernel: Kernel {
    let offset: [Float]
    let scale: [Float]

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        offset = try context.attributes.floats("offset") ?? []
        scale = try context.attributes.floats("scale") ?? []
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let tensor = try frame.tensor(io, 0)
        let x = try FeatureMatrix<Float>(tensor)
        let offset = try perColumn(self.offset, x.columns, default: 0, "offset")
        let scale = try perColumn(self.scale, x.columns, default: 1, "scale")
        var out = x.values
        for i in out.indices {
            let c = i % x.columns
            out[i] = (out[i] - offset[c]) * scale[c]
        }
        frame.set(io, 0, ONNXTensor(shape: tensor.shape, storage: .float(out)))
    }
}

/// Broadcasts a per-column attribute: empty means `default`, one value
/// applies to every column.
func perColumn<T>(_ values: [T], _ columns: Int, default value: T, _ name: String) throws(ONNXError) -> [T] {
    switch values.count {
    case 0: return [T](repeating: value, count: columns)
    case 1: return [T](repeating: values[0], count: columns)
    case columns: return values
    default: throw .execution("'\(name)' has \(values.count) values for \(columns) columns")
    }
}

/// Scales each row by its MAX, L1 or L2 norm; rows whose norm is zero are
/// left as they are.
struct NormalizerKernel: Kernel {
    enum Norm: Sendable { case max, l1, l2 }
    let norm: Norm

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        switch try context.attributes.string("norm", default: "MAX") {
        case "MAX": norm = .max
        case "L1": norm = .l1
        case "L2": norm = .l2
        case let other: throw .invalidModel("unknown norm '\(other)'")
        }
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let tensor = try frame.tensor(io, 0)
        let x = try FeatureMatrix<Float>(tensor)
        var out = x.values
        for r in 0..<x.rows {
            let row = (r * x.columns)..<((r + 1) * x.columns)
            switch norm {
            case .max:
                let peak = out[row].max() ?? 0
                if peak != 0 { for i in row { out[i] /= peak } }
            case .l1:
                let sum = out[row].reduce(0) { $0 + abs($1) }
                if sum != 0 { for i in row { out[i] /= sum } }
            case .l2:
                let sum = out[row].reduce(0) { $0 + $1 * $1 }
                let length = sum.squareRoot()
                if length != 0 { for i in row { out[i] /= length } }
            }
        }
        frame.set(io, 0, ONNXTensor(shape: tensor.shape, storage: .float(out)))
    }
}

/// Replaces a sentinel (NaN by default for floats) with per-column values.
struct ImputerKernel: Kernel {
    let floatValues: [Float]
    let intValues: [Int64]
    let replacedFloat: Float
    let replacedInt: Int64

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        let a = context.attributes
        floatValues = try a.floats("imputed_value_floats") ?? []
        intValues = try a.ints("imputed_value_int64s") ?? []
        replacedFloat = try a.float("replaced_value_float", default: 0)
        replacedInt = try a.int("replaced_value_int64", default: 0)
        guard !floatValues.isEmpty || !intValues.isEmpty else {
            throw .invalidModel("Imputer needs imputed_value_floats or imputed_value_int64s")
        }
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let tensor = try frame.tensor(io, 0)
        let columns = tensor.shape.last ?? 1
        switch tensor.storage {
        case .float(let v):
            let fill = try perColumn(floatValues, columns, default: 0, "imputed_value_floats")
            let matchNaN = replacedFloat.isNaN
            var out = v
            for i in out.indices where matchNaN ? out[i].isNaN : out[i] == replacedFloat { out[i] = fill[i % columns] }
            frame.set(io, 0, ONNXTensor(shape: tensor.shape, storage: .float(out)))
        case .int64(let v):
            let fill = try perColumn(intValues, columns, default: 0, "imputed_value_int64s")
            var out = v
            for i in out.indices where out[i] == replacedInt { out[i] = fill[i % columns] }
            frame.set(io, 0, ONNXTensor(shape: tensor.shape, storage: .int64(out)))
        default:
            throw .execution("Imputer takes float or int64 tensors, got \(tensor.elementType)")
        }
    }
}

/// 1 where x > threshold, else 0, in the input's type.
struct BinarizerKernel: Kernel {
    let threshold: Float

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        threshold = try context.attributes.float("threshold", default: 0)
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let storage: ONNXTensor.Storage
        switch x.storage {
        case .float(let v): storage = .float(v.map { $0 > threshold ? 1 : 0 })
        case .double(let v): storage = .double(v.map { $0 > Double(threshold) ? 1 : 0 })
        case .int64(let v): storage = .int64(v.map { Float($0) > threshold ? 1 : 0 })
        case .int32(let v): storage = .int32(v.map { Float($0) > threshold ? 1 : 0 })
        default: throw .execution("Binarizer takes numeric tensors, got \(x.elementType)")
        }
        frame.set(io, 0, ONNXTensor(shape: x.shape, storage: storage))
    }
}
