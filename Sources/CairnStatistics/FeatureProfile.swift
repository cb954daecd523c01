import CairnCore

/// What Cairn keeps about one feature of the reference data: enough to describe it in a
/// report (quantile bins, moments, null share, top categories) and to run every drift test
/// against a later window without the training data at hand.
public struct FeatureProfile: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case numeric
        case categorical
    }

    /// What the profile holds about the values, by the column's kind.
    public enum Summary: Sendable, Equatable {
        /// Nil when the column has no non-null value: there are no moments or bins to keep.
        case numeric(NumericSummary?)
        case categorical(CategoricalSummary)
    }

    public var name: String
    /// Rows, nulls included.
    public var rowCount: Int
    public var nullCount: Int
    public var summary: Summary

    public var kind: Kind {
        switch summary {
        case .numeric: .numeric
        case .categorical: .categorical
        }
    }

    public var valueCount: Int { rowCount - nullCount }
    public var nullShare: Double { rowCount == 0 ? 0 : Double(nullCount) / Double(rowCount) }

    public init(name: String, rowCount: Int, nullCount: Int, summary: Summary) {
        self.name = name
        self.rowCount = rowCount
        self.nullCount = nullCount
        self.summary = summary
    }

    public init(name: String, column: FeatureColumn, options: ProfileOptions = ProfileOptions()) {
        self.name = name
        self.rowCount = column.count
        switch column {
        case .numeric(let values):
            let sample = SortedSample(values)
            nullCount = sample.nullCount
            summary = .numeric(NumericSummary(sample, options: options))
        case .categorical(let values):
            let (counts, nulls) = CategoricalSummary.count(values)
            nullCount = nulls
            summary = .categorical(CategoricalSummary(counts: counts, topCategories: options.topCategories))
        }
    }

    // Stored as it always was, so references saved before the summary was an enum still read:
    // the kind, and the summary under the key named after it (absent for a numeric column
    // without values).
    enum CodingKeys: String, CodingKey {
        case name, kind, rowCount, nullCount, numeric, categorical
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        rowCount = try container.decode(Int.self, forKey: .rowCount)
        nullCount = try container.decode(Int.self, forKey: .nullCount)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .numeric:
            summary = .numeric(try container.decodeIfPresent(NumericSummary.self, forKey: .numeric))
        case .categorical:
            summary = .categorical(try container.decode(CategoricalSummary.self, forKey: .categorical))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(rowCount, forKey: .rowCount)
        try container.encode(nullCount, forKey: .nullCount)
        switch summary {
        case .numeric(let numeric): try container.encodeIfPresent(numeric, forKey: .numeric)
        case .categorical(let categorical): try container.encode(categorical, forKey: .categorical)
        }
    }
}

/// How much of a column a profile keeps. Out-of-range values are clamped rather than refused,
/// so that building options never fails and a profile can always be made: quantile bins to
/// 1...`quantileBinLimit`, top categories to at least 1, retained values to at least 2 (the
/// thinning needs a first and a last order statistic). The values read back are the clamped
/// ones, and decoding clamps the same way. A caller taking these from a user and wanting a
/// 4xx for a bad value checks the ranges itself.
public struct ProfileOptions: Codable, Sendable, Equatable {
    /// Quantile bins kept for reports and summaries.
    public private(set) var quantileBins: Int
    /// Categories kept by name; the rest are pooled into one 'other' bucket.
    public private(set) var topCategories: Int
    /// Sorted reference values kept for the exact tests. A larger reference is thinned to
    /// evenly spaced order statistics, which keeps its empirical CDF within 1/limit.
    public private(set) var maxRetainedValues: Int

    /// Every profile stores its bin edges; beyond this they are no longer a summary.
    public static let quantileBinLimit = 1_000

    public init(quantileBins: Int = 10, topCategories: Int = 50, maxRetainedValues: Int = 100_000) {
        self.quantileBins = Swift.min(Swift.max(quantileBins, 1), Self.quantileBinLimit)
        self.topCategories = Swift.max(topCategories, 1)
        self.maxRetainedValues = Swift.max(maxRetainedValues, 2)
    }

    // Stored options go through the same clamping as constructed ones.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            quantileBins: try container.decode(Int.self, forKey: .quantileBins),
            topCategories: try container.decode(Int.self, forKey: .topCategories),
            maxRetainedValues: try container.decode(Int.self, forKey: .maxRetainedValues)
        )
    }
}

public struct NumericSummary: Codable, Sendable, Equatable {
    public var mean: Double
    /// Population standard deviation (ddof 0), the scale Evidently divides Wasserstein by.
    public var std: Double
    public var min: Double
    public var max: Double
    public var distinctCount: Int
    /// Edges at the reference quantiles (numpy's linear interpolation), repeated edges merged,
    /// so a heavily tied column gets fewer, wider bins rather than empty ones.
    public var binEdges: [Double]
    /// Rows per bin: [e_i, e_{i+1}), the last bin closed.
    public var binCounts: [Int]
    /// Sorted non-null reference values, the sample the drift tests compare against.
    public var sample: [Double]
    /// False when `sample` is a thinned copy of a larger reference.
    public var sampleIsComplete: Bool

    /// Nil for an empty sample, which has no mean, extremes or bins.
    init?(_ sorted: SortedSample, options: ProfileOptions) {
        let values = sorted.values
        guard let first = values.first, let last = values.last else { return nil }
        let n = Double(values.count)
        // Two passes over the sorted copy: a one-pass sum of squares loses digits when the
        // mean is large compared with the spread.
        let mean = values.reduce(0, +) / n
        var squares = 0.0
        for value in values { squares += (value - mean) * (value - mean) }
        self.mean = mean
        self.std = (squares / n).squareRoot()
        self.min = first
        self.max = last
        self.distinctCount = sorted.distinctCount()

        var edges: [Double] = []
        for bin in 0...options.quantileBins {
            let edge = Self.quantile(values, Double(bin) / Double(options.quantileBins))
            if edges.last != edge { edges.append(edge) }
        }
        if edges.count == 1 { edges.append(edges[0]) }
        self.binEdges = edges
        self.binCounts = Binning.histogram(sorted, edges: edges)

        if values.count <= options.maxRetainedValues {
            sample = values
            sampleIsComplete = true
        } else {
            let k = options.maxRetainedValues
            let last = Double(values.count - 1)
            sample = (0..<k).map { values[Int((Double($0) * last / Double(k - 1)).rounded())] }
            sampleIsComplete = false
        }
    }

    /// numpy's default ('linear') quantile of sorted values.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}

public struct CategoryCount: Codable, Sendable, Equatable {
    public var value: String
    public var count: Int
}

public struct CategoricalSummary: Codable, Sendable, Equatable {
    /// The most frequent categories, most frequent first (ties by name).
    public var categories: [CategoryCount]
    /// Rows whose category is not among `categories`.
    public var otherCount: Int
    public var distinctCount: Int

    /// Key under which pooled categories are compared. It starts with NUL so that it cannot
    /// collide with a category anyone would send.
    static let otherKey = "\u{0}other"

    init(counts: [String: Int], topCategories: Int) {
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        categories = ranked.prefix(topCategories).map { CategoryCount(value: $0.key, count: $0.value) }
        otherCount = ranked.dropFirst(topCategories).reduce(0) { $0 + $1.value }
        distinctCount = counts.count
    }

    static func count(_ values: [String?]) -> (counts: [String: Int], nulls: Int) {
        var counts: [String: Int] = [:]
        var nulls = 0
        for value in values {
            if let value { counts[value, default: 0] += 1 } else { nulls += 1 }
        }
        return (counts, nulls)
    }

    /// Reference counts by category, with the pooled rest under `otherKey`.
    var referenceCounts: [String: Int] {
        var result = Dictionary(uniqueKeysWithValues: categories.map { ($0.value, $0.count) })
        if otherCount > 0 { result[Self.otherKey] = otherCount }
        return result
    }

    /// Folds a window's counts onto the reference's buckets: a category the profile pooled
    /// into 'other' is counted there; when nothing was pooled, a new category stays its own
    /// bucket, with reference count 0.
    func bucket(_ current: [String: Int]) -> [String: Int] {
        guard otherCount > 0 else { return current }
        let known = Set(categories.map(\.value))
        var result: [String: Int] = [:]
        for (category, count) in current {
            result[known.contains(category) ? category : Self.otherKey, default: 0] += count
        }
        return result
    }
}
