import Testing

@testable import CairnMonitor

/// The window's side of a numeric histogram: each value in the bin of the reference's edges.
@Suite struct FeatureHistogramTests {
    /// The bin as a binary search finds it: the last edge at or below the value, with values
    /// outside the reference range in the outermost bins.
    static func searched(_ values: [Double], edges e: [Double], bins: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: bins)
        for value in values where value.isFinite {
            var low = 0
            var high = e.count - 1
            while high - low > 1 {
                let mid = (low + high) / 2
                if value < e[mid] { high = mid } else { low = mid }
            }
            counts[min(low, counts.count - 1)] += 1
        }
        return counts
    }

    @Test(arguments: [
        [0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        // Quantile edges of a column with ties repeat.
        [0.0, 1, 1, 1, 2, 5, 5, 9],
        [-3.0, 3],
        [2.0],
    ])
    func valuesFallInTheBinABinarySearchFinds(_ edges: [Double]) {
        var generator = SystemRandomNumberGenerator()
        let values =
            (0..<5_000).map { _ in Double(Int.random(in: -40...140, using: &generator)) / 10 } + edges + [.nan, .infinity, -.infinity]
        let bins = max(1, edges.count - 1)
        var counts = [Double](repeating: 0, count: bins)
        FeatureHistogram.count(values, into: &counts, edges: edges)
        #expect(counts == Self.searched(values, edges: edges, bins: bins))
        #expect(counts.reduce(0, +) == Double(values.count { $0.isFinite }))
    }
}
