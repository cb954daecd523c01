#if canImport(Darwin)
    import Darwin
#elseif canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An ONNX model loaded into Cairn's native CPU runtime.
///
/// Loading parses the protobuf, checks that every operator is one the runtime
/// implements, orders the graph and compiles it into an execution plan. The
/// value is immutable afterwards; `run` may be called from any number of
/// tasks at once.
public struct ONNXModel: Sendable {
    /// Graph inputs the caller feeds (initializer-backed inputs excluded).
    public let inputs: [ONNXValueInfo]
    public let outputs: [ONNXValueInfo]
    /// producer_name and producer_version, e.g. "skl2onnx 1.20.0".
    public let producer: String
    public let irVersion: Int64
    /// Opset version per imported domain; the default domain is "ai.onnx".
    public let opsets: [String: Int64]

    let plan: ExecutionPlan
    private let inputIndex: [String: Int]

    public init(contentsOf path: String) throws(ONNXError) {
        try self.init(bytes: try Self.readFile(path))
    }

    public init(bytes: [UInt8]) throws(ONNXError) {
        let model = try ModelProto(bytes: bytes)
        guard let graph = model.graph else { throw .malformed("model has no graph") }
        if graph.hasSparseInitializers {
            throw .unsupported("sparse initializers are not supported by Cairn's native runtime")
        }

        var opsets: [String: Int64] = [:]
        for (domain, version) in model.opsetImports {
            opsets[OperatorRegistry.canonicalDomain(domain)] = version
        }
        if opsets.isEmpty { throw .invalidModel("model declares no opset_import") }
        try OperatorRegistry.checkOpsets(opsets)

        self.irVersion = model.irVersion
        self.opsets = opsets
        self.producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")

        // Slots: graph inputs, then initializers, then node outputs.
        var slotOf: [String: Int] = [:]
        var template = ContiguousArray<ONNXValue?>()
        func addSlot(_ name: String) -> Int {
            let slot = template.count
            slotOf[name] = slot
            template.append(nil)
            return slot
        }
        for input in graph.inputs {
            guard !input.name.isEmpty else { throw .invalidModel("graph input with an empty name") }
            guard slotOf[input.name] == nil else { throw .invalidModel("graph input '\(input.name)' is declared twice") }
            _ = addSlot(input.name)
        }
        var initialized = Set<String>()
        for (name, tensor) in graph.initializers {
            guard !name.isEmpty else { throw .invalidModel("initializer with an empty name") }
            guard initialized.insert(name).inserted else { throw .invalidModel("initializer '\(name)' is declared twice") }
            let slot = slotOf[name] ?? addSlot(name)
            template[slot] = .tensor(tensor)
        }
        let fed = graph.inputs.filter { !initialized.contains($0.name) }
        self.inputs = fed
        self.inputIndex = Dictionary(uniqueKeysWithValues: fed.enumerated().map { ($1.name, $0) })

        let ordered = try Self.topologicalOrder(graph.nodes, available: Set(slotOf.keys))

        var planned: [PlannedNode] = []
        planned.reserveCapacity(ordered.count)
        for node in ordered {
            let domain = OperatorRegistry.canonicalDomain(node.domain)
            let label = "node '\(node.name.isEmpty ? node.outputs.first ?? "?" : node.name)' (\(domain):\(node.opType))"
            guard let make = OperatorRegistry.builder(domain: domain, opType: node.opType) else {
                throw .unsupported(
                    "unsupported operator \(domain):\(node.opType) (node '\(node.name)') — Cairn's native runtime supports: \(OperatorRegistry.supportedDescription)"
                )
            }
            guard let opset = opsets[domain] else {
                throw .invalidModel("\(label) uses domain \(domain), which the model does not import")
            }
            let kernel: any Kernel
            do {
                let context = NodeContext(
                    opType: node.opType, domain: domain, opset: opset,
                    attributes: try NodeAttributes(node.attributes),
                    inputCount: node.inputs.count, outputCount: node.outputs.count)
                kernel = try make(context)
            } catch {
                throw error.prefixed(label)
            }
            let inputSlots = node.inputs.map { $0.isEmpty ? -1 : slotOf[$0]! }
            var outputSlots: [Int] = []
            for output in node.outputs {
                if output.isEmpty {
                    outputSlots.append(-1)
                    continue
                }
                guard slotOf[output] == nil else {
                    throw .invalidModel("\(label) writes '\(output)', which is already defined")
                }
                outputSlots.append(addSlot(output))
            }
            planned.append(PlannedNode(kernel: kernel, io: NodeIO(inputs: inputSlots, outputs: outputSlots), label: label))
        }

        var outputSlots: [Int] = []
        for output in graph.outputs {
            guard let slot = slotOf[output.name] else {
                throw .invalidModel("graph output '\(output.name)' is not produced by any node")
            }
            outputSlots.append(slot)
        }
        self.outputs = graph.outputs
        self.plan = ExecutionPlan(
            template: template,
            inputSlots: fed.map { slotOf[$0.name]! },
            outputSlots: outputSlots,
            nodes: planned)
    }

    /// Runs the model. Every declared input must be fed; the result holds
    /// every graph output by name.
    public func run(_ feeds: [String: ONNXTensor]) throws(ONNXError) -> [String: ONNXValue] {
        var ordered: [ONNXTensor] = []
        ordered.reserveCapacity(inputs.count)
        for input in inputs {
            guard let tensor = feeds[input.name] else {
                throw .invalidInput(
                    "missing input '\(input.name)'; the model's inputs are \(inputs.map { "'\($0.name)'" }.joined(separator: ", "))")
            }
            ordered.append(tensor)
        }
        if feeds.count != inputs.count {
            let unknown = feeds.keys.filter { inputIndex[$0] == nil }.sorted()
            throw .invalidInput(
                "unknown input \(unknown.map { "'\($0)'" }.joined(separator: ", ")); the model's inputs are \(inputs.map { "'\($0.name)'" }.joined(separator: ", "))"
            )
        }
        let values = try run(inputs: ordered)
        var result: [String: ONNXValue] = [:]
        result.reserveCapacity(values.count)
        for (info, value) in zip(outputs, values) { result[info.name] = value }
        return result
    }

    /// Positional variant: `inputs` in the order of `self.inputs`, results
    /// in the order of `self.outputs`.
    public func run(inputs feeds: [ONNXTensor]) throws(ONNXError) -> [ONNXValue] {
        guard feeds.count == inputs.count else {
            throw .invalidInput("model takes \(inputs.count) inputs, got \(feeds.count)")
        }
        var frame = Frame(values: plan.template)
        for (index, tensor) in feeds.enumerated() {
            try Self.validate(tensor, against: inputs[index])
            frame.values[plan.inputSlots[index]] = .tensor(tensor)
        }
        try plan.execute(&frame)
        var results: [ONNXValue] = []
        results.reserveCapacity(plan.outputSlots.count)
        for (index, slot) in plan.outputSlots.enumerated() {
            guard let value = frame.values[slot] else {
                throw .execution("output '\(outputs[index].name)' was not computed")
            }
            results.append(value)
        }
        return results
    }

    private static func validate(_ tensor: ONNXTensor, against info: ONNXValueInfo) throws(ONNXError) {
        guard let expected = elementCount(tensor.shape) else {
            throw .invalidInput("input '\(info.name)' has invalid shape \(tensor.shape)")
        }
        guard expected == tensor.count else {
            throw .invalidInput("input '\(info.name)' has shape \(tensor.shape) (\(expected) elements) but \(tensor.count) values")
        }
        guard case .tensor = info.kind else {
            throw .invalidInput("input '\(info.name)' is not a tensor input")
        }
        if info.elementType != .undefined && info.elementType != tensor.elementType {
            throw .invalidInput("input '\(info.name)' expects \(info.elementType) elements, got \(tensor.elementType)")
        }
        if info.hasShape {
            guard info.shape.count == tensor.shape.count else {
                throw .invalidInput(
                    "input '\(info.name)' expects rank \(info.shape.count) \(describe(info.shape)), got shape \(tensor.shape)")
            }
            for (declared, actual) in zip(info.shape, tensor.shape) {
                if let declared, declared != actual {
                    throw .invalidInput("input '\(info.name)' expects shape \(describe(info.shape)), got \(tensor.shape)")
                }
            }
        }
    }

    private static func describe(_ shape: [Int?]) -> String {
        "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    /// ONNX requires nodes in topological order; exporters comply, so the
    /// common case is a single pass. Otherwise fall back to Kahn's algorithm
    /// (stable, so independent nodes keep their file order).
    private static func topologicalOrder(_ nodes: [NodeProto], available: Set<String>) throws(ONNXError) -> [NodeProto] {
        var defined = available
        var inOrder = true
        for node in nodes {
            if node.inputs.contains(where: { !$0.isEmpty && !defined.contains($0) }) {
                inOrder = false
                break
            }
            for output in node.outputs where !output.isEmpty { defined.insert(output) }
        }
        if inOrder { return nodes }

        defined = available
        var remaining = Array(nodes.indices)
        var ordered: [NodeProto] = []
        while !remaining.isEmpty {
            var progressed = false
            var next: [Int] = []
            for index in remaining {
                let node = nodes[index]
                if node.inputs.allSatisfy({ $0.isEmpty || defined.contains($0) }) {
                    ordered.append(node)
                    for output in node.outputs where !output.isEmpty { defined.insert(output) }
                    progressed = true
                } else {
                    next.append(index)
                }
            }
            if !progressed {
                let node = nodes[next[0]]
                let missing = node.inputs.first { !$0.isEmpty && !defined.contains($0) } ?? "?"
                throw .invalidModel(
                    "node '\(node.name)' (\(node.opType)) reads '\(missing)', which no graph input, initializer or node provides (or the graph has a cycle)"
                )
            }
            remaining = next
        }
        return ordered
    }

    private static func readFile(_ path: String) throws(ONNXError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw ONNXError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(file) != 0 { throw ONNXError(.io, "error reading '\(path)'") }
                break
            }
        }
        return bytes
    }
}
