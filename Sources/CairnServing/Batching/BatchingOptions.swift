/// Limits of the micro-batcher.
public struct BatchingOptions: Sendable, Equatable {
    public static let defaultMaxQueueWaitMilliseconds = 5_000.0
    /// Large enough that it never binds before the wait does at any measured throughput
    /// (two 10k-row requests queue comfortably); it bounds memory while none is measured.
    public static let defaultMaxQueueRows = 1 << 20

    /// A batch never holds more rows than this, except a single request larger than it,
    /// which runs alone.
    public var maxBatchRows: Int
    /// The longest the batcher holds the oldest queued request to let a batch fill. It
    /// waits only when the measured arrival rate says more rows will come within one batch's
    /// fixed cost, and never longer than this, so at low traffic it adds no latency.
    public var maxLatency: Duration
    /// A request is refused at once with 503 and Retry-After when the work queued ahead of
    /// it is expected, at the measured throughput, to take longer than this. Bounding the
    /// wait rather than the rows lets large requests queue where the model is fast, and
    /// refuses early where it is slow.
    public var maxQueueWait: Duration
    /// Queued rows beyond this are refused at once with 503 and Retry-After: a memory bound,
    /// and the only bound before any throughput is measured.
    public var maxQueueRows: Int

    public init(
        maxBatchRows: Int = 64, maxLatency: Duration = .milliseconds(2), maxQueueRows: Int = Self.defaultMaxQueueRows,
        maxQueueWait: Duration = .milliseconds(Int64(Self.defaultMaxQueueWaitMilliseconds))
    ) {
        self.maxBatchRows = max(1, maxBatchRows)
        self.maxLatency = max(.zero, maxLatency)
        self.maxQueueRows = max(1, maxQueueRows)
        self.maxQueueWait = max(.zero, maxQueueWait)
    }
}
