import Foundation

/// MLflow's `validate_evaluation_results` (mlflow/models/evaluation/validation.py, 3.17.2),
/// pure, with its faults fixed:
///
/// - A candidate metric that is NaN fails (MLflow's threshold check fails on NaN by accident
///   and its change checks raise `InvalidOperation`).
/// - No champion at all (`baseline == nil`, the first model) is judged on `threshold` alone;
///   MLflow reports the baseline metric as missing, or raises on `None` arithmetic.
/// - A champion that exists but lacks the metric fails explicitly whenever a change limit is
///   set, `min_relative_change = 0.0` included (MLflow's `if min_relative_change or …` skips
///   its check for 0.0 and then raises `KeyError`).
/// - The limits are compared in decimal on the numbers as they print (shortest round trip):
///   `0.85 >= 0.80 + 0.05` passes. MLflow adds in binary floating point first
///   (`0.8 + 0.05 == 0.8500000000000001`) and computes the relative change as a float
///   quotient, so a candidate exactly on the limit can fail there.
///
/// The relative check's denominator is `|baseline|` (as in MLflow 3.17.2: a negative
/// baseline such as an R² below 0 keeps the check pointing the right way), and a baseline of
/// exactly 0 falls back to "better by at least 1e-10", as MLflow does.
public enum ThresholdValidation {
    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        public enum Check: String, Sendable, Equatable, CaseIterable {
            case missingCandidate = "missing_candidate"
            case notANumber = "not_a_number"
            case threshold
            case missingBaseline = "missing_baseline"
            case minAbsoluteChange = "min_absolute_change"
            case minRelativeChange = "min_relative_change"
        }

        public var metric: String
        public var check: Check
        public var message: String
        public var description: String { message }
    }

    /// MLflow's fallback margin when the baseline is 0.
    public static let zeroBaselineMargin = 1e-10

    /// One line per failed check; empty when the candidate passes. Metrics are judged in
    /// name order so the lines are stable.
    public static func validate(
        candidate: [String: Double], baseline: [String: Double]?, thresholds: [String: MetricThreshold]
    ) -> [String] {
        failures(candidate: candidate, baseline: baseline, thresholds: thresholds).map(\.message)
    }

    public static func failures(
        candidate: [String: Double], baseline: [String: Double]?, thresholds: [String: MetricThreshold]
    ) -> [Failure] {
        var failures: [Failure] = []
        for (name, limit) in thresholds.sorted(by: { $0.key < $1.key }) {
            failures += judge(name, limit, candidate: candidate[name], baseline: baseline.map { ($0[name]) })
        }
        return failures
    }

    /// `baseline` is nil when there is no champion, `.some(nil)` when the champion lacks the metric.
    static func judge(_ name: String, _ limit: MetricThreshold, candidate: Double?, baseline: Double??) -> [Failure] {
        func failure(_ check: Failure.Check, _ message: String) -> Failure { Failure(metric: name, check: check, message: message) }
        guard let value = candidate else {
            return [
                failure(
                    .missingCandidate,
                    "Metric validation failed: metric \(name) was missing from the evaluation result of the candidate model.")
            ]
        }
        guard !value.isNaN else {
            return [failure(.notANumber, "Metric validation failed: metric \(name) of the candidate model is NaN.")]
        }
        let better = limit.greaterIsBetter
        var failures: [Failure] = []
        if let threshold = limit.threshold, !atLeastAsGood(value, than: threshold, plus: 0, greaterIsBetter: better) {
            failures.append(
                failure(
                    .threshold,
                    "Metric \(name) value threshold check failed: candidate model \(name) = \(value), \(name) threshold = \(threshold)."))
        }
        let comparesWithBaseline = limit.minAbsoluteChange != nil || limit.minRelativeChange != nil
        // No champion: the first model, judged on its threshold alone.
        guard comparesWithBaseline, let championMetrics = baseline else { return failures }
        guard let base = championMetrics, !base.isNaN else {
            failures.append(
                failure(
                    .missingBaseline,
                    "Model comparison failed: metric \(name) was missing from the evaluation result of the baseline model."))
            return failures
        }
        if let change = limit.minAbsoluteChange, !atLeastAsGood(value, than: base, plus: change, greaterIsBetter: better) {
            failures.append(
                failure(
                    .minAbsoluteChange,
                    "Metric \(name) minimum absolute change check failed: candidate model \(name) = \(value), baseline model \(name) = \(base), \(name) minimum absolute change threshold = \(change)."
                ))
        }
        if let change = limit.minRelativeChange {
            let passed =
                base == 0
                ? atLeastAsGood(value, than: base, plus: zeroBaselineMargin, greaterIsBetter: better)
                : atLeastAsGood(value, than: base, plus: change, scaledBy: abs(base), greaterIsBetter: better)
            if !passed {
                failures.append(
                    failure(
                        .minRelativeChange,
                        "Metric \(name) minimum relative change check failed: candidate model \(name) = \(value), baseline model \(name) = \(base), \(name) minimum relative change threshold = \(change)."
                    ))
            }
        }
        return failures
    }

    /// `value >= reference + margin·scale` when greater is better, else
    /// `value <= reference − margin·scale`, in decimal on the printed numbers. Infinities
    /// (which decimal cannot hold) are compared as doubles.
    static func atLeastAsGood(
        _ value: Double, than reference: Double, plus margin: Double, scaledBy scale: Double = 1, greaterIsBetter: Bool
    )
        -> Bool
    {
        if let v = decimal(value), let r = decimal(reference), let m = decimal(margin), let s = decimal(scale) {
            let step = m * s
            return greaterIsBetter ? v >= r + step : v <= r - step
        }
        let step = margin * scale
        return greaterIsBetter ? value >= reference + step : value <= reference - step
    }

    /// The double as it prints (Swift's shortest round-trip form, as Python's `repr`).
    static func decimal(_ x: Double) -> Decimal? {
        // Decimal's exponent stops near ±127: far-out magnitudes are compared as doubles.
        guard x.isFinite, x == 0 || (abs(x) > 1e-60 && abs(x) < 1e60) else { return nil }
        return Decimal(string: x.description, locale: Locale(identifier: "en_US_POSIX"))
    }
}
