import CairnCore
import Foundation

/// Jensen–Shannon *distance* (the square root of the divergence), as
/// `scipy.spatial.distance.jensenshannon`. Evidently's `jensenshannon` drift method calls it
/// with the natural log, so scores run from 0 to √ln 2 ≈ 0.8326; its drift threshold is 0.1.
public enum JensenShannon {
    public static let defaultThreshold = 0.1

    /// Both vectors are normalised to sum to 1 first, as scipy does. A zero entry contributes
    /// nothing to its own KL term (scipy's `rel_entr`), so no smoothing is applied.
    public static func distance(_ p: [Double], _ q: [Double], base: Double? = nil) throws(CairnError) -> Double {
        guard p.count == q.count else {
            throw CairnError.invalidParameter(
                "distributions must have the same length (got \(p.count) and \(q.count))")
        }
        return pairedDistance(p, q, base: base)
    }

    /// Evidently's score on binned counts (no zero filling).
    public static func distance(_ counts: PairedCounts) -> Double {
        let shares = counts.shares
        return pairedDistance(shares.reference, shares.current, base: nil)
    }

    /// The distance, once the lengths are known to agree.
    private static func pairedDistance(_ p: [Double], _ q: [Double], base: Double?) -> Double {
        let pSum = p.reduce(0, +)
        let qSum = q.reduce(0, +)
        var divergence = 0.0
        for index in p.indices {
            let pi = p[index] / pSum
            let qi = q[index] / qSum
            let mi = (pi + qi) / 2
            divergence += relativeEntropy(pi, mi) + relativeEntropy(qi, mi)
        }
        if let base { divergence /= log(base) }
        return (divergence / 2).squareRoot()
    }

    @inline(__always)
    private static func relativeEntropy(_ x: Double, _ y: Double) -> Double {
        if x > 0 && y > 0 { return x * log(x / y) }
        if x == 0 && y >= 0 { return 0 }
        return .infinity
    }
}
