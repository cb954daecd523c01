import CairnPipelines
import Foundation
import Testing

/// The judgement grid written by Tests/compat/gate_grid.py from mlflow 3.17.2's own
/// `validate_evaluation_results`: Cairn must fail exactly MLflow's checks wherever the case is
/// not a documented difference, and Cairn's documented answer where it is.
@Suite struct ThresholdValidationTests {
    struct Grid: Decodable {
        var mlflow_version: String
        var cases: [Case]
    }

    struct Case: Decodable {
        struct Limit: Decodable {
            var threshold: Double?
            var min_absolute_change: Double?
            var min_relative_change: Double?
            var greater_is_better: Bool
        }
        struct MLflowAnswer: Decodable {
            var outcome: String
            var failed: [String]?
        }
        enum Value: Decodable {
            case number(Double)
            case word(String)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) {
                    self = .number(number)
                } else {
                    self = .word(try container.decode(String.self))
                }
            }
        }
        var limit: Limit
        var candidate: Value?
        var baseline: Value
        var mlflow: MLflowAnswer
        var cairn: [String]
        var difference: String?
    }

    static let grid: Grid = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gate_grid.json")
        do {
            return try JSONDecoder().decode(Grid.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error); regenerate with Tests/compat/gate_grid.py")
        }
    }()

    static func failedChecks(_ c: Case) -> [String] {
        let limit = MetricThreshold(
            threshold: c.limit.threshold, minAbsoluteChange: c.limit.min_absolute_change, minRelativeChange: c.limit.min_relative_change,
            greaterIsBetter: c.limit.greater_is_better)
        var candidate: [String: Double] = [:]
        switch c.candidate {
        case .number(let x)?: candidate["m"] = x
        case .word("nan")?: candidate["m"] = .nan
        default: break
        }
        let baseline: [String: Double]? =
            switch c.baseline {
            case .word("none"): nil
            case .word("lacks"): ["other": 1]
            case .number(let x): ["m": x]
            case .word(let other): fatalError("unknown baseline \(other)")
            }
        return ThresholdValidation.failures(candidate: candidate, baseline: baseline, thresholds: ["m": limit]).map(\.check.rawValue)
            .sorted()
    }

    @Test func gridIsFromMLflow3172() {
        #expect(Self.grid.mlflow_version == "3.17.2")
        #expect(Self.grid.cases.count > 2000)
    }

    @Test func agreesWithMLflowWhereMLflowIsRight() {
        let agreed = Self.grid.cases.filter { $0.difference == nil }
        #expect(agreed.count > 1000)
        for c in agreed {
            #expect(
                Self.failedChecks(c) == (c.mlflow.failed ?? ["error"]).sorted(),
                "\(c.limit) \(String(describing: c.candidate)) \(c.baseline)")
        }
    }

    @Test(arguments: ["missing_champion", "champion_lacks_metric", "float_rounding", "nan_candidate"])
    func documentedDifferences(_ reason: String) {
        let cases = Self.grid.cases.filter { $0.difference == reason }
        #expect(!cases.isEmpty)
        for c in cases {
            #expect(Self.failedChecks(c) == c.cairn.sorted(), "\(c.limit) \(String(describing: c.candidate)) \(c.baseline)")
        }
    }

    @Test func firstModelIsJudgedOnItsThresholdOnly() {
        let limits = [
            "accuracy_score": MetricThreshold(threshold: 0.8, minAbsoluteChange: 0.01, minRelativeChange: 0.0, greaterIsBetter: true)
        ]
        #expect(ThresholdValidation.validate(candidate: ["accuracy_score": 0.9], baseline: nil, thresholds: limits).isEmpty)
        let failed = ThresholdValidation.validate(candidate: ["accuracy_score": 0.7], baseline: nil, thresholds: limits)
        #expect(
            failed == [
                "Metric accuracy_score value threshold check failed: candidate model accuracy_score = 0.7, accuracy_score threshold = 0.8."
            ])
    }

    @Test func aChampionWithoutTheMetricFailsEvenForAZeroRelativeChange() {
        let limits = ["f1_score": MetricThreshold(minRelativeChange: 0.0, greaterIsBetter: true)]
        let failed = ThresholdValidation.failures(candidate: ["f1_score": 0.9], baseline: ["accuracy_score": 0.5], thresholds: limits)
        #expect(failed.map(\.check) == [.missingBaseline])
    }

    @Test func lowerIsBetterWithANegativeBaselineUsesItsMagnitude() {
        // log-likelihood style: baseline −2, lower is better, needs 10% lower: ≤ −2.2.
        let limits = ["loss": MetricThreshold(minRelativeChange: 0.1, greaterIsBetter: false)]
        #expect(ThresholdValidation.validate(candidate: ["loss": -2.2], baseline: ["loss": -2], thresholds: limits).isEmpty)
        #expect(ThresholdValidation.validate(candidate: ["loss": -2.1], baseline: ["loss": -2], thresholds: limits).count == 1)
    }

    @Test func infiniteValuesAreComparedAsNumbers() {
        let limits = ["rmse": MetricThreshold(threshold: 1, minAbsoluteChange: 0.5, greaterIsBetter: false)]
        let failed = ThresholdValidation.failures(candidate: ["rmse": .infinity], baseline: ["rmse": 2], thresholds: limits)
        #expect(failed.map(\.check) == [.threshold, .minAbsoluteChange])
    }
}
