/// The drift tests Cairn runs, named as Evidently names them so a configuration written for
/// one reads the same in the other.
public enum DriftMethod: String, Codable, Sendable, CaseIterable {
    case kolmogorovSmirnov = "ks"
    case chiSquared = "chisquare"
    case zTest = "z"
    case wasserstein
    case jensenShannon = "jensenshannon"
    case psi

    /// Tests report a p-value and drift below the threshold; distances report a distance and
    /// drift at or above it.
    public var reportsPValue: Bool {
        switch self {
        case .kolmogorovSmirnov, .chiSquared, .zTest: true
        case .wasserstein, .jensenShannon, .psi: false
        }
    }

    public var defaultThreshold: Double {
        reportsPValue ? 0.05 : 0.1
    }

    /// Evidently compares the KS p-value with `<=` and the other p-values with `<`; the
    /// distances with `>=`. Kept, so that a borderline case is called the same way.
    public func isDrift(score: Double, threshold: Double) -> Bool {
        switch self {
        case .kolmogorovSmirnov: score <= threshold
        case .chiSquared, .zTest: score < threshold
        case .wasserstein, .jensenShannon, .psi: score >= threshold
        }
    }

    public var displayName: String {
        switch self {
        case .kolmogorovSmirnov: "K-S p-value"
        case .chiSquared: "chi-square p-value"
        case .zTest: "Z-test p-value"
        case .wasserstein: "Wasserstein distance (normed)"
        case .jensenShannon: "Jensen-Shannon distance"
        case .psi: "PSI"
        }
    }
}

/// One feature's drift verdict.
public struct FeatureDrift: Codable, Sendable, Equatable {
    public var feature: String
    public var method: DriftMethod
    /// p-value for a test, distance for a distance.
    public var score: Double
    public var threshold: Double
    public var drifted: Bool
    /// The test statistic (KS D, χ², z) where there is one and it is finite.
    public var statistic: Double?
    /// Non-null values compared on each side.
    public var referenceCount: Int
    public var currentCount: Int
    public var currentNullShare: Double
    /// How the score was computed when that matters to read it ("exact"/"asymptotic" for KS).
    public var note: String?

    public init(
        feature: String, method: DriftMethod, score: Double, threshold: Double, drifted: Bool, statistic: Double?,
        referenceCount: Int, currentCount: Int, currentNullShare: Double, note: String?
    ) {
        self.feature = feature
        self.method = method
        self.score = score
        self.threshold = threshold
        self.drifted = drifted
        self.statistic = statistic
        self.referenceCount = referenceCount
        self.currentCount = currentCount
        self.currentNullShare = currentNullShare
        self.note = note
    }
}

/// Dataset drift as Evidently decides it: the share of drifted features against `threshold`.
public struct DatasetDrift: Codable, Sendable, Equatable {
    public var features: [FeatureDrift]
    public var driftedCount: Int
    public var driftedShare: Double
    public var threshold: Double
    public var drifted: Bool

    public init(features: [FeatureDrift], threshold: Double) {
        self.features = features
        driftedCount = features.filter(\.drifted).count
        driftedShare = features.isEmpty ? 0 : Double(driftedCount) / Double(features.count)
        self.threshold = threshold
        drifted = !features.isEmpty && driftedShare >= threshold
    }
}
