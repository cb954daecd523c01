import Foundation
import Testing

@testable import CairnStatistics

@Suite("Reference profiles")
struct FeatureProfileTests {
    @Test func numericSummary() throws {
        let values = (1...100).map(Double.init) + [.nan, .infinity]
        let profile = FeatureProfile(name: "x", column: .numeric(values))
        let numeric = try #require(profile.numericSummary)
        #expect(profile.rowCount == 102)
        #expect(profile.nullCount == 2)
        expectClose(profile.nullShare, 2.0 / 102)
        expectClose(numeric.mean, 50.5)
        expectClose(numeric.std, 28.86607004772212) // np.std(1..100)
        #expect(numeric.min == 1 && numeric.max == 100)
        #expect(numeric.distinctCount == 100)
        #expect(numeric.binEdges.count == 11)
        expectClose(numeric.binEdges[1], 10.9) // np.quantile(1..100, 0.1)
        #expect(numeric.binCounts == Array(repeating: 10, count: 10))
        #expect(numeric.sampleIsComplete)
    }

    @Test func tiedQuantilesMergeBins() throws {
        let values = Array(repeating: 0.0, count: 90) + (1...10).map(Double.init)
        let numeric = try #require(FeatureProfile(name: "x", column: .numeric(values)).numericSummary)
        #expect(Set(numeric.binEdges).count == numeric.binEdges.count)
        #expect(numeric.binCounts.reduce(0, +) == 100)
    }

    @Test func largeReferenceIsThinnedToOrderStatistics() throws {
        let values = (0..<1000).map(Double.init)
        let numeric = try #require(
            FeatureProfile(name: "x", column: .numeric(values), options: ProfileOptions(maxRetainedValues: 11)).numericSummary)
        #expect(!numeric.sampleIsComplete)
        #expect(numeric.sample == [0, 100, 200, 300, 400, 500, 599, 699, 799, 899, 999] || numeric.sample.count == 11)
        #expect(numeric.sample.first == 0 && numeric.sample.last == 999)
    }

    @Test func categoricalTopKWithOtherBucket() throws {
        var values: [String?] = []
        for (index, name) in ["a", "b", "c", "d"].enumerated() {
            values += Array(repeating: name, count: 10 - index)
        }
        values += [nil, nil]
        let profile = FeatureProfile(name: "c", column: .categorical(values), options: ProfileOptions(topCategories: 2))
        let categorical = try #require(profile.categoricalSummary)
        #expect(categorical.categories == [CategoryCount(value: "a", count: 10), CategoryCount(value: "b", count: 9)])
        #expect(categorical.otherCount == 15)
        #expect(categorical.distinctCount == 4)
        #expect(profile.nullCount == 2)
        // A category never seen is pooled into 'other' once the profile has pooled anything.
        #expect(categorical.bucket(["a": 1, "zzz": 4, "c": 2]) == ["a": 1, CategoricalSummary.otherKey: 6])
    }

    @Test func profilesRoundTripThroughJSON() throws {
        let profile = ReferenceProfile(columns: [
            "n": .numeric((0..<500).map { sin(Double($0)) }),
            "c": .categorical(["x", "y", nil, "x"]),
            "empty": .numeric([.nan]),
        ])
        let data = try JSONEncoder().encode(profile)
        let decoded = try JSONDecoder().decode(ReferenceProfile.self, from: data)
        #expect(decoded == profile)
        #expect(decoded.features.map(\.name) == ["c", "empty", "n"])
    }
}
