import CairnCore

/// The metrics themselves, as scikit-learn computes them (`accuracy_score`,
/// `precision_recall_fscore_support` with `zero_division=0`, `roc_auc_score`,
/// `mean_absolute_error`, `root_mean_squared_error`), so a number on a Cairn dashboard is the
/// number a data scientist gets in a notebook. Everything is one or two linear passes plus,
/// for ROC AUC with scores, a radix sort: a window of a million rows is fine.
extension QualityMetrics {
    /// Classification quality of `predictions` against `labels`.
    ///
    /// - Two classes (labels ∪ predictions has at most two distinct values): binary precision,
    ///   recall and F1 of the positive class. The positive class is `positiveLabel` when given;
    ///   otherwise "1", "true" or "True" when one of them is a class (sklearn's `pos_label=1`,
    ///   adapted to labels that arrive as text), else the greater class in code-point order.
    ///   With a single class present and no positive label, that class is the positive one.
    /// - More classes: the unweighted mean over every class of labels ∪ predictions
    ///   (`average='macro'`); `positiveLabel` is ignored, as sklearn ignores `pos_label` there.
    ///
    /// A ratio with a zero denominator counts as 0 (`zero_division=0`): no predicted positives
    /// means precision 0.
    ///
    /// ROC AUC is reported for two classes only, and is nil unless both classes occur among the
    /// labels. `scores` are the probability (or any monotone score) of the positive class;
    /// without them the predicted labels serve as 0/1 scores. Rows whose score is NaN or ±∞ are
    /// left out of ROC AUC alone (sklearn refuses such input; a monitor should still report the
    /// rest), and the other metrics use every row.
    public static func classification(
        labels: [String], predictions: [String], scores: [Double]? = nil, positiveLabel: String? = nil
    ) throws(CairnError) -> QualityMetrics {
        guard labels.count == predictions.count else {
            throw CairnError.invalidParameter(
                "labels and predictions must have the same length (got \(labels.count) and \(predictions.count))")
        }
        if let scores, scores.count != labels.count {
            throw CairnError.invalidParameter(
                "scores must have one value per label (got \(scores.count) for \(labels.count) labels)")
        }
        let rows = labels.count
        guard rows > 0 else { return QualityMetrics(task: .classification, rows: 0) }

        // Classes are numbered in order of first appearance; truth[i] and predicted counts are
        // kept per class number so that strings are hashed once per row.
        var classIndex: [String: Int] = [:]
        var classes: [String] = []
        func number(_ label: String) -> Int {
            if let index = classIndex[label] { return index }
            classIndex[label] = classes.count
            classes.append(label)
            return classes.count - 1
        }
        var truth = [Int](repeating: 0, count: rows)
        var truePositives: [Int] = [] // per class: label == prediction == class
        var trueCounts: [Int] = [] // per class: label == class
        var predictedCounts: [Int] = [] // per class: prediction == class
        var correct = 0
        for row in 0..<rows {
            let t = number(labels[row])
            let p = number(predictions[row])
            while trueCounts.count < classes.count {
                truePositives.append(0)
                trueCounts.append(0)
                predictedCounts.append(0)
            }
            truth[row] = t
            trueCounts[t] += 1
            predictedCounts[p] += 1
            if t == p {
                truePositives[t] += 1
                correct += 1
            }
        }

        var metrics = QualityMetrics(task: .classification, rows: rows)
        metrics.accuracy = Double(correct) / Double(rows)

        guard classes.count <= 2 else {
            // Macro average over the union of classes; the order of the sum does not matter at
            // the precision the golden vectors check (numpy sums pairwise).
            var precision = 0.0
            var recall = 0.0
            var f1 = 0.0
            for c in classes.indices {
                let scores = Self.ratios(
                    truePositives: truePositives[c], predicted: predictedCounts[c], actual: trueCounts[c])
                precision += scores.precision
                recall += scores.recall
                f1 += scores.f1
            }
            let k = Double(classes.count)
            metrics.precision = precision / k
            metrics.recall = recall / k
            metrics.f1 = f1 / k
            return metrics
        }

        let positive = try Self.positiveClass(among: classes, given: positiveLabel)
        // nil when the positive label is not a class at all (given, and absent from the window):
        // nothing is predicted or labelled positive, so every ratio is 0/0 → 0.
        let p = positive.flatMap { classIndex[$0] }
        let tp = p.map { truePositives[$0] } ?? 0
        let actualPositives = p.map { trueCounts[$0] } ?? 0
        let predictedPositives = p.map { predictedCounts[$0] } ?? 0
        let binary = Self.ratios(truePositives: tp, predicted: predictedPositives, actual: actualPositives)
        metrics.precision = binary.precision
        metrics.recall = binary.recall
        metrics.f1 = binary.f1

        if let scores {
            var positiveScores: [Double] = []
            var negativeScores: [Double] = []
            positiveScores.reserveCapacity(actualPositives)
            negativeScores.reserveCapacity(rows - actualPositives)
            for row in 0..<rows {
                if truth[row] == p { positiveScores.append(scores[row]) } else { negativeScores.append(scores[row]) }
            }
            // SortedSample drops the non-finite scores, which is the rule above.
            metrics.rocAUC = Self.rocAUC(positive: SortedSample(positiveScores), negative: SortedSample(negativeScores))
        } else {
            // Predicted labels as 0/1 scores: a positive outranks a negative when it was
            // predicted positive and the negative was not; equal predictions tie.
            let actualNegatives = rows - actualPositives
            if actualPositives > 0 && actualNegatives > 0 {
                let fn = actualPositives - tp
                let fp = predictedPositives - tp
                let tn = actualNegatives - fp
                let twiceU = 2 * tp * tn + tp * fp + fn * tn
                metrics.rocAUC = Double(twiceU) / (2 * Double(actualPositives) * Double(actualNegatives))
            }
        }
        return metrics
    }

    /// Mean absolute error and root mean squared error of `predictions` against `labels`.
    /// Rows where either value is NaN or ±∞ are skipped (a missing label or a failed
    /// prediction); `rows` counts the rows that remain.
    public static func regression(labels: [Double], predictions: [Double]) throws(CairnError) -> QualityMetrics {
        guard labels.count == predictions.count else {
            throw CairnError.invalidParameter(
                "labels and predictions must have the same length (got \(labels.count) and \(predictions.count))")
        }
        var absolute = CompensatedSum()
        var squared = CompensatedSum()
        var rows = 0
        for (label, prediction) in zip(labels, predictions) where label.isFinite && prediction.isFinite {
            let error = prediction - label
            absolute.add(abs(error))
            squared.add(error * error)
            rows += 1
        }
        guard rows > 0 else { return QualityMetrics(task: .regression, rows: 0) }
        let n = Double(rows)
        return QualityMetrics(task: .regression, rows: rows, mae: absolute.value / n, rmse: (squared.value / n).squareRoot())
    }

    /// Precision, recall and F1 from confusion counts, 0 wherever the denominator is 0.
    /// F1 is 2·TP / (2·TP + FP + FN) = 2·TP / (actual + predicted), sklearn's form, which is
    /// exact in the counts rather than a harmonic mean of two rounded ratios.
    private static func ratios(truePositives tp: Int, predicted: Int, actual: Int) -> (precision: Double, recall: Double, f1: Double) {
        (
            predicted > 0 ? Double(tp) / Double(predicted) : 0,
            actual > 0 ? Double(tp) / Double(actual) : 0,
            actual + predicted > 0 ? 2 * Double(tp) / Double(actual + predicted) : 0
        )
    }

    /// The positive class of a two-class problem (see `classification`). Throws when a given
    /// positive label is not one of two classes present, as sklearn does.
    public static func positiveClass(among classes: [String], given: String?) throws(CairnError) -> String? {
        if let given {
            if classes.count == 2 && !classes.contains(given) {
                throw CairnError.invalidParameter(
                    "positive label '\(given)' is not one of the classes '\(classes[0])' and '\(classes[1])'")
            }
            return given
        }
        for conventional in ["1", "true", "True"] where classes.contains(conventional) {
            return conventional
        }
        return classes.max { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }

    /// ROC AUC as the Mann–Whitney U statistic: the share of (positive, negative) pairs in
    /// which the positive scores higher, a tie counting one half. That is exactly the area
    /// under sklearn's ROC curve, whose trapezoids average the ranks of tied scores. Counted
    /// in integers (2U) over the two sorted samples, so the only rounding is the final division.
    static func rocAUC(positive: SortedSample, negative: SortedSample) -> Double? {
        guard !positive.isEmpty, !negative.isEmpty else { return nil }
        let negatives = negative.values
        var below = 0 // negatives scoring strictly less than the current positive
        var notAbove = 0 // negatives scoring less or equal
        var twiceU = 0
        for score in positive.values {
            while below < negatives.count && negatives[below] < score { below += 1 }
            notAbove = Swift.max(notAbove, below)
            while notAbove < negatives.count && negatives[notAbove] <= score { notAbove += 1 }
            twiceU += below + notAbove
        }
        return Double(twiceU) / (2 * Double(positive.count) * Double(negative.count))
    }
}

/// Neumaier's compensated sum: error bounded by a few ulps whatever the row count, so a
/// million-row window agrees with numpy's pairwise sum far inside the tests' tolerance.
private struct CompensatedSum {
    private var sum = 0.0
    private var compensation = 0.0

    mutating func add(_ x: Double) {
        let t = sum + x
        if abs(sum) >= abs(x) {
            compensation += (sum - t) + x
        } else {
            compensation += (x - t) + sum
        }
        sum = t
    }

    var value: Double { sum + compensation }
}
