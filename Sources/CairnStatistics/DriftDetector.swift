import CairnCore

/// Which test to run on which feature and where to draw the line. Empty means Evidently's
/// defaults throughout.
public struct DriftConfiguration: Codable, Sendable, Equatable {
    /// Per-feature method, overriding the default choice.
    public var methods: [String: DriftMethod]
    /// Per-feature threshold, overriding the method's default.
    public var thresholds: [String: Double]
    /// Dataset drift when at least this share of features drifts (Evidently's `drift_share`).
    public var driftShare: Double

    public init(methods: [String: DriftMethod] = [:], thresholds: [String: Double] = [:], driftShare: Double = 0.5) {
        self.methods = methods
        self.thresholds = thresholds
        self.driftShare = driftShare
    }

    // Snake case and every field optional, as monitors take it in their JSON.
    enum CodingKeys: String, CodingKey {
        case methods, thresholds
        case driftShare = "drift_share"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        methods = try container.decodeIfPresent([String: DriftMethod].self, forKey: .methods) ?? [:]
        thresholds = try container.decodeIfPresent([String: Double].self, forKey: .thresholds) ?? [:]
        driftShare = try container.decodeIfPresent(Double.self, forKey: .driftShare) ?? 0.5
    }
}

/// Compares windows of data with a reference profile, feature by feature.
public struct DriftDetector: Sendable {
    /// Evidently's line between "small" references (statistical tests) and large ones
    /// (distances, since every test rejects on enough data).
    public static let smallReferenceLimit = 1000

    public let reference: ReferenceProfile
    public var configuration: DriftConfiguration

    public init(reference: ReferenceProfile, configuration: DriftConfiguration = DriftConfiguration()) {
        self.reference = reference
        self.configuration = configuration
    }

    /// Every reference feature against the window, features in parallel. The window must hold
    /// a column for each reference feature; extra columns are ignored.
    public func datasetDrift(_ window: [String: FeatureColumn]) async throws -> DatasetDrift {
        let pairs = try reference.features.map { feature throws(CairnError) in
            guard let column = window[feature.name] else {
                throw CairnError.invalidParameter("current window has no column '\(feature.name)'")
            }
            return (feature, column)
        }
        let results = try await withThrowingTaskGroup(of: (Int, FeatureDrift).self) { group in
            for (index, (feature, column)) in pairs.enumerated() {
                group.addTask { (index, try self.drift(of: feature, current: column)) }
            }
            var results: [(Int, FeatureDrift)] = []
            results.reserveCapacity(pairs.count)
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return DatasetDrift(features: results, threshold: configuration.driftShare)
    }

    public func featureDrift(_ name: String, current: FeatureColumn) throws -> FeatureDrift {
        guard let feature = reference[name] else {
            throw CairnError.invalidParameter("the reference profile has no feature '\(name)'")
        }
        return try drift(of: feature, current: current)
    }

    /// Evidently's `_get_default_stattest`: by reference size, column kind and the number of
    /// distinct values in reference ∪ current.
    public static func defaultMethod(for feature: FeatureProfile, distinctValues: Int) -> DriftMethod {
        let small = feature.valueCount <= smallReferenceLimit
        switch feature.kind {
        case .numeric:
            if small {
                if distinctValues > 5 { return .kolmogorovSmirnov }
                return distinctValues > 2 ? .chiSquared : .zTest
            }
            return distinctValues > 5 ? .wasserstein : .jensenShannon
        case .categorical:
            if small { return distinctValues > 2 ? .chiSquared : .zTest }
            return .jensenShannon
        }
    }

    func drift(of feature: FeatureProfile, current column: FeatureColumn) throws -> FeatureDrift {
        guard column.kind == feature.kind else { throw kindMismatch(feature, column) }
        guard feature.valueCount > 0 else {
            throw CairnError.invalidParameter("feature '\(feature.name)' has no non-null values in the reference")
        }
        let rows = column.count
        guard rows > 0 else {
            throw CairnError.invalidParameter("the current window for feature '\(feature.name)' is empty")
        }
        switch (column, feature.summary) {
        case (.numeric(let values), .numeric(let summary?)):
            return try numericDrift(feature, summary, current: SortedSample(values), rows: rows)
        case (.categorical(let values), .categorical(let summary)):
            return try categoricalDrift(feature, summary, current: values, rows: rows)
        case (.numeric, .numeric(nil)):
            // A numeric profile keeps no summary only when it has no values, refused above.
            throw CairnError.invalidParameter("feature '\(feature.name)' has no non-null values in the reference")
        case (.numeric, .categorical), (.categorical, .numeric):
            throw kindMismatch(feature, column)
        }
    }

    private func kindMismatch(_ feature: FeatureProfile, _ column: FeatureColumn) -> CairnError {
        CairnError.invalidParameter(
            "feature '\(feature.name)' is \(feature.kind.rawValue) in the reference but \(column.kind.rawValue) in the current window")
    }

    private func numericDrift(_ feature: FeatureProfile, _ summary: NumericSummary, current: SortedSample, rows: Int) throws -> FeatureDrift
    {
        guard !current.isEmpty else {
            throw CairnError.invalidParameter("feature '\(feature.name)' has no non-null values in the current window")
        }
        let reference = SortedSample(presorted: summary.sample)
        let method =
            configuration.methods[feature.name]
            ?? {
                // Only a reference with few distinct values needs the union counted.
                let distinct =
                    summary.distinctCount > 5
                    ? summary.distinctCount
                    : Binning.byValue(reference, current).binCount
                return Self.defaultMethod(for: feature, distinctValues: distinct)
            }()
        var statistic: Double?
        var note: String?
        let score: Double
        switch method {
        case .kolmogorovSmirnov:
            let result = try KolmogorovSmirnov.test(reference, current)
            (score, statistic, note) = (result.pValue, result.statistic, result.method.rawValue)
        case .wasserstein:
            score = try Wasserstein.normedDistance(reference: reference, current: current, referenceStd: summary.std)
        case .chiSquared:
            let result = ChiSquared.test(Binning.byValue(reference, current))
            (score, statistic) = (result.pValue, result.statistic)
        case .zTest:
            let result = ZTest.test(Binning.byValue(reference, current))
            (score, statistic) = (result.pValue, result.statistic)
        case .jensenShannon:
            score = JensenShannon.distance(Binning.evidently(reference, current))
        case .psi:
            score = PopulationStabilityIndex.value(Binning.evidently(reference, current))
        }
        return verdict(
            feature, method, score: score, statistic: statistic, note: note,
            referenceCount: reference.count, currentCount: current.count, rows: rows)
    }

    private func categoricalDrift(_ feature: FeatureProfile, _ summary: CategoricalSummary, current values: [String?], rows: Int) throws
        -> FeatureDrift
    {
        let (rawCounts, nulls) = CategoricalSummary.count(values)
        guard nulls < rows else {
            throw CairnError.invalidParameter("feature '\(feature.name)' has no non-null values in the current window")
        }
        let (_, counts) = Binning.byCategory(summary.referenceCounts, summary.bucket(rawCounts))
        let method =
            configuration.methods[feature.name]
            ?? Self.defaultMethod(for: feature, distinctValues: counts.binCount)
        var statistic: Double?
        let score: Double
        switch method {
        case .chiSquared:
            let result = ChiSquared.test(counts)
            (score, statistic) = (result.pValue, result.statistic)
        case .zTest:
            let result = ZTest.test(counts)
            (score, statistic) = (result.pValue, result.statistic)
        case .jensenShannon:
            score = JensenShannon.distance(counts)
        case .psi:
            score = PopulationStabilityIndex.value(counts)
        case .kolmogorovSmirnov, .wasserstein:
            throw CairnError.invalidParameter(
                "\(method.rawValue) needs a numeric feature; '\(feature.name)' is categorical")
        }
        return verdict(
            feature, method, score: score, statistic: statistic, note: nil,
            referenceCount: counts.referenceTotal, currentCount: rows - nulls, rows: rows)
    }

    private func verdict(
        _ feature: FeatureProfile, _ method: DriftMethod, score: Double, statistic: Double?, note: String?,
        referenceCount: Int, currentCount: Int, rows: Int
    ) -> FeatureDrift {
        let threshold = configuration.thresholds[feature.name] ?? method.defaultThreshold
        return FeatureDrift(
            feature: feature.name,
            method: method,
            score: score,
            threshold: threshold,
            drifted: method.isDrift(score: score, threshold: threshold),
            statistic: statistic.flatMap { $0.isFinite ? $0 : nil },
            referenceCount: referenceCount,
            currentCount: currentCount,
            currentNullShare: Double(rows - currentCount) / Double(rows),
            note: note
        )
    }
}
