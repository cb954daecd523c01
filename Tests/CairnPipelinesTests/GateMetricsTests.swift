import CairnCore
import CairnPipelines
import Testing

@Suite struct GateMetricsTests {
    @Test func shortNamesAreReadAsMLflowsAndTwoSpellingsOfOneMetricAreRefused() throws {
        let limit = MetricThreshold(threshold: 0.8, greaterIsBetter: true)
        let canonical = try GateMetrics.canonical(["accuracy": limit, "rmse": limit])
        #expect(Set(canonical.keys) == ["accuracy_score", "root_mean_squared_error"])
        #expect(throws: CairnError.self) { try GateMetrics.canonical(["f1": limit, "f1_score": limit]) }
    }

    /// A misspelt metric is refused before anything is scored or logged (MLflow would log it
    /// as missing from the candidate's results, a rejection).
    @Test func anUnknownMetricIsRefusedNamingTheKnownOnes() {
        let limit = MetricThreshold(threshold: 0.8, greaterIsBetter: true)
        #expect {
            try GateMetrics.canonical(["bogsu": limit])
        } throws: { error in
            (error as? CairnError)?.message.contains("Unknown metric 'bogsu'") == true
                && (error as? CairnError)?.message.contains("accuracy_score") == true
        }
    }

    /// scikit-learn refuses a NaN label and labels of another type than the predictions; so
    /// does the gate, naming the row, instead of logging a decision on wrong numbers.
    @Test func nanLabelsAndMismatchedLabelTypesAreRefused() {
        let predictions = GateMetrics.Predictions([[("prediction", .number(1, raw: "1"))], [("prediction", .number(0, raw: "0"))]])
        func message(_ target: [String?], _ task: GateMetrics.Task) -> String? {
            do {
                _ = try GateMetrics.compute(task: task, target: target, predictions: predictions)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message(["1", "NaN"], .classification)?.contains("data row 2") == true)
        #expect(message(["1", ""], .regression)?.contains("data row 2") == true)
        #expect(message(["yes", "no"], .classification)?.contains("different types") == true)
        #expect(message(["151.5", "80.25"], .classification)?.contains("non-integer") == true)
        #expect(message(["1", "0"], .classification) == nil)
    }

    @Test func theTaskFollowsTheThresholdsThenTheTarget() throws {
        let limit = MetricThreshold(threshold: 0.8, greaterIsBetter: true)
        #expect(try GateMetrics.task(thresholds: ["rmse": limit], target: ["1", "0"]) == .regression)
        #expect(try GateMetrics.task(thresholds: ["auc": limit], target: ["1.5"]) == .classification)
        #expect(try GateMetrics.task(thresholds: ["custom": limit], target: ["1.5", "2"]) == .regression)
        #expect(try GateMetrics.task(thresholds: ["custom": limit], target: ["1", "0"]) == .classification)
        #expect(throws: CairnError.self) { try GateMetrics.task(thresholds: ["mae": limit, "f1": limit], target: []) }
    }

    /// An ONNX classifier's outputs (`output_label`, `output_probability_<class>`): labels
    /// match the CSV's `1.0`-style text, and ROC AUC comes from the positive class's probability.
    @Test func classificationFromANativeModelsOutputs() throws {
        func row(_ label: Int, _ p1: Double) -> [(name: String, value: JSONValue)] {
            [
                ("output_label", .number(Double(label), raw: "\(label)")),
                ("output_probability_0", .number(1 - p1, raw: "\(1 - p1)")),
                ("output_probability_1", .number(p1, raw: "\(p1)")),
            ]
        }
        let predictions = GateMetrics.Predictions([row(1, 0.9), row(0, 0.4), row(1, 0.6), row(0, 0.2)])
        #expect(predictions.values == ["1", "0", "1", "0"])
        let metrics = try GateMetrics.compute(task: .classification, target: ["1.0", "1.0", "0.0", "0.0"], predictions: predictions)
        #expect(metrics["accuracy_score"] == 0.5)
        #expect(metrics["precision_score"] == 0.5)
        #expect(metrics["recall_score"] == 0.5)
        // Positives score 0.9 and 0.4, negatives 0.6 and 0.2: 3 of 4 pairs ordered.
        #expect(metrics["roc_auc"] == 0.75)
    }

    @Test func noProbabilitiesMeansNoROCAUC() throws {
        let predictions = GateMetrics.Predictions([[("prediction", .string("yes"))], [("prediction", .string("no"))]])
        let metrics = try GateMetrics.compute(task: .classification, target: ["yes", "yes"], predictions: predictions)
        #expect(metrics["accuracy_score"] == 0.5)
        #expect(metrics["roc_auc"] == nil)
    }

    @Test func regressionMetricsAsSklearn() throws {
        let predictions = GateMetrics.Predictions([2.5, 0.0, 2, 8].map { [("variable_0", JSONValue.number($0, raw: "\($0)"))] })
        let metrics = try GateMetrics.compute(task: .regression, target: ["3", "-0.5", "2", "7"], predictions: predictions)
        // sklearn: mean_absolute_error 0.5, mean_squared_error 0.375, r2_score 0.9486081370449679.
        #expect(metrics["mean_absolute_error"] == 0.5)
        #expect(abs(metrics["mean_squared_error"]! - 0.375) < 1e-12)
        #expect(abs(metrics["root_mean_squared_error"]! - 0.375.squareRoot()) < 1e-12)
        #expect(abs(metrics["r2_score"]! - 0.9486081370449679) < 1e-12)
    }

    @Test func thresholdsFollowMLflowsConstructorRules() {
        #expect(throws: CairnError.self) {
            try MetricThreshold.checked(metric: "a", threshold: 1, minAbsoluteChange: nil, minRelativeChange: nil, greaterIsBetter: nil)
        }
        #expect(throws: CairnError.self) {
            try MetricThreshold.checked(metric: "a", threshold: nil, minAbsoluteChange: 0, minRelativeChange: nil, greaterIsBetter: true)
        }
        #expect(throws: CairnError.self) {
            try MetricThreshold.checked(metric: "a", threshold: nil, minAbsoluteChange: nil, minRelativeChange: 1.5, greaterIsBetter: true)
        }
        #expect(throws: CairnError.self) {
            try MetricThreshold.checked(metric: "a", threshold: nil, minAbsoluteChange: nil, minRelativeChange: nil, greaterIsBetter: true)
        }
        #expect(
            (try? MetricThreshold.checked(
                metric: "a", threshold: nil, minAbsoluteChange: nil, minRelativeChange: 0.0, greaterIsBetter: false))
                == MetricThreshold(minRelativeChange: 0.0, greaterIsBetter: false))
    }
}
