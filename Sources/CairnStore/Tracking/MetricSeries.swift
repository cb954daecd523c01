/// What a metric series is read against: its steps or its timestamps.
public enum MetricSeriesAxis: String, Sendable {
    case step
    case timestamp
}

/// One metric's points as two columns, x (the step or the timestamp, as the axis asked) and
/// the value (NaN where MLflow's `is_nan` is set; ±inf as the ±1.797e308 stored), in the order
/// the store's index holds them (timestamp, then step), which is x order for timestamps and,
/// for steps, whenever steps grew with time. Columns of scalars rather than `Metric` values: a
/// chart reads every point of series of millions.
public struct MetricSeries: Sendable, Equatable {
    public var xs: [Int64]
    public var values: [Double]

    public init(xs: [Int64] = [], values: [Double] = []) {
        self.xs = xs
        self.values = values
    }

    public var count: Int { xs.count }

    /// NaN compares unequal to itself; two series with NaN at the same place are equal.
    public static func == (lhs: MetricSeries, rhs: MetricSeries) -> Bool {
        lhs.xs == rhs.xs && lhs.values.count == rhs.values.count
            && zip(lhs.values, rhs.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }
}
