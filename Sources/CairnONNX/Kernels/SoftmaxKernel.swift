/// Softmax. Opset 13 changed its meaning: before, the input is coerced to a
/// matrix [prod(shape[..<axis]), prod(shape[axis...])] and each row
/// normalised (default axis 1); from 13 on, it normalises along the one
/// axis (default -1).
struct SoftmaxKernel: Kernel {
    let axis: Int64
    let coercesTo2D: Bool

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        coercesTo2D = context.opset < 13
        axis = try context.attributes.int("axis", default: coercesTo2D ? 1 : -1)
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let rank = x.shape.count
        let axis = try normalizedAxis(axis, rank: max(rank, 1))
        let outer = x.shape[..<min(axis, rank)].reduce(1, *)
        let extent: Int
        let inner: Int
        if coercesTo2D {
            extent = x.shape[min(axis, rank)...].reduce(1, *)
            inner = 1
        } else {
            extent = rank == 0 ? 1 : x.shape[axis]
            inner = rank == 0 ? 1 : x.shape[(axis + 1)...].reduce(1, *)
        }
        let storage: ONNXTensor.Storage
        switch x.storage {
        case .float(let v): storage = .float(Self.softmax(v, outer: outer, extent: extent, inner: inner))
        case .double(let v): storage = .double(Self.softmax(v, outer: outer, extent: extent, inner: inner))
        default: throw .execution("Softmax needs float or double input, got \(x.elementType)")
        }
        frame.set(io, 0, ONNXTensor(shape: x.shape, storage: storage))
    }

    static func softmax<T: RealScalar>(_ values: [T], outer: Int, extent: Int, inner: Int) -> [T] {
        var out = values
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * extent * inner + i
                var peak = -T.greatestFiniteMagnitude
                for e in 0..<extent { peak = max(peak, values[base + e * inner]) }
                var sum: T = 0
                for e in 0..<extent {
                    let v = T.exp(values[base + e * inner] - peak)
                    out[base + e * inner] = v
                    sum += v
                }
                for e in 0..<extent { out[base + e * inner] /= sum }
            }
        }
        return out
    }
}

struct ArgMaxKernel: Kernel {
    let axis: Int64
    let keepDims: Bool
    let selectLastIndex: Bool

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        axis = try context.attributes.int("axis", default: 0)
        keepDims = try context.attributes.int("keepdims", default: 1) != 0
        selectLastIndex = try context.attributes.int("select_last_index", default: 0) != 0
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let result: [Int64]
        let axis = try normalizedAxis(axis, rank: x.shape.count)
        switch x.storage {
        case .float(let v): result = argmax(v, x.shape, axis)
        case .double(let v): result = argmax(v, x.shape, axis)
        case .int64(let v): result = argmax(v, x.shape, axis)
        case .int32(let v): result = argmax(v, x.shape, axis)
        case .uint8(let v): result = argmax(v, x.shape, axis)
        default: throw .execution("ArgMax does not accept \(x.elementType) tensors")
        }
        var shape = x.shape
        if keepDims { shape[axis] = 1 } else { shape.remove(at: axis) }
        frame.set(io, 0, ONNXTensor(shape: shape, storage: .int64(result)))
    }

    private func argmax<T: Comparable>(_ values: [T], _ shape: [Int], _ axis: Int) -> [Int64] {
        let outer = shape[..<axis].reduce(1, *)
        let extent = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var out: [Int64] = []
        out.reserveCapacity(outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * extent * inner + i
                var best = 0
                for e in 1..<max(extent, 1) {
                    let v = values[base + e * inner]
                    let current = values[base + best * inner]
                    if v > current || (selectLastIndex && v == current) { best = e }
                }
                out.append(Int64(best))
            }
        }
        return out
    }
}
