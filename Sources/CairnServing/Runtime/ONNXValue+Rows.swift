import CairnCore
import CairnONNX

extension ONNXTensor {
    /// Elements per row: the product of every dimension after the first.
    var rowStride: Int { shape.dropFirst().reduce(1, *) }

    /// Rows `range` along the first dimension.
    func rows(_ range: Range<Int>) -> ONNXTensor {
        let stride = rowStride
        let elements = range.lowerBound * stride..<range.upperBound * stride
        var shape = self.shape
        shape[0] = range.count
        switch storage {
        case .float(let v): return ONNXTensor(shape: shape, storage: .float(Array(v[elements])))
        case .double(let v): return ONNXTensor(shape: shape, storage: .double(Array(v[elements])))
        case .int64(let v): return ONNXTensor(shape: shape, storage: .int64(Array(v[elements])))
        case .int32(let v): return ONNXTensor(shape: shape, storage: .int32(Array(v[elements])))
        case .uint8(let v): return ONNXTensor(shape: shape, storage: .uint8(Array(v[elements])))
        case .string(let v): return ONNXTensor(shape: shape, storage: .string(Array(v[elements])))
        case .bool(let v): return ONNXTensor(shape: shape, storage: .bool(Array(v[elements])))
        }
    }

    /// The tensors' rows one after another; the trailing dimensions and types must agree.
    static func concatenatingRows(_ parts: [ONNXTensor]) throws(CairnError) -> ONNXTensor {
        guard let first = parts.first else { throw CairnError(.invalidParameterValue, "No input rows.") }
        if parts.count == 1 { return first }
        let tail = Array(first.shape.dropFirst())
        guard parts.allSatisfy({ Array($0.shape.dropFirst()) == tail && !$0.shape.isEmpty }) else {
            throw CairnError(.invalidParameterValue, "Requests batched together have different input shapes.")
        }
        var shape = first.shape
        shape[0] = parts.reduce(0) { $0 + $1.shape[0] }
        func join<T>(_ extract: (ONNXTensor) -> [T]?) throws(CairnError) -> [T] {
            var all: [T] = []
            for part in parts {
                guard let values = extract(part) else { throw CairnError(.invalidParameterValue, "Requests batched together have different input types.") }
                all += values
            }
            return all
        }
        switch first.storage {
        case .float: return ONNXTensor(shape: shape, storage: .float(try join { if case .float(let v) = $0.storage { v } else { nil } }))
        case .double: return ONNXTensor(shape: shape, storage: .double(try join { if case .double(let v) = $0.storage { v } else { nil } }))
        case .int64: return ONNXTensor(shape: shape, storage: .int64(try join { if case .int64(let v) = $0.storage { v } else { nil } }))
        case .int32: return ONNXTensor(shape: shape, storage: .int32(try join { if case .int32(let v) = $0.storage { v } else { nil } }))
        case .string: return ONNXTensor(shape: shape, storage: .string(try join { if case .string(let v) = $0.storage { v } else { nil } }))
        case .bool: return ONNXTensor(shape: shape, storage: .bool(try join { if case .bool(let v) = $0.storage { v } else { nil } }))
        case .uint8: return ONNXTensor(shape: shape, storage: .uint8(try join { if case .uint8(let v) = $0.storage { v } else { nil } }))
        }
    }
}

extension ONNXValue {
    /// Rows `range` of an output whose first dimension is the batch's `total` rows.
    func rows(_ range: Range<Int>, of total: Int) throws(CairnError) -> ONNXValue {
        if range.count == total { return self }
        switch self {
        case .tensor(let tensor):
            guard tensor.shape.first == total else {
                throw CairnError(.internalError, "An output's first dimension is not the batch's rows.")
            }
            return .tensor(tensor.rows(range))
        case .sequenceOfMaps(let maps):
            guard maps.count == total else { throw CairnError(.internalError, "An output's length is not the batch's rows.") }
            switch maps {
            case .int64Keys(let rows): return .sequenceOfMaps(.int64Keys(Array(rows[range])))
            case .stringKeys(let rows): return .sequenceOfMaps(.stringKeys(Array(rows[range])))
            }
        }
    }
}
