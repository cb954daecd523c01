/// What one pixel column of a chart holds of a series: the extremes of its finite values (the
/// band), its last value by x (the line), and how many points were not finite, so NaN and ±∞
/// are drawn as marks of their own instead of stretching or poisoning the band.
public struct SeriesBucket: Sendable, Equatable {
    /// Every point that fell in the column, finite or not.
    public var count = 0
    public var finiteCount = 0
    public var nanCount = 0
    public var positiveInfinityCount = 0
    public var negativeInfinityCount = 0
    /// Over finite values only; meaningless while `finiteCount` is 0.
    public var min = Double.infinity
    public var max = -Double.infinity
    public var sum = 0.0
    /// The smallest value above 0, for a log scale (where 0 and below cannot be drawn).
    public var minPositive = Double.infinity
    /// The finite point with the largest x (the later one on a tie, as the series was read).
    public var lastX = -Double.infinity
    public var last = Double.nan

    public init() {}

    public var mean: Double { finiteCount > 0 ? sum / Double(finiteCount) : .nan }
    public var hasFinite: Bool { finiteCount > 0 }

    /// MLflow stores ±inf as ±Double.greatestFiniteMagnitude (what its clients send and get
    /// back), so those count as infinite here too.
    @inline(__always)
    public static func classify(_ value: Double) -> Kind {
        if value.isNaN { return .nan }
        if value >= .greatestFiniteMagnitude { return .positiveInfinity }
        if value <= -.greatestFiniteMagnitude { return .negativeInfinity }
        return .finite
    }

    public enum Kind: Sendable { case finite, nan, positiveInfinity, negativeInfinity }

    @inline(__always)
    mutating func add(x: Double, value: Double) {
        count += 1
        switch Self.classify(value) {
        case .nan: nanCount += 1
        case .positiveInfinity: positiveInfinityCount += 1
        case .negativeInfinity: negativeInfinityCount += 1
        case .finite:
            finiteCount += 1
            if value < min { min = value }
            if value > max { max = value }
            if value > 0, value < minPositive { minPositive = value }
            sum += value
            if x >= lastX {
                lastX = x
                last = value
            }
        }
    }

    /// Folds another column over the same x range into this one (a group band over runs).
    public mutating func merge(_ other: SeriesBucket) {
        count += other.count
        finiteCount += other.finiteCount
        nanCount += other.nanCount
        positiveInfinityCount += other.positiveInfinityCount
        negativeInfinityCount += other.negativeInfinityCount
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        minPositive = Swift.min(minPositive, other.minPositive)
        sum += other.sum
        if other.finiteCount > 0, other.lastX >= lastX {
            lastX = other.lastX
            last = other.last
        }
    }
}

/// Splits an x range into equal buckets (one per pixel column) and folds points into them in
/// one pass, so a series of any length draws from O(columns) numbers and no point is lost: a
/// one-step spike among a million points is the maximum of its column and so inside the band.
public struct SeriesBucketer: Sendable {
    public let xMin: Double
    public let xMax: Double
    public private(set) var buckets: [SeriesBucket]
    private let scale: Double

    /// `xMin...xMax` is the range drawn (points outside it are skipped); a range of one value
    /// puts every point in it into the first bucket.
    public init(xMin: Double, xMax: Double, bucketCount: Int) {
        precondition(bucketCount > 0 && xMin <= xMax && xMin.isFinite && xMax.isFinite)
        self.xMin = xMin
        self.xMax = xMax
        buckets = Array(repeating: SeriesBucket(), count: bucketCount)
        scale = xMax > xMin ? Double(bucketCount) / (xMax - xMin) : 0
    }

    public var bucketCount: Int { buckets.count }

    /// The bucket `x` falls in, nil outside the range. The right edge belongs to the last bucket.
    @inline(__always)
    public func index(of x: Double) -> Int? {
        guard x >= xMin, x <= xMax else { return nil }
        let raw = Int((x - xMin) * scale)
        return raw < buckets.count ? raw : buckets.count - 1
    }

    /// The x at the middle of bucket `index`.
    public func center(of index: Int) -> Double {
        guard xMax > xMin else { return xMin }
        return xMin + (Double(index) + 0.5) * (xMax - xMin) / Double(buckets.count)
    }

    public mutating func add(x: Double, value: Double) {
        guard let index = index(of: x) else { return }
        buckets[index].add(x: x, value: value)
    }

    /// Adds points given as columns (x as integers, as steps and timestamps are stored), less
    /// `xOffset` (a run's start time for relative time). The columns are read through buffers:
    /// this is the loop a million-point chart spends its time in.
    public mutating func add(xs: [Int64], values: [Double], xOffset: Int64 = 0) {
        precondition(xs.count == values.count)
        let (xMin, xMax, scale, last) = (xMin, xMax, scale, buckets.count - 1)
        buckets.withUnsafeMutableBufferPointer { buckets in
            xs.withUnsafeBufferPointer { xs in
                values.withUnsafeBufferPointer { values in
                    for position in 0..<xs.count {
                        let x = Double(xs[position] &- xOffset)
                        guard x >= xMin, x <= xMax else { continue }
                        let raw = Int((x - xMin) * scale)
                        buckets[raw < last ? raw : last].add(x: x, value: values[position])
                    }
                }
            }
        }
    }

    /// The extremes of the finite values over every bucket: the y range the band needs.
    public var valueRange: (min: Double, max: Double, minPositive: Double)? {
        var result: (min: Double, max: Double, minPositive: Double)?
        for bucket in buckets where bucket.hasFinite {
            if let current = result {
                result = (
                    Swift.min(current.min, bucket.min), Swift.max(current.max, bucket.max),
                    Swift.min(current.minPositive, bucket.minPositive)
                )
            } else {
                result = (bucket.min, bucket.max, bucket.minPositive)
            }
        }
        return result
    }

    /// Folds another bucketer over the same range and bucket count into this one.
    public mutating func merge(_ other: SeriesBucketer) {
        precondition(other.xMin == xMin && other.xMax == xMax && other.bucketCount == bucketCount)
        for index in buckets.indices { buckets[index].merge(other.buckets[index]) }
    }
}
