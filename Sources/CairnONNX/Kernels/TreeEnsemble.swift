/// Comparison a branch node makes; raw values are ai.onnx.ml opset 5's
/// `nodes_modes` codes, with LEAF added after them.
enum TreeNodeMode: UInt8, Sendable {
    case leq = 0
    case lt = 1
    case gte = 2
    case gt = 3
    case eq = 4
    case neq = 5
    case member = 6
    case leaf = 7

    init(name: String) throws(ONNXError) {
        switch name {
        case "BRANCH_LEQ": self = .leq
        case "BRANCH_LT": self = .lt
        case "BRANCH_GTE": self = .gte
        case "BRANCH_GT": self = .gt
        case "BRANCH_EQ": self = .eq
        case "BRANCH_NEQ": self = .neq
        case "BRANCH_MEMBER": self = .member
        case "LEAF": self = .leaf
        default: throw .invalidModel("unknown node mode '\(name)'")
        }
    }
}

/// One node of a flattened forest. A walk reads every field of the node it
/// visits, so the fields sit together (one cache line per step) rather than
/// in parallel arrays. Leaves reuse the child fields for their weight range.
struct TreeNode<T: RealScalar>: Sendable {
    var threshold: T
    var feature: Int32
    /// Branch: node index taken when the comparison holds. Leaf: first weight.
    var trueChild: Int32
    /// Branch: node index otherwise. Leaf: number of weights.
    var falseChild: Int32
    var mode: TreeNodeMode
    /// A NaN feature takes the true branch (otherwise comparisons with NaN
    /// are false and it goes to the false branch).
    var missingTracksTrue: Bool
}

struct LeafWeight<T: RealScalar>: Sendable {
    var target: Int32
    var value: T
}

enum TreeAggregate: Sendable {
    case sum, average, min, max

    init(name: String) throws(ONNXError) {
        switch name {
        case "SUM": self = .sum
        case "AVERAGE": self = .average
        case "MIN": self = .min
        case "MAX": self = .max
        default: throw .invalidModel("unknown aggregate_function '\(name)'")
        }
    }

    init(code: Int64) throws(ONNXError) {
        switch code {
        case 0: self = .average
        case 1: self = .sum
        case 2: self = .min
        case 3: self = .max
        default: throw .invalidModel("unknown aggregate_function \(code)")
        }
    }
}

/// A tree ensemble in contiguous arrays, evaluated one row at a time over
/// all trees. `T` is the precision the model stores thresholds and weights
/// in; scores accumulate in it too, tree by tree, as onnxruntime does.
struct Forest<T: RealScalar>: Sendable {
    var nodes: [TreeNode<T>] = []
    var roots: [Int] = []
    var weights: [LeafWeight<T>] = []
    /// Set-membership values, and per node the range of them it tests
    /// (only filled when some node is BRANCH_MEMBER).
    var members: [T] = []
    var memberRanges: [Range<Int>] = []
    var featureCount = 0
    var targetCount = 0

    @inline(__always)
    func leaf(from root: Int, _ x: UnsafePointer<T>, _ nodes: UnsafeBufferPointer<TreeNode<T>>) -> Int {
        var i = root
        while true {
            let node = nodes[i]
            let goesTrue: Bool
            let v: T
            switch node.mode {
            case .leaf: return i
            case .leq:
                v = x[Int(node.feature)]
                goesTrue = v <= node.threshold
            case .lt:
                v = x[Int(node.feature)]
                goesTrue = v < node.threshold
            case .gte:
                v = x[Int(node.feature)]
                goesTrue = v >= node.threshold
            case .gt:
                v = x[Int(node.feature)]
                goesTrue = v > node.threshold
            case .eq:
                v = x[Int(node.feature)]
                goesTrue = v == node.threshold
            case .neq:
                v = x[Int(node.feature)]
                goesTrue = v != node.threshold
            case .member:
                v = x[Int(node.feature)]
                goesTrue = members[memberRanges[i]].contains(v)
            }
            i = Int(goesTrue || (node.missingTracksTrue && v.isNaN) ? node.trueChild : node.falseChild)
        }
    }

    /// Raw per-target aggregates for one row: `scores[t]`, and whether any
    /// tree voted for target t.
    @inline(__always)
    func accumulate(
        _ x: UnsafePointer<T>, _ aggregate: TreeAggregate,
        _ nodes: UnsafeBufferPointer<TreeNode<T>>, _ weights: UnsafeBufferPointer<LeafWeight<T>>,
        scores: UnsafeMutableBufferPointer<T>, voted: UnsafeMutableBufferPointer<Bool>
    ) {
        for t in 0..<scores.count {
            scores[t] = 0
            voted[t] = false
        }
        for root in roots {
            let node = nodes[leaf(from: root, x, nodes)]
            let start = Int(node.trueChild)
            let end = start + Int(node.falseChild)
            for w in start..<end {
                let weight = weights[w]
                let t = Int(weight.target)
                switch aggregate {
                case .sum, .average: scores[t] += weight.value
                case .min: if !voted[t] || weight.value < scores[t] { scores[t] = weight.value }
                case .max: if !voted[t] || weight.value > scores[t] { scores[t] = weight.value }
                }
                voted[t] = true
            }
        }
    }

    /// Rejects structures a walk could not finish: children out of range,
    /// cycles, features past the end of a row.
    func validate() throws(ONNXError) {
        var state = [UInt8](repeating: 0, count: nodes.count) // 0 new, 1 on path, 2 done
        for root in roots {
            guard root >= 0, root < nodes.count else { throw .invalidModel("tree root \(root) is out of range") }
            var stack: [(node: Int, expanded: Bool)] = [(root, false)]
            while let (i, expanded) = stack.popLast() {
                if expanded {
                    state[i] = 2
                    continue
                }
                if state[i] == 2 { continue }
                if state[i] == 1 { throw .invalidModel("tree nodes form a cycle through node \(i)") }
                let node = nodes[i]
                if node.mode == .leaf {
                    let start = Int(node.trueChild)
                    let count = Int(node.falseChild)
                    guard start >= 0, count >= 0, start + count <= weights.count else {
                        throw .invalidModel("leaf \(i) has an invalid weight range")
                    }
                    state[i] = 2
                    continue
                }
                guard node.feature >= 0 else { throw .invalidModel("node \(i) has negative feature id \(node.feature)") }
                state[i] = 1
                stack.append((i, true))
                for child in [Int(node.trueChild), Int(node.falseChild)] {
                    guard child >= 0, child < nodes.count else {
                        throw .invalidModel("node \(i) points at child \(child), outside the tree")
                    }
                    if state[child] == 1 { throw .invalidModel("tree nodes form a cycle through node \(child)") }
                    if state[child] == 0 { stack.append((child, false)) }
                }
            }
        }
        for weight in weights where weight.target < 0 || Int(weight.target) >= targetCount {
            throw .invalidModel("leaf weight targets \(weight.target), but there are \(targetCount) targets")
        }
    }
}
