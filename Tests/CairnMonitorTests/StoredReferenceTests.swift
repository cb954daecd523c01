import CairnCore
import CairnStatistics
import Foundation
import Testing

@testable import CairnMonitor

/// References live in the database as the JSON `MonitorReference.encoded()` wrote when they
/// were uploaded, so a profile's stored shape outlives the code that wrote it.
@Suite struct StoredReferenceTests {
    /// As `POST /api/cairn/v1/references?model_name=churn&version=1&target=label` stored it
    /// (cairn at 8b4ecee, when a profile was a kind plus two optional summaries) for
    /// `age,city,income,label` = `30,Paris,,1 / 41,Lyon,,0 / 29,Paris,,1 / 55,,,0 / ,Nice,,1`:
    /// a numeric feature, a categorical one, one with no values, and the target as prediction.
    static let stored = #"""
        {"features":{"features":[{"nullCount":1,"kind":"numeric","numeric":{"binEdges":[29,29.3,29.6,29.9,32.2,35.5,38.8,42.39999999999999,46.60000000000001,50.800000000000004,55],"mean":38.75,"sampleIsComplete":true,"std":10.497023387608508,"min":29,"binCounts":[1,0,0,1,0,0,1,0,0,1],"distinctCount":4,"max":55,"sample":[29,30,41,55]},"name":"age","rowCount":5},{"nullCount":1,"kind":"categorical","name":"city","rowCount":5,"categorical":{"distinctCount":3,"categories":[{"value":"Paris","count":2},{"value":"Lyon","count":1},{"value":"Nice","count":1}],"otherCount":0}},{"nullCount":5,"kind":"numeric","name":"income","rowCount":5}]},"predictionSource":"label","featureOrder":["age","city","income"],"rowCount":5,"prediction":{"nullCount":0,"kind":"numeric","name":"prediction","rowCount":5,"numeric":{"binEdges":[0,0.19999999999999996,0.6000000000000001,1],"mean":0.6,"sampleIsComplete":true,"std":0.48989794855663565,"min":0,"binCounts":[2,0,3],"distinctCount":2,"max":1,"sample":[0,0,1,1,1]}}}
        """#

    static let csv = "age,city,income,label\n30,Paris,,1\n41,Lyon,,0\n29,Paris,,1\n55,,,0\n,Nice,,1\n"

    @Test func aStoredReferenceStillDecodesIntoTheSummaryOfItsKind() throws {
        let reference = try MonitorReference.decode(Self.stored)
        #expect(reference.features.features.map(\.name) == ["age", "city", "income"])
        guard case .numeric(let age?) = reference.features["age"]?.summary else {
            Issue.record("age is not numeric with a summary")
            return
        }
        #expect(age.mean == 38.75 && age.sample == [29, 30, 41, 55] && age.binCounts.reduce(0, +) == 4)
        guard case .categorical(let city)? = reference.features["city"]?.summary else {
            Issue.record("city is not categorical")
            return
        }
        #expect(city.categories.map(\.value) == ["Paris", "Lyon", "Nice"])
        #expect(reference.features["income"]?.summary == .numeric(nil))
        #expect(reference.features["income"]?.valueCount == 0)
        #expect(reference.prediction?.kind == .numeric)
        // What was stored is what profiling the same table gives today.
        #expect(try MonitorReference(csv: Array(Self.csv.utf8), target: "label", prediction: nil) == reference)
    }

    @Test func aReferenceIsStoredInTheSameShape() throws {
        let today = try MonitorReference(csv: Array(Self.csv.utf8), target: "label", prediction: nil).encoded()
        let written = try JSONSerialization.jsonObject(with: Data(today.utf8)) as? NSDictionary
        let stored = try JSONSerialization.jsonObject(with: Data(Self.stored.utf8)) as? NSDictionary
        #expect(written != nil && written == stored)
    }

    @Test func driftRunsAgainstAStoredReference() throws {
        let detector = DriftDetector(reference: try MonitorReference.decode(Self.stored).features)
        #expect(try detector.featureDrift("age", current: .numeric([31, 40, 52, 28, 33])).method == .kolmogorovSmirnov)
        #expect(try detector.featureDrift("city", current: .categorical(["Paris", "Nice", nil])).currentCount == 2)
        // A feature without reference values has nothing to compare with: refused, not a trap.
        #expect(throws: CairnError.self) { try detector.featureDrift("income", current: .numeric([1, 2])) }
    }
}
