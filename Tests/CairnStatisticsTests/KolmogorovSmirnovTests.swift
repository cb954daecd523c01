import CairnCore
import Testing

@testable import CairnStatistics

@Suite("Kolmogorov–Smirnov against scipy.stats.ks_2samp")
struct KolmogorovSmirnovTests {
    @Test(arguments: GoldenVectors.shared.ks.map(\.name))
    func matchesScipy(_ name: String) throws {
        let c = GoldenVectors.shared.ks.first { $0.name == name }!
        let result = try KolmogorovSmirnov.test(c.a.values, c.b.values)
        expectClose(result.statistic, c.statistic, relative: 1e-12, "\(name) D")
        expectClose(result.pValue, c.pvalue, relative: 1e-6, absolute: 1e-14, "\(name) p")
        let larger = max(c.a.values.filter(\.isFinite).count, c.b.values.filter(\.isFinite).count)
        #expect(result.method == (larger <= KolmogorovSmirnov.exactLimit ? .exact : .asymptotic))
    }

    @Test func anchorsFromTheReferenceNotes() throws {
        let a = (0..<10).map { 0.1 * Double($0) }
        let b = (0..<8).map { 0.35 + 0.125 * Double($0) }
        let result = try KolmogorovSmirnov.test(a, b)
        expectClose(result.statistic, 0.425)
        expectClose(result.pValue, 0.29553453082864845, relative: 1e-12)
    }

    @Test func emptySideIsAClearError() {
        #expect(throws: CairnError.self) { try KolmogorovSmirnov.test([1, 2, 3], [.nan, .nan]) }
    }
}
