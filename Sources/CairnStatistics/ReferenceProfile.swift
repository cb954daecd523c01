/// The profiles of every feature of a reference dataset (training data or a chosen window),
/// stored as JSON with a model version and compared against each monitoring window.
public struct ReferenceProfile: Codable, Sendable, Equatable {
    public var features: [FeatureProfile]

    public init(features: [FeatureProfile]) {
        self.features = features
    }

    /// Profiles each column; features are ordered by name so the stored JSON is deterministic.
    public init(columns: [String: FeatureColumn], options: ProfileOptions = ProfileOptions()) {
        features = columns.sorted { $0.key < $1.key }.map { FeatureProfile(name: $0.key, column: $0.value, options: options) }
    }

    public subscript(name: String) -> FeatureProfile? {
        features.first { $0.name == name }
    }
}
