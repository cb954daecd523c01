import CairnCore
import CairnStatistics
import Foundation
import Testing

@testable import CairnMonitor

/// Builds an entry the way the reader hands it over: the writer's line, parsed back.
func logEntry(
    _ id: String, at timestamp: Int64 = 0, status: Int = 200, latencyMicroseconds: Int64 = 1_000, inputs: String, outputs: String = ""
) -> InferenceLogEntry {
    var line = InferenceRecord(
        requestID: id, timestamp: timestamp, model: "m", version: "1", inputs: Array(inputs.utf8),
        outputs: Array(outputs.utf8), latencyMicroseconds: latencyMicroseconds, status: status
    ).line()
    line.removeLast()
    return InferenceLogReader.parse(line[...])!
}

/// Reads logged request and response bodies back into rows and predictions.
@Suite struct MonitorWindowTests {
    /// A numeric view of a window column with missing cells as nil (NaN never compares equal).
    static func numbers(_ window: MonitorWindow, _ name: String) -> [Double?]? {
        guard case .numeric(let values)? = window.featureColumn(name, kind: .numeric) else { return nil }
        return values.map { $0.isNaN ? nil : $0 }
    }

    static func texts(_ window: MonitorWindow, _ name: String) -> [String?]? {
        guard case .categorical(let values)? = window.featureColumn(name, kind: .categorical) else { return nil }
        return values
    }

    static func csvBody(_ csv: String) -> String {
        var writer = JSONWriter()
        writer.string(csv)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test(arguments: [
        #"{"dataframe_split": {"columns": ["age", "city"], "data": [[31, "paris"], [42.5, "rome"]]}}"#,
        #"{"dataframe_split": {"index": [7, 8], "columns": ["age", "city"], "data": [[31, "paris"], [42.5, "rome"]]}, "params": {"k": 1}}"#,
        #"{"dataframe_records": [{"age": 31, "city": "paris"}, {"city": "rome", "age": 42.5}]}"#,
        #"{"instances": [{"age": 31, "city": "paris"}, {"age": 42.5, "city": "rome"}]}"#,
        #"{"inputs": {"age": [31, 42.5], "city": ["paris", "rome"]}}"#,
        MonitorWindowTests.csvBody("age,city\n31,paris\n42.5,rome\n"),
        #"{"id": "x", "inputs": [{"name": "age", "shape": [2], "datatype": "FP64", "data": [31, 42.5]}, {"name": "city", "shape": [2, 1], "datatype": "BYTES", "data": [["paris"], ["rome"]]}]}"#,
    ])
    func everyRequestFormatReadsBackAsNamedColumns(_ inputs: String) {
        let window = MonitorWindow(entries: [logEntry("r", inputs: inputs, outputs: #"{"predictions": [0, 1]}"#)])
        #expect(window.unreadableRequests == 0)
        #expect(window.rowCount == 2)
        #expect(Self.numbers(window, "age") == [31, 42.5])
        #expect(Self.texts(window, "city") == ["paris", "rome"])
        #expect(window.rowRequestIDs == ["r", "r"])
        #expect(window.rowIndexes == [0, 1])
        #expect(window.predictions.map { $0?.label } == ["0", "1"])
        // A column no request carried is absent, not empty.
        #expect(window.featureColumn("income", kind: .numeric) == nil)
    }

    @Test func columnsAlignWhenRequestsCarryDifferentColumns() {
        let window = MonitorWindow(entries: [
            logEntry("r1", at: 1, inputs: #"{"dataframe_records": [{"a": 1, "b": "x"}, {"a": 2}]}"#),
            logEntry("r2", at: 2, inputs: #"{"dataframe_records": [{"a": 3, "c": true}]}"#),
            logEntry("r3", at: 3, inputs: #"{"dataframe_split": {"columns": ["b"], "data": [["y"]]}}"#),
        ])
        #expect(window.rowCount == 4)
        #expect(window.rowRequestIDs == ["r1", "r1", "r2", "r3"])
        #expect(window.rowIndexes == [0, 1, 0, 0])
        #expect(Self.numbers(window, "a") == [1, 2, 3, nil])
        #expect(Self.texts(window, "a") == ["1", "2", "3", nil])
        #expect(Self.texts(window, "b") == ["x", nil, nil, "y"])
        #expect(Self.texts(window, "c") == [nil, nil, "True", nil])
        #expect(Self.numbers(window, "c") == [nil, nil, 1, nil])
        // Nothing could be read from the empty outputs, so every row's prediction is nil.
        #expect(window.predictions == [nil, nil, nil, nil])
    }

    @Test func aRowLimitKeepsTheNewestRequestsThatHoldThatManyRows() {
        let two = #"{"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}"#
        let entries = [
            logEntry("e1", at: 1, inputs: two, outputs: #"{"predictions": [1, 2]}"#),
            logEntry("e2", at: 2, inputs: two, outputs: #"{"predictions": [3, 4]}"#),
            logEntry("failed", at: 3, status: 500, inputs: two, outputs: #"{"error_code": "INTERNAL_ERROR"}"#),
            logEntry("e3", at: 4, inputs: two, outputs: #"{"predictions": [5, 6]}"#),
        ]
        let limited = MonitorWindow(entries: entries, rowLimit: 3)
        #expect(limited.entries.map(\.requestID) == ["e2", "failed", "e3"])
        #expect(limited.rowRequestIDs == ["e2", "e2", "e3", "e3"])
        #expect(limited.predictions.map { $0?.label } == ["3", "4", "5", "6"])
        let exact = MonitorWindow(entries: entries, rowLimit: 2)
        #expect(exact.rowRequestIDs == ["e3", "e3"])
        #expect(exact.entries.map(\.requestID) == ["e3"])
        let all = MonitorWindow(entries: entries)
        #expect(all.entries.count == 4)
        #expect(all.rowCount == 6)
    }

    @Test func theWindowsColumnsOfRequestsAgreeWithItsEntries() {
        let two = #"{"dataframe_split": {"columns": ["a"], "data": [[1], [2]]}}"#
        let window = MonitorWindow(
            entries: [
                logEntry("e1", at: 1, inputs: two, outputs: #"{"predictions": [1, 2]}"#),
                logEntry("e2", at: 2, inputs: two, outputs: #"{"predictions": [3, 4]}"#),
                logEntry("failed", at: 3, status: 500, inputs: two, outputs: #"{"error_code": "INTERNAL_ERROR"}"#),
                logEntry("e2", at: 4, inputs: #"{"inputs": {"a": [5]}}"#, outputs: #"{"predictions": [5]}"#),
            ], rowLimit: 3)
        let entries = window.entries
        #expect(entries.map(\.requestID) == ["e2", "failed", "e2"])
        #expect(window.requestCount == entries.count)
        #expect(window.requestIDs == entries.map(\.requestID))
        #expect(window.firstTimestamp == 2 && window.lastTimestamp == 4)
        #expect(window.statuses == entries.map(\.status) && window.latencies == entries.map(\.latencyMicroseconds))
        #expect(window.rowSourceRequestIDs == ["e2", "e2"], "one per request that gave rows, a reused id once each")
        #expect(window.rowRequestIDs == ["e2", "e2", "e2"])
        #expect(window.requestRows == ["e2": 3])
        #expect(
            MonitorEvaluator.serviceStatistics(statuses: window.statuses, latencies: window.latencies)
                == MonitorEvaluator.serviceStatistics(entries))
    }

    @Test func failedRequestsCountAsEntriesButGiveNoRows() {
        let window = MonitorWindow(entries: [
            logEntry("ok", inputs: #"{"inputs": {"a": [1]}}"#, outputs: #"{"predictions": [1]}"#),
            logEntry(
                "bad", status: 500, inputs: #"{"inputs": {"a": [2]}}"#, outputs: #"{"error_code": "INTERNAL_ERROR", "message": "boom"}"#),
            logEntry("refused", status: 400, inputs: #"{"inputs": {"a": [3]}}"#, outputs: #"{"error_code": "BAD_REQUEST"}"#),
        ])
        #expect(window.entries.count == 3)
        #expect(window.rowCount == 1)
        #expect(Self.numbers(window, "a") == [1])
        #expect(window.unreadableRequests == 0)
    }

    @Test func unreadableRequestsAreCountedAndGiveNoRows() {
        let window = MonitorWindow(entries: [
            // Positional rows: no column names to match a reference with.
            logEntry("positional", inputs: #"{"inputs": [[1, 2]]}"#, outputs: #"{"predictions": [1]}"#),
            logEntry("scalars", inputs: #"{"instances": [1, 2]}"#, outputs: #"{"predictions": [1, 2]}"#),
            logEntry("split-without-columns", inputs: #"{"dataframe_split": {"data": [[1, 2]]}}"#),
            // An empty body is logged as null; a ragged CSV body; a tensor wider than a column.
            logEntry("empty", inputs: ""),
            logEntry("ragged-csv", inputs: Self.csvBody("a,b\n1\n")),
            logEntry("wide-tensor", inputs: #"{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}"#),
            logEntry("readable", inputs: #"{"inputs": {"a": [5]}}"#, outputs: #"{"predictions": [0]}"#),
        ])
        #expect(window.unreadableRequests == 6)
        #expect(window.entries.count == 7)
        #expect(window.rowRequestIDs == ["readable"])
        #expect(window.predictions.count == window.rowCount)
    }

    /// With the reference's column order, positional rows and one `[rows, features]` tensor
    /// are read as those features; a width that does not match stays unreadable.
    @Test func positionalInputsTakeTheReferenceColumnOrder() {
        let names = ["a", "b", "c"]
        let window = MonitorWindow(
            entries: [
                logEntry("lists", inputs: #"{"inputs": [[1, 2, 3], [4, 5, 6]]}"#, outputs: #"{"predictions": [0, 1]}"#),
                logEntry("instances", inputs: #"{"instances": [[7, 8, 9]]}"#, outputs: #"{"predictions": [1]}"#),
                logEntry(
                    "tensor",
                    inputs: #"{"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [10, 11, 12, 13, 14, 15]}]}"#,
                    outputs: #"{"outputs": [{"name": "label", "shape": [2], "datatype": "INT64", "data": [0, 0]}]}"#),
                logEntry("too-narrow", inputs: #"{"inputs": [[1, 2]]}"#, outputs: #"{"predictions": [1]}"#),
                logEntry("bad-tensor", inputs: #"{"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3]}]}"#),
            ], positionalNames: names)
        #expect(window.unreadableRequests == 2)
        #expect(window.rowRequestIDs == ["lists", "lists", "instances", "tensor", "tensor"])
        #expect(Self.numbers(window, "a") == [1, 4, 7, 10, 13])
        #expect(Self.numbers(window, "b") == [2, 5, 8, 11, 14])
        #expect(Self.numbers(window, "c") == [3, 6, 9, 12, 15])
        #expect(window.predictions.map { $0?.label } == ["0", "1", "1", "0", "0"])
    }

    // MARK: - Predictions

    static func predictions(_ outputs: String, rows: Int) -> [LoggedPrediction?] {
        let data = (0..<rows).map { "[\($0)]" }.joined(separator: ",")
        let window = MonitorWindow(entries: [
            logEntry("r", inputs: #"{"dataframe_split": {"columns": ["a"], "data": [\#(data)]}}"#, outputs: outputs)
        ])
        #expect(window.rowCount == rows)
        return window.predictions
    }

    @Test func scalarAndTextPredictions() {
        #expect(
            Self.predictions(#"{"predictions": [0, 1, 2.5]}"#, rows: 3) == [
                LoggedPrediction(value: .number(0)), LoggedPrediction(value: .number(1)), LoggedPrediction(value: .number(2.5)),
            ])
        #expect(
            Self.predictions(#"{"predictions": ["cat", "dog"]}"#, rows: 2) == [
                LoggedPrediction(value: .text("cat")), LoggedPrediction(value: .text("dog")),
            ])
        #expect(Self.predictions(#"{"predictions": [true, false, null]}"#, rows: 3).map { $0?.label } == ["True", "False", nil])
        // Integral numbers read as the same class as their text.
        #expect(Self.predictions(#"{"predictions": [1.0, "1", 7e0]}"#, rows: 3).map { $0?.label } == ["1", "1", "7"])
    }

    @Test func probabilityVectorsBecomeTheirArgmaxWithThePositiveScore() {
        #expect(
            Self.predictions(#"{"predictions": [[0.2, 0.8], [0.9, 0.1]]}"#, rows: 2) == [
                LoggedPrediction(value: .number(1), score: 0.8), LoggedPrediction(value: .number(0), score: 0.1),
            ])
        // More than two classes: the argmax, no single positive score.
        #expect(Self.predictions(#"{"predictions": [[0.1, 0.2, 0.7]]}"#, rows: 1) == [LoggedPrediction(value: .number(2))])
        // A one-element vector is its value; a mixed one is unreadable.
        #expect(Self.predictions(#"{"predictions": [[4.5], [1, "x"]]}"#, rows: 2) == [LoggedPrediction(value: .number(4.5)), nil])
    }

    @Test func recordPredictionsReadTheirPredictionField() {
        #expect(
            Self.predictions(
                #"{"predictions": [{"prediction": 3.5, "other": 1}, {"label": "spam"}, {"only": 2}, {"a": 1, "b": 2}]}"#, rows: 4) == [
                    LoggedPrediction(value: .number(3.5)), LoggedPrediction(value: .text("spam")), LoggedPrediction(value: .number(2)), nil,
                ])
    }

    @Test func nativeClassifierRecordsGiveTheLabelAndThePositiveScore() {
        #expect(
            Self.predictions(
                #"{"predictions": [{"label": 1, "probabilities": [0.3, 0.7]}, {"output_label": 0, "output_probability": {"0": 0.9, "1": 0.1}}]}"#,
                rows: 2) == [
                    LoggedPrediction(value: .number(1), score: 0.7), LoggedPrediction(value: .number(0), score: 0.1),
                ])
        // Three classes: the label, no single positive score.
        #expect(
            Self.predictions(#"{"predictions": [{"label": 2, "probabilities": [0.1, 0.2, 0.7]}]}"#, rows: 1) == [
                LoggedPrediction(value: .number(2))
            ])
    }

    @Test func openInferenceOutputs() {
        #expect(
            Self.predictions(
                #"{"model_name": "m", "outputs": [{"name": "y", "shape": [2], "datatype": "FP64", "data": [0.5, 1.5]}]}"#, rows: 2) == [
                    LoggedPrediction(value: .number(0.5)), LoggedPrediction(value: .number(1.5)),
                ])
        #expect(
            Self.predictions(#"{"outputs": [{"name": "p", "shape": [2, 2], "datatype": "FP32", "data": [0.3, 0.7, 0.6, 0.4]}]}"#, rows: 2)
                == [
                    LoggedPrediction(value: .number(1), score: 0.7), LoggedPrediction(value: .number(0), score: 0.4),
                ])
    }

    @Test func predictionsThatDoNotLineUpWithTheRowsAreNil() {
        #expect(Self.predictions(#"{"predictions": [1]}"#, rows: 2) == [nil, nil])
        #expect(Self.predictions(#"{"predictions": [1, 2, 3]}"#, rows: 2) == [nil, nil])
        #expect(
            Self.predictions(#"{"outputs": [{"name": "y", "shape": [3], "datatype": "FP64", "data": [1, 2, 3]}]}"#, rows: 2) == [nil, nil])
        #expect(Self.predictions(#"{"result": [1, 2]}"#, rows: 2) == [nil, nil])
        #expect(Self.predictions(#""not an object""#, rows: 1) == [nil])
    }

    @Test func predictionColumnsAreTypedLikeTheReference() {
        let window = MonitorWindow(entries: [
            logEntry("r1", inputs: #"{"inputs": {"a": [1, 2]}}"#, outputs: #"{"predictions": [0.5, "3"]}"#),
            logEntry("r2", inputs: #"{"inputs": {"a": [3]}}"#, outputs: #"{"predictions": ["x", "y"]}"#),
        ])
        guard case .numeric(let numbers) = window.predictionColumn(kind: .numeric) else {
            Issue.record("not numeric")
            return
        }
        #expect(numbers.map { $0.isNaN ? nil : $0 } == [0.5, 3, nil])
        #expect(window.predictionColumn(kind: .categorical) == .categorical(["0.5", "3", nil]))
    }

    // MARK: - Reference

    @Test func aReferenceProfilesFeaturesAndTheTargetAsPrediction() throws {
        let csv = "age,city,churned\n30,paris,0\n40,rome,1\n50,paris,1\n60,oslo,0\n"
        let reference = try MonitorReference(csv: Array(csv.utf8), target: "churned", prediction: nil)
        #expect(reference.features.features.map(\.name) == ["age", "city"])
        #expect(reference.features["age"]?.kind == .numeric)
        #expect(reference.features["city"]?.kind == .categorical)
        #expect(reference.features["churned"] == nil)
        #expect(reference.rowCount == 4)
        #expect(reference.predictionSource == "churned")
        let prediction = try #require(reference.prediction)
        #expect(prediction.name == MonitorReference.predictionName)
        #expect(prediction.kind == .numeric)
        #expect(prediction.rowCount == 4)
        #expect(try MonitorReference.decode(try reference.encoded()) == reference)
        // Profiles are kept by name; the table's column order is kept beside them.
        let reordered = try MonitorReference(csv: Array("zeta,alpha,mid\n1,2,3\n".utf8), target: nil, prediction: nil)
        #expect(reordered.features.features.map(\.name) == ["alpha", "mid", "zeta"])
        #expect(reordered.featureOrder == ["zeta", "alpha", "mid"])
        // A reference stored before the order was kept still decodes.
        var old = try JSONValue.parse(try reordered.encoded())
        if case .object(var fields) = old {
            fields["featureOrder"] = nil
            old = .object(fields)
        }
        var writer = JSONWriter()
        writer.value(old)
        #expect(try MonitorReference.decode(String(decoding: writer.bytes, as: UTF8.self)).featureOrder == nil)
    }

    @Test func aPredictionColumnWinsOverTheTargetAndNeitherIsAFeature() throws {
        let csv = "age,label,score\n30,yes,no\n40,no,no\n"
        let reference = try MonitorReference(csv: Array(csv.utf8), target: "label", prediction: "score")
        #expect(reference.features.features.map(\.name) == ["age"])
        #expect(reference.featureOrder == ["age"])
        #expect(reference.predictionSource == "score")
        #expect(reference.prediction?.kind == .categorical)
        if case .categorical(let summary)? = reference.prediction?.summary {
            #expect(summary.categories.map(\.value) == ["no"])
        } else {
            Issue.record("the prediction profile is not categorical")
        }
        let unlabelled = try MonitorReference(csv: Array(csv.utf8), target: nil, prediction: nil)
        #expect(unlabelled.features.features.map(\.name) == ["age", "label", "score"])
        #expect(unlabelled.prediction == nil)
        #expect(unlabelled.predictionSource == nil)
    }

    @Test func badReferenceDataIsRefused() {
        func refused(
            _ csv: String, target: String? = nil, prediction: String? = nil, naming text: String? = nil,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            do {
                _ = try MonitorReference(csv: Array(csv.utf8), target: target, prediction: prediction)
                Issue.record("accepted", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code.httpStatus == 400, "\(error)", sourceLocation: sourceLocation)
                if let text { #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation) }
            }
        }
        refused("a,b\n1,2\n", target: "y", naming: "'y'")
        refused("a,b\n1,2\n", target: "a", prediction: "nope", naming: "'nope'")
        refused("")
        refused("a,b\n", naming: "no rows")
        refused("y\n1\n0\n", target: "y", naming: "no feature columns")
        refused("y,p\n1,0\n", target: "y", prediction: "p", naming: "no feature columns")
        refused("a,b\n1,2\n3\n")
        refused("a,,b\n1,2,3\n")
    }

    // MARK: - Service statistics and verdicts

    static func entries(latenciesMs: [Int64], failing: Int = 0) -> [InferenceLogEntry] {
        latenciesMs.enumerated().map { index, ms in
            InferenceLogEntry(
                requestID: "r\(index)", timestamp: Int64(index), model: "m", version: "1", status: index < failing ? 503 : 200,
                latencyMicroseconds: ms * 1000, inputs: [], outputs: [], line: [])
        }
    }

    /// Selection gives what a sort gives, whatever the order and however many ties.
    @Test func nearestRanksEqualTheSortedValues() {
        var generator = SystemRandomNumberGenerator()
        let random: [Int64] = (0..<10_000).map { _ in Int64.random(in: 0..<1_000_000, using: &generator) }
        var zigzag: [Int64] = []
        for index in 0..<3_000 { zigzag.append(index % 2 == 0 ? Int64(index) : Int64(3_000 - index)) }
        let few: [Int64] = (0..<5_000).map { Int64($0 % 7) }
        let ascending: [Int64] = Array(0..<1_000)
        let shapes: [[Int64]] = [[5], [3, 1], ascending, ascending.reversed(), [Int64](repeating: 9, count: 500), few, random, zigzag]
        for values in shapes {
            let sorted = values.sorted()
            let ranks = [values.count / 2, values.count * 95 / 100, values.count - 1].sorted()
            #expect(MonitorEvaluator.nearestRanks(values, ranks) == ranks.map { sorted[$0] }, "\(values.prefix(5)) × \(values.count)")
            #expect(MonitorEvaluator.nearestRanks(values, [0, 0, values.count - 1]) == [sorted[0], sorted[0], sorted[values.count - 1]])
        }
    }

    @Test func serviceStatisticsUseNearestRankPercentiles() {
        // 1…100 ms, shuffled: the p-th percentile is the p-th value.
        let stats = MonitorEvaluator.serviceStatistics(Self.entries(latenciesMs: Array(1...100).reversed(), failing: 7))
        #expect(stats == ServiceStatistics(requests: 100, errorRate: 0.07, latencyP50Ms: 50, latencyP95Ms: 95, latencyP99Ms: 99))
        let ten = MonitorEvaluator.serviceStatistics(Self.entries(latenciesMs: [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]))
        #expect(ten.latencyP50Ms == 50)
        #expect(ten.latencyP95Ms == 1000)
        #expect(ten.latencyP99Ms == 1000)
        #expect(ten.errorRate == 0)
        let one = MonitorEvaluator.serviceStatistics(Self.entries(latenciesMs: [7], failing: 1))
        #expect(one == ServiceStatistics(requests: 1, errorRate: 1, latencyP50Ms: 7, latencyP95Ms: 7, latencyP99Ms: 7))
        #expect(
            MonitorEvaluator.serviceStatistics([])
                == ServiceStatistics(requests: 0, errorRate: 0, latencyP50Ms: nil, latencyP95Ms: nil, latencyP99Ms: nil))
        // Microseconds are kept as fractions of a millisecond.
        let fine = InferenceLogEntry(
            requestID: "f", timestamp: 0, model: "m", version: "1", status: 200, latencyMicroseconds: 1_500,
            inputs: [], outputs: [], line: [])
        #expect(MonitorEvaluator.serviceStatistics([fine]).latencyP99Ms == 1.5)
    }

    static func drift(_ feature: String, drifted: Bool, method: DriftMethod = .kolmogorovSmirnov, score: Double = 0.5) -> FeatureDrift {
        FeatureDrift(
            feature: feature, method: method, score: score, threshold: method.defaultThreshold, drifted: drifted, statistic: nil,
            referenceCount: 100, currentCount: 100, currentNullShare: 0, note: nil)
    }

    static let quiet = ServiceStatistics(requests: 0, errorRate: 0, latencyP50Ms: nil, latencyP95Ms: nil, latencyP99Ms: nil)

    static func verdict(
        _ check: MonitorSpec.Check, minRows: Int = 10, driftShare: Double = 0.5, rows: Int = 100, labeled: Int = 100,
        drift: DatasetDrift? = nil, prediction: FeatureDrift? = nil, quality: QualityMetrics? = nil, service: ServiceStatistics = quiet
    ) -> CheckResult {
        let spec = MonitorSpec(
            name: "w", modelName: "m", checks: [check], drift: DriftConfiguration(driftShare: driftShare), minRows: minRows)
        return MonitorEvaluator.verdict(
            check, spec: spec, rows: rows, labeled: labeled, drift: drift, prediction: prediction, quality: quality, service: service)
    }

    @Test func featureDriftFiresAtTheDriftShareOnceThereAreEnoughRows() {
        let half = DatasetDrift(features: [Self.drift("age", drifted: true), Self.drift("city", drifted: false)], threshold: 0.5)
        let check = MonitorSpec.Check(type: .featureDrift)
        let firing = Self.verdict(check, drift: half)
        #expect(firing.check == "feature_drift")
        #expect(firing.firing)
        #expect(firing.value == 0.5)
        #expect(firing.threshold == 0.5)
        #expect(firing.message.contains("age"))
        #expect(!Self.verdict(check, driftShare: 0.75, drift: half).firing)
        #expect(!Self.verdict(MonitorSpec.Check(type: .featureDrift, threshold: 0.6), drift: half).firing)
        #expect(Self.verdict(MonitorSpec.Check(type: .featureDrift, threshold: 0.5), driftShare: 0.75, drift: half).firing)
        // Too few rows: the value is shown but the check does not fire.
        let gated = Self.verdict(check, minRows: 101, drift: half)
        #expect(!gated.firing)
        #expect(gated.value == 0.5)
        #expect(gated.message.contains("101 needed"))
        #expect(!Self.verdict(check, drift: nil).firing)
        // A zero threshold still needs a drifted feature to fire.
        let none = DatasetDrift(features: [Self.drift("age", drifted: false)], threshold: 0.5)
        #expect(!Self.verdict(MonitorSpec.Check(type: .featureDrift, threshold: 0), drift: none).firing)
    }

    @Test func predictionDriftFollowsTheMethodOrTheCheckThreshold() {
        let drifted = Self.drift(MonitorReference.predictionName, drifted: true, score: 0.01)
        let check = MonitorSpec.Check(type: .predictionDrift)
        let firing = Self.verdict(check, prediction: drifted)
        #expect(firing.firing)
        #expect(firing.value == 0.01)
        #expect(firing.threshold == 0.05)
        // A p-value threshold of its own: 0.01 is not below 0.001.
        let strict = Self.verdict(MonitorSpec.Check(type: .predictionDrift, threshold: 0.001), prediction: drifted)
        #expect(!strict.firing)
        #expect(strict.threshold == 0.001)
        // For a distance the comparison flips: drift at or above the threshold.
        let distance = Self.drift(MonitorReference.predictionName, drifted: false, method: .psi, score: 0.05)
        #expect(!Self.verdict(check, prediction: distance).firing)
        #expect(Self.verdict(MonitorSpec.Check(type: .predictionDrift, threshold: 0.05), prediction: distance).firing)
        #expect(!Self.verdict(MonitorSpec.Check(type: .predictionDrift, threshold: 0.06), prediction: distance).firing)
        #expect(!Self.verdict(check, minRows: 200, prediction: drifted).firing)
        #expect(!Self.verdict(check, prediction: nil).firing)
    }

    @Test func qualityFiresBelowAMinimumOrAboveAMaximumWithEnoughLabels() {
        let classification = QualityMetrics(task: .classification, rows: 100, accuracy: 0.7, precision: 0.9, recall: 0.6, f1: 0.72)
        let accuracy = Self.verdict(MonitorSpec.Check(type: .quality, threshold: 0.8, metric: "accuracy"), quality: classification)
        #expect(accuracy.check == "quality:accuracy")
        #expect(accuracy.firing)
        #expect(accuracy.value == 0.7)
        #expect(!Self.verdict(MonitorSpec.Check(type: .quality, threshold: 0.7, metric: "accuracy"), quality: classification).firing)
        #expect(!Self.verdict(MonitorSpec.Check(type: .quality, threshold: 0.8, metric: "precision"), quality: classification).firing)
        // Fewer labelled rows than min_rows: no verdict, however bad the metric.
        let gated = Self.verdict(
            MonitorSpec.Check(type: .quality, threshold: 0.8, metric: "accuracy"), minRows: 50, labeled: 49, quality: classification)
        #expect(!gated.firing)
        #expect(gated.value == 0.7)
        #expect(gated.message.contains("49 labelled rows"))
        // A metric the window could not give (ROC AUC without scores) never fires.
        let missing = Self.verdict(MonitorSpec.Check(type: .quality, threshold: 0.9, metric: "roc_auc"), quality: classification)
        #expect(!missing.firing)
        #expect(missing.value == nil)
        #expect(!Self.verdict(MonitorSpec.Check(type: .quality, threshold: 0.9, metric: "accuracy"), quality: nil).firing)

        // Error metrics are bad when high.
        let regression = QualityMetrics(task: .regression, rows: 100, mae: 2, rmse: 3)
        #expect(Self.verdict(MonitorSpec.Check(type: .quality, threshold: 1, metric: "mae"), quality: regression).firing)
        #expect(!Self.verdict(MonitorSpec.Check(type: .quality, threshold: 2, metric: "mae"), quality: regression).firing)
        #expect(!Self.verdict(MonitorSpec.Check(type: .quality, threshold: 2.5, metric: "mae"), quality: regression).firing)
        #expect(Self.verdict(MonitorSpec.Check(type: .quality, threshold: 2.5, metric: "rmse"), quality: regression).firing)
        #expect(
            Self.verdict(MonitorSpec.Check(type: .quality, threshold: 1, metric: "mae"), quality: regression).message.contains("maximum"))
    }

    @Test func errorRateAndLatencyFireAboveTheirThresholdWithEnoughRequests() {
        let busy = ServiceStatistics(requests: 100, errorRate: 0.05, latencyP50Ms: 10, latencyP95Ms: 80, latencyP99Ms: 250)
        #expect(Self.verdict(MonitorSpec.Check(type: .errorRate, threshold: 0.01), service: busy).firing)
        #expect(!Self.verdict(MonitorSpec.Check(type: .errorRate, threshold: 0.05), service: busy).firing)
        #expect(Self.verdict(MonitorSpec.Check(type: .latencyP99, threshold: 200), service: busy).firing)
        #expect(!Self.verdict(MonitorSpec.Check(type: .latencyP99, threshold: 250), service: busy).firing)
        let latency = Self.verdict(MonitorSpec.Check(type: .latencyP99, threshold: 200), service: busy)
        #expect(latency.check == "latency_p99")
        #expect(latency.value == 250)
        // Requests, not rows, gate the service checks.
        let few = ServiceStatistics(requests: 9, errorRate: 1, latencyP50Ms: 900, latencyP95Ms: 900, latencyP99Ms: 900)
        let gatedErrors = Self.verdict(MonitorSpec.Check(type: .errorRate, threshold: 0.01), minRows: 10, rows: 1000, service: few)
        #expect(!gatedErrors.firing)
        #expect(gatedErrors.value == 1)
        #expect(!Self.verdict(MonitorSpec.Check(type: .latencyP99, threshold: 1), minRows: 10, rows: 1000, service: few).firing)
        let silent = Self.verdict(MonitorSpec.Check(type: .errorRate, threshold: 0.01), minRows: 1, service: Self.quiet)
        #expect(!silent.firing)
        #expect(silent.value == nil)
    }

    @Test func theTaskIsInferredFromLabelsAndPredictions() {
        let whole = [JSONValue.number(1, raw: "1"), .number(0, raw: "0")]
        #expect(MonitorEvaluator.inferTask(labels: whole, predictions: [LoggedPrediction(value: .number(1))]) == .classification)
        #expect(MonitorEvaluator.inferTask(labels: whole, predictions: [LoggedPrediction(value: .number(0.4))]) == .regression)
        #expect(
            MonitorEvaluator.inferTask(labels: [.number(2.5, raw: "2.5")], predictions: [LoggedPrediction(value: .number(2))])
                == .regression)
        #expect(
            MonitorEvaluator.inferTask(labels: [.string("spam")], predictions: [LoggedPrediction(value: .number(0.4))]) == .classification)
        // One odd label among many does not change what the model is.
        let mostlyWhole = Array(repeating: JSONValue.number(1, raw: "1"), count: 9)
        #expect(
            MonitorEvaluator.inferTask(labels: mostlyWhole + [.number(0.5, raw: "0.5")], predictions: [LoggedPrediction(value: .number(1))])
                == .classification)
        #expect(
            MonitorEvaluator.inferTask(labels: mostlyWhole + [.string("yes")], predictions: [LoggedPrediction(value: .number(1))])
                == .classification)
        let fractional = Array(repeating: JSONValue.number(2.5, raw: "2.5"), count: 9)
        #expect(
            MonitorEvaluator.inferTask(labels: fractional + [.string("yes")], predictions: [LoggedPrediction(value: .number(2.7))])
                == .regression)
    }
}
