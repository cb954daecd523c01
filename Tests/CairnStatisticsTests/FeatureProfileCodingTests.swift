import CairnCore
import Foundation
import Testing

@testable import CairnStatistics

/// A profile's JSON is what references are stored as: the kind, and the summary under the
/// key named after it.
@Suite struct FeatureProfileCodingTests {
    static func json(_ profile: FeatureProfile) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(profile)) as? [String: Any])
    }

    static func decode(_ text: String) throws -> FeatureProfile {
        try JSONDecoder().decode(FeatureProfile.self, from: Data(text.utf8))
    }

    @Test func eachKindWritesItsOwnSummaryAndReadsBack() throws {
        let numeric = FeatureProfile(name: "n", column: .numeric([3, 1, .nan, 2]))
        let empty = FeatureProfile(name: "e", column: .numeric([.nan, .infinity]))
        let categorical = FeatureProfile(name: "c", column: .categorical(["x", nil, "y", "x"]))
        for profile in [numeric, empty, categorical] {
            #expect(try JSONDecoder().decode(FeatureProfile.self, from: JSONEncoder().encode(profile)) == profile)
        }
        let keys = { (profile: FeatureProfile) in Set(try Self.json(profile).keys) }
        #expect(try keys(numeric) == ["name", "kind", "rowCount", "nullCount", "numeric"])
        #expect(try keys(empty) == ["name", "kind", "rowCount", "nullCount"])
        #expect(try keys(categorical) == ["name", "kind", "rowCount", "nullCount", "categorical"])
        #expect(try Self.json(categorical)["kind"] as? String == "categorical")
        #expect(empty.summary == .numeric(nil) && empty.valueCount == 0)
        #expect(numeric.numericSummary?.sample == [1, 2, 3])
    }

    /// A categorical profile without its categories could be read before, and then stopped the
    /// process at the first drift test; now it is refused where it is read.
    @Test func aProfileWithoutTheSummaryOfItsKindIsRefused() throws {
        #expect(throws: DecodingError.self) { try Self.decode(#"{"name": "c", "kind": "categorical", "rowCount": 2, "nullCount": 0}"#) }
        #expect(throws: DecodingError.self) {
            try Self.decode(
                #"{"name": "c", "kind": "categorical", "rowCount": 2, "nullCount": 0, "numeric": {"mean": 1, "std": 0, "min": 1, "max": 1, "distinctCount": 1, "binEdges": [1, 1], "binCounts": [2], "sample": [1, 1], "sampleIsComplete": true}}"#
            )
        }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"name": "x", "kind": "ordinal", "rowCount": 2, "nullCount": 0}"#) }
        // A numeric profile's other key is not its summary.
        let numeric = try Self.decode(
            #"{"name": "n", "kind": "numeric", "rowCount": 2, "nullCount": 2, "categorical": {"categories": [], "otherCount": 0, "distinctCount": 0}}"#
        )
        #expect(numeric.summary == .numeric(nil))
    }
}

extension FeatureProfile {
    /// The numeric summary, or nil for a categorical profile or one without values.
    var numericSummary: NumericSummary? {
        if case .numeric(let summary) = summary { summary } else { nil }
    }

    var categoricalSummary: CategoricalSummary? {
        if case .categorical(let summary) = summary { summary } else { nil }
    }
}
