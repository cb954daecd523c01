import CairnCore
import Foundation
import Testing

@testable import CairnStatistics

@Suite("Model quality against scikit-learn")
struct QualityMetricsTests {
    /// The "quality" section of Fixtures/golden_vectors.json (sklearn.metrics, see generate.py).
    struct Golden: Decodable {
        struct Classification: Decodable {
            var name: String
            var labels: [String]
            var predictions: [String]
            /// null inside the list is NaN.
            var scores: [Double?]?
            var positive_label: String?
            var rows: Int
            var accuracy: Double
            var precision: Double
            var recall: Double
            var f1: Double
            var roc_auc: Double?
        }
        struct Regression: Decodable {
            var name: String
            var labels: GoldenVectors.Sample
            var predictions: GoldenVectors.Sample
            var rows: Int
            var mae: Double
            var rmse: Double
        }
        var sklearn: String
        var classification: [Classification]
        var regression: [Regression]

        static let shared: Golden = {
            struct File: Decodable { var quality: Golden }
            let url = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent()
                .appendingPathComponent("Fixtures/golden_vectors.json")
            do {
                return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).quality
            } catch {
                fatalError("cannot read the quality section of \(url.path): \(error); regenerate with Fixtures/generate.py")
            }
        }()
    }

    @Test(arguments: Golden.shared.classification.map(\.name))
    func classificationMatchesSklearn(_ name: String) throws {
        let c = try #require(Golden.shared.classification.first { $0.name == name })
        let metrics = try QualityMetrics.classification(
            labels: c.labels, predictions: c.predictions,
            scores: c.scores.map { $0.map { $0 ?? .nan } }, positiveLabel: c.positive_label)
        #expect(metrics.task == .classification)
        #expect(metrics.rows == c.rows, "\(name) rows")
        expectClose(try #require(metrics.accuracy), c.accuracy, relative: 1e-12, absolute: 1e-12, "\(name) accuracy")
        expectClose(try #require(metrics.precision), c.precision, relative: 1e-12, absolute: 1e-12, "\(name) precision")
        expectClose(try #require(metrics.recall), c.recall, relative: 1e-12, absolute: 1e-12, "\(name) recall")
        expectClose(try #require(metrics.f1), c.f1, relative: 1e-12, absolute: 1e-12, "\(name) f1")
        if let expected = c.roc_auc {
            expectClose(try #require(metrics.rocAUC, "\(name) roc_auc"), expected, relative: 1e-12, absolute: 1e-12, "\(name) roc_auc")
        } else {
            #expect(metrics.rocAUC == nil, "\(name): ROC AUC is undefined")
        }
        #expect(metrics.mae == nil && metrics.rmse == nil)
    }

    @Test(arguments: Golden.shared.regression.map(\.name))
    func regressionMatchesSklearn(_ name: String) throws {
        let c = try #require(Golden.shared.regression.first { $0.name == name })
        let metrics = try QualityMetrics.regression(labels: c.labels.values, predictions: c.predictions.values)
        #expect(metrics.task == .regression)
        #expect(metrics.rows == c.rows, "\(name) rows")
        expectClose(try #require(metrics.mae), c.mae, relative: 1e-12, absolute: 1e-12, "\(name) mae")
        expectClose(try #require(metrics.rmse), c.rmse, relative: 1e-12, absolute: 1e-12, "\(name) rmse")
        #expect(metrics.accuracy == nil && metrics.rocAUC == nil)
    }

    @Test func goldenVectorsCoverTheCasesThatMatter() {
        let names = Golden.shared.classification.map(\.name)
        #expect(names.contains { $0.hasPrefix("multiclass") })
        #expect(names.contains { $0.hasPrefix("single class") })
        #expect(names.contains { $0.contains("ties") })
        #expect(Golden.shared.classification.contains { c in c.labels.contains { Double($0) == nil } })
        #expect(!Golden.shared.regression.isEmpty)
    }

    @Test func mismatchedLengthsAreRefused() {
        #expect(throws: CairnError.self) {
            try QualityMetrics.classification(labels: ["0", "1"], predictions: ["0"])
        }
        #expect(throws: CairnError.self) {
            try QualityMetrics.classification(labels: ["0", "1"], predictions: ["0", "1"], scores: [0.3])
        }
        #expect(throws: CairnError.self) {
            try QualityMetrics.regression(labels: [1, 2, 3], predictions: [1, 2])
        }
        do {
            _ = try QualityMetrics.classification(labels: [], predictions: [], scores: [0.5])
            Issue.record("scores longer than labels were accepted")
        } catch {
            #expect(error.code == .invalidParameterValue)
        }
    }

    @Test func aPositiveLabelThatIsNotAClassIsRefused() {
        #expect(throws: CairnError.self) {
            try QualityMetrics.classification(labels: ["a", "b"], predictions: ["b", "a"], positiveLabel: "c")
        }
        // Ignored with more than two classes, as sklearn ignores pos_label for a macro average.
        #expect(throws: Never.self) {
            try QualityMetrics.classification(labels: ["a", "b", "c"], predictions: ["b", "a", "c"], positiveLabel: "z")
        }
    }

    @Test func emptyInputHasNoMetrics() throws {
        let classification = try QualityMetrics.classification(labels: [], predictions: [], scores: [])
        #expect(classification == QualityMetrics(task: .classification, rows: 0))
        let regression = try QualityMetrics.regression(labels: [], predictions: [])
        #expect(regression == QualityMetrics(task: .regression, rows: 0))
        // Nothing left once the rows with a missing value are skipped is empty too.
        let allMissing = try QualityMetrics.regression(labels: [.nan, 1, .infinity], predictions: [1, -.infinity, 2])
        #expect(allMissing == QualityMetrics(task: .regression, rows: 0))
    }

    @Test func infiniteValuesAreSkippedLikeNaN() throws {
        let metrics = try QualityMetrics.regression(labels: [1, .infinity, 3, 4], predictions: [2, 0, -.infinity, 6])
        #expect(metrics.rows == 2)
        #expect(metrics.mae == 1.5)
        expectClose(try #require(metrics.rmse), (2.5 as Double).squareRoot(), relative: 1e-15)

        // ±∞ scores leave ROC AUC as NaN does; all rows still count for the other metrics.
        let withInfinity = try QualityMetrics.classification(
            labels: ["0", "1", "1", "0"], predictions: ["0", "1", "0", "0"], scores: [0.2, 0.9, .infinity, -.infinity])
        #expect(withInfinity.rows == 4)
        #expect(withInfinity.accuracy == 0.75)
        #expect(withInfinity.rocAUC == 1)
        let onlyOneClassScored = try QualityMetrics.classification(
            labels: ["0", "1"], predictions: ["0", "1"], scores: [0.2, .nan])
        #expect(onlyOneClassScored.rocAUC == nil)
    }

    /// The positive class when none is given: "1"/"true"/"True" first, else the greater class
    /// by code points (so "Zebra" < "apple", as Python orders them).
    @Test func defaultPositiveClass() throws {
        // "1" beats the greater "2".
        let ones = try QualityMetrics.classification(labels: ["1", "2", "2"], predictions: ["1", "1", "2"])
        #expect(ones.recall == 1 && ones.precision == 0.5)
        let truth = try QualityMetrics.classification(labels: ["true", "false"], predictions: ["true", "true"])
        #expect(truth.precision == 0.5 && truth.recall == 1)
        // "apple" > "Zebra" in code-point order.
        let names = try QualityMetrics.classification(labels: ["apple", "Zebra", "Zebra"], predictions: ["apple", "apple", "Zebra"])
        #expect(names.precision == 0.5 && names.recall == 1)
        let given = try QualityMetrics.classification(
            labels: ["apple", "Zebra", "Zebra"], predictions: ["apple", "apple", "Zebra"], positiveLabel: "Zebra")
        #expect(given.precision == 1 && given.recall == 0.5)
    }

    @Test func rocAUCAveragesTiedRanks() throws {
        // Positives {0.5, 0.8}, negatives {0.5, 0.2}: pairs won 1 + 1 + 1, tied 1 → 3.5 / 4.
        let metrics = try QualityMetrics.classification(
            labels: ["1", "1", "0", "0"], predictions: ["1", "1", "1", "0"], scores: [0.5, 0.8, 0.5, 0.2])
        #expect(metrics.rocAUC == 0.875)
        // Without scores, predicted labels are the scores: (TPR + TNR) / 2.
        let labelsOnly = try QualityMetrics.classification(labels: ["1", "1", "0", "0"], predictions: ["1", "0", "1", "0"])
        #expect(labelsOnly.rocAUC == 0.5)
    }

    /// A window the size the evaluator reads, with tied scores: the pair counting is a merge of
    /// two sorted samples, so this finishes where counting pairs one by one would not.
    /// (How fast is a question for bench/, not for this test.)
    @Test func aMillionRows() throws {
        var generator = SystemRandomNumberGenerator()
        let n = 1_000_000
        var labels = [String](repeating: "0", count: n)
        var predictions = [String](repeating: "0", count: n)
        var scores = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let positive = Bool.random(using: &generator)
            let score = Double.random(in: 0..<1, using: &generator) * 0.8 + (positive ? 0.2 : 0)
            labels[i] = positive ? "1" : "0"
            scores[i] = (score * 100).rounded() / 100
            predictions[i] = scores[i] >= 0.5 ? "1" : "0"
        }
        let metrics = try QualityMetrics.classification(labels: labels, predictions: predictions, scores: scores)
        #expect(metrics.rows == n)
        let auc = try #require(metrics.rocAUC)
        #expect(auc > 0.6 && auc < 0.8)
    }
}
