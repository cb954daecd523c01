import CairnCore

/// Pearson's chi-squared goodness-of-fit test, `scipy.stats.chisquare`, and Evidently's use
/// of it for drift: the current window's counts against the counts the reference proportions
/// predict for a window of the same size, df = K − 1 over the union of categories.
///
/// A category absent from the reference has an expected count of 0, so the statistic is +∞
/// and p = 0: a value never seen in training is drift. With a single category there is
/// nothing to test; scipy returns NaN there, Cairn returns p = 1 (no evidence of drift).
public enum ChiSquared {
    public static let defaultThreshold = 0.05

    public struct Result: Sendable, Equatable {
        public var statistic: Double
        public var pValue: Double
        public var degreesOfFreedom: Int
    }

    /// `chisquare(observed, expected)`; with no expected counts, the uniform expectation.
    public static func goodnessOfFit(observed: [Double], expected: [Double]? = nil) throws(CairnError) -> Result {
        guard !observed.isEmpty else {
            throw CairnError.invalidParameter("chi-squared needs at least one category")
        }
        if let expected, expected.count != observed.count {
            throw CairnError.invalidParameter(
                "observed and expected counts must have the same length (got \(observed.count) and \(expected.count))")
        }
        return pairedGoodnessOfFit(observed: observed, expected: expected)
    }

    /// Evidently's drift test on paired counts.
    public static func test(_ counts: PairedCounts) -> Result {
        let scale = Double(counts.currentTotal) / Double(counts.referenceTotal)
        return pairedGoodnessOfFit(
            observed: counts.current.map(Double.init),
            expected: counts.reference.map { Double($0) * scale }
        )
    }

    /// The statistic, once the lengths are known to agree.
    private static func pairedGoodnessOfFit(observed: [Double], expected: [Double]?) -> Result {
        let total = observed.reduce(0, +)
        let expected = expected ?? Array(repeating: total / Double(observed.count), count: observed.count)
        var statistic = 0.0
        for index in observed.indices {
            let difference = observed[index] - expected[index]
            statistic += difference * difference / expected[index]
        }
        let df = observed.count - 1
        let p = df > 0 ? SpecialFunctions.chiSquaredSurvival(statistic, degreesOfFreedom: Double(df)) : 1
        return Result(statistic: statistic, pValue: p, degreesOfFreedom: df)
    }
}
