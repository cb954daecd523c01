/// Element-wise activations: Relu, Sigmoid, Tanh.
struct UnaryMathKernel: Kernel {
    enum Function: String, Sendable {
        case relu = "Relu"
        case sigmoid = "Sigmoid"
        case tanh = "Tanh"
    }

    let function: Function

    init(_ function: Function, _ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        self.function = function
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        let storage: ONNXTensor.Storage
        switch x.storage {
        case .float(let v): storage = .float(apply(v))
        case .double(let v): storage = .double(apply(v))
        case .int64(let v) where function == .relu: storage = .int64(v.map { max($0, 0) })
        case .int32(let v) where function == .relu: storage = .int32(v.map { max($0, 0) })
        default: throw .execution("\(function.rawValue) does not accept \(x.elementType) tensors")
        }
        frame.set(io, 0, ONNXTensor(shape: x.shape, storage: storage))
    }

    private func apply<T: RealScalar>(_ values: [T]) -> [T] {
        switch function {
        case .relu: values.map { $0 > 0 ? $0 : 0 }
        case .sigmoid: values.map { 1 / (1 + T.exp(-$0)) }
        case .tanh: values.map { T.tanh($0) }
        }
    }
}
