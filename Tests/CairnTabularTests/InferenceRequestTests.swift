import CairnCore
import Testing

@testable import CairnTabular

/// The Open Inference Protocol request decoded as a format, without a model: the monitor reads
/// logged requests back this way.
@Suite struct InferenceRequestTests {
    @Test func aTensorOfRowsBecomesPositionalColumns() throws {
        let request = try InferenceRequest.parse(
            Array(
                #"{"id": 7, "inputs": [{"name": "X", "shape": [2, 3], "datatype": "FP32", "data": [[1, 2, 3], [4, 5.5, 6]]}], "outputs": [{"name": "label"}]}"#
                    .utf8))
        #expect(request.id == "7")
        #expect(request.requestedOutputs == ["label"])
        let frame = try request.inputs[0].positionalFrame()
        #expect(frame.columnNames == ["0", "1", "2"])
        #expect(frame.column(named: "1")?.values == .double([2, 5.5]))
        #expect(frame.rowCount == 2)
    }

    @Test(arguments: [
        #"{"inputs": []}"#,
        #"{"inputs": [{"name": "X", "shape": [2], "datatype": "FP32", "data": [1]}]}"#,
        #"{"inputs": [{"name": "X", "shape": [-1], "datatype": "FP32", "data": []}]}"#,
        #"{"inputs": [{"name": "X", "shape": [100000, 100000], "datatype": "FP32", "data": []}]}"#,
        #"{"inputs": [{"name": "X", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "X", "shape": [1], "datatype": "FP32", "data": [2]}]}"#,
        "[1]",
    ])
    func malformedRequestsAreBadRequests(_ body: String) {
        #expect(throws: CairnError.self) { try InferenceRequest.parse(Array(body.utf8)) }
    }

    @Test func predictionsBecomeNamedColumns() throws {
        #expect(PredictionColumns.cells(.number(1, raw: "1")).map(\.name) == ["prediction"])
        #expect(PredictionColumns.cells(try JSONValue.parse(Array("[0.2, 0.8]".utf8))).map(\.name) == ["prediction_0", "prediction_1"])
        let record = try JSONValue.parse(Array(#"{"label": 1, "probabilities": [0.2, 0.8], "zip": {"a": 0.5}}"#.utf8))
        #expect(PredictionColumns.cells(record).map(\.name) == ["label", "probabilities_0", "probabilities_1", "zip_a"])
    }
}
