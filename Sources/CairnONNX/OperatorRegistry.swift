/// The operators Cairn's native runtime implements, and the opset versions
/// whose semantics it follows.
enum OperatorRegistry {
    typealias Builder = @Sendable (NodeContext) throws(ONNXError) -> any Kernel

    static let coreDomain = "ai.onnx"
    static let mlDomain = "ai.onnx.ml"

    /// Core opsets before 7 used attribute-driven broadcasting and
    /// `consumed_inputs`; later ones are what exporters emit today.
    static let supportedOpsets: [String: ClosedRange<Int64>] = [
        coreDomain: 7...25,
        mlDomain: 1...5,
    ]

    static func canonicalDomain(_ domain: String) -> String {
        domain.isEmpty ? coreDomain : domain
    }

    private static let table: [String: [String: Builder]] = [
        coreDomain: [
            "Add": { c throws(ONNXError) in try BinaryArithmeticKernel(.add, c) },
            "Sub": { c throws(ONNXError) in try BinaryArithmeticKernel(.sub, c) },
            "Mul": { c throws(ONNXError) in try BinaryArithmeticKernel(.mul, c) },
            "Div": { c throws(ONNXError) in try BinaryArithmeticKernel(.div, c) },
            "Relu": { c throws(ONNXError) in try UnaryMathKernel(.relu, c) },
            "Sigmoid": { c throws(ONNXError) in try UnaryMathKernel(.sigmoid, c) },
            "Tanh": { c throws(ONNXError) in try UnaryMathKernel(.tanh, c) },
            "Identity": { c throws(ONNXError) in try IdentityKernel(c) },
            "Cast": { c throws(ONNXError) in try CastKernel(c) },
            "Reshape": { c throws(ONNXError) in try ReshapeKernel(c) },
            "Flatten": { c throws(ONNXError) in try FlattenKernel(c) },
            "Concat": { c throws(ONNXError) in try ConcatKernel(c) },
            "Gather": { c throws(ONNXError) in try GatherKernel(c) },
            "MatMul": { c throws(ONNXError) in try MatMulKernel(c) },
            "Gemm": { c throws(ONNXError) in try GemmKernel(c) },
            "Softmax": { c throws(ONNXError) in try SoftmaxKernel(c) },
            "ArgMax": { c throws(ONNXError) in try ArgMaxKernel(c) },
        ],
        mlDomain: [
            "LinearClassifier": { c throws(ONNXError) in try LinearClassifierKernel(c) },
            "LinearRegressor": { c throws(ONNXError) in try LinearRegressorKernel(c) },
            "TreeEnsembleClassifier": { c throws(ONNXError) in try TreeEnsembleKernel.classifier(c) },
            "TreeEnsembleRegressor": { c throws(ONNXError) in try TreeEnsembleKernel.regressor(c) },
            "TreeEnsemble": { c throws(ONNXError) in try TreeEnsembleKernel.unified(c) },
            "Scaler": { c throws(ONNXError) in try ScalerKernel(c) },
            "Normalizer": { c throws(ONNXError) in try NormalizerKernel(c) },
            "Imputer": { c throws(ONNXError) in try ImputerKernel(c) },
            "OneHotEncoder": { c throws(ONNXError) in try OneHotEncoderKernel(c) },
            "LabelEncoder": { c throws(ONNXError) in try LabelEncoderKernel(c) },
            "ArrayFeatureExtractor": { c throws(ONNXError) in try ArrayFeatureExtractorKernel(c) },
            "ZipMap": { c throws(ONNXError) in try ZipMapKernel(c) },
            "Binarizer": { c throws(ONNXError) in try BinarizerKernel(c) },
        ],
    ]

    static func builder(domain: String, opType: String) -> Builder? {
        table[domain]?[opType]
    }

    static let supportedOperators: [String] =
        table
        .flatMap { domain, ops in ops.keys.map { "\(domain):\($0)" } }
        .sorted()

    static var supportedDescription: String { supportedOperators.joined(separator: ", ") }

    static func checkOpsets(_ opsets: [String: Int64]) throws(ONNXError) {
        for (domain, version) in opsets.sorted(by: { $0.key < $1.key }) {
            // Imports of other domains are harmless until a node uses one,
            // and that node then fails as an unsupported operator.
            guard let range = supportedOpsets[domain] else { continue }
            guard range.contains(version) else {
                throw .unsupported(
                    "model imports \(domain) opset \(version); Cairn's native runtime supports \(domain) opsets \(range.lowerBound) to \(range.upperBound)"
                )
            }
        }
    }
}
