import CairnCore
import SQLKit

extension SQLRegistryStore {
    public func searchRegisteredModels(_ query: RegisteredModelSearch) async throws -> Page<RegisteredModel> {
        let offset = try PageToken.decodeOffset(query.pageToken)
        var condition = try RegistrySearchSQL.filter(query.filter, owner: .registeredModel)
        condition.appendLiteral(" ")
        var suffix: SQLQueryString = "ORDER BY "
        suffix = suffix + (try RegistrySearchSQL.registeredModelOrder(query.orderBy))
        let limit = query.maxResults
        suffix = suffix + PageToken.limitClause(limit: limit, offset: offset)
        let (whereClause, orderAndLimit) = (condition, suffix)
        return try await database.read { sql in
            let models = try await Self.loadRegisteredModels(sql, where: whereClause, suffix: orderAndLimit)
            return PageToken.page(models, limit: limit, offset: offset)
        }
    }

    public func searchModelVersions(_ query: ModelVersionSearch) async throws -> Page<ModelVersion> {
        let offset = try PageToken.decodeOffset(query.pageToken)
        var condition: SQLQueryString = "mv.current_stage != \(bind: Self.deletedStage) AND "
        condition = condition + (try RegistrySearchSQL.filter(query.filter, owner: .modelVersion))
        var suffix: SQLQueryString = "ORDER BY "
        suffix = suffix + (try RegistrySearchSQL.modelVersionOrder(query.orderBy))
        let limit = query.maxResults
        suffix = suffix + PageToken.limitClause(limit: limit, offset: offset)
        let (whereClause, orderAndLimit) = (condition, suffix)
        return try await database.read { sql in
            let versions = try await Self.loadModelVersions(sql, where: whereClause, suffix: orderAndLimit)
            return PageToken.page(versions, limit: limit, offset: offset)
        }
    }
}

/// Translation of registered-model (`registered_models rm`) and model-version
/// (`model_versions mv`) search clauses into SQL. Values are always bound.
enum RegistrySearchSQL {
    enum Owner {
        case registeredModel
        case modelVersion

        var tagTable: String { self == .registeredModel ? "registered_model_tags" : "model_version_tags" }

        /// Correlates a tag row `kv` with the searched row.
        var tagJoin: String {
            self == .registeredModel ? "kv.name = rm.name" : "kv.name = mv.name AND kv.version = mv.version"
        }

        var nameColumn: String { self == .registeredModel ? "rm.name" : "mv.name" }
    }

    /// The whole WHERE condition of a filter (`1 = 1` when empty).
    ///
    /// Prompts are MLflow registered models tagged `mlflow.prompt.is_prompt = 'true'`. Unless
    /// the filter asks for prompts (`= 'true'` or `!= 'false'` on that tag), they are left out,
    /// and any other clause on that tag is dropped: the client always sends
    /// ``tag.`mlflow.prompt.is_prompt` != 'true'``, which must keep untagged models. This is
    /// MLflow's `_update_query_to_exclude_prompts`; for versions, a version is a prompt's when
    /// any version of its model carries the tag.
    static func filter(_ filter: SearchFilter, owner: Owner) throws -> SQLQueryString {
        let promptKey = RegistryValidation.promptTagKey
        var queryingPrompts = false
        if let first = filter.clauses.first(where: { $0.entity == .tag && $0.key == promptKey }), case .string(let value) = first.value {
            queryingPrompts =
                (first.comparator == .equal && value.lowercased() == "true")
                || (first.comparator == .notEqual && value.lowercased() == "false")
        }
        var parts: [SQLQueryString] = []
        for clause in filter.clauses {
            if clause.entity == .tag, clause.key == promptKey, !queryingPrompts { continue }
            parts.append(try condition(clause, owner: owner))
        }
        if !queryingPrompts {
            var exclusion: SQLQueryString =
                "NOT EXISTS (SELECT 1 FROM \(unsafeRaw: owner.tagTable) p WHERE p.name = \(unsafeRaw: owner.nameColumn) AND p.key = "
            exclusion.appendInterpolation(bind: promptKey)
            exclusion.appendLiteral(" AND p.value = ")
            exclusion.appendInterpolation(bind: "true")
            exclusion.appendLiteral(")")
            parts.append(exclusion)
        }
        guard !parts.isEmpty else { return "1 = 1" }
        var result: SQLQueryString = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { result.appendLiteral(" AND ") }
            result = result + part
        }
        return result
    }

    static func condition(_ clause: FilterClause, owner: Owner) throws -> SQLQueryString {
        switch clause.entity {
        case .tag:
            // `!=` matches only rows that have the tag, as in MLflow.
            var sql: SQLQueryString =
                "EXISTS (SELECT 1 FROM \(unsafeRaw: owner.tagTable) kv WHERE \(unsafeRaw: owner.tagJoin) AND kv.key = "
            sql.appendInterpolation(bind: clause.key)
            sql.appendLiteral(" AND ")
            sql = sql + (try SearchSQL.comparison("kv.value", clause, numeric: false))
            sql.appendLiteral(")")
            return sql
        case .attribute:
            switch (owner, clause.key) {
            case (.registeredModel, "name"): return try SearchSQL.comparison("rm.name", clause, numeric: false)
            case (.modelVersion, "name"): return try SearchSQL.comparison("mv.name", clause, numeric: false)
            case (.modelVersion, "run_id"): return try SearchSQL.comparison("mv.run_id", clause, numeric: false)
            case (.modelVersion, "source_path"): return try SearchSQL.comparison("mv.source", clause, numeric: false)
            case (.modelVersion, "version_number"):
                guard case .number(let number) = clause.value, let integer = Int64(exactly: number) else {
                    throw CairnError.invalidParameter("Invalid value for numeric attribute 'version_number': \(clause.value)")
                }
                var exact = clause
                exact.value = .number(Double(integer))
                return try SearchSQL.comparison("mv.version", exact, numeric: true)
            default:
                throw CairnError.invalidParameter("Invalid attribute name: \(clause.key)")
            }
        default:
            throw CairnError.invalidParameter("Invalid token type: \(clause.entity.rawValue)")
        }
    }

    /// Requested keys, then name ascending (MLflow's natural order).
    static func registeredModelOrder(_ clauses: [OrderByClause]) throws -> SQLQueryString {
        var parts: [SQLQueryString] = []
        var hasName = false
        for clause in clauses {
            let column: String
            switch clause.key {
            case "name":
                column = "rm.name"
                hasName = true
            case "last_updated_timestamp": column = "rm.last_updated_time"
            case "creation_timestamp": column = "rm.creation_time"
            default: throw CairnError.invalidParameter("Invalid order by key '\(clause.key)' specified.")
            }
            parts.append("\(unsafeRaw: column) \(unsafeRaw: clause.ascending ? "ASC" : "DESC")")
        }
        if !hasName { parts.append("rm.name ASC") }
        return SearchSQL.join(parts)
    }

    /// Requested keys (default: last updated first), then name ascending and version
    /// descending.
    static func modelVersionOrder(_ clauses: [OrderByClause]) throws -> SQLQueryString {
        let clauses =
            clauses.isEmpty
            ? [OrderByClause(entity: .attribute, key: "last_updated_timestamp", ascending: false)]
            : clauses
        var parts: [SQLQueryString] = []
        var hasName = false
        var hasVersion = false
        for clause in clauses {
            let column: String
            switch clause.key {
            case "name":
                column = "mv.name"
                hasName = true
            case "version_number":
                column = "mv.version"
                hasVersion = true
            case "creation_timestamp": column = "mv.creation_time"
            case "last_updated_timestamp": column = "mv.last_updated_time"
            default: throw CairnError.invalidParameter("Invalid order by key '\(clause.key)' specified.")
            }
            parts.append("\(unsafeRaw: column) \(unsafeRaw: clause.ascending ? "ASC" : "DESC")")
        }
        if !hasName { parts.append("mv.name ASC") }
        if !hasVersion { parts.append("mv.version DESC") }
        return SearchSQL.join(parts)
    }
}
