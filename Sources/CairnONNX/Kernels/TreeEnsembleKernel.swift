/// TreeEnsembleClassifier, TreeEnsembleRegressor (ai.onnx.ml 1 and 3) and
/// TreeEnsemble (ai.onnx.ml 5), all compiled to one `Forest`.
struct TreeEnsembleKernel: Kernel {
    enum Precision: Sendable {
        case float(Forest<Float>)
        case double(Forest<Double>)
    }

    enum Role: Sendable {
        /// Output 0 is [N, targets] in `outputType`.
        case regressor(outputType: ONNXElementType)
        /// Output 0 is the label, output 1 [N, classes] float scores.
        case classifier(Classifier)
    }

    struct Classifier: Sendable {
        let labels: ClassLabels
        /// Two classes but only one of them ever receives weight: the
        /// model stores a single score column.
        let binaryCase: Bool
        let weightsAllPositive: Bool
    }

    let precision: Precision
    let role: Role
    let aggregate: TreeAggregate
    let postTransform: PostTransform
    /// Added per target after aggregation; used only when there is one per target.
    let baseValues: [Double]

    // MARK: Construction

    static func regressor(_ context: NodeContext) throws(ONNXError) -> TreeEnsembleKernel {
        try context.requireInputs(1...1)
        let a = context.attributes
        let targets = Int(try a.int("n_targets", default: 1))
        guard targets > 0 else { throw .invalidModel("n_targets must be positive") }
        return try legacy(
            context, prefix: "target", targetCount: targets, role: .regressor(outputType: .float),
            aggregate: TreeAggregate(name: a.string("aggregate_function", default: "SUM")))
    }

    static func classifier(_ context: NodeContext) throws(ONNXError) -> TreeEnsembleKernel {
        try context.requireInputs(1...1)
        let a = context.attributes
        let labels = try ClassLabels(a)
        guard labels.count >= 2 else { throw .invalidModel("a tree classifier needs at least two class labels") }
        let classIDs = try a.ints("class_ids") ?? []
        let weights = try a.floatsOrTensor("class_weights")?.values(as: Double.self) ?? []
        let info = Classifier(
            labels: labels,
            binaryCase: labels.count == 2 && Set(classIDs).count == 1,
            weightsAllPositive: weights.allSatisfy { $0 >= 0 })
        return try legacy(context, prefix: "class", targetCount: labels.count, role: .classifier(info), aggregate: .sum)
    }

    /// The v1/v3 layout: nodes addressed by (tree id, node id) pairs.
    private static func legacy(
        _ context: NodeContext, prefix: String, targetCount: Int, role: Role, aggregate: TreeAggregate
    ) throws(ONNXError) -> TreeEnsembleKernel {
        let a = context.attributes
        let treeIDs = try a.requireInts("nodes_treeids")
        let nodeIDs = try a.requireInts("nodes_nodeids")
        let featureIDs = try a.requireInts("nodes_featureids")
        guard let modeNames = try a.strings("nodes_modes") else { throw .invalidModel("required attribute 'nodes_modes' is missing") }
        let trueIDs = try a.requireInts("nodes_truenodeids")
        let falseIDs = try a.requireInts("nodes_falsenodeids")
        let missing = try a.ints("nodes_missing_value_tracks_true") ?? []
        guard let values = try a.floatsOrTensor("nodes_values") else { throw .invalidModel("required attribute 'nodes_values' is missing") }
        let n = treeIDs.count
        guard [nodeIDs.count, featureIDs.count, modeNames.count, trueIDs.count, falseIDs.count, values.count].allSatisfy({ $0 == n }),
            missing.isEmpty || missing.count == n
        else { throw .invalidModel("the nodes_* attributes have different lengths") }

        let leafTrees = try a.requireInts("\(prefix)_treeids")
        let leafNodes = try a.requireInts("\(prefix)_nodeids")
        let leafTargets = try a.requireInts("\(prefix)_ids")
        guard let leafValues = try a.floatsOrTensor("\(prefix)_weights") else {
            throw .invalidModel("required attribute '\(prefix)_weights' is missing")
        }
        guard leafNodes.count == leafTrees.count, leafTargets.count == leafTrees.count, leafValues.count == leafTrees.count else {
            throw .invalidModel("the \(prefix)_* attributes have different lengths")
        }
        let base = try a.floatsOrTensor("base_values")?.values(as: Double.self) ?? []
        let post = try PostTransform(name: a.string("post_transform", default: "NONE"))
        let modes = try modeNames.map { name throws(ONNXError) in try TreeNodeMode(name: name) }
        guard !modes.contains(.member) else { throw .invalidModel("BRANCH_MEMBER needs ai.onnx.ml TreeEnsemble (opset 5)") }

        // Double thresholds (the *_as_tensor form) keep double precision.
        func build<T: RealScalar>(_: T.Type) throws(ONNXError) -> Forest<T> {
            var forest = Forest<T>()
            forest.targetCount = targetCount
            var index: [TreeKey: Int] = [:]
            index.reserveCapacity(n)
            var seenTrees = Set<Int64>()
            for i in 0..<n {
                guard index.updateValue(i, forKey: TreeKey(tree: treeIDs[i], node: nodeIDs[i])) == nil else {
                    throw .invalidModel("node \(nodeIDs[i]) appears twice in tree \(treeIDs[i])")
                }
                // A tree's root is its first node, the order converters write.
                if seenTrees.insert(treeIDs[i]).inserted { forest.roots.append(i) }
            }
            var grouped = [[LeafWeight<T>]](repeating: [], count: n)
            let leafT: [T] = leafValues.values()
            for j in leafTrees.indices {
                guard let node = index[TreeKey(tree: leafTrees[j], node: leafNodes[j])] else {
                    throw .invalidModel("\(prefix) weight \(j) refers to missing node \(leafNodes[j]) of tree \(leafTrees[j])")
                }
                guard leafTargets[j] >= 0, leafTargets[j] < targetCount else {
                    throw .invalidModel("\(prefix)_ids[\(j)] = \(leafTargets[j]) is out of range for \(targetCount) targets")
                }
                grouped[node].append(LeafWeight(target: Int32(leafTargets[j]), value: leafT[j]))
            }
            let thresholds: [T] = values.values()
            forest.nodes.reserveCapacity(n)
            for i in 0..<n {
                var node = TreeNode<T>(
                    threshold: thresholds[i], feature: 0, trueChild: 0, falseChild: 0,
                    mode: modes[i], missingTracksTrue: !missing.isEmpty && missing[i] != 0)
                if modes[i] == .leaf {
                    node.trueChild = Int32(forest.weights.count)
                    node.falseChild = Int32(grouped[i].count)
                    forest.weights.append(contentsOf: grouped[i])
                } else {
                    guard let t = index[TreeKey(tree: treeIDs[i], node: trueIDs[i])],
                        let f = index[TreeKey(tree: treeIDs[i], node: falseIDs[i])]
                    else { throw .invalidModel("node \(nodeIDs[i]) of tree \(treeIDs[i]) points at a child that does not exist") }
                    guard let feature = Int32(exactly: featureIDs[i]), feature >= 0 else {
                        throw .invalidModel("node \(nodeIDs[i]) of tree \(treeIDs[i]) has feature id \(featureIDs[i])")
                    }
                    node.feature = feature
                    node.trueChild = Int32(t)
                    node.falseChild = Int32(f)
                    forest.featureCount = max(forest.featureCount, Int(feature) + 1)
                }
                forest.nodes.append(node)
            }
            try forest.validate()
            return forest
        }

        let precision: Precision = values.isDouble || leafValues.isDouble ? .double(try build(Double.self)) : .float(try build(Float.self))
        return TreeEnsembleKernel(precision: precision, role: role, aggregate: aggregate, postTransform: post, baseValues: base)
    }

    /// ai.onnx.ml opset 5: nodes and leaves in separate arrays addressed by
    /// position, split values and modes as tensors, set-membership nodes.
    static func unified(_ context: NodeContext) throws(ONNXError) -> TreeEnsembleKernel {
        try context.requireInputs(1...1)
        guard context.opset >= 5 else { throw .invalidModel("TreeEnsemble needs ai.onnx.ml opset 5") }
        let a = context.attributes
        let roots = try a.requireInts("tree_roots")
        let featureIDs = try a.requireInts("nodes_featureids")
        let trueIDs = try a.requireInts("nodes_truenodeids")
        let falseIDs = try a.requireInts("nodes_falsenodeids")
        let trueLeafs = try a.ints("nodes_trueleafs") ?? []
        let falseLeafs = try a.ints("nodes_falseleafs") ?? []
        let missing = try a.ints("nodes_missing_value_tracks_true") ?? []
        let leafTargets = try a.requireInts("leaf_targetids")
        guard let splits = try a.tensor("nodes_splits"), let modeTensor = try a.tensor("nodes_modes"),
            let leafWeights = try a.tensor("leaf_weights")
        else { throw .invalidModel("TreeEnsemble needs nodes_splits, nodes_modes and leaf_weights") }
        guard case .uint8(let modeCodes) = modeTensor.storage else { throw .invalidModel("nodes_modes must be a uint8 tensor") }
        let targets = Int(try a.int("n_targets", default: 1))
        guard targets > 0 else { throw .invalidModel("n_targets must be positive") }
        let aggregate = try TreeAggregate(code: a.int("aggregate_function", default: 1))
        let post = try PostTransform(code: a.int("post_transform", default: 0))
        let n = featureIDs.count
        let leaves = leafTargets.count
        guard [trueIDs.count, falseIDs.count, trueLeafs.count, falseLeafs.count, modeCodes.count, splits.count].allSatisfy({ $0 == n }),
            missing.isEmpty || missing.count == n, leafWeights.count == leaves
        else { throw .invalidModel("the nodes_* or leaf_* attributes have different lengths") }
        let modes = try modeCodes.map { code throws(ONNXError) in
            guard let mode = TreeNodeMode(rawValue: code), mode != .leaf else { throw .invalidModel("unknown node mode \(code)") }
            return mode
        }
        let membership = try a.tensor("membership_values")

        func build<T: RealScalar>(_: T.Type) throws(ONNXError) -> Forest<T> {
            var forest = Forest<T>()
            forest.targetCount = targets
            let thresholds = try splits.storage.reals(as: T.self)
            let weights = try leafWeights.storage.reals(as: T.self)
            // Sets for BRANCH_MEMBER nodes, in node order, separated by NaN.
            var sets: [[T]] = [[]]
            for v in try membership?.storage.reals(as: T.self) ?? [] {
                if v.isNaN { sets.append([]) } else { sets[sets.count - 1].append(v) }
            }
            var nextSet = 0
            func child(_ id: Int64, _ isLeaf: Int64) throws(ONNXError) -> Int32 {
                let limit = isLeaf != 0 ? leaves : n
                guard id >= 0, id < limit else { throw .invalidModel("child id \(id) is out of range") }
                return Int32(isLeaf != 0 ? n + Int(id) : Int(id))
            }
            for i in 0..<n {
                guard let feature = Int32(exactly: featureIDs[i]), feature >= 0 else {
                    throw .invalidModel("node \(i) has feature id \(featureIDs[i])")
                }
                forest.nodes.append(
                    TreeNode(
                        threshold: thresholds[i], feature: feature,
                        trueChild: try child(trueIDs[i], trueLeafs[i]), falseChild: try child(falseIDs[i], falseLeafs[i]),
                        mode: modes[i], missingTracksTrue: !missing.isEmpty && missing[i] != 0))
                forest.featureCount = max(forest.featureCount, Int(feature) + 1)
                if modes[i] == .member {
                    if forest.memberRanges.isEmpty { forest.memberRanges = Array(repeating: 0..<0, count: n) }
                    let set = nextSet < sets.count ? sets[nextSet] : []
                    nextSet += 1
                    forest.memberRanges[i] = forest.members.count..<(forest.members.count + set.count)
                    forest.members.append(contentsOf: set)
                }
            }
            for j in 0..<leaves {
                guard leafTargets[j] >= 0, leafTargets[j] < targets else {
                    throw .invalidModel("leaf_targetids[\(j)] = \(leafTargets[j]) is out of range for \(targets) targets")
                }
                forest.nodes.append(
                    TreeNode(
                        threshold: 0, feature: 0, trueChild: Int32(j), falseChild: 1,
                        mode: .leaf, missingTracksTrue: false))
                forest.weights.append(LeafWeight(target: Int32(leafTargets[j]), value: weights[j]))
            }
            if !forest.memberRanges.isEmpty { forest.memberRanges += Array(repeating: 0..<0, count: leaves) }
            for root in roots {
                guard root >= 0, root < n else { throw .invalidModel("tree root \(root) is out of range") }
                forest.roots.append(Int(root))
            }
            try forest.validate()
            return forest
        }

        let precision: Precision
        switch splits.storage {
        case .double: precision = .double(try build(Double.self))
        case .float: precision = .float(try build(Float.self))
        default: throw .unsupported("nodes_splits of type \(splits.elementType) are not supported")
        }
        // Opset 5 returns scores in the input's own type.
        let outputType: ONNXElementType = if case .double = precision { .double } else { .float }
        return TreeEnsembleKernel(
            precision: precision, role: .regressor(outputType: outputType),
            aggregate: aggregate, postTransform: post, baseValues: [])
    }

    // MARK: Evaluation

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try frame.tensor(io, 0)
        switch precision {
        case .float(let forest): try evaluate(forest, x, io, &frame)
        case .double(let forest): try evaluate(forest, x, io, &frame)
        }
    }

    private func evaluate<T: RealScalar>(_ forest: Forest<T>, _ input: ONNXTensor, _ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try FeatureMatrix<T>(input)
        guard x.columns >= forest.featureCount else {
            throw .execution("the trees read feature \(forest.featureCount - 1), but rows have \(x.columns) features")
        }
        let targets = forest.targetCount
        let base = baseValues.count == targets ? baseValues.map { T($0) } : nil
        var raw = [T](repeating: 0, count: targets)
        var voted = [Bool](repeating: false, count: targets)
        var out: [T] = []
        out.reserveCapacity(x.rows * targets)
        var picks: [Int] = []
        picks.reserveCapacity(x.rows)

        for r in 0..<x.rows {
            x.values.withUnsafeBufferPointer { xp in
                forest.nodes.withUnsafeBufferPointer { np in
                    forest.weights.withUnsafeBufferPointer { wp in
                        raw.withUnsafeMutableBufferPointer { sp in
                            voted.withUnsafeMutableBufferPointer { vp in
                                forest.accumulate(xp.baseAddress! + r * x.columns, aggregate, np, wp, scores: sp, voted: vp)
                            }
                        }
                    }
                }
            }
            switch role {
            case .regressor:
                var row = raw
                for t in 0..<targets {
                    let value: T =
                        switch aggregate {
                        case .sum: raw[t]
                        case .average: raw[t] / T(forest.roots.count)
                        case .min, .max: voted[t] ? raw[t] : 0
                        }
                    row[t] = (base?[t] ?? 0) + value
                }
                postTransform.apply(&row, secondClass: .none)
                out.append(contentsOf: row)
            case .classifier(let info):
                var row = raw
                picks.append(classify(&row, voted, info))
                // A lone score that was not widened still fills its row.
                while row.count < targets { row.append(0) }
                out.append(contentsOf: row.prefix(targets))
            }
        }

        switch role {
        case .regressor(let outputType):
            let shape = [x.rows, targets]
            if outputType == .double, T.self == Double.self {
                frame.set(io, 0, ONNXTensor(shape: shape, storage: T.wrap(out)))
            } else {
                frame.set(io, 0, ONNXTensor(shape: shape, storage: .float(out.map { Float($0) })))
            }
        case .classifier(let info):
            frame.set(io, 0, info.labels.tensor(indices: picks, shape: [x.rows]))
            frame.set(io, 1, ONNXTensor(shape: [x.rows, targets], storage: .float(out.map { Float($0) })))
        }
    }

    /// Adds base values, picks the label and post-transforms one row of
    /// class scores, following onnxruntime's conventions for the binary
    /// cases the spec leaves open. Returns the label's index.
    private func classify<T: RealScalar>(_ scores: inout [T], _ voted: [Bool], _ info: Classifier) -> Int {
        var voted = voted
        let base = baseValues.map { T($0) }
        if scores.count > 2 {
            for k in base.indices where k < scores.count {
                scores[k] = voted[k] ? scores[k] + base[k] : base[k]
                voted[k] = true
            }
            var best = -1
            for k in scores.indices where voted[k] && (best < 0 || scores[k] > scores[best]) { best = k }
            postTransform.apply(&scores, secondClass: .none)
            return max(best, 0)
        }

        var secondClass = PostTransform.SecondClass.none
        if base.count == 2 {
            if voted[1] {
                // onnxruntime reads column 0's sum here and mirrors it,
                // leaving base_values[0] unused; kept so results agree.
                scores[1] = base[1] + scores[0]
                scores[0] = -scores[1]
            } else {
                scores[1] += base[1]
                scores[0] += base[0]
            }
        } else {
            if base.count == 1 { scores[0] += base[0] } else { secondClass = .mirror }
            if !voted[1] { scores.removeLast() }
        }
        let positive: T = scores.count == 2 && voted[1] ? scores[1] : (voted[0] ? scores[0] : 0)
        let label: Int
        if info.binaryCase {
            if info.weightsAllPositive {
                secondClass = .complement
                label = positive > T(0.5) ? 1 : 0
            } else {
                secondClass = .mirror
                label = positive > 0 ? 1 : 0
            }
        } else {
            label = positive > 0 ? 1 : 0
        }
        postTransform.apply(&scores, secondClass: secondClass)
        return label
    }
}

private struct TreeKey: Hashable {
    let tree: Int64
    let node: Int64
}
