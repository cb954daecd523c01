/// One metric of one run over its whole history: what a run page and a comparison show beside
/// the latest value, computed by the database so a million-point history is never loaded.
public struct MetricSummary: Sendable, Equatable {
    public var runID: String
    public var key: String
    /// The smallest and largest values that are numbers; nil when every point is NaN.
    public var minimum: Double?
    public var maximum: Double?
    /// Every point, NaN ones included.
    public var count: Int64
    public var nanCount: Int64

    public init(runID: String, key: String, minimum: Double?, maximum: Double?, count: Int64, nanCount: Int64) {
        self.runID = runID
        self.key = key
        self.minimum = minimum
        self.maximum = maximum
        self.count = count
        self.nanCount = nanCount
    }
}
