/// ai.onnx.ml LinearClassifier: scores = X·Wᵀ + b, then a label per row.
///
/// With one coefficient row the score is a margin for the positive class:
/// the label is the positive one when the margin is > 0, and with two class
/// labels the transformed score p widens to [1 - p, p].
struct LinearClassifierKernel: Kernel {
    let coefficients: [Float]
    let intercepts: [Float]
    let classCount: Int
    let featureCount: Int
    let labels: ClassLabels
    let postTransform: PostTransform

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        let a = context.attributes
        guard let coefficients = try a.floats("coefficients"), !coefficients.isEmpty else {
            throw .invalidModel("LinearClassifier needs 'coefficients'")
        }
        labels = try ClassLabels(a, ints: "classlabels_ints")
        let intercepts = try a.floats("intercepts") ?? []
        let classes =
            !intercepts.isEmpty
            ? intercepts.count
            : (labels.count > 0 && coefficients.count % labels.count == 0 ? labels.count : 1)
        guard coefficients.count % classes == 0 else {
            throw .invalidModel("\(coefficients.count) coefficients do not divide into \(classes) classes")
        }
        guard classes == 1 || labels.count >= classes else {
            throw .invalidModel("\(classes) score columns but \(labels.count) class labels")
        }
        self.coefficients = coefficients
        self.intercepts = intercepts.isEmpty ? [Float](repeating: 0, count: classes) : intercepts
        self.classCount = classes
        self.featureCount = coefficients.count / classes
        self.postTransform = try PostTransform(name: a.string("post_transform", default: "NONE"))
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try FeatureMatrix<Float>(try frame.tensor(io, 0))
        guard x.columns == featureCount else {
            throw .execution("expects \(featureCount) features per row, got \(x.columns)")
        }
        let widen = classCount == 1 && labels.count == 2
        let columns = widen ? 2 : classCount
        var scores: [Float] = []
        scores.reserveCapacity(x.rows * columns)
        var picks: [Int] = []
        var literal: [Int64] = []
        var row = [Float](repeating: 0, count: classCount)
        for r in 0..<x.rows {
            linearScores(x.values, offset: r * featureCount, coefficients, intercepts, into: &row)
            if classCount == 1 {
                let positive = row[0] > 0
                if labels.count == 2 { picks.append(positive ? 1 : 0) } else { literal.append(positive ? 1 : 0) }
            } else {
                var best = 0
                for c in 1..<classCount where row[c] > row[best] { best = c }
                picks.append(best)
            }
            if classCount == 1 {
                // onnxruntime transforms the lone margin into a probability
                // (LOGISTIC or PROBIT; others leave it as is) before widening.
                var p = row[0]
                if postTransform == .logistic { p = PostTransform.logistic(p) }
                if postTransform == .probit { p = PostTransform.probit(p) }
                if widen { scores.append(1 - p) }
                scores.append(p)
            } else {
                var out = row
                postTransform.apply(&out, secondClass: .none)
                scores.append(contentsOf: out)
            }
        }
        let labelTensor: ONNXTensor
        if picks.count == x.rows {
            labelTensor = labels.tensor(indices: picks, shape: [x.rows])
        } else if case .strings = labels {
            labelTensor = ONNXTensor(shape: [x.rows], storage: .string(literal.map { $0.description }))
        } else {
            labelTensor = ONNXTensor(shape: [x.rows], storage: .int64(literal))
        }
        frame.set(io, 0, labelTensor)
        frame.set(io, 1, ONNXTensor(shape: [x.rows, columns], storage: .float(scores)))
    }
}

struct LinearRegressorKernel: Kernel {
    let coefficients: [Float]
    let intercepts: [Float]
    let targets: Int
    let featureCount: Int
    let postTransform: PostTransform

    init(_ context: NodeContext) throws(ONNXError) {
        try context.requireInputs(1...1)
        let a = context.attributes
        guard let coefficients = try a.floats("coefficients"), !coefficients.isEmpty else {
            throw .invalidModel("LinearRegressor needs 'coefficients'")
        }
        let targets = Int(try a.int("targets", default: 1))
        guard targets > 0, coefficients.count % targets == 0 else {
            throw .invalidModel("\(coefficients.count) coefficients do not divide into \(targets) targets")
        }
        let intercepts = try a.floats("intercepts") ?? []
        guard intercepts.isEmpty || intercepts.count == targets else {
            throw .invalidModel("\(intercepts.count) intercepts for \(targets) targets")
        }
        self.coefficients = coefficients
        self.intercepts = intercepts.isEmpty ? [Float](repeating: 0, count: targets) : intercepts
        self.targets = targets
        self.featureCount = coefficients.count / targets
        self.postTransform = try PostTransform(name: a.string("post_transform", default: "NONE"))
    }

    func run(_ io: NodeIO, _ frame: inout Frame) throws(ONNXError) {
        let x = try FeatureMatrix<Float>(try frame.tensor(io, 0))
        guard x.columns == featureCount else {
            throw .execution("expects \(featureCount) features per row, got \(x.columns)")
        }
        var scores: [Float] = []
        scores.reserveCapacity(x.rows * targets)
        var row = [Float](repeating: 0, count: targets)
        for r in 0..<x.rows {
            linearScores(x.values, offset: r * featureCount, coefficients, intercepts, into: &row)
            postTransform.apply(&row, secondClass: .none)
            scores.append(contentsOf: row)
        }
        frame.set(io, 0, ONNXTensor(shape: [x.rows, targets], storage: .float(scores)))
    }
}

/// row[t] = Σ_k x[offset + k]·W[t, k] + b[t].
@inline(__always)
private func linearScores(_ x: [Float], offset: Int, _ weights: [Float], _ bias: [Float], into row: inout [Float]) {
    let features = weights.count / bias.count
    x.withUnsafeBufferPointer { xp in
        weights.withUnsafeBufferPointer { wp in
            for t in 0..<bias.count {
                var sum: Float = 0
                let w = t * features
                for k in 0..<features { sum += xp[offset + k] * wp[w + k] }
                row[t] = sum + bias[t]
            }
        }
    }
}
