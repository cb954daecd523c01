import CairnCore
import Testing

@testable import CairnStatistics

@Suite("Distances and frequency tests against scipy")
struct StatisticsTests {
    let golden = GoldenVectors.shared

    @Test func wassersteinMatchesScipy() throws {
        for c in golden.wasserstein {
            let u = SortedSample(c.u.values)
            expectClose(try Wasserstein.distance(u, SortedSample(c.v.values)), c.distance, relative: 1e-9, c.name)
            let std = try #require(NumericSummary(u, options: ProfileOptions())).std
            expectClose(
                try Wasserstein.normedDistance(reference: u, current: SortedSample(c.v.values), referenceStd: std),
                c.normed, relative: 1e-9, c.name)
        }
        #expect(try Wasserstein.distance([0, 1], [0, 1]) == 0)
    }

    @Test func chiSquareMatchesScipy() throws {
        for c in golden.chisquare {
            let result = try ChiSquared.goodnessOfFit(observed: c.observed, expected: c.expected)
            expectClose(result.statistic, c.statistic, relative: 1e-12)
            expectClose(result.pValue, c.pvalue, relative: 1e-9)
        }
    }

    @Test func unseenCategoryIsInfiniteChiSquared() throws {
        let result = ChiSquared.test(try PairedCounts(reference: [10, 5, 0], current: [4, 4, 1]))
        #expect(result.statistic == .infinity)
        #expect(result.pValue == 0)
    }

    @Test func jensenShannonMatchesScipy() throws {
        for c in golden.jensenshannon {
            expectClose(try JensenShannon.distance(c.p, c.q), c.natural, relative: 1e-12)
            expectClose(try JensenShannon.distance(c.p, c.q, base: 2), c.base2, relative: 1e-12)
        }
    }

    @Test func psiAnchor() throws {
        for c in golden.psi {
            expectClose(
                try PopulationStabilityIndex.value(referenceShares: c.reference, currentShares: c.current), c.value, relative: 1e-12)
        }
        #expect(PopulationStabilityIndex.epsilon(for: [0.5, 0.5, 0]) == 0.0001)
        #expect(PopulationStabilityIndex.epsilon(for: [0.99995, 0.00005, 0]) == 0.00005 / 1_000_000)
    }

    @Test func zTestMatchesFormula() {
        for c in golden.ztest {
            let result = ZTest.twoProportion(x1: c.x1, n1: c.n1, x2: c.x2, n2: c.n2)
            expectClose(result.statistic, c.z, relative: 1e-12)
            expectClose(result.pValue, c.pvalue, relative: 1e-9)
        }
    }

    @Test func sturgesEdgesFollowNumpy() {
        // np.histogram_bin_edges([0, 1, 2, 3, 10], 'sturges') → 4 bins over [0, 10]
        #expect(Binning.sturgesEdges(minimum: 0, maximum: 10, count: 5) == [0, 2.5, 5, 7.5, 10])
        // a constant column gets one bin of width 1 around the value
        #expect(Binning.sturgesEdges(minimum: 3, maximum: 3, count: 100) == [2.5, 3.5])
    }

    @Test func radixSortAgreesWithSort() {
        var generator = SystemRandomNumberGenerator()
        var values = (0..<50_000).map { _ in Double.random(in: -1e6...1e6, using: &generator) }
        values += [
            0.0, -0.0, .nan, .infinity, -.infinity, Double.leastNonzeroMagnitude, -Double.leastNormalMagnitude, .greatestFiniteMagnitude,
        ]
        let sample = SortedSample(values)
        #expect(sample.nullCount == 3)
        #expect(sample.values == values.filter(\.isFinite).sorted())

        // Values sharing their top bits form long runs, sorted after the radix passes.
        let concentrated = (0..<20_000).map { _ in 1 + Double.random(in: 0..<1e-9, using: &generator) }
        #expect(SortedSample(concentrated).values == concentrated.sorted())
    }
}
