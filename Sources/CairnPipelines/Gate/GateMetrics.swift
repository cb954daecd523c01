import CairnCore
import CairnStatistics
import CairnTabular
import Foundation

/// The metrics the gate computes, named as `mlflow.models.evaluate` names them
/// (`accuracy_score`, `roc_auc`, `root_mean_squared_error`…), so thresholds written for MLflow
/// work unchanged. Thresholds may also use the short names (`accuracy`, `f1`, `auc`, `mae`,
/// `rmse`, `r2`…), which are read as the MLflow name; logs and decisions always use the MLflow
/// name. The numbers come from CairnStatistics' quality metrics (scikit-learn's definitions).
public enum GateMetrics {
    public static let classification = ["accuracy_score", "precision_score", "recall_score", "f1_score", "roc_auc"]
    public static let regression = ["mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "r2_score"]

    /// Short name → MLflow's name.
    public static let shortNames: [String: String] = [
        "accuracy": "accuracy_score", "precision": "precision_score", "recall": "recall_score", "f1": "f1_score",
        "auc": "roc_auc", "roc_auc_score": "roc_auc", "mae": "mean_absolute_error", "mse": "mean_squared_error",
        "rmse": "root_mean_squared_error", "r2": "r2_score",
    ]

    /// MLflow's name for a metric named either way (an unknown name is kept: it is then
    /// missing from the candidate's results, which fails the check as in MLflow).
    public static func canonicalName(_ name: String) -> String { shortNames[name] ?? name }

    /// The thresholds under MLflow's names. Two spellings of one metric are refused: which
    /// limit would apply?
    public static func canonical(_ thresholds: [String: MetricThreshold]) throws(CairnError) -> [String: MetricThreshold] {
        var result: [String: MetricThreshold] = [:]
        var spelled: [String: String] = [:]
        for (name, limit) in thresholds.sorted(by: { $0.key < $1.key }) {
            let canonical = canonicalName(name)
            // A misspelt name would otherwise be "missing from the candidate's results" and log
            // a rejection; the gate knows every metric it computes, so it refuses instead.
            guard classification.contains(canonical) || regression.contains(canonical) else {
                throw CairnError.invalidParameter(
                    "Unknown metric '\(name)'; the gate computes \((classification + regression).joined(separator: ", ")) (or their short names \(shortNames.keys.sorted().joined(separator: ", ")))."
                )
            }
            if let other = spelled[canonical] {
                throw CairnError.invalidParameter("Thresholds '\(other)' and '\(name)' are the same metric (\(canonical)); keep one.")
            }
            spelled[canonical] = name
            result[canonical] = limit
        }
        return result
    }

    public enum Task: String, Sendable {
        case classification, regression
    }

    /// The task the thresholds ask about; when they name no known metric, regression if the
    /// target holds a non-integer number, else classification.
    public static func task(thresholds: [String: MetricThreshold], target: [String?]) throws(CairnError) -> Task {
        let names = Set(thresholds.keys.map(canonicalName))
        let wantsClassification = !names.isDisjoint(with: classification)
        let wantsRegression = !names.isDisjoint(with: regression)
        if wantsClassification && wantsRegression {
            throw CairnError.invalidParameter(
                "The thresholds mix classification metrics (\(names.intersection(classification).sorted().joined(separator: ", "))) and regression metrics (\(names.intersection(regression).sorted().joined(separator: ", ")))."
            )
        }
        if wantsClassification { return .classification }
        if wantsRegression { return .regression }
        let numbers = target.compactMap { $0.flatMap(Double.init) }
        return numbers.count == target.count && numbers.contains { $0.rounded() != $0 } ? .regression : .classification
    }

    /// A label as text, with integral numbers written without a fraction, so `1`, `1.0` and a
    /// model's `1` are one class.
    public static func label(_ text: String) -> String {
        if let number = Double(text), number.isFinite, number.rounded() == number, abs(number) < 9e15 { return String(Int64(number)) }
        return text
    }

    /// One model's predictions, as `BatchPredictor.predictions(for:)` names them.
    public struct Predictions: Sendable {
        /// The predicted label (classification) or value (regression), per row.
        public var values: [String]
        /// Class → probability per row, when the model gives probabilities.
        public var probabilities: [[String: Double]]?

        /// The label column is `prediction` (a Python model's), else the first ending in
        /// `label` (an ONNX classifier's `output_label`), else the first; probabilities are
        /// the `<output>_<class>` cells of an output whose name holds `prob`.
        public init(_ rows: [[(name: String, value: JSONValue)]]) {
            var values: [String] = []
            var probabilities: [[String: Double]] = []
            var sawProbabilities = false
            for row in rows {
                let chosen =
                    row.first { $0.name == "prediction" } ?? row.first { $0.name.lowercased().hasSuffix("label") } ?? row.first
                values.append(chosen.map { Self.text($0.value) } ?? "")
                var classes: [String: Double] = [:]
                if let probability = row.first(where: { $0.name.lowercased().contains("prob") && $0.name.contains("_") }) {
                    let prefix = String(probability.name[..<probability.name.lastIndex(of: "_")!]) + "_"
                    for cell in row where cell.name.hasPrefix(prefix) {
                        if case .number(let p, _) = cell.value { classes[GateMetrics.label(String(cell.name.dropFirst(prefix.count)))] = p }
                    }
                }
                if !classes.isEmpty { sawProbabilities = true }
                probabilities.append(classes)
            }
            self.values = values
            self.probabilities = sawProbabilities ? probabilities : nil
        }

        static func text(_ value: JSONValue) -> String {
            switch value {
            case .number(_, let raw): raw
            case .string(let text): text
            case .bool(let flag): flag ? "True" : "False"
            default: ""
            }
        }
    }

    /// The metrics of `predictions` against `target`, under MLflow's names.
    public static func compute(task: Task, target: [String?], predictions: Predictions) throws(CairnError) -> [String: Double] {
        // scikit-learn (and so mlflow.evaluate) refuses a NaN label and labels of another type
        // than the predictions; scoring them anyway would log a decision on wrong numbers.
        for (row, value) in target.enumerated() {
            let text = value?.trimmingCharacters(in: .whitespaces) ?? ""
            if text.isEmpty || text.lowercased() == "nan" || Double(text)?.isNaN == true {
                throw CairnError.invalidParameter(
                    "The held-out data's target has no value (empty or NaN) in data row \(row + 1); the gate needs a label for every row.")
            }
        }
        let numericTarget = target.allSatisfy { Double($0 ?? "") != nil }
        let numericPredictions = predictions.values.allSatisfy { Double($0) != nil }
        switch task {
        case .classification where numericTarget != numericPredictions:
            let example = target.first { (Double($0 ?? "") != nil) != numericTarget } ?? target.first ?? nil
            throw CairnError.invalidParameter(
                "The target's labels (\(numericTarget ? "numbers" : "text, e.g. '\(example ?? "")'")) and the model's predictions (\(numericPredictions ? "numbers" : "text, e.g. '\(predictions.values.first { Double($0) == nil } ?? "")'")) are of different types, so no metric compares them."
            )
        case .classification where numericTarget && target.contains(where: { Double($0 ?? "").map { $0.rounded() != $0 } ?? false }):
            throw CairnError.invalidParameter(
                "Classification metrics need class labels, but the target holds non-integer numbers (a regression target?).")
        case .regression where !numericTarget:
            let bad = target.firstIndex { Double($0 ?? "") == nil } ?? 0
            throw CairnError.invalidParameter(
                "Regression metrics need a numeric target; data row \(bad + 1) has '\(target[bad] ?? "")'.")
        case .regression where !numericPredictions:
            throw CairnError.invalidParameter(
                "Regression metrics need numeric predictions; the model predicted '\(predictions.values.first { Double($0) == nil } ?? "")' (a classifier?)."
            )
        default:
            break
        }
        switch task {
        case .classification:
            let labels = target.map { label($0 ?? "") }
            let predicted = predictions.values.map(label)
            let classes = Array(Set(labels + predicted)).sorted()
            var scores: [Double]? = nil
            if classes.count == 2, let probabilities = predictions.probabilities,
                let positive = try QualityMetrics.positiveClass(among: classes, given: nil)
            {
                let perRow = probabilities.map { $0[positive] }
                if perRow.allSatisfy({ $0 != nil }) { scores = perRow.map { $0! } }
            }
            let quality = try QualityMetrics.classification(labels: labels, predictions: predicted, scores: scores)
            var metrics: [String: Double] = [:]
            metrics["accuracy_score"] = quality.accuracy
            metrics["precision_score"] = quality.precision
            metrics["recall_score"] = quality.recall
            metrics["f1_score"] = quality.f1
            // Without probabilities ROC AUC would be computed from hard labels, which is not
            // the number mlflow.evaluate reports: leave it out rather than mislead.
            if scores != nil { metrics["roc_auc"] = quality.rocAUC }
            return metrics
        case .regression:
            let labels = target.map { $0.flatMap(Double.init) ?? .nan }
            let predicted = predictions.values.map { Double($0) ?? .nan }
            let quality = try QualityMetrics.regression(labels: labels, predictions: predicted)
            var metrics: [String: Double] = [:]
            metrics["mean_absolute_error"] = quality.mae
            metrics["root_mean_squared_error"] = quality.rmse
            metrics["mean_squared_error"] = quality.rmse.map { $0 * $0 }
            metrics["r2_score"] = r2(labels: labels, predictions: predicted)
            return metrics
        }
    }

    /// scikit-learn's `r2_score` over the rows where both values are finite (1 − SSres/SStot;
    /// nil for fewer than two rows; a constant target gives 1 for a perfect fit, else 0, as
    /// sklearn's `force_finite`).
    static func r2(labels: [Double], predictions: [Double]) -> Double? {
        let pairs = zip(labels, predictions).filter { $0.0.isFinite && $0.1.isFinite }
        guard pairs.count >= 2 else { return nil }
        let mean = pairs.reduce(0) { $0 + $1.0 } / Double(pairs.count)
        let residual = pairs.reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let total = pairs.reduce(0) { $0 + ($1.0 - mean) * ($1.0 - mean) }
        guard total > 0 else { return residual == 0 ? 1 : 0 }
        return 1 - residual / total
    }
}
