import Foundation
import Testing

@testable import CairnONNX

@Suite struct ONNXModelTests {
    // MARK: Load-time validation

    @Test func unsupportedOperatorFailsAtLoad() throws {
        let error = #expect(throws: ONNXError.self) {
            try ONNXModel(contentsOf: Fixtures.path("unsupported_svm.onnx"))
        }
        #expect(error?.kind == .unsupported)
        let message = error?.message ?? ""
        #expect(message.contains("unsupported operator ai.onnx.ml:SVMClassifier"))
        #expect(message.contains("supports:"))
        #expect(message.contains("ai.onnx.ml:TreeEnsembleClassifier"))
    }

    @Test func unknownOperatorInAssembledModelIsNamed() {
        let bytes = ModelBytes.model(
            nodes: [.init(op: "FancyOp", domain: "com.example", inputs: ["X"], outputs: ["Y"])],
            opsets: [("", 17), ("com.example", 1)])
        let error = #expect(throws: ONNXError.self) { try ONNXModel(bytes: bytes) }
        #expect(error?.message.contains("com.example:FancyOp") == true)
    }

    @Test func tooNewOpsetIsRejected() {
        let bytes = ModelBytes.model(nodes: [.init(op: "Relu", inputs: ["X"], outputs: ["Y"])], opsets: [("", 99)])
        let error = #expect(throws: ONNXError.self) { try ONNXModel(bytes: bytes) }
        #expect(error?.kind == .unsupported)
        #expect(error?.message.contains("opset 99") == true)
    }

    @Test func danglingInputIsRejected() {
        let bytes = ModelBytes.model(nodes: [.init(op: "Add", inputs: ["X", "nowhere"], outputs: ["Y"])])
        let error = #expect(throws: ONNXError.self) { try ONNXModel(bytes: bytes) }
        #expect(error?.message.contains("nowhere") == true)
    }

    @Test func badAttributeTypeNamesTheNode() {
        let bytes = ModelBytes.model(nodes: [
            .init(
                op: "Scaler", domain: "ai.onnx.ml", inputs: ["X"], outputs: ["Y"],
                attributes: [
                    { a in
                        a.string(1, "scale")
                        a.int(20, 2)
                        a.int(3, 1)
                    } // declared INT, spec wants FLOATS
                ])
        ])
        let error = #expect(throws: ONNXError.self) { try ONNXModel(bytes: bytes) }
        #expect(error?.message.contains("ai.onnx.ml:Scaler") == true)
        #expect(error?.message.contains("'scale'") == true)
    }

    /// Nodes listed out of order still run: the loader sorts them.
    @Test func assembledModelRunsAndSortsNodes() throws {
        let bytes = ModelBytes.model(
            nodes: [
                .init(op: "Mul", inputs: ["T", "W"], outputs: ["Y"]),
                .init(op: "Add", inputs: ["X", "B"], outputs: ["T"]),
            ],
            initializers: [
                // raw_data, little-endian floats 1.5 and -2
                { t in
                    t.int(1, 2)
                    t.int(2, 1)
                    t.string(8, "B")
                    t.data(9, [0, 0, 0xC0, 0x3F, 0, 0, 0, 0xC0])
                },
                // typed float_data, packed
                { t in
                    t.int(1, 1)
                    t.int(2, 1)
                    t.string(8, "W")
                    t.data(4, [0, 0, 0x40, 0x40])
                },
            ])
        let model = try ONNXModel(bytes: bytes)
        #expect(model.producer == "cairn-tests 1.0")
        #expect(model.inputs.map(\.name) == ["X"])
        #expect(model.inputs[0].shape == [nil, 2])
        let out = try model.run(["X": ONNXTensor(shape: [2, 2], floats: [1, 2, 3, 4])])
        #expect(out["Y"] == .tensor(ONNXTensor(shape: [2, 2], floats: [7.5, 0, 13.5, 6])))
    }

    // MARK: Hostile bytes

    @Test func everyTruncationThrows() throws {
        let bytes = try Fixtures.bytes("logreg_binary.onnx")
        for length in 0..<bytes.count {
            #expect(throws: ONNXError.self, "prefix of \(length) bytes") {
                try ONNXModel(bytes: Array(bytes[..<length]))
            }
        }
    }

    @Test func garbageBytesThrow() {
        var rng = SplitMix(seed: 7)
        for size in [1, 2, 7, 64, 1000] {
            for _ in 0..<50 {
                let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                #expect(throws: ONNXError.self) { try ONNXModel(bytes: bytes) }
            }
        }
    }

    /// Corrupted models either fail to load or run (or fail) cleanly; the
    /// test passes as long as nothing traps or hangs.
    @Test(arguments: ["random_forest_classifier", "tree_ensemble_v5", "core_ops", "column_transformer_logreg"])
    func corruptedModelsNeverCrash(_ name: String) throws {
        let original = try Fixtures.bytes(name + ".onnx")
        let feeds = try Fixtures.load(name).feeds
        var rng = SplitMix(seed: 42)
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let model = try? ONNXModel(bytes: bytes) {
                _ = try? model.run(feeds)
            }
        }
    }

    @Test func wrongWireTypeIsMalformed() {
        var w = ProtoWriter()
        w.int(1, 8)
        w.int(7, 3) // graph given as a varint
        let error = #expect(throws: ONNXError.self) { try ONNXModel(bytes: w.bytes) }
        #expect(error?.kind == .malformedModel)
        #expect(error?.message.contains("wire type") == true)
    }

    @Test func initializerWithWrongElementCountIsMalformed() {
        let bytes = ModelBytes.model(
            nodes: [.init(op: "Add", inputs: ["X", "B"], outputs: ["Y"])],
            initializers: [
                { t in
                    t.int(1, 3)
                    t.int(2, 1)
                    t.string(8, "B")
                    t.data(9, [0, 0, 0, 0])
                }
            ])
        let error = #expect(throws: ONNXError.self) { try ONNXModel(bytes: bytes) }
        #expect(error?.kind == .malformedModel)
    }

    @Test func missingFileIsAnIOError() {
        let error = #expect(throws: ONNXError.self) { try ONNXModel(contentsOf: "/nonexistent/model.onnx") }
        #expect(error?.kind == .io)
    }

    // MARK: Run-time errors

    @Test func badFeedsAreReported() throws {
        let model = try ONNXModel(contentsOf: Fixtures.path("scaler_logreg.onnx"))
        let good = ONNXTensor(shape: [1, 20], floats: Array(repeating: 0.5, count: 20))
        #expect(try model.run(["X": good]).count == 2)

        let cases: [([String: ONNXTensor], String)] = [
            ([:], "missing input 'X'"),
            (["X": good, "Z": good], "unknown input 'Z'"),
            (["X": ONNXTensor(shape: [1, 20], doubles: Array(repeating: 0.5, count: 20))], "expects float"),
            (["X": ONNXTensor(shape: [1, 19], floats: Array(repeating: 0.5, count: 19))], "expects shape"),
            (["X": ONNXTensor(shape: [20], floats: Array(repeating: 0.5, count: 20))], "expects rank 2"),
            (["X": ONNXTensor(shape: [2, 20], floats: Array(repeating: 0.5, count: 20))], "but 20 values"),
            (["X": ONNXTensor(shape: [-1, 20], floats: [])], "invalid shape"),
        ]
        for (feeds, fragment) in cases {
            let error = #expect(throws: ONNXError.self) { try model.run(feeds) }
            #expect(error?.kind == .invalidInput)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "") lacks \(fragment)")
        }
    }

    @Test func kernelErrorsNameTheNode() throws {
        let bytes = ModelBytes.model(
            nodes: [.init(op: "Div", inputs: ["X", "Z"], outputs: ["Y"])], outputType: 7,
            initializers: [
                { t in
                    t.int(1, 1)
                    t.int(2, 7)
                    t.string(8, "Z")
                    t.data(7, [0])
                }
            ])
        // X is declared float, Z int64: the mismatch surfaces when Div runs.
        let model = try ONNXModel(bytes: bytes)
        let error = #expect(throws: ONNXError.self) { try model.run(["X": ONNXTensor(shape: [1, 2], floats: [1, 2])]) }
        #expect(error?.kind == .executionFailed)
        #expect(error?.message.contains("(ai.onnx:Div)") == true)
    }

    @Test func runIsSafeConcurrently() async throws {
        let model = try ONNXModel(contentsOf: Fixtures.path("random_forest_classifier.onnx"))
        let feeds = try Fixtures.load("random_forest_classifier").feeds
        let reference = try model.run(feeds)
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<20 where try model.run(feeds) != reference { return false }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }

    @Test func positionalRunMatchesNamedRun() throws {
        let model = try ONNXModel(contentsOf: Fixtures.path("column_transformer_logreg.onnx"))
        let feeds = try Fixtures.load("column_transformer_logreg").feeds
        let named = try model.run(feeds)
        let positional = try model.run(inputs: model.inputs.map { feeds[$0.name]! })
        #expect(positional == model.outputs.map { named[$0.name]! })
    }
}

/// Deterministic generator so the hostile-input tests are reproducible.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
