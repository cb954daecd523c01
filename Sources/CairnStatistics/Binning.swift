import CairnCore
import Foundation

/// Reference and current counts over the same bins (histogram bins or distinct values or
/// categories). Every frequency-based statistic — chi-squared, Z, Jensen–Shannon, PSI —
/// reads this one shape, so the binning rules live in one place.
///
/// The invariants every statistic relies on — as many reference bins as current ones, no
/// negative count, totals that fit an `Int` — are checked once here, so the statistics that
/// take a `PairedCounts` need not check or throw; the counts are read-only for the same reason.
public struct PairedCounts: Sendable, Equatable {
    public private(set) var reference: [Int]
    public private(set) var current: [Int]

    public init(reference: [Int], current: [Int]) throws(CairnError) {
        guard reference.count == current.count else {
            throw CairnError.invalidParameter(
                "reference and current counts must have the same number of bins (got \(reference.count) and \(current.count))")
        }
        for side in [reference, current] {
            var total = 0
            for count in side {
                guard count >= 0 else { throw CairnError.invalidParameter("bin counts must not be negative (got \(count))") }
                let (sum, overflow) = total.addingReportingOverflow(count)
                guard !overflow else { throw CairnError.invalidParameter("bin counts are too large to add up") }
                total = sum
            }
        }
        self.init(checked: reference, current)
    }

    /// Counts `Binning` builds from samples and profiles: paired by construction, and no
    /// larger than the rows they were counted from.
    init(checked reference: [Int], _ current: [Int]) {
        self.reference = reference
        self.current = current
    }

    public var binCount: Int { reference.count }
    public var referenceTotal: Int { reference.reduce(0, +) }
    public var currentTotal: Int { current.reduce(0, +) }

    /// Each side divided by its own total (Evidently's "percents").
    public var shares: (reference: [Double], current: [Double]) {
        let r = Double(referenceTotal)
        let c = Double(currentTotal)
        return (reference.map { Double($0) / r }, current.map { Double($0) / c })
    }
}

/// Evidently's binning for the distribution distances (`get_binned_data`): a numeric column
/// whose reference has more than 20 distinct values is cut into Sturges equal-width bins over
/// reference ∪ current; anything else gets one bin per distinct value or category.
enum Binning {
    static let distinctValuesForHistogram = 20

    static func evidently(_ reference: SortedSample, _ current: SortedSample) -> PairedCounts {
        if reference.distinctCount(limit: distinctValuesForHistogram) > distinctValuesForHistogram {
            return sturges(reference, current)
        }
        return byValue(reference, current)
    }

    /// numpy's `histogram_bin_edges(concat, bins='sturges')`, reproduced operation by operation
    /// so that values on a bin edge land where numpy puts them.
    ///
    /// numpy raises when max − min overflows a double (values near ±1.8e308 at both ends);
    /// Cairn must not fail a drift check on that, so it makes the same number of bins numpy
    /// would in exact arithmetic, ⌈log2(n) + 1⌉, with edges interpolated without overflow.
    static func sturgesEdges(minimum: Double, maximum: Double, count: Int) -> [Double] {
        let range = maximum - minimum
        var first = minimum
        var last = maximum
        if first == last {
            first -= 0.5
            last += 0.5
        }
        guard range.isFinite else {
            let binCount = Swift.max(Int((log2(Double(Swift.max(count, 1))) + 1).rounded(.up)), 1)
            // t = 0 and t = 1 give first and last exactly.
            return (0...binCount).map { bin -> Double in
                let t = Double(bin) / Double(binCount)
                return first * (1 - t) + last * t
            }
        }
        let width = range / (log2(Double(count)) + 1)
        let binCount = width != 0 ? Int(((last - first) / width).rounded(.up)) : 1
        let step = (last - first) / Double(binCount)
        var edges = (0...binCount).map { Double($0) * step + first }
        edges[binCount] = last
        return edges
    }

    static func sturges(_ reference: SortedSample, _ current: SortedSample) -> PairedCounts {
        // An empty side has no extremes to add; with both empty there is nothing to bin.
        guard let minimum = [reference.values.first, current.values.first].compactMap({ $0 }).min(),
            let maximum = [reference.values.last, current.values.last].compactMap({ $0 }).max()
        else {
            return byValue(reference, current)
        }
        let edges = sturgesEdges(minimum: minimum, maximum: maximum, count: reference.count + current.count)
        return PairedCounts(checked: histogram(reference, edges: edges), histogram(current, edges: edges))
    }

    /// `np.histogram(sample, edges)`: half-open bins [e_i, e_{i+1}), the last one closed.
    static func histogram(_ sample: SortedSample, edges: [Double]) -> [Int] {
        var counts = [Int](repeating: 0, count: edges.count - 1)
        var previous = sample.countBelow(edges[0])
        for bin in counts.indices {
            let isLast = bin == counts.count - 1
            let upTo = isLast ? sample.countNotAbove(edges[bin + 1]) : sample.countBelow(edges[bin + 1])
            counts[bin] = upTo - previous
            previous = upTo
        }
        return counts
    }

    /// One bin per distinct value of reference ∪ current, in ascending order.
    static func byValue(_ reference: SortedSample, _ current: SortedSample) -> PairedCounts {
        var referenceCounts: [Int] = []
        var currentCounts: [Int] = []
        let r = reference.values
        let c = current.values
        var i = 0
        var j = 0
        while i < r.count || j < c.count {
            let x = Swift.min(i < r.count ? r[i] : .infinity, j < c.count ? c[j] : .infinity)
            let i0 = i
            let j0 = j
            while i < r.count && r[i] == x { i += 1 }
            while j < c.count && c[j] == x { j += 1 }
            referenceCounts.append(i - i0)
            currentCounts.append(j - j0)
        }
        return PairedCounts(checked: referenceCounts, currentCounts)
    }

    /// One bin per category of reference ∪ current, ordered by Unicode code points (Python's
    /// string order, which decides which category the Z-test calls "first").
    static func byCategory(_ reference: [String: Int], _ current: [String: Int]) -> (keys: [String], counts: PairedCounts) {
        let keys = Set(reference.keys).union(current.keys).sorted {
            $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars)
        }
        let counts = PairedCounts(
            checked: keys.map { reference[$0, default: 0] },
            keys.map { current[$0, default: 0] }
        )
        return (keys, counts)
    }
}
