import CairnCore

/// Wasserstein-1 (earth mover's) distance between two 1-D samples,
/// `scipy.stats.wasserstein_distance`: ∫ |F_u − F_v| dx over the pooled sorted values.
/// Evidently's `wasserstein` drift score divides it by the reference's population standard
/// deviation, floored at 0.001, and flags drift at ≥ 0.1.
public enum Wasserstein {
    public static let defaultThreshold = 0.1
    /// Evidently's floor on the reference std. A constant reference therefore has a scale of
    /// 0.001: any current window that moves by more than 0.0001 units is reported as drift,
    /// which is the right call for a feature that never varied in training.
    public static let minimumScale = 0.001

    public static func distance(_ u: [Double], _ v: [Double]) throws -> Double {
        try distance(SortedSample(u), SortedSample(v))
    }

    public static func distance(_ u: SortedSample, _ v: SortedSample) throws -> Double {
        guard !u.isEmpty, !v.isEmpty else {
            throw CairnError.invalidParameter("Wasserstein distance needs at least one non-null value on each side")
        }
        var total = 0.0
        walkEmpiricalCDFs(u.values, v.values) { difference, gap in total += abs(difference) * gap }
        return total
    }

    /// W1 / max(std(reference), 0.001), Evidently's normed score.
    public static func normedDistance(reference: SortedSample, current: SortedSample, referenceStd: Double) throws -> Double {
        try distance(reference, current) / max(referenceStd, minimumScale)
    }
}
