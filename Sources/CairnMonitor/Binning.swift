import Foundation

/// Reference and current counts over the same bins (histogram bins or distinct values or
/// categories). Every frequency-based statistic — chi-squared, Z, Jensen–Shannon, PSI —
/// reads this one shape, so the binning rules live in one place.
public struct PairedCounts: Sendable, Equatable {
    public var reference: [Int]
    public var current: [Int]

    public init(reference: [Int], current: [Int]) {
        precondition(reference.count == current.count, "bins must pair up")
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
    static func sturgesEdges(minimum: Double, maximum: Double, count: Int) -> [Double] {
        let range = maximum - minimum
        var first = minimum
        var last = maximum
        if first == last {
            first -= 0.5
            last += 0.5
        }
        let width = range / (log2(Double(count)) + 1)
        let binCount = width != 0 ? Int(((last - first) / width).rounded(.up)) : 1
        let step = (last - first) / Double(binCount)
        var edges = (0...binCount).map { Double($0) * step + first }
        edges[binCount] = last
        return edges
    }

    static func sturges(_ reference: SortedSample, _ current: SortedSample) -> PairedCounts {
        let minimum = Swift.min(reference.values.first!, current.values.first!)
        let maximum = Swift.max(reference.values.last!, current.values.last!)
        let edges = sturgesEdges(minimum: minimum, maximum: maximum, count: reference.count + current.count)
        return PairedCounts(reference: histogram(reference, edges: edges), current: histogram(current, edges: edges))
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
        return PairedCounts(reference: referenceCounts, current: currentCounts)
    }

    /// One bin per category of reference ∪ current, ordered by Unicode code points (Python's
    /// string order, which decides which category the Z-test calls "first").
    static func byCategory(_ reference: [String: Int], _ current: [String: Int]) -> (keys: [String], counts: PairedCounts) {
        let keys = Set(reference.keys).union(current.keys).sorted {
            $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars)
        }
        let counts = PairedCounts(
            reference: keys.map { reference[$0, default: 0] },
            current: keys.map { current[$0, default: 0] }
        )
        return (keys, counts)
    }
}
