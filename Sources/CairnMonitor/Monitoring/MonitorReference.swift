import CairnCore
import CairnStatistics
import CairnTabular
import Foundation

/// The reference a model version's traffic is compared with: profiles of its training
/// features and, for prediction drift, of the predictions it should make.
public struct MonitorReference: Codable, Sendable, Equatable {
    public var features: ReferenceProfile
    /// Profiled from the reference's prediction column when it has one, else from its target
    /// (the labels a good model reproduces); nil when it has neither.
    public var prediction: FeatureProfile?
    /// The column `prediction` was profiled from.
    public var predictionSource: String?
    public var rowCount: Int
    /// The feature columns in the training table's order, which is the order a positional
    /// request (`instances` as lists, one `[rows, features]` tensor) gives them in. Absent
    /// in references stored before it was kept.
    public var featureOrder: [String]?

    /// The name a prediction profile and histogram go by.
    public static let predictionName = "prediction"

    /// Retained sample per feature. A stored reference is read at every evaluation, so it
    /// keeps fewer order statistics than an in-memory one; 20,000 still holds the empirical
    /// CDF to 1/20,000.
    public static let storedSampleLimit = 20_000

    public init(
        features: ReferenceProfile, prediction: FeatureProfile?, predictionSource: String?, rowCount: Int, featureOrder: [String]? = nil
    ) {
        self.features = features
        self.featureOrder = featureOrder
        self.prediction = prediction
        self.predictionSource = predictionSource
        self.rowCount = rowCount
    }

    /// Profiles a training table (CSV with a header, as `pandas.to_csv` writes it). `target`
    /// and `prediction` name columns that are not features.
    public init(csv: some Sequence<UInt8>, target: String?, prediction: String?) throws(CairnError) {
        let frame = try CSVParser.parseDocument(csv)
        guard frame.rowCount > 0 else { throw CairnError.invalidParameter("The reference data has no rows.") }
        for name in [target, prediction].compactMap({ $0 }) where frame.column(named: name) == nil {
            throw CairnError.invalidParameter("The reference data has no column '\(name)'.")
        }
        var features: [String: FeatureColumn] = [:]
        var order: [String] = []
        for column in frame.columns where column.name != target && column.name != prediction {
            guard !column.name.isEmpty else { throw CairnError.invalidParameter("The reference data has a column with no name.") }
            guard features[column.name] == nil else {
                throw CairnError.invalidParameter("The reference data has two columns named '\(column.name)'.")
            }
            features[column.name] = Self.featureColumn(column.values)
            order.append(column.name)
        }
        featureOrder = order
        guard !features.isEmpty else { throw CairnError.invalidParameter("The reference data has no feature columns.") }
        let options = ProfileOptions(maxRetainedValues: Self.storedSampleLimit)
        self.features = ReferenceProfile(columns: features, options: options)
        rowCount = frame.rowCount
        let source = prediction ?? target
        predictionSource = source
        self.prediction = source.flatMap { name in
            frame.column(named: name).map {
                FeatureProfile(name: Self.predictionName, column: Self.featureColumn($0.values), options: options)
            }
        }
    }

    /// Numbers are numeric features; text and booleans categorical, as Evidently types them.
    static func featureColumn(_ values: ColumnValues) -> FeatureColumn {
        switch values {
        case .double(let v): .numeric(v)
        case .int64(let v): .numeric(v.map(Double.init))
        case .bool(let v): .categorical(v.map { $0 ? "True" : "False" })
        case .string(let v): .categorical(v)
        }
    }

    public func encoded() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    public static func decode(_ text: String) throws -> MonitorReference {
        try JSONDecoder().decode(MonitorReference.self, from: Data(text.utf8))
    }
}
