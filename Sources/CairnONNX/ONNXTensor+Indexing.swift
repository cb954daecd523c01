// Type-erased element movement. Shape operators (Concat, Gather,
// ArrayFeatureExtractor, LabelEncoder's value lookup) reduce to "pick these
// flat indices", so the per-element-type switch lives here once.

extension ONNXTensor.Storage {
    /// The elements at `indices`, in that order. Indices must be in range.
    func gathering(_ indices: [Int]) -> ONNXTensor.Storage {
        switch self {
        case .float(let v): .float(indices.map { v[$0] })
        case .double(let v): .double(indices.map { v[$0] })
        case .int64(let v): .int64(indices.map { v[$0] })
        case .int32(let v): .int32(indices.map { v[$0] })
        case .uint8(let v): .uint8(indices.map { v[$0] })
        case .bool(let v): .bool(indices.map { v[$0] })
        case .string(let v): .string(indices.map { v[$0] })
        }
    }

    /// All elements of `parts` end to end; they must share one element type.
    static func concatenating(_ parts: [ONNXTensor.Storage]) throws(ONNXError) -> ONNXTensor.Storage {
        guard let first = parts.first else { throw .execution("nothing to concatenate") }
        func join<T>(_ extract: (ONNXTensor.Storage) -> [T]?) throws(ONNXError) -> [T] {
            var out: [T] = []
            for part in parts {
                guard let values = extract(part) else {
                    throw .execution("cannot combine \(first.elementType) and \(part.elementType) tensors")
                }
                out.append(contentsOf: values)
            }
            return out
        }
        switch first {
        case .float: return .float(try join { if case .float(let v) = $0 { v } else { nil } })
        case .double: return .double(try join { if case .double(let v) = $0 { v } else { nil } })
        case .int64: return .int64(try join { if case .int64(let v) = $0 { v } else { nil } })
        case .int32: return .int32(try join { if case .int32(let v) = $0 { v } else { nil } })
        case .uint8: return .uint8(try join { if case .uint8(let v) = $0 { v } else { nil } })
        case .bool: return .bool(try join { if case .bool(let v) = $0 { v } else { nil } })
        case .string: return .string(try join { if case .string(let v) = $0 { v } else { nil } })
        }
    }

    /// Integer index tensors (int64 or int32) as Int.
    func indices() throws(ONNXError) -> [Int] {
        switch self {
        case .int64(let v): v.map { Int(truncatingIfNeeded: $0) }
        case .int32(let v): v.map { Int($0) }
        default: throw .execution("expected an int64 or int32 index tensor, got \(elementType)")
        }
    }
}

/// Resolves a possibly negative axis against `rank`.
func normalizedAxis(_ axis: Int64, rank: Int, allowEnd: Bool = false) throws(ONNXError) -> Int {
    let resolved = axis < 0 ? axis + Int64(rank) : axis
    guard resolved >= 0, resolved < Int64(allowEnd ? rank + 1 : rank) else {
        throw .execution("axis \(axis) is out of range for rank \(rank)")
    }
    return Int(resolved)
}

extension ONNXTensor.Storage {
    /// The contiguous elements `range`.
    func slice(_ range: Range<Int>) -> ONNXTensor.Storage {
        switch self {
        case .float(let v): .float(Array(v[range]))
        case .double(let v): .double(Array(v[range]))
        case .int64(let v): .int64(Array(v[range]))
        case .int32(let v): .int32(Array(v[range]))
        case .uint8(let v): .uint8(Array(v[range]))
        case .bool(let v): .bool(Array(v[range]))
        case .string(let v): .string(Array(v[range]))
        }
    }
}

// Batching: a server concatenates several requests' rows into one run and cuts the
// outputs back, both along the first dimension.
extension ONNXTensor {
    /// Elements per row: the product of every dimension after the first.
    public var rowStride: Int { shape.dropFirst().reduce(1, *) }

    /// Rows `range` along the first dimension.
    public func rows(_ range: Range<Int>) -> ONNXTensor {
        var shape = self.shape
        shape[0] = range.count
        return ONNXTensor(shape: shape, storage: storage.slice(range.lowerBound * rowStride..<range.upperBound * rowStride))
    }

    /// The tensors' rows end to end; the trailing dimensions and element types must agree.
    public static func concatenatingRows(_ parts: [ONNXTensor]) throws(ONNXError) -> ONNXTensor {
        guard let first = parts.first, !first.shape.isEmpty else { throw .invalidInput("no rows to concatenate") }
        if parts.count == 1 { return first }
        let tail = first.shape.dropFirst()
        guard parts.allSatisfy({ !$0.shape.isEmpty && $0.shape.dropFirst() == tail }) else {
            throw .invalidInput("tensors batched together have different shapes")
        }
        var shape = first.shape
        shape[0] = parts.reduce(0) { $0 + $1.shape[0] }
        return ONNXTensor(shape: shape, storage: try .concatenating(parts.map(\.storage)))
    }
}
