/// A run as a row of the runs table: its info, its parent, its depth in the tree and the
/// values of the loaded columns only.
public struct RunTableRow: Sendable, Equatable {
    public var info: RunInfo
    public var parentRunID: String?
    public var depth: Int
    /// Whether this row has nested runs on the page.
    public var hasChildren: Bool
    public var params: [String: String]
    /// The latest, smallest or largest value, per the query's aggregate.
    public var metrics: [String: Double]
    public var tags: [String: String]

    public init(
        info: RunInfo, parentRunID: String? = nil, depth: Int = 0, hasChildren: Bool = false, params: [String: String] = [:],
        metrics: [String: Double] = [:], tags: [String: String] = [:]
    ) {
        self.info = info
        self.parentRunID = parentRunID
        self.depth = depth
        self.hasChildren = hasChildren
        self.params = params
        self.metrics = metrics
        self.tags = tags
    }

    /// The cell of `column`, as text for params and tags; nil when the run has no value.
    public func value(_ column: RunColumn) -> RunTableValue? {
        switch column.kind {
        case .param: params[column.key].map(RunTableValue.text)
        case .tag: tags[column.key].map(RunTableValue.text)
        case .metric: metrics[column.key].map(RunTableValue.number)
        }
    }
}

/// One cell's value. Numbers compare bitwise for NaN, so two NaN cells are equal.
public enum RunTableValue: Sendable, Hashable {
    case text(String)
    case number(Double)

    public static func == (lhs: RunTableValue, rhs: RunTableValue) -> Bool {
        switch (lhs, rhs) {
        case (.text(let a), .text(let b)): a == b
        case (.number(let a), .number(let b)): a == b || (a.isNaN && b.isNaN)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .text(let text): hasher.combine(text)
        case .number(let number):
            hasher.combine(number.isNaN)
            if !number.isNaN { hasher.combine(number) }
        }
    }
}
