/// What one field (an attribute, or any key of a metric/param/tag entity) accepts.
struct SearchFieldRule: Sendable, Hashable {
    enum ValueKind: Sendable, Hashable {
        case string
        case number
    }

    var valueKind: ValueKind
    /// In MLflow's order, for error messages.
    var comparators: [SearchComparator]
    /// Model versions accept `version_number = '3'` as well as `= 3` (`SearchModelVersionUtils`
    /// returns the quoted text unchanged); everywhere else a number must be a bare literal.
    var acceptsQuotedNumber = false

    func allows(_ comparator: SearchComparator) -> Bool { comparators.contains(comparator) }
    var allowsList: Bool { allows(.in) || allows(.notIn) }
    var allowsNull: Bool { allows(.isNull) || allows(.isNotNull) }

    static let numeric = SearchFieldRule(
        valueKind: .number, comparators: [.equal, .notEqual, .greater, .greaterOrEqual, .less, .lessOrEqual])
    static let string = SearchFieldRule(valueKind: .string, comparators: [.equal, .notEqual, .like, .ilike])
    static let stringOrNull = SearchFieldRule(valueKind: .string, comparators: [.equal, .notEqual, .like, .ilike, .isNull, .isNotNull])
    static let stringOrList = SearchFieldRule(valueKind: .string, comparators: [.equal, .notEqual, .like, .ilike, .in, .notIn])
}

/// A key of a closed key set and what it accepts.
struct SearchKeyRule: Sendable, Hashable {
    /// The name the SQL layer sees (aliases resolved).
    var canonical: String
    var rule: SearchFieldRule
}

/// The keys an entity accepts in filters.
enum SearchFilterKeys: Sendable {
    /// Any key (metrics, params, tags), all with one rule.
    case any(SearchFieldRule)
    /// A closed set (attributes, datasets). Aliases map to the canonical key's entry.
    case fixed([String: SearchKeyRule])
}

/// The keys an entity accepts in order_by.
enum SearchOrderKeys: Sendable {
    case any
    /// Accepted spelling → canonical key.
    case fixed([String: String])
}

/// One search endpoint's grammar profile: which prefixes, keys, comparators and value types it
/// accepts. Parsing is shared; this is the only per-kind part.
///
/// Sources: MLflow `mlflow/utils/search_utils.py` (`SearchUtils`, `SearchExperimentsUtils`,
/// `SearchModelUtils`, `SearchModelVersionUtils`), `mlflow/utils/search_logged_model_utils.py`,
/// the SQL stores that consume them, and MLflow PRs #21148 / #21283 (IS [NOT] NULL for
/// experiment tags and for run tags/params). Where MLflow is stricter than its own docs or the
/// Cairn wire contract (e.g. `attributes.` prefix for experiments), Cairn accepts the superset.
struct SearchGrammar: Sendable {
    var kind: SearchKind
    /// Accepted `<prefix>.` spellings (case-sensitive, as in MLflow).
    var prefixes: [String: SearchEntity]
    /// The spellings listed in "Invalid entity type" messages.
    var prefixNames: [String]
    var filterKeys: [SearchEntity: SearchFilterKeys]
    var orderKeys: [SearchEntity: SearchOrderKeys]

    static func forKind(_ kind: SearchKind) -> SearchGrammar {
        switch kind {
        case .runs: runs
        case .experiments: experiments
        case .registeredModels: registeredModels
        case .modelVersions: modelVersions
        case .loggedModels: loggedModels
        }
    }

    /// The human name of the search, for messages.
    var searchName: String {
        switch kind {
        case .runs: "runs"
        case .experiments: "experiments"
        case .registeredModels: "registered models"
        case .modelVersions: "model versions"
        case .loggedModels: "logged models"
        }
    }

    // MARK: - Profiles

    static let runs = SearchGrammar(
        kind: .runs,
        prefixes: [
            "metric": .metric, "metrics": .metric,
            "parameter": .param, "parameters": .param, "param": .param, "params": .param,
            "tag": .tag, "tags": .tag,
            "attribute": .attribute, "attributes": .attribute, "attr": .attribute, "run": .attribute,
            "dataset": .dataset, "datasets": .dataset,
        ],
        prefixNames: ["metric", "parameter", "tag", "attribute", "dataset"],
        filterKeys: [
            .metric: .any(.numeric),
            .param: .any(.stringOrNull),
            .tag: .any(.stringOrNull),
            // RunInfo.get_searchable_attributes() plus SearchUtils' alternate spellings.
            // `lifecycle_stage`, `run_uuid` and `experiment_id` are not searchable in MLflow.
            // Only `run_id` takes a list (`SearchUtils.validate_list_supported`).
            .attribute: fixed(
                [
                    ("run_id", .stringOrList),
                    ("run_name", .string),
                    ("status", .string),
                    ("user_id", .string),
                    ("artifact_uri", .string),
                    ("start_time", .numeric),
                    ("end_time", .numeric),
                ],
                aliases: [
                    "created": "start_time", "Created": "start_time", "run name": "run_name", "Run name": "run_name",
                    "Run Name": "run_name",
                ]
            ),
            .dataset: fixed([("name", .stringOrList), ("digest", .stringOrList), ("context", .stringOrList)]),
        ],
        orderKeys: [
            .metric: .any,
            .param: .any,
            .tag: .any,
            // RunInfo.get_orderable_attributes() + created/Created; `run name` is filter-only.
            .attribute: .fixed([
                "start_time": "start_time", "end_time": "end_time", "run_id": "run_id", "run_name": "run_name",
                "status": "status", "user_id": "user_id", "artifact_uri": "artifact_uri",
                "created": "start_time", "Created": "start_time",
            ]),
        ]
    )

    /// MLflow itself only takes `attribute.`, `tag.` and `tags.` here; its docs also show
    /// `attributes.`, so all attribute/tag spellings are accepted.
    static let registryPrefixes: [String: SearchEntity] = [
        "attribute": .attribute, "attributes": .attribute, "attr": .attribute,
        "tag": .tag, "tags": .tag,
    ]

    static let experiments = SearchGrammar(
        kind: .experiments,
        prefixes: registryPrefixes,
        prefixNames: ["attribute", "tag", "tags"],
        filterKeys: [
            .tag: .any(.stringOrNull),
            .attribute: fixed([
                ("name", .string),
                // Recent MLflow filters on experiment ids, lists included (`experiment_id IN ('1')`);
                // the SQL store requires integer ids, so LIKE makes no sense here.
                ("experiment_id", SearchFieldRule(valueKind: .string, comparators: [.equal, .notEqual, .in, .notIn])),
                ("creation_time", .numeric),
                ("last_update_time", .numeric),
            ]),
        ],
        orderKeys: [
            .attribute: .fixed([
                "name": "name", "experiment_id": "experiment_id",
                "creation_time": "creation_time", "last_update_time": "last_update_time",
            ])
        ]
    )

    static let registeredModels = SearchGrammar(
        kind: .registeredModels,
        prefixes: registryPrefixes,
        prefixNames: ["attribute", "tag", "tags"],
        filterKeys: [
            .tag: .any(.string),
            // The Cairn wire contract allows `name IN (…)`; MLflow's SearchModelUtils would refuse
            // the list, accepting it is a harmless superset.
            .attribute: fixed([("name", .stringOrList)]),
        ],
        orderKeys: [
            // MLflow's SQL registry store orders by `name`, `timestamp` or `last_updated_timestamp`
            // and maps *both* timestamp spellings to the last-updated time. `creation_timestamp`
            // is accepted by its file store (`SearchModelUtils`), so it is accepted here too.
            .attribute: .fixed([
                "name": "name",
                "timestamp": "last_updated_timestamp",
                "last_updated_timestamp": "last_updated_timestamp",
                "creation_timestamp": "creation_timestamp",
            ])
        ]
    )

    static let modelVersions = SearchGrammar(
        kind: .modelVersions,
        prefixes: registryPrefixes,
        prefixNames: ["attribute", "tag", "tags"],
        filterKeys: [
            .tag: .any(.string),
            // SearchModelVersionUtils: string comparators are `= != LIKE ILIKE IN` (no NOT IN) and
            // only `run_id` takes a list.
            .attribute: fixed([
                ("name", .string),
                ("run_id", SearchFieldRule(valueKind: .string, comparators: [.equal, .notEqual, .like, .ilike, .in])),
                ("source_path", .string),
                (
                    "version_number",
                    SearchFieldRule(valueKind: .number, comparators: SearchFieldRule.numeric.comparators, acceptsQuotedNumber: true)
                ),
            ]),
        ],
        orderKeys: [
            .attribute: .fixed([
                "name": "name", "version_number": "version_number",
                "creation_timestamp": "creation_timestamp", "last_updated_timestamp": "last_updated_timestamp",
            ])
        ]
    )

    static let loggedModels = SearchGrammar(
        kind: .loggedModels,
        // MLflow takes exactly `attributes.`, `metrics.`, `params.`, `tags.`; the singular
        // spellings are accepted too, as everywhere else.
        prefixes: [
            "attribute": .attribute, "attributes": .attribute, "attr": .attribute,
            "metric": .metric, "metrics": .metric,
            "param": .param, "params": .param, "parameter": .param, "parameters": .param,
            "tag": .tag, "tags": .tag,
        ],
        prefixNames: ["attributes", "metrics", "params", "tags"],
        filterKeys: [
            .metric: .any(.numeric),
            // search_logged_model_utils: every non-numeric field takes `= != LIKE ILIKE IN NOT IN`.
            .param: .any(.stringOrList),
            .tag: .any(.stringOrList),
            .attribute: fixed(
                [
                    ("name", .stringOrList),
                    ("model_id", .stringOrList),
                    ("model_type", .stringOrList),
                    ("status", .stringOrList),
                    ("source_run_id", .stringOrList),
                    ("creation_timestamp", .numeric),
                    ("last_updated_timestamp", .numeric),
                ],
                aliases: ["creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"]
            ),
        ],
        orderKeys: [
            // logged-models/search sends order_by as objects; see OrderByClause.loggedModelField.
            .metric: .any,
            .attribute: .fixed([
                "name": "name", "model_id": "model_id", "model_type": "model_type", "status": "status",
                "source_run_id": "source_run_id",
                "creation_timestamp": "creation_timestamp", "creation_time": "creation_timestamp",
                "last_updated_timestamp": "last_updated_timestamp", "last_updated_time": "last_updated_timestamp",
            ]),
        ]
    )

    static func fixed(_ keys: [(String, SearchFieldRule)], aliases: [String: String] = [:]) -> SearchFilterKeys {
        var map: [String: SearchKeyRule] = [:]
        for (key, rule) in keys { map[key] = SearchKeyRule(canonical: key, rule: rule) }
        for (alias, target) in aliases {
            if let entry = map[target] { map[alias] = entry }
        }
        return .fixed(map)
    }
}
