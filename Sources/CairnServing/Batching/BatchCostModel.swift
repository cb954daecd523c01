/// Online estimates the batcher decides with: what a batch costs (a fixed part per batch
/// plus a part per row, fitted by exponentially weighted least squares over recent batches)
/// and how fast rows arrive. The fitted cost also says how long queued work will take, which
/// is what admission is decided on.
///
/// BentoML fits the same linear model but over requests and then corks on a comparison with
/// the average wait it has itself caused, which feeds back on itself. Here the wait is the
/// fixed cost, paid only when at least one more row is expected during it, and bounded by
/// `maxLatency`.
struct BatchCostModel: Sendable {
    /// Seconds per batch, independent of its size.
    private(set) var fixedCost: Double = 0
    /// Seconds per row.
    private(set) var rowCost: Double = 0
    /// Rows per second arriving, smoothed.
    private(set) var arrivalRate: Double = 0

    private var weight = 0.0, sumN = 0.0, sumD = 0.0, sumNN = 0.0, sumND = 0.0
    private var lastArrival: ContinuousClock.Instant?
    private static let decay = 0.95
    private static let rateSmoothing = 0.1

    mutating func recordArrival(rows: Int, at now: ContinuousClock.Instant) {
        defer { lastArrival = now }
        guard let lastArrival else { return }
        let gap = max((now - lastArrival).seconds, 1e-7)
        let instantRate = Double(rows) / gap
        // A long silence resets the estimate instead of decaying slowly from a burst.
        if gap > 1 {
            arrivalRate = instantRate
            return
        }
        arrivalRate += Self.rateSmoothing * (instantRate - arrivalRate)
    }

    mutating func recordBatch(rows: Int, duration: Duration) {
        let n = Double(rows)
        let d = duration.seconds
        weight = weight * Self.decay + 1
        sumN = sumN * Self.decay + n
        sumD = sumD * Self.decay + d
        sumNN = sumNN * Self.decay + n * n
        sumND = sumND * Self.decay + n * d
        let meanN = sumN / weight
        let meanD = sumD / weight
        let variance = sumNN / weight - meanN * meanN
        if variance > 1e-6 {
            rowCost = max(0, (sumND / weight - meanN * meanD) / variance)
            fixedCost = max(0, meanD - rowCost * meanN)
        } else {
            // Every batch had the same size: the cost cannot be split, so all of it counts
            // as fixed, which is what waiting could amortise.
            rowCost = 0
            fixedCost = meanD
        }
    }

    /// How long `rows` queued rows, forming `batches` batches, should take to run on
    /// `concurrency` slots at once; nil until a batch has been measured.
    func expectedDuration(rows: Int, batches: Int, concurrency: Int) -> Duration? {
        guard weight > 0 else { return nil }
        let seconds = (fixedCost * Double(batches) + rowCost * Double(rows)) / Double(max(1, concurrency))
        return .seconds(min(seconds, 1e9))
    }

    /// How long a batch may wait for company after its oldest request arrived: one fixed
    /// cost when at least one more row is expected within it, else nothing.
    func window(maxLatency: Duration) -> Duration {
        guard arrivalRate * fixedCost >= 1 else { return .zero }
        return min(maxLatency, .seconds(fixedCost))
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
