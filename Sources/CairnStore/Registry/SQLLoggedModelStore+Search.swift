import CairnCore
import SQLKit

extension SQLLoggedModelStore {
    public func searchLoggedModels(_ query: LoggedModelSearch) async throws -> Page<LoggedModel> {
        let offset = try PageToken.decodeOffset(query.pageToken)
        guard query.datasets.allSatisfy({ !$0.name.isEmpty }) else {
            throw CairnError.invalidParameter("`dataset_name` in the `datasets` clause must be specified.")
        }
        // An id that cannot exist in the SQL schema matches nothing rather than failing.
        let experimentKeys = query.experimentIDs.compactMap { try? SQLTrackingStore.experimentKey($0) }
        guard !experimentKeys.isEmpty else { return Page(items: [], nextPageToken: nil) }

        var sql: SQLQueryString = "SELECT lm.model_id FROM logged_models lm WHERE lm.lifecycle_stage = 'active' AND lm.experiment_id IN "
        sql.appendInterpolation(inList(experimentKeys))
        var hasMetricFilter = false
        for clause in query.filter.clauses {
            sql.appendLiteral(" AND ")
            if clause.entity == .metric { hasMetricFilter = true }
            sql = sql + (try LoggedModelSearchSQL.condition(clause, datasets: query.datasets))
        }
        // Datasets without a metric filter select the models with any metric on them.
        if !query.datasets.isEmpty, !hasMetricFilter {
            sql.appendLiteral(" AND EXISTS (SELECT 1 FROM metrics m WHERE m.model_id = lm.model_id AND ")
            sql = sql + LoggedModelSearchSQL.datasetCondition(query.datasets)
            sql.appendLiteral(")")
        }
        sql.appendLiteral(" ORDER BY ")
        sql = sql + (try LoggedModelSearchSQL.order(query.orderBy))
        let limit = query.maxResults
        sql = sql + PageToken.limitClause(limit: limit, offset: offset)
        let statement = sql

        return try await database.read { db in
            let ids = PageToken.page(
                try await db.raw(statement).all().map { try $0.decode(column: "model_id", as: String.self) }, limit: limit, offset: offset
            )
            return Page(items: try await Self.loadLoggedModels(db, ids: ids.items), nextPageToken: ids.nextPageToken)
        }
    }
}

/// Translation of `logged-models/search` filters and orders into SQL over `logged_models`
/// (aliased `lm`). Values are always bound.
enum LoggedModelSearchSQL {
    static let stringAttributes: [String: String] = [
        "name": "lm.name", "model_id": "lm.model_id", "model_type": "lm.model_type",
        "status": "lm.status", "source_run_id": "lm.source_run_id",
    ]
    static let numericAttributes: [String: String] = [
        "creation_timestamp": "lm.creation_timestamp_ms", "last_updated_timestamp": "lm.last_updated_timestamp_ms",
    ]

    static func condition(_ clause: FilterClause, datasets: [LoggedModelDatasetFilter]) throws -> SQLQueryString {
        switch clause.entity {
        case .attribute:
            if let column = numericAttributes[clause.key] {
                return try SearchSQL.comparison(column, clause, numeric: true)
            }
            guard let column = stringAttributes[clause.key] else {
                throw CairnError.invalidParameter("Invalid attribute key '\(clause.key)' specified.")
            }
            var clause = clause
            if clause.key == "status" {
                // Statuses are stored by their wire names; filters may use the short names.
                switch clause.value {
                case .string(let text):
                    if let status = LoggedModelStatus(filterValue: text) { clause.value = .string(status.rawValue) }
                case .list(let items):
                    clause.value = .list(items.map { LoggedModelStatus(filterValue: $0)?.rawValue ?? $0 })
                default: break
                }
            }
            return try SearchSQL.comparison(column, clause, numeric: false)
        case .metric:
            // Any point of the metric may match (not only the latest), as in MLflow; NaN
            // compares like IEEE NaN, so only `!=` holds for it.
            var sql: SQLQueryString = "EXISTS (SELECT 1 FROM metrics m WHERE m.model_id = lm.model_id AND m.key = \(bind: clause.key) AND "
            if clause.comparator == .notEqual {
                sql.appendLiteral("(m.is_nan = ")
                sql.appendInterpolation(bind: true)
                sql.appendLiteral(" OR ")
                sql = sql + (try SearchSQL.comparison("m.value", clause, numeric: true))
                sql.appendLiteral(")")
            } else {
                sql.appendLiteral("m.is_nan = ")
                sql.appendInterpolation(bind: false)
                sql.appendLiteral(" AND ")
                sql = sql + (try SearchSQL.comparison("m.value", clause, numeric: true))
            }
            if !datasets.isEmpty {
                sql.appendLiteral(" AND ")
                sql = sql + datasetCondition(datasets)
            }
            sql.appendLiteral(")")
            return sql
        case .param:
            return try SearchSQL.keyValueCondition(table: "logged_model_params", owner: "model_id", ownerColumn: "lm.model_id", clause)
        case .tag:
            return try SearchSQL.keyValueCondition(table: "logged_model_tags", owner: "model_id", ownerColumn: "lm.model_id", clause)
        case .dataset:
            throw CairnError.invalidParameter("Invalid entity type 'dataset' when searching logged models.")
        }
    }

    /// `(m.dataset_name = ? [AND m.dataset_digest = ?]) OR …` over a metrics row `m`.
    static func datasetCondition(_ datasets: [LoggedModelDatasetFilter]) -> SQLQueryString {
        var sql: SQLQueryString = "("
        for (index, dataset) in datasets.enumerated() {
            if index > 0 { sql.appendLiteral(" OR ") }
            sql.appendLiteral("(m.dataset_name = ")
            sql.appendInterpolation(bind: dataset.name)
            if let digest = dataset.digest, !digest.isEmpty {
                sql.appendLiteral(" AND m.dataset_digest = ")
                sql.appendInterpolation(bind: digest)
            }
            sql.appendLiteral(")")
        }
        sql.appendLiteral(")")
        return sql
    }

    /// ORDER BY with missing values last in either direction, then MLflow's tie-break of
    /// newest first and model id. A metric orders by its latest point (by timestamp, then
    /// step), optionally on one dataset; NaN counts as missing.
    static func order(_ orders: [LoggedModelOrder]) throws -> SQLQueryString {
        var parts: [SQLQueryString] = []
        var hasCreation = false
        var hasModelID = false
        for order in orders {
            let direction = order.clause.ascending ? "ASC" : "DESC"
            switch order.clause.entity {
            case .attribute:
                guard let column = numericAttributes[order.clause.key] ?? stringAttributes[order.clause.key] else {
                    throw CairnError.invalidParameter("Invalid order by field name: \(order.clause.key)")
                }
                if order.clause.key == "creation_timestamp" { hasCreation = true }
                if order.clause.key == "model_id" { hasModelID = true }
                parts.append("CASE WHEN \(unsafeRaw: column) IS NULL THEN 1 ELSE 0 END, \(unsafeRaw: column) \(unsafeRaw: direction)")
            case .metric:
                var latest: SQLQueryString =
                    "(SELECT CASE WHEN m.is_nan = \(bind: true) THEN NULL ELSE m.value END FROM metrics m WHERE m.model_id = lm.model_id AND m.key = \(bind: order.clause.key)"
                if let name = order.datasetName, !name.isEmpty {
                    latest.appendLiteral(" AND m.dataset_name = ")
                    latest.appendInterpolation(bind: name)
                }
                if let digest = order.datasetDigest, !digest.isEmpty {
                    latest.appendLiteral(" AND m.dataset_digest = ")
                    latest.appendInterpolation(bind: digest)
                }
                latest.appendLiteral(" ORDER BY m.timestamp DESC, m.step DESC, m.run_uuid ASC LIMIT 1)")
                var part: SQLQueryString = "CASE WHEN "
                part = part + latest
                part.appendLiteral(" IS NULL THEN 1 ELSE 0 END, ")
                part = part + latest
                part.appendLiteral(" \(direction)")
                parts.append(part)
            default:
                throw CairnError.invalidParameter(
                    "Invalid order by field name: \(order.clause.entity.rawValue).\(order.clause.key). Only metrics are supported.")
            }
        }
        if !hasCreation { parts.append("lm.creation_timestamp_ms DESC") }
        if !hasModelID { parts.append("lm.model_id ASC") }
        return SearchSQL.join(parts)
    }
}
