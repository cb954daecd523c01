import CairnCore
import Foundation
import Testing

@testable import CairnStatistics

@Suite("Drift detector against Evidently's formulas")
struct DriftDetectorTests {
    static func columns(_ c: GoldenVectors.DetectorCase) -> (reference: FeatureColumn, current: FeatureColumn) {
        func column(_ column: GoldenVectors.Column) -> FeatureColumn {
            switch column {
            case .numeric(let values): .numeric(values)
            case .categorical(let values): .categorical(values)
            }
        }
        return (column(c.reference), column(c.current))
    }

    @Test(arguments: GoldenVectors.shared.detector.map(\.name))
    func everyMethodAndTheDefaultChoice(_ name: String) throws {
        let c = GoldenVectors.shared.detector.first { $0.name == name }!
        let (reference, current) = Self.columns(c)
        let profile = ReferenceProfile(columns: ["f": reference])

        let chosen = try DriftDetector(reference: profile).featureDrift("f", current: current)
        #expect(chosen.method.rawValue == c.default, "\(name): default method")

        for (methodName, expected) in c.results {
            let method = try #require(DriftMethod(rawValue: methodName))
            let detector = DriftDetector(reference: profile, configuration: DriftConfiguration(methods: ["f": method]))
            let result = try detector.featureDrift("f", current: current)
            #expect(result.method == method)
            expectClose(result.score, expected.score, relative: 1e-6, absolute: 1e-12, "\(name) \(methodName) score")
            if let statistic = expected.statistic {
                expectClose(result.statistic ?? .nan, statistic, relative: 1e-6, absolute: 1e-12, "\(name) \(methodName) statistic")
            } else if method.reportsPValue {
                #expect(result.statistic == nil, "\(name) \(methodName): an infinite statistic is not reported")
            }
            #expect(result.drifted == expected.drifted, "\(name) \(methodName) drifted")
            #expect(result.threshold == method.defaultThreshold)
        }
    }

    @Test func datasetDriftIsTheShareOfDriftedFeatures() async throws {
        let n = 2000
        let grid = (0..<n).map { Double($0) / Double(n) }
        let reference: [String: FeatureColumn] = [
            "a": .numeric(grid), "b": .numeric(grid), "c": .numeric(grid), "d": .numeric(grid),
        ]
        let detector = DriftDetector(reference: ReferenceProfile(columns: reference))
        let shifted = FeatureColumn.numeric(grid.map { $0 + 0.5 })
        let same = FeatureColumn.numeric(grid)

        let two = try await detector.datasetDrift(["a": shifted, "b": shifted, "c": same, "d": same])
        #expect(two.features.map(\.feature) == ["a", "b", "c", "d"])
        #expect(two.features.map(\.drifted) == [true, true, false, false])
        #expect(two.features.allSatisfy { $0.method == .wasserstein })
        #expect(two.driftedShare == 0.5)
        #expect(two.drifted, "half the features drifting is dataset drift (share ≥ 0.5)")

        let one = try await detector.datasetDrift(["a": shifted, "b": same, "c": same, "d": same, "extra": same])
        #expect(one.driftedCount == 1)
        #expect(!one.drifted)
    }

    @Test func perFeatureThresholdOverride() throws {
        let reference = ReferenceProfile(columns: ["x": .numeric((0..<3000).map { Double($0) })])
        let current = FeatureColumn.numeric((0..<3000).map { Double($0) + 200 })
        let lenient = DriftDetector(reference: reference, configuration: DriftConfiguration(thresholds: ["x": 0.5]))
        let strict = DriftDetector(reference: reference)
        #expect(try !lenient.featureDrift("x", current: current).drifted)
        #expect(try strict.featureDrift("x", current: current).drifted)
    }

    @Test func emptyCurrentWindowIsAClearError() throws {
        let detector = DriftDetector(reference: ReferenceProfile(columns: ["x": .numeric([1, 2, 3]), "c": .categorical(["a", "b"])]))
        #expect(throws: CairnError.invalidParameter("the current window for feature 'x' is empty")) {
            try detector.featureDrift("x", current: .numeric([]))
        }
        #expect(throws: CairnError.invalidParameter("feature 'x' has no non-null values in the current window")) {
            try detector.featureDrift("x", current: .numeric([.nan, .nan]))
        }
        #expect(throws: CairnError.invalidParameter("feature 'c' has no non-null values in the current window")) {
            try detector.featureDrift("c", current: .categorical([nil]))
        }
    }

    @Test func allNullReferenceIsAClearError() throws {
        let profile = ReferenceProfile(columns: ["x": .numeric([.nan, .nan])])
        #expect(profile["x"]?.nullShare == 1)
        #expect(profile["x"]?.summary == .numeric(nil))
        #expect(throws: CairnError.invalidParameter("feature 'x' has no non-null values in the reference")) {
            try DriftDetector(reference: profile).featureDrift("x", current: .numeric([1]))
        }
    }

    @Test func mismatchesAreClearErrors() async throws {
        let detector = DriftDetector(reference: ReferenceProfile(columns: ["x": .numeric([1, 2, 3]), "c": .categorical(["a"])]))
        #expect(throws: CairnError.self) { try detector.featureDrift("x", current: .categorical(["a"])) }
        #expect(throws: CairnError.self) { try detector.featureDrift("nope", current: .numeric([1])) }
        await #expect(throws: CairnError.invalidParameter("current window has no column 'c'")) {
            try await detector.datasetDrift(["x": .numeric([1])])
        }
        let ks = DriftDetector(reference: detector.reference, configuration: DriftConfiguration(methods: ["c": .kolmogorovSmirnov]))
        #expect(throws: CairnError.self) { try ks.featureDrift("c", current: .categorical(["a"])) }
    }

    /// Evidently floors the reference std at 0.001, so a constant training feature reports any
    /// visible movement as drift and an unchanged one as none. (With so few distinct values the
    /// default is Jensen–Shannon; Wasserstein is chosen explicitly here.)
    @Test func constantReferenceUsesTheStdFloor() throws {
        let reference = ReferenceProfile(columns: ["x": .numeric(Array(repeating: 7, count: 5000))])
        let byDefault = try DriftDetector(reference: reference).featureDrift("x", current: .numeric([7.001]))
        #expect(byDefault.method == .jensenShannon)
        let detector = DriftDetector(reference: reference, configuration: DriftConfiguration(methods: ["x": .wasserstein]))
        let unchanged = try detector.featureDrift("x", current: .numeric(Array(repeating: 7, count: 100)))
        #expect(unchanged.score == 0)
        #expect(!unchanged.drifted)
        let moved = try detector.featureDrift("x", current: .numeric(Array(repeating: 7.001, count: 100)))
        expectClose(moved.score, 1, relative: 1e-9)
        #expect(moved.drifted)
    }
}
