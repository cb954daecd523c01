/// Limits of the micro-batcher, all counted in rows.
public struct BatchingOptions: Sendable, Equatable {
    /// A batch never holds more rows than this, except a single request larger than it,
    /// which runs alone.
    public var maxBatchRows: Int
    /// The longest the batcher holds the oldest queued request to let a batch fill. It
    /// waits only when the measured arrival rate says more rows will come within one batch's
    /// fixed cost, and never longer than this, so at low traffic it adds no latency.
    public var maxLatency: Duration
    /// Queued rows beyond this are refused at once with 503 and Retry-After.
    public var maxQueueRows: Int

    public init(maxBatchRows: Int = 64, maxLatency: Duration = .milliseconds(2), maxQueueRows: Int = 4096) {
        self.maxBatchRows = max(1, maxBatchRows)
        self.maxLatency = max(.zero, maxLatency)
        self.maxQueueRows = max(1, maxQueueRows)
    }
}
