/// Value slots a node reads and writes; -1 stands for an omitted optional
/// input or an unused output.
struct NodeIO: Sendable {
    let inputs: [Int]
    let outputs: [Int]
}

/// A compiled operator. Kernels decode their attributes once when the plan is
/// built and are immutable afterwards, so one kernel serves concurrent runs.
protocol Kernel: Sendable {
    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError)
}

/// The values of one `run` call, indexed by slot.
struct Frame {
    var values: ContiguousArray<ONNXValue?>

    func value(_ io: NodeIO, _ index: Int) -> ONNXValue? {
        guard index < io.inputs.count else { return nil }
        let slot = io.inputs[index]
        return slot < 0 ? nil : values[slot]
    }

    func tensor(_ io: NodeIO, _ index: Int) throws(ONNXError) -> ONNXTensor {
        guard let tensor = try optionalTensor(io, index) else {
            throw .execution("input \(index) is missing")
        }
        return tensor
    }

    func optionalTensor(_ io: NodeIO, _ index: Int) throws(ONNXError) -> ONNXTensor? {
        switch value(io, index) {
        case nil: return nil
        case .tensor(let t)?: return t
        case .sequenceOfMaps?: throw .execution("input \(index) is a sequence of maps, expected a tensor")
        }
    }

    mutating func set(_ io: NodeIO, _ index: Int, _ value: ONNXValue) {
        guard index < io.outputs.count else { return }
        let slot = io.outputs[index]
        if slot >= 0 { values[slot] = value }
    }

    mutating func set(_ io: NodeIO, _ index: Int, _ tensor: ONNXTensor) {
        set(io, index, .tensor(tensor))
    }
}

/// What a kernel constructor gets to see of its node.
struct NodeContext {
    let opType: String
    let domain: String
    /// The model's opset version for the node's domain.
    let opset: Int64
    let attributes: NodeAttributes
    let inputCount: Int
    let outputCount: Int

    func requireInputs(_ range: ClosedRange<Int>) throws(ONNXError) {
        guard range.contains(inputCount) else {
            throw .invalidModel(
                "takes \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)") inputs, node has \(inputCount)"
            )
        }
    }
}

struct PlannedNode: Sendable {
    let kernel: any Kernel
    let io: NodeIO
    /// "node 'name' (domain:op)", for error messages.
    let label: String
}

/// Everything `run` needs, resolved at load: integer slots instead of names,
/// kernels with pre-decoded attributes, and a slot template that already
/// holds the initializers.
struct ExecutionPlan: Sendable {
    let template: ContiguousArray<ONNXValue?>
    let inputSlots: [Int]
    let outputSlots: [Int]
    let nodes: [PlannedNode]

    func execute(_ frame: inout Frame) throws(ONNXError) {
        for node in nodes {
            do {
                try node.kernel.run(node.io, &frame)
            } catch {
                throw error.prefixed(node.label)
            }
        }
    }
}
