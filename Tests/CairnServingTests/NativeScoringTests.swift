import CairnCore
import CairnONNX
import CairnTabular
import Foundation
import Testing

@testable import CairnServing

/// Request shapes through the native runtime as `cairn serve` scores them: parse, conform to
/// the signature, refuse what the model cannot take, run, write the answer. The model is
/// skl2onnx's default export of a binary logistic regression on six features (label plus a
/// ZipMap of probabilities), so a feature read in the wrong order changes the answer.
@Suite struct NativeScoringTests {
    static let features = ["tenure", "monthly", "calls", "age", "b", "a"]
    static let row: [Double] = [1.2, -0.4, 2.5, -1.1, 0.3, 0.9]

    let runtime: NativeONNXRuntime

    init() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CairnONNXTests/Fixtures/logreg_binary.onnx").path
        runtime = try NativeONNXRuntime(model: try ONNXModel(contentsOf: path), signature: nil, concurrency: 1)
    }

    static let tensorSignature = ModelSignature(inputs: .tensor(dtype: "float32", shape: [-1, 6]))
    static let namedSignature = ModelSignature(inputs: .columns(features.map { .init(name: $0, type: "float", required: true) }))

    /// The body of `/invocations` for `json`, as the scoring controller builds it.
    func answer(_ json: String, signature: ModelSignature?) async throws -> JSONValue {
        let request = try ScoringRequest.parseJSON(Array(json.utf8))
        try ModelDeployment.refuseEmpty(request.frame.rowCount)
        let frame = try runtime.prepare(request.frame, positional: request.positional, signature: signature)
        let output = try await runtime.predict([.frame(frame)], params: request.params)[0].get()
        return try JSONValue.parse(try PredictionWriter.mlflowBody(output, params: request.params))
    }

    static func record(_ order: [Int], values: [Double] = row) -> String {
        "{" + order.map { "\"\(features[$0])\": \(values[$0])" }.joined(separator: ", ") + "}"
    }

    static var positional: String { #"{"dataframe_split": {"data": [[\#(row.map { "\($0)" }.joined(separator: ", "))]]}}"# }

    @Test func recordsKeepTheSentOrderWhenTheSignatureNamesNoColumns() async throws {
        let expected = try await answer(Self.positional, signature: Self.tensorSignature)
        let inOrder = Self.record(Array(0..<6))
        for body in [#"{"dataframe_records": [\#(inOrder)]}"#, #"{"instances": [\#(inOrder)]}"#] {
            #expect(try await answer(body, signature: Self.tensorSignature) == expected, "\(body)")
            #expect(try await answer(body, signature: nil) == expected, "\(body)")
        }
        let columns = "{" + Self.features.indices.map { "\"\(Self.features[$0])\": [\(Self.row[$0])]" }.joined(separator: ", ") + "}"
        #expect(try await answer(#"{"inputs": \#(columns)}"#, signature: Self.tensorSignature) == expected)
        // Alphabetical order would be another model input, and (for this row) another answer.
        let sorted = Self.features.indices.sorted { Self.features[$0] < Self.features[$1] }
        let alphabetical = #"{"dataframe_split": {"data": [[\#(sorted.map { "\(Self.row[$0])" }.joined(separator: ", "))]]}}"#
        #expect(try await answer(alphabetical, signature: Self.tensorSignature) != expected)
    }

    @Test func namedSignatureMapsEveryFormatByName() async throws {
        let expected = try await answer(Self.positional, signature: Self.namedSignature)
        let shuffled = [3, 0, 5, 1, 4, 2]
        let names = shuffled.map { "\"\(Self.features[$0])\"" }.joined(separator: ", ")
        let values = shuffled.map { "\(Self.row[$0])" }.joined(separator: ", ")
        for body in [
            #"{"dataframe_records": [\#(Self.record(shuffled))]}"#,
            #"{"instances": [\#(Self.record(shuffled))]}"#,
            #"{"dataframe_split": {"columns": [\#(names)], "data": [[\#(values)]]}}"#,
            #"{"dataframe_split": {"data": [[\#(values)]], "columns": [\#(names)]}}"#,
        ] {
            #expect(try await answer(body, signature: Self.namedSignature) == expected, "\(body)")
        }
        let csv = try ScoringRequest.parseCSV(
            Array(
                (shuffled.map { Self.features[$0] }.joined(separator: ",") + "\n" + values.replacingOccurrences(of: " ", with: "") + "\n")
                    .utf8))
        let conformed = try Self.namedSignature.conform(csv.frame, positional: csv.positional)
        let output = try await runtime.predict([.frame(conformed)], params: [:])[0].get()
        #expect(try JSONValue.parse(try PredictionWriter.mlflowBody(output)) == expected)

        let missing = #"{"dataframe_records": [\#(Self.record([0, 1, 2, 3, 4]))]}"#
        let error = await #expect(throws: CairnError.self) { try await answer(missing, signature: Self.namedSignature) }
        #expect(error?.code == .invalidParameterValue && error?.message.contains("'a'") == true)
    }

    @Test(arguments: [
        (
            #"{"dataframe_split": {"columns": ["tenure", "monthly", "calls", "age", "b", "a"], "data": [[1, 2, 3, 4, 5, 6], [1, null, 3, 4, 5, 6]]}}"#,
            "monthly", "row 1"
        ),
        (
            #"{"dataframe_records": [{"tenure": 1, "monthly": 2, "calls": 3, "age": 4, "b": 5, "a": 6}, {"tenure": 1, "monthly": 2, "calls": 3, "b": 5, "a": 6}]}"#,
            "age", "row 1"
        ),
        (#"{"instances": [[1, 2, 3, 4, 5, null]]}"#, "'a'", "row 0"),
    ])
    func missingValuesAreRefusedByColumnAndRow(body: String, column: String, row: String) async {
        let error = await #expect(throws: CairnError.self) { try await answer(body, signature: Self.namedSignature) }
        #expect(error?.code.httpStatus == 400)
        #expect(error?.message.contains(column) == true && error?.message.contains(row) == true, "\(error?.message ?? "")")
    }

    @Test func anOptionalColumnTakesAMissingValue() async throws {
        var specs = Self.features.map { ModelSignature.ColumnSpec(name: $0, type: "double", required: true) }
        specs[1].required = false
        let body = #"{"dataframe_records": [{"tenure": 1, "calls": 3, "age": 4, "b": 5, "a": 6}]}"#
        let answer = try await answer(body, signature: ModelSignature(inputs: .columns(specs)))
        guard case .array(let rows)? = answer["predictions"] else {
            Issue.record("no predictions")
            return
        }
        #expect(rows.count == 1)
    }

    @Test func anOptionalTextColumnWithOnlyNullsIsMissingText() throws {
        let signature = ModelSignature(
            inputs: .columns([.init(name: "x", type: "double", required: true), .init(name: "s", type: "string", required: false)]))
        let request = try ScoringRequest.parseJSON(Array(#"{"dataframe_records": [{"x": 1, "s": null}, {"x": 2}]}"#.utf8))
        let frame = try signature.conform(request.frame, positional: request.positional)
        #expect(frame.column(named: "s")?.values == .string([nil, nil]))
        try frame.refuseMissingValues()
    }

    @Test func missingValuesWithoutASignatureAreRefusedToo() async {
        await #expect(throws: CairnError.self) { try await answer(#"{"instances": [[1, 2, 3, 4, 5, null]]}"#, signature: nil) }
    }

    @Test(arguments: [
        #"{"dataframe_split": {"data": [[1, 2, 3, 4, 5, 1e400]]}}"#,
        #"{"dataframe_records": [{"tenure": 1, "monthly": -1e400, "calls": 3, "age": 4, "b": 5, "a": 6}]}"#,
    ])
    func numbersBeyondADoubleAreRefused(_ body: String) async {
        let error = await #expect(throws: CairnError.self) { try await answer(body, signature: Self.tensorSignature) }
        #expect(error?.message.contains("out of range") == true, "\(error?.message ?? "")")
    }

    @Test func bareNaNAndInfinityAreValues() async throws {
        for body in [
            #"{"dataframe_split": {"data": [[1, NaN, 3, Infinity, 5, -Infinity]]}}"#,
            #"{"dataframe_records": [{"tenure": NaN, "monthly": 2, "calls": 3, "age": Infinity, "b": 5, "a": -Infinity}]}"#,
            #"{"instances": [[NaN, 2, 3, 4, 5, 6]]}"#,
        ] {
            let answer = try await answer(body, signature: Self.tensorSignature)
            guard case .array(let rows)? = answer["predictions"] else {
                Issue.record("no predictions for \(body)")
                continue
            }
            #expect(rows.count == 1)
        }
        let csv = try ScoringRequest.parseCSV(Array("a,b\nNaN,inf\n".utf8))
        #expect(csv.frame.columns.allSatisfy { $0.missing.isEmpty })
    }

    @Test(arguments: [
        #"{"dataframe_split": {"columns": ["tenure"], "data": []}}"#,
        #"{"dataframe_records": []}"#,
        #"{"instances": []}"#,
    ])
    func noRowsIsABadRequest(_ body: String) async {
        let error = await #expect(throws: CairnError.self) { try await answer(body, signature: Self.tensorSignature) }
        #expect(error?.code == .badRequest)
    }

    @Test func everyOutputIsAnsweredAsRecordsAndParamsPickOutputs() async throws {
        let body = #"{"dataframe_split": {"data": [[1.2, -0.4, 2.5, -1.1, 0.3, 0.9], [-2, 1, 0, 2, -1, 0]]}}"#
        let answer = try await answer(body, signature: Self.tensorSignature)
        guard case .array(let rows)? = answer["predictions"], rows.count == 2 else {
            Issue.record("not two records: \(answer)")
            return
        }
        for row in rows {
            guard case .number(let label, _)? = row["output_label"], case .object(let probabilities)? = row["output_probability"] else {
                Issue.record("record without label and probabilities: \(row)")
                continue
            }
            #expect(probabilities.keys == ["0", "1"])
            let p = probabilities.values.compactMap { if case .number(let v, _) = $0 { v } else { nil } }
            #expect(abs(p.reduce(0, +) - 1) < 1e-5)
            #expect(label == (p[1] > p[0] ? 1 : 0))
        }
        let labels = try await self.answer(
            String(body.dropLast()) + #", "params": {"outputs": "output_label"}}"#, signature: Self.tensorSignature)
        guard case .array(let plain)? = labels["predictions"] else {
            Issue.record("no predictions")
            return
        }
        #expect(plain == rows.map { $0["output_label"]! })
        let unknown = await #expect(throws: CairnError.self) {
            try await self.answer(String(body.dropLast()) + #", "params": {"outputs": ["nope"]}}"#, signature: Self.tensorSignature)
        }
        #expect(unknown?.message.contains("output_probability") == true)
    }

    @Test func openInferenceAnswersTheZipMapAsATensor() async throws {
        let request = try InferenceRequest.parse(
            Array(#"{"inputs": [{"name": "X", "shape": [1, 6], "datatype": "FP32", "data": [1.2, -0.4, 2.5, -1.1, 0.3, 0.9]}]}"#.utf8))
        let input = try request.modelInput(for: runtime.inputMetadata, signature: nil, nativeTensors: true)
        let output = try await runtime.predict([input], params: [:])[0].get()
        let body = try JSONValue.parse(try request.responseBody(modelName: "m", version: "1", output: output))
        guard case .array(let outputs)? = body["outputs"] else {
            Issue.record("no outputs")
            return
        }
        let probability = try #require(outputs.first { $0["name"] == .string("output_probability") })
        #expect(probability["shape"] == .array([.number(1, raw: "1"), .number(2, raw: "2")]))
        #expect(probability["datatype"] == .string("FP32"))
        #expect(probability["parameters"]?["classes"] == .array([.number(0, raw: "0"), .number(1, raw: "1")]))

        let nullInput = try InferenceRequest.parse(
            Array(#"{"inputs": [{"name": "X", "shape": [1, 6], "datatype": "FP32", "data": [1, null, 3, 4, 5, 6]}]}"#.utf8))
        #expect(throws: CairnError.self) { try nullInput.modelInput(for: runtime.inputMetadata, signature: nil, nativeTensors: true) }
    }

    @Test(arguments: [
        #"{"dataframe_split": {"columns": ["tenure", "monthly", "calls", "age", "b", "tenure"], "data": [[1, 2, 3, 4, 5, 6]]}}"#,
        #"{"dataframe_split": {"data": [[1, 2, 3, 4, 5, 6]], "columns": ["a", "a", "calls", "age", "b", "tenure"]}}"#,
    ])
    func duplicatedColumnsAreRefused(_ body: String) async {
        let error = await #expect(throws: CairnError.self) { try await answer(body, signature: Self.namedSignature) }
        #expect(error?.code == .badRequest && error?.message.contains("appears twice") == true, "\(error?.message ?? "")")
        #expect(throws: CairnError.self) { try ScoringRequest.parseCSV(Array("a,b,a\n1,2,3\n".utf8)) }
    }

    @Test func openInferenceRefusesDuplicatedAndUnknownInputs() throws {
        let twice =
            #"{"inputs": [{"name": "X", "shape": [1, 6], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}, {"name": "X", "shape": [1, 6], "datatype": "FP32", "data": [0, 0, 0, 0, 0, 0]}]}"#
        #expect(throws: CairnError.self) { try InferenceRequest.parse(Array(twice.utf8)) }
        let wrongName = try InferenceRequest.parse(
            Array(#"{"inputs": [{"name": "wrong", "shape": [1, 6], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]}"#.utf8))
        let error = #expect(throws: CairnError.self) {
            try wrongName.modelInput(for: runtime.inputMetadata, signature: Self.tensorSignature, nativeTensors: true)
        }
        #expect(error?.message.contains("'X'") == true)
        // With a named signature, one input per column is matched by name.
        let perColumn =
            "{\"inputs\": ["
            + Self.features.indices.reversed().map {
                #"{"name": "\#(Self.features[$0])", "shape": [1], "datatype": "FP64", "data": [\#(Self.row[$0])]}"#
            }.joined(separator: ", ") + "]}"
        let input = try InferenceRequest.parse(Array(perColumn.utf8)).modelInput(
            for: runtime.inputMetadata, signature: Self.namedSignature, nativeTensors: true)
        guard case .frame(let frame) = input else {
            Issue.record("not a frame")
            return
        }
        #expect(frame.columnNames == Self.features)
        let big = try InferenceRequest.parse(
            Array(#"{"inputs": [{"name": "X", "shape": [1, 6], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 1e39]}]}"#.utf8))
        #expect(throws: CairnError.self) { try big.modelInput(for: runtime.inputMetadata, signature: nil, nativeTensors: true) }
    }

    @Test func aValueBeyondAFloatIsRefusedForAFloatModel() async {
        let error = await #expect(throws: CairnError.self) {
            try await answer(#"{"dataframe_split": {"data": [[1, 2, 3, 4, 5, 3.5e38]]}}"#, signature: nil)
        }
        #expect(error?.message.contains("32-bit float") == true, "\(error?.message ?? "")")
    }

    @Test func nonFiniteOutputsAreBareNumbersAsPythonWritesThem() throws {
        let output = ModelOutput.values([("variable", .tensor(ONNXTensor(shape: [3, 1], storage: .float([.nan, .infinity, -.infinity]))))])
        let body = String(decoding: try PredictionWriter.mlflowBody(output), as: UTF8.self)
        #expect(body == #"{"predictions":[NaN,Infinity,-Infinity]}"#)
    }

    @Test func numbersWrittenAsTextAndBooleansReadAsFloatsLikePandas() async throws {
        let asText = try await answer(
            #"{"dataframe_records": [{"tenure": "1.2", "monthly": "-0.4", "calls": "2.5", "age": "-1.1", "b": "0.3", "a": "0.9"}]}"#,
            signature: Self.namedSignature)
        #expect(asText == (try await answer(Self.positional, signature: Self.namedSignature)))
        let flags = try Self.namedSignature.conform(
            try ScoringRequest.parseJSON(
                Array(#"{"dataframe_records": [{"tenure": true, "monthly": false, "calls": 1, "age": 1, "b": 1, "a": 1}]}"#.utf8)
            ).frame, positional: false)
        #expect(flags.column(named: "tenure")?.values == .double([1]) && flags.column(named: "monthly")?.values == .double([0]))
        await #expect(throws: CairnError.self) {
            try await answer(
                #"{"dataframe_records": [{"tenure": "ten", "monthly": 1, "calls": 1, "age": 1, "b": 1, "a": 1}]}"#,
                signature: Self.namedSignature)
        }
    }
}
