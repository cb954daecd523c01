/// One column of reference or current data. Numeric nulls are NaN (±∞ is treated as null
/// too, as Evidently drops it); categorical nulls are nil.
public enum FeatureColumn: Sendable, Equatable {
    case numeric([Double])
    case categorical([String?])

    public var kind: FeatureProfile.Kind {
        switch self {
        case .numeric: .numeric
        case .categorical: .categorical
        }
    }

    public var count: Int {
        switch self {
        case .numeric(let values): values.count
        case .categorical(let values): values.count
        }
    }
}
