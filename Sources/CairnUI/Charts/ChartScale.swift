import Foundation

/// Maps data values onto pixels along one axis, linearly or by log10, and chooses the ticks a
/// person reads: round numbers (1, 2, 5 × 10ⁿ), powers of ten on a log axis, and calendar-ish
/// steps (seconds, minutes, hours, days) for time.
public struct ChartScale: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case linear
        /// Values at or below 0 have no position; `position(of:)` answers nil for them.
        case log
    }

    public var kind: Kind
    public var domain: (lower: Double, upper: Double)
    public var range: (lower: Double, upper: Double)

    public init(kind: Kind = .linear, domain: (Double, Double), range: (Double, Double)) {
        self.kind = kind
        var (lower, upper) = domain
        if kind == .log {
            lower = Swift.max(lower, .leastNormalMagnitude)
            upper = Swift.max(upper, lower)
        }
        if !(upper > lower) {
            // One value: widen around it so it sits mid-axis.
            let pad = lower == 0 ? 1 : abs(lower) * 0.1
            if kind == .log {
                (lower, upper) = (lower / 2, upper * 2)
            } else {
                (lower, upper) = (lower - pad, upper + pad)
            }
        }
        self.domain = (lower, upper)
        self.range = range
    }

    public static func == (lhs: ChartScale, rhs: ChartScale) -> Bool {
        lhs.kind == rhs.kind && lhs.domain == rhs.domain && lhs.range == rhs.range
    }

    private func transform(_ value: Double) -> Double? {
        switch kind {
        case .linear: return value
        case .log: return value > 0 ? log10(value) : nil
        }
    }

    /// The pixel of `value`, nil where the scale cannot place it (≤ 0 on a log scale, not finite).
    public func position(of value: Double) -> Double? {
        guard value.isFinite, let t = transform(value), let lower = transform(domain.lower), let upper = transform(domain.upper) else {
            return nil
        }
        let fraction = upper > lower ? (t - lower) / (upper - lower) : 0.5
        return range.lower + fraction * (range.upper - range.lower)
    }

    /// The value at pixel `pixel` (for zoom links).
    public func value(at pixel: Double) -> Double {
        let fraction = range.upper != range.lower ? (pixel - range.lower) / (range.upper - range.lower) : 0
        switch kind {
        case .linear: return domain.lower + fraction * (domain.upper - domain.lower)
        case .log:
            let lower = log10(domain.lower)
            let upper = log10(domain.upper)
            return pow(10, lower + fraction * (upper - lower))
        }
    }

    /// Round-number ticks inside the domain, about `count` of them.
    public func ticks(count: Int = 6) -> [Double] {
        switch kind {
        case .linear: return Self.niceTicks(lower: domain.lower, upper: domain.upper, count: count)
        case .log:
            let lower = Int(floor(log10(domain.lower)))
            let upper = Int(ceil(log10(domain.upper)))
            let stride = Swift.max(1, (upper - lower) / Swift.max(count, 1))
            return Swift.stride(from: lower, through: upper, by: stride).map { pow(10, Double($0)) }
                .filter { $0 >= domain.lower * (1 - 1e-9) && $0 <= domain.upper * (1 + 1e-9) }
        }
    }

    /// The domain widened to round numbers, so the top and bottom ticks sit on the frame.
    public func niced(count: Int = 6) -> ChartScale {
        guard kind == .linear else { return self }
        let step = Self.niceStep(span: domain.upper - domain.lower, count: count)
        guard step > 0, step.isFinite else { return self }
        var copy = self
        copy.domain = (floor(domain.lower / step) * step, ceil(domain.upper / step) * step)
        return copy
    }

    /// 1, 2 or 5 × 10ⁿ, whichever gives about `count` intervals over `span`.
    static func niceStep(span: Double, count: Int) -> Double {
        guard span > 0, span.isFinite else { return 0 }
        let raw = span / Double(Swift.max(count, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let residual = raw / magnitude
        let nice: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 5 ? 5 : 10
        return nice * magnitude
    }

    static func niceTicks(lower: Double, upper: Double, count: Int) -> [Double] {
        let step = niceStep(span: upper - lower, count: count)
        guard step > 0, step.isFinite else { return [lower] }
        var ticks: [Double] = []
        var tick = ceil(lower / step - 1e-9) * step
        while tick <= upper + step * 1e-9, ticks.count < 100 {
            // -0 and float noise (0.30000000000000004) would show in labels.
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return ticks
    }

    /// Steps for time axes in milliseconds, from a second to a year.
    static let timeSteps: [Double] = [
        1, 2, 5, 10, 20, 50, 100, 200, 500,
        1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
        60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
        3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
        86_400_000, 172_800_000, 604_800_000, 2_592_000_000, 31_536_000_000,
    ]

    /// Ticks for a time axis in milliseconds: multiples of the first calendar step giving at
    /// most about `count` intervals.
    public func timeTicks(count: Int = 6) -> [Double] {
        let span = domain.upper - domain.lower
        let step = Self.timeSteps.first { span / $0 <= Double(count) } ?? Self.niceStep(span: span, count: count)
        guard step > 0 else { return [domain.lower] }
        var ticks: [Double] = []
        var tick = ceil(domain.lower / step) * step
        while tick <= domain.upper, ticks.count < 100 {
            ticks.append(tick)
            tick += step
        }
        return ticks
    }
}
