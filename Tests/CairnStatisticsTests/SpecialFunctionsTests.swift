import Testing

@testable import CairnStatistics

@Suite("Special functions against scipy")
struct SpecialFunctionsTests {
    let golden = GoldenVectors.shared

    @Test func regularizedUpperGammaMatchesGammaincc() {
        for c in golden.gammaincc {
            expectClose(SpecialFunctions.regularizedUpperGamma(c.a, c.x), c.q, relative: 1e-9, absolute: 1e-300, "Q(\(c.a), \(c.x))")
        }
    }

    @Test func chiSquaredSurvivalAnchor() {
        // chi2.sf(7.5, 3) == gammaincc(1.5, 3.75)
        expectClose(SpecialFunctions.chiSquaredSurvival(7.5, degreesOfFreedom: 3), 0.05756, relative: 1e-4)
        #expect(SpecialFunctions.chiSquaredSurvival(.infinity, degreesOfFreedom: 4) == 0)
        #expect(SpecialFunctions.chiSquaredSurvival(0, degreesOfFreedom: 4) == 1)
    }

    @Test func normalSurvivalMatchesNormSf() {
        for c in golden.normal_sf {
            expectClose(SpecialFunctions.normalSurvival(c.z), c.sf, relative: 1e-12, absolute: 0, "sf(\(c.z))")
        }
    }

    /// Every regime of Simard–L'Ecuyer's selection: Ruben–Gambino ends, Durbin matrix,
    /// Pelz–Good, 2·Smirnov and the underflow cut-off, for n from 3 to 2,000,001.
    @Test func kolmogorovSmirnovDistributionMatchesKstwo() {
        for c in golden.kstwo_sf {
            expectClose(
                SpecialFunctions.kolmogorovSmirnovSurvival(n: c.n, d: c.d), c.sf, relative: 1e-8, absolute: 1e-14,
                "kstwo.sf(\(c.d), \(c.n))")
        }
    }

    @Test func smirnovMatchesScipy() {
        for c in golden.smirnov {
            expectClose(
                SpecialFunctions.smirnovSurvival(n: c.n, d: c.d), c.sf, relative: 1e-9, absolute: 1e-300,
                "smirnov(\(c.n), \(c.d))")
        }
    }
}
