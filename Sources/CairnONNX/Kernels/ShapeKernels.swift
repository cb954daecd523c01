// Operators that move elements without computing on them.

struct IdentityKernel: Kernel {
    init(_ context: NodeContext) throws(ONNXError) { try context.requireInputs(1...1) }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        guard let value = frame.value(io, 0) else { throw .execution("input 0 is missing") }
        frame.set(io, 0, value)
    }
}

struct ReshapeKernel: Kernel {
    let allowZero: Bool
    /// Before opset 5 the target shape was an attribute rather than an input.
    let attributeShape: [Int64]?

    init(_ context: NodeContext) throws(ONNXError) {
        allowZero = try context.attributes.int("allowzero", default: 0) != 0
        attributeShape = context.opset < 5 ? try context.attributes.ints("shape") : nil
        try context.requireInputs(attributeShape == nil ? 2...2 : 1...1)
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let requested: [Int64]
        if let attributeShape {
            requested = attributeShape
        } else {
            let shape = try frame.tensor(io, 1)
            guard case .int64(let v) = shape.storage else { throw .execution("shape input must be int64, got \(shape.elementType)") }
            requested = v
        }
        var out: [Int] = []
        var inferred: Int?
        for (i, d) in requested.enumerated() {
            switch d {
            case 0 where !allowZero:
                guard i < x.shape.count else {
                    throw .execution("shape \(requested) copies dimension \(i) of a rank-\(x.shape.count) input")
                }
                out.append(x.shape[i])
            case -1:
                guard inferred == nil else { throw .execution("shape \(requested) has more than one -1") }
                inferred = i
                out.append(1)
            case let d where d >= 0:
                guard let dim = Int(exactly: d) else { throw .execution("dimension \(d) is too large") }
                out.append(dim)
            default:
                throw .execution("invalid dimension \(d) in shape \(requested)")
            }
        }
        guard let known = elementCount(out) else { throw .execution("shape \(requested) overflows") }
        if let inferred {
            guard known > 0, x.count % known == 0 else {
                throw .execution("cannot reshape \(x.shape) (\(x.count) elements) to \(requested)")
            }
            out[inferred] = x.count / known
        }
        guard elementCount(out) == x.count else {
            throw .execution("cannot reshape \(x.shape) (\(x.count) elements) to \(out)")
        }
        frame.set(io, 0, ONNXTensor(shape: out, storage: x.storage))
    }
}

struct FlattenKernel: Kernel {
    let axis: Int64

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        axis = try context.attributes.int("axis", default: 1)
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let axis = try normalizedAxis(axis, rank: x.shape.count, allowEnd: true)
        let outer = x.shape[..<axis].reduce(1, *)
        let inner = x.shape[axis...].reduce(1, *)
        frame.set(io, 0, ONNXTensor(shape: [outer, inner], storage: x.storage))
    }
}

struct ConcatKernel: Kernel {
    let axis: Int64

    init(_ context: NodeContext) throws(ONNXError) {
        guard let axis = try context.attributes.int("axis") else { throw .invalidModel("Concat needs an 'axis' attribute") }
        guard context.inputCount >= 1 else { throw .invalidModel("Concat needs at least one input") }
        self.axis = axis
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        var parts: [ONNXTensor] = []
        parts.reserveCapacity(io.inputs.count)
        for i in io.inputs.indices { parts.append(try frame.tensor(io, i)) }
        let first = parts[0]
        if parts.count == 1 {
            frame.set(io, 0, first)
            return
        }
        let rank = first.shape.count
        let axis = try normalizedAxis(axis, rank: rank)
        var outShape = first.shape
        outShape[axis] = 0
        for part in parts {
            guard part.shape.count == rank,
                zip(part.shape, first.shape).enumerated().allSatisfy({ $0.offset == axis || $0.element.0 == $0.element.1 })
            else { throw .execution("cannot concatenate shapes \(parts.map(\.shape)) along axis \(axis)") }
            outShape[axis] += part.shape[axis]
        }
        let joined = try ONNXTensor.Storage.concatenating(parts.map(\.storage))
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        var bases: [Int] = []
        var base = 0
        for part in parts {
            bases.append(base)
            base += part.count
        }
        var order: [Int] = []
        order.reserveCapacity(base)
        for o in 0..<outer {
            for (p, part) in parts.enumerated() {
                let block = part.shape[axis] * inner
                let start = bases[p] + o * block
                order.append(contentsOf: start..<(start + block))
            }
        }
        frame.set(io, 0, ONNXTensor(shape: outShape, storage: joined.gathering(order)))
    }
}

struct GatherKernel: Kernel {
    let axis: Int64

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(2...2)
        axis = try context.attributes.int("axis", default: 0)
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let data = try frame.tensor(io, 0)
        let indexTensor = try frame.tensor(io, 1)
        let axis = try normalizedAxis(axis, rank: data.shape.count)
        let extent = data.shape[axis]
        var picks = try indexTensor.storage.indices()
        for i in picks.indices {
            if picks[i] < 0 { picks[i] += extent }
            guard picks[i] >= 0, picks[i] < extent else {
                throw .execution("index \(picks[i]) is out of range for axis \(axis) of size \(extent)")
            }
        }
        let outer = data.shape[..<axis].reduce(1, *)
        let inner = data.shape[(axis + 1)...].reduce(1, *)
        var order: [Int] = []
        order.reserveCapacity(outer * picks.count * inner)
        for o in 0..<outer {
            for p in picks {
                let start = (o * extent + p) * inner
                order.append(contentsOf: start..<(start + inner))
            }
        }
        let shape = Array(data.shape[..<axis]) + indexTensor.shape + Array(data.shape[(axis + 1)...])
        frame.set(io, 0, ONNXTensor(shape: shape, storage: data.storage.gathering(order)))
    }
}

struct CastKernel: Kernel {
    let target: ONNXElementType

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        guard let to = try context.attributes.int("to") else { throw .invalidModel("Cast needs a 'to' attribute") }
        target = ONNXElementType(protoValue: to)
        switch target {
        case .float, .double, .int64, .int32, .uint8, .bool, .string: break
        default: throw .unsupported("Cast to \(target) (DataType \(to)) is not supported")
        }
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        frame.set(io, 0, ONNXTensor(shape: x.shape, storage: try x.storage.converted(to: target)))
    }
}

extension ONNXTensor.Storage {
    /// Element-wise conversion with C cast semantics between numeric types
    /// (truncation toward zero, wrap-around for narrowing integers) and
    /// decimal parsing/printing to and from strings.
    func converted(to target: ONNXElementType) throws(ONNXError) -> ONNXTensor.Storage {
        if target == elementType { return self }
        switch target {
        case .float: return .float(try realsParsingStrings())
        case .double: return .double(try realsParsingStrings())
        case .int64: return .int64(try int64s())
        case .int32: return .int32(try int64s().map { Int32(truncatingIfNeeded: $0) })
        case .uint8: return .uint8(try int64s().map { UInt8(truncatingIfNeeded: $0) })
        case .bool:
            switch self {
            case .float(let v): return .bool(v.map { $0 != 0 })
            case .double(let v): return .bool(v.map { $0 != 0 })
            case .string(let v): return .bool(try v.map { s throws(ONNXError) in try parse(s, as: Double.self) != 0 })
            default: return .bool(try int64s().map { $0 != 0 })
            }
        case .string:
            switch self {
            case .float(let v): return .string(v.map { $0.description })
            case .double(let v): return .string(v.map { $0.description })
            case .int64(let v): return .string(v.map { $0.description })
            case .int32(let v): return .string(v.map { $0.description })
            case .uint8(let v): return .string(v.map { $0.description })
            case .bool(let v): return .string(v.map { $0 ? "1" : "0" })
            case .string: return self
            }
        default:
            throw .execution("cannot convert to \(target)")
        }
    }

    private func realsParsingStrings<T: RealScalar & LosslessStringConvertible>() throws(ONNXError) -> [T] {
        if case .string(let v) = self {
            return try v.map { s throws(ONNXError) in try parse(s, as: T.self) }
        }
        return try reals()
    }

    private func int64s() throws(ONNXError) -> [Int64] {
        switch self {
        case .float(let v): v.map(truncatingInt64)
        case .double(let v): v.map(truncatingInt64)
        case .int64(let v): v
        case .int32(let v): v.map(Int64.init)
        case .uint8(let v): v.map(Int64.init)
        case .bool(let v): v.map { $0 ? 1 : 0 }
        case .string(let v):
            try v.map { s throws(ONNXError) in
                if let i = Int64(s) { return i }
                return truncatingInt64(try parse(s, as: Double.self))
            }
        }
    }

    private func parse<T: LosslessStringConvertible>(_ text: String, as _: T.Type) throws(ONNXError) -> T {
        guard let value = T(text.trimmingSpaces) else { throw .execution("cannot parse '\(text)' as a number") }
        return value
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
