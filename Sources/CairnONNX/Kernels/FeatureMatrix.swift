/// The [rows, columns] view ai.onnx.ml operators take of their input: a
/// 1-D tensor is one row, and higher ranks fold into their first dimension.
struct FeatureMatrix<T> {
    let values: [T]
    let rows: Int
    let columns: Int

    init(_ values: [T], shape: [Int]) {
        self.values = values
        switch shape.count {
        case 0:
            rows = 1
            columns = values.count
        case 1:
            rows = 1
            columns = shape[0]
        default:
            rows = shape[0]
            columns = shape[0] == 0 ? shape.dropFirst().reduce(1, *) : values.count / shape[0]
        }
    }
}

extension FeatureMatrix where T: RealScalar {
    init(_ tensor: ONNXTensor) throws(ONNXError) {
        self.init(try tensor.storage.reals(as: T.self), shape: tensor.shape)
    }
}

/// Class labels of a classifier: ai.onnx.ml allows int64 or string labels.
enum ClassLabels: Sendable {
    case ints([Int64])
    case strings([String])

    init(_ attributes: NodeAttributes, ints: String = "classlabels_int64s", strings: String = "classlabels_strings") throws(ONNXError) {
        if let s = try attributes.strings(strings), !s.isEmpty {
            self = .strings(s)
        } else {
            self = .ints(try attributes.ints(ints) ?? [])
        }
    }

    var count: Int {
        switch self {
        case .ints(let v): v.count
        case .strings(let v): v.count
        }
    }

    /// Labels chosen per row by index into this list.
    func tensor(indices: [Int], shape: [Int]) -> ONNXTensor {
        switch self {
        case .ints(let v): ONNXTensor(shape: shape, storage: .int64(indices.map { v[$0] }))
        case .strings(let v): ONNXTensor(shape: shape, storage: .string(indices.map { v[$0] }))
        }
    }
}
