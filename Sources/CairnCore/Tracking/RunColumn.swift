/// A column of the runs table beyond a run's own attributes: one param, metric or tag key,
/// written in a URL as MLflow names it in searches (`params.lr`, `metrics.loss`, `tags.team`).
public struct RunColumn: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case param = "params"
        case metric = "metrics"
        case tag = "tags"

        public var entity: SearchEntity {
            switch self {
            case .param: .param
            case .metric: .metric
            case .tag: .tag
            }
        }
    }

    public var kind: Kind
    public var key: String

    public init(_ kind: Kind, _ key: String) {
        self.kind = kind
        self.key = key
    }

    /// `params.lr`: the key is everything after the first dot, as MLflow splits identifiers
    /// (`tags.mlflow.source.name` is the tag `mlflow.source.name`).
    public var description: String { "\(kind.rawValue).\(key)" }

    /// Reads `params.lr`, `metrics.loss` or `tags.x` (the singular prefixes too); nil for
    /// anything else, so a hand-edited URL loses a column rather than the page.
    public init?(_ text: some StringProtocol) {
        guard let dot = text.firstIndex(of: ".") else { return nil }
        let key = String(text[text.index(after: dot)...])
        guard !key.isEmpty else { return nil }
        switch text[..<dot] {
        case "params", "param": kind = .param
        case "metrics", "metric": kind = .metric
        case "tags", "tag": kind = .tag
        default: return nil
        }
        self.key = key
    }

    /// The comma-separated `cols=` list, in order, without repeats. Keys cannot hold a comma
    /// (MLflow's key rule refuses it), so the list needs no quoting.
    public static func list(_ text: String) -> [RunColumn] {
        var seen: Set<RunColumn> = []
        return text.split(separator: ",").compactMap { RunColumn($0) }.filter { seen.insert($0).inserted }
    }

    /// `cols=` for `columns`.
    public static func listText(_ columns: [RunColumn]) -> String {
        columns.map(\.description).joined(separator: ",")
    }
}

/// Which value of a metric's history a runs table shows: the latest (MLflow's only choice),
/// or the smallest or largest point ever logged. NaN points count for none of them.
public enum MetricAggregate: String, Sendable, Hashable, CaseIterable {
    case last
    case min
    case max
}
