/// One `<entity>.<key> <comparator> <value>` clause of a filter, validated against its
/// `SearchKind` and canonicalized for the SQL layer:
/// * `entity` has its prefix alias folded (`metrics.` → `.metric`, no prefix → `.attribute`);
/// * `key` is unquoted, and attribute aliases are resolved (`created` → `start_time`,
///   `run name` → `run_name`, `creation_time` → `creation_timestamp` for logged models…);
/// * `comparator` and `value` agree: `.in`/`.notIn` carry `.list`, `.isNull`/`.isNotNull`
///   carry `.none`, numeric fields carry `.number`, string fields `.string`.
public struct FilterClause: Sendable, Hashable {
    public var entity: SearchEntity
    public var key: String
    public var comparator: SearchComparator
    public var value: FilterValue

    public init(entity: SearchEntity, key: String, comparator: SearchComparator, value: FilterValue) {
        self.entity = entity
        self.key = key
        self.comparator = comparator
        self.value = value
    }
}
