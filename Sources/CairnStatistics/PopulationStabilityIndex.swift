import CairnCore
import Foundation

/// Population Stability Index, Σ (ref% − cur%) · ln(ref%/cur%), with Evidently's binning and
/// its treatment of empty bins: a zero share becomes 0.0001, or min_nonzero/10⁶ when the
/// smallest non-zero share on that side is itself ≤ 0.0001. Drift at PSI ≥ 0.1.
public enum PopulationStabilityIndex {
    public static let defaultThreshold = 0.1

    public static func value(referenceShares: [Double], currentShares: [Double]) throws(CairnError) -> Double {
        guard referenceShares.count == currentShares.count else {
            throw CairnError.invalidParameter(
                "reference and current shares must have the same number of bins (got \(referenceShares.count) and \(currentShares.count))")
        }
        return pairedValue(referenceShares, currentShares)
    }

    public static func value(_ counts: PairedCounts) -> Double {
        let shares = counts.shares
        return pairedValue(shares.reference, shares.current)
    }

    /// The index, once the bins are known to pair up.
    private static func pairedValue(_ referenceShares: [Double], _ currentShares: [Double]) -> Double {
        let r = fillingEmptyBins(referenceShares)
        let c = fillingEmptyBins(currentShares)
        var psi = 0.0
        for index in r.indices { psi += (r[index] - c[index]) * log(r[index] / c[index]) }
        return psi
    }

    /// The replacement for empty bins; each side gets its own, as in Evidently.
    static func epsilon(for shares: [Double]) -> Double {
        let smallest = shares.filter { $0 != 0 }.min() ?? 1
        return smallest <= 0.0001 ? smallest / 1_000_000 : 0.0001
    }

    static func fillingEmptyBins(_ shares: [Double]) -> [Double] {
        let eps = epsilon(for: shares)
        return shares.map { $0 == 0 ? eps : $0 }
    }
}
