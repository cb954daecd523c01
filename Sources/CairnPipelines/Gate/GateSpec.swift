/// The built-in evaluation gate (`gate:` instead of `cmd:` in a stage): the candidate and the
/// current champion are scored on one pinned held-out dataset through the runtime serving
/// uses, judged with MLflow `MetricThreshold` semantics (fixed: `|baseline|` as the relative
/// denominator, a missing champion judged on absolute thresholds only), and on a pass the
/// alias moves with a compare-and-set.
public struct GateSpec: Sendable, Equatable {
    /// The registered model.
    public var model: String
    /// The candidate: a version number, an alias, or a path (relative to the stage's wdir) of
    /// a file an upstream stage wrote holding the version number.
    public var candidate: String
    /// The alias that is the baseline and moves on a pass (default `champion`).
    public var alias: String
    /// The held-out dataset: a CSV path (a dep of the stage, so its hash is the dataset version).
    public var data: String
    /// The label column in `data`.
    public var target: String
    public var thresholds: [String: MetricThreshold]
    /// After a pass, the previous champion gets this alias (e.g. `previous`), if set.
    public var keepPreviousAs: String?

    public init(
        model: String, candidate: String, alias: String = "champion", data: String, target: String,
        thresholds: [String: MetricThreshold], keepPreviousAs: String? = nil
    ) {
        self.model = model
        self.candidate = candidate
        self.alias = alias
        self.data = data
        self.target = target
        self.thresholds = thresholds
        self.keepPreviousAs = keepPreviousAs
    }
}

/// MLflow's `MetricThreshold`: at least one of the three limits, and the direction.
public struct MetricThreshold: Sendable, Equatable {
    public var threshold: Double?
    /// > 0 when set.
    public var minAbsoluteChange: Double?
    /// In [0, 1] when set.
    public var minRelativeChange: Double?
    public var greaterIsBetter: Bool

    public init(threshold: Double? = nil, minAbsoluteChange: Double? = nil, minRelativeChange: Double? = nil, greaterIsBetter: Bool) {
        self.threshold = threshold
        self.minAbsoluteChange = minAbsoluteChange
        self.minRelativeChange = minRelativeChange
        self.greaterIsBetter = greaterIsBetter
    }
}
