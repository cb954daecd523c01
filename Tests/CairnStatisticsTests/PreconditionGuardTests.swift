import CairnCore
import Foundation
import Testing

@testable import CairnStatistics

/// Input that used to stop the process on a precondition or a trap now gets an
/// invalid-parameter error, or a documented value.
@Suite("Bad input to the monitor's public API")
struct PreconditionGuardTests {
    @Test func pairedCountsCheckTheirInvariants() throws {
        #expect(
            throws: CairnError.invalidParameter(
                "reference and current counts must have the same number of bins (got 2 and 3)")
        ) {
            try PairedCounts(reference: [1, 2], current: [1, 2, 3])
        }
        #expect(throws: CairnError.self) { try PairedCounts(reference: [1, -2], current: [1, 2]) }
        #expect(throws: CairnError.self) { try PairedCounts(reference: [1, 1], current: [Int.max, 1]) }
        let counts = try PairedCounts(reference: [3, 1], current: [0, 4])
        #expect(counts.referenceTotal == 4 && counts.currentTotal == 4)
        // No bins at all is not a crash either: nothing to test, no evidence of drift.
        #expect(ChiSquared.test(try PairedCounts(reference: [], current: [])).pValue == 1)
        #expect(ZTest.test(try PairedCounts(reference: [], current: [])).pValue == 1)
    }

    @Test func mismatchedDistributionsAreRefused() {
        #expect(throws: CairnError.self) { try ChiSquared.goodnessOfFit(observed: [1, 2, 3], expected: [1, 2]) }
        #expect(throws: CairnError.self) { try ChiSquared.goodnessOfFit(observed: []) }
        #expect(throws: CairnError.self) { try JensenShannon.distance([0.5, 0.5], [1]) }
        #expect(throws: CairnError.self) {
            try PopulationStabilityIndex.value(referenceShares: [0.5, 0.5], currentShares: [0.2, 0.3, 0.5])
        }
        do {
            _ = try JensenShannon.distance([1], [])
            Issue.record("accepted distributions of different lengths")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.code.httpStatus == 400)
        }
    }

    @Test func profileOptionsAreClamped() throws {
        let low = ProfileOptions(quantileBins: 0, topCategories: -3, maxRetainedValues: 1)
        #expect(low.quantileBins == 1 && low.topCategories == 1 && low.maxRetainedValues == 2)
        #expect(ProfileOptions(quantileBins: .max).quantileBins == ProfileOptions.quantileBinLimit)
        #expect(ProfileOptions() == ProfileOptions(quantileBins: 10, topCategories: 50, maxRetainedValues: 100_000))

        // Profiling with the clamped options works where the raw values used to trap.
        let values = (0..<100).map(Double.init)
        let numeric = try #require(FeatureProfile(name: "x", column: .numeric(values), options: low).numericSummary)
        #expect(numeric.binEdges == [0, 99] && numeric.binCounts == [100])
        #expect(numeric.sample == [0, 99] && !numeric.sampleIsComplete)
        let categorical = try #require(FeatureProfile(name: "c", column: .categorical(["a", "b", "b"]), options: low).categoricalSummary)
        #expect(categorical.categories == [CategoryCount(value: "b", count: 2)] && categorical.otherCount == 1)

        // Stored options are clamped the same way when read back.
        let decoded = try JSONDecoder().decode(
            ProfileOptions.self, from: Data(#"{"quantileBins":-1,"topCategories":0,"maxRetainedValues":0}"#.utf8))
        #expect(decoded == low)
        let roundTrip = try JSONDecoder().decode(ProfileOptions.self, from: JSONEncoder().encode(ProfileOptions(topCategories: 7)))
        #expect(roundTrip == ProfileOptions(topCategories: 7))
    }

    @Test func kolmogorovSmirnovSurvivalOfNoSampleIsNaN() {
        #expect(SpecialFunctions.kolmogorovSmirnovSurvival(n: 0, d: 0.3).isNaN)
        #expect(SpecialFunctions.kolmogorovSmirnovSurvival(n: -5, d: 0.3).isNaN)
    }

    @Test func zTestOnHugeCountsDoesNotOverflow() {
        let result = ZTest.twoProportion(x1: Int.max / 2, n1: Int.max, x2: Int.max / 2, n2: Int.max)
        #expect(result.statistic == 0 && result.pValue == 1)
    }

    /// Values whose range overflows a double: numpy raises here; Cairn bins them anyway, with
    /// the bin count numpy would use in exact arithmetic.
    @Test func sturgesBinsSurviveAnOverflowingRange() throws {
        let edges = Binning.sturgesEdges(minimum: -1.5e308, maximum: 1.5e308, count: 40)
        #expect(edges.count == 8) // ⌈log2(40) + 1⌉ = 7 bins
        #expect(edges.first == -1.5e308 && edges.last == 1.5e308)
        #expect(edges.allSatisfy { $0.isFinite })
        #expect(zip(edges, edges.dropFirst()).allSatisfy { $0 < $1 })

        let reference = (0..<30).map { Double($0) * 1e307 - 1.5e308 }
        let detector = DriftDetector(
            reference: ReferenceProfile(columns: ["x": .numeric(reference)]),
            configuration: DriftConfiguration(methods: ["x": .jensenShannon]))
        let drift = try detector.featureDrift("x", current: .numeric([-1.7e308, 1.7e308, 0]))
        #expect(drift.score.isFinite)
        let psi = try DriftDetector(
            reference: ReferenceProfile(columns: ["x": .numeric(reference)]),
            configuration: DriftConfiguration(methods: ["x": .psi])
        ).featureDrift("x", current: .numeric([-1.7e308, 1.7e308, 0]))
        #expect(psi.score.isFinite)
    }
}
