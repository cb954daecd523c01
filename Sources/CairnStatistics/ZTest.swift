/// Two-proportion Z-test, Evidently's `z` method for binary columns: values equal to the first
/// key (in sorted order) count as 0, everything else as 1; pooled proportion; two-sided
/// p = 2(1 − Φ(|z|)). Both sides holding one and the same value gives p = 1.
public enum ZTest {
    public static let defaultThreshold = 0.05

    public struct Result: Sendable, Equatable {
        public var statistic: Double
        public var pValue: Double
    }

    /// Successes x out of n on each side.
    public static func twoProportion(x1: Int, n1: Int, x2: Int, n2: Int) -> Result {
        let p1 = Double(x1) / Double(n1)
        let p2 = Double(x2) / Double(n2)
        let pooled = (p1 * Double(n1) + p2 * Double(n2)) / (Double(n1) + Double(n2)) // no Int overflow on huge counts
        let variance = pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))
        guard variance > 0 else { return Result(statistic: 0, pValue: 1) }
        let z = (p1 - p2) / variance.squareRoot()
        return Result(statistic: z, pValue: SpecialFunctions.clipProbability(2 * SpecialFunctions.normalSurvival(abs(z))))
    }

    /// On paired counts whose first bin is the first sorted key.
    public static func test(_ counts: PairedCounts) -> Result {
        guard counts.binCount > 1 else { return Result(statistic: 0, pValue: 1) }
        let n1 = counts.referenceTotal
        let n2 = counts.currentTotal
        return twoProportion(x1: n1 - counts.reference[0], n1: n1, x2: n2 - counts.current[0], n2: n2)
    }
}
