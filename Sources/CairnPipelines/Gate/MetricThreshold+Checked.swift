import CairnCore

extension MetricThreshold {
    /// A threshold built under MLflow's constructor rules (`MetricThresholdClassException`):
    /// `min_absolute_change` > 0, `min_relative_change` in [0, 1], `greater_is_better` given,
    /// at least one limit, every number finite. `metric` names it in errors.
    public static func checked(
        metric: String, threshold: Double?, minAbsoluteChange: Double?, minRelativeChange: Double?, greaterIsBetter: Bool?
    ) throws(CairnError) -> MetricThreshold {
        func refuse(_ reason: String) -> CairnError {
            CairnError.invalidParameter("Metric threshold '\(metric)': \(reason)")
        }
        guard let greaterIsBetter else { throw refuse("greater_is_better must be set (true or false).") }
        for (name, value) in [
            ("threshold", threshold), ("min_absolute_change", minAbsoluteChange), ("min_relative_change", minRelativeChange),
        ]
        where value.map({ !$0.isFinite }) ?? false {
            throw refuse("\(name) must be a finite number.")
        }
        if let minAbsoluteChange, minAbsoluteChange <= 0 { throw refuse("min_absolute_change must be a positive number.") }
        if let minRelativeChange, !(0...1).contains(minRelativeChange) { throw refuse("min_relative_change must be between 0 and 1.") }
        if threshold == nil && minAbsoluteChange == nil && minRelativeChange == nil {
            throw refuse("no threshold was specified (threshold, min_absolute_change or min_relative_change).")
        }
        return MetricThreshold(
            threshold: threshold, minAbsoluteChange: minAbsoluteChange, minRelativeChange: minRelativeChange,
            greaterIsBetter: greaterIsBetter)
    }
}
