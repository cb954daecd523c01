/// Add, Sub, Mul and Div with NumPy broadcasting.
struct BinaryArithmeticKernel: Kernel {
    enum Operation: String, Sendable {
        case add = "Add"
        case sub = "Sub"
        case mul = "Mul"
        case div = "Div"
    }

    let operation: Operation

    init(_ operation: Operation, _ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(2...2)
        self.operation = operation
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let a = try frame.tensor(io, 0)
        let b = try frame.tensor(io, 1)
        let result: ONNXTensor
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): result = try real(x, a.shape, y, b.shape)
        case (.double(let x), .double(let y)): result = try real(x, a.shape, y, b.shape)
        case (.int64(let x), .int64(let y)): result = try integer(x, a.shape, y, b.shape) { .int64($0) }
        case (.int32(let x), .int32(let y)): result = try integer(x, a.shape, y, b.shape) { .int32($0) }
        default:
            throw .execution(
                "\(operation.rawValue) needs two float, double, int64 or int32 tensors of one type, got \(a.elementType) and \(b.elementType)"
            )
        }
        frame.set(io, 0, result)
    }

    private func real<T: RealScalar>(_ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int]) throws(ONNXError) -> ONNXTensor {
        let (values, shape) =
            switch operation {
            case .add: try Broadcast.apply(x, xs, y, ys) { $0 + $1 }
            case .sub: try Broadcast.apply(x, xs, y, ys) { $0 - $1 }
            case .mul: try Broadcast.apply(x, xs, y, ys) { $0 * $1 }
            case .div: try Broadcast.apply(x, xs, y, ys) { $0 / $1 }
            }
        return ONNXTensor(shape: shape, storage: T.wrap(values))
    }

    /// Integer arithmetic wraps on overflow like the C++ runtimes do; only
    /// division, which has no sensible wrapped result for a zero divisor, fails.
    private func integer<T: FixedWidthInteger>(
        _ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int], _ wrap: ([T]) -> ONNXTensor.Storage
    ) throws(ONNXError) -> ONNXTensor {
        let (values, shape) =
            switch operation {
            case .add: try Broadcast.apply(x, xs, y, ys) { $0 &+ $1 }
            case .sub: try Broadcast.apply(x, xs, y, ys) { $0 &- $1 }
            case .mul: try Broadcast.apply(x, xs, y, ys) { $0 &* $1 }
            case .div:
                try Broadcast.apply(x, xs, y, ys) { (p: T, q: T) throws(ONNXError) -> T in
                    guard q != 0 else { throw .execution("integer division by zero") }
                    return p.dividedReportingOverflow(by: q).partialValue
                }
            }
        return ONNXTensor(shape: shape, storage: wrap(values))
    }
}
