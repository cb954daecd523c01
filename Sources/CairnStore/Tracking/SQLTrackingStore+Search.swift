import CairnCore
import SQLKit

extension SQLTrackingStore {
    public func searchRuns(_ query: RunSearch) async throws -> Page<Run> {
        let offset = try PageToken.decodeOffset(query.pageToken)
        guard !query.experimentIDs.isEmpty else { return Page(items: [], nextPageToken: nil) }
        var experimentKeys: [Int64] = []
        for id in query.experimentIDs {
            // An id that cannot exist in the SQL schema matches nothing rather than failing.
            if let key = try? Self.experimentKey(id) { experimentKeys.append(key) }
        }
        guard !experimentKeys.isEmpty else { return Page(items: [], nextPageToken: nil) }

        // The page's runs come back with their info columns, so loading the page needs no
        // second query on `runs`.
        var sql: SQLQueryString = "SELECT \(unsafeRaw: Self.runInfoColumns(prefix: "r."))"
        var joins = SearchSQL.Joins()
        var conditions: [SQLQueryString] = []
        for clause in query.filter.clauses {
            try SearchSQL.addRunFilter(clause, joins: &joins, conditions: &conditions)
        }
        let order = try SearchSQL.runOrder(query.orderBy, joins: &joins)
        sql = sql + SearchSQL.runSelection(joins: joins, conditions: conditions, experiments: experimentKeys, viewType: query.viewType)
        sql.appendLiteral(" ORDER BY ")
        sql = sql + order
        let limit = query.maxResults
        sql = sql + PageToken.limitClause(limit: limit, offset: offset)
        let statement = sql

        return try await database.read { db in
            let infos = PageToken.page(try await db.raw(statement).all().map(Self.runInfo(from:)), limit: limit, offset: offset)
            return Page(items: try await Self.loadRuns(db, infos: infos.items), nextPageToken: infos.nextPageToken)
        }
    }

    public func searchExperiments(_ query: ExperimentSearch) async throws -> Page<Experiment> {
        let offset = try PageToken.decodeOffset(query.pageToken)
        let condition = try Self.experimentCondition(query)
        var suffix: SQLQueryString = "ORDER BY "
        suffix = suffix + (try SearchSQL.experimentOrder(query.orderBy))
        let limit = query.maxResults
        suffix = suffix + PageToken.limitClause(limit: limit, offset: offset)
        let (where_, orderAndLimit) = (condition, suffix)
        return try await database.read { db in
            let experiments = try await Self.loadExperiments(db, where: where_, suffix: orderAndLimit)
            return PageToken.page(experiments, limit: limit, offset: offset)
        }
    }

    public func countExperiments(_ query: ExperimentSearch) async throws -> Int {
        var count: SQLQueryString = "SELECT COUNT(*) AS n FROM experiments e WHERE "
        count = count + (try Self.experimentCondition(query))
        let statement = count
        return try await database.read { db in
            Int(try await db.raw(statement).first()?.decode(column: "n", as: Int64.self) ?? 0)
        }
    }

    /// The WHERE condition of an experiment search: its view, then its filter's clauses.
    static func experimentCondition(_ query: ExperimentSearch) throws -> SQLQueryString {
        var condition: SQLQueryString = "e.lifecycle_stage IN "
        condition.appendInterpolation(inList(query.viewType.stages.map(\.rawValue)))
        for clause in query.filter.clauses {
            condition.appendLiteral(" AND ")
            condition = condition + (try SearchSQL.experimentCondition(clause))
        }
        return condition
    }
}

/// Translation of parsed MLflow search clauses into SQL over the tracking schema. Every
/// value is a bound parameter; keys and comparators come from the parser's closed sets.
enum SearchSQL {
    /// ` FROM … runs r … WHERE …`: the search's joins, the runs of the experiments in the view's
    /// lifecycle stages, and the filter's other conditions. The API's search and the UI's runs
    /// table select runs through this one clause.
    static func runSelection(joins: Joins, conditions: [SQLQueryString], experiments: [Int64], viewType: ViewType) -> SQLQueryString {
        var sql = joins.from
        sql.appendLiteral(" WHERE ")
        if let joinConditions = joins.conditions {
            sql = sql + joinConditions
            sql.appendLiteral(" AND ")
        }
        sql.appendLiteral("r.experiment_id IN ")
        sql.appendInterpolation(inList(experiments))
        sql.appendLiteral(" AND r.lifecycle_stage IN ")
        sql.appendInterpolation(inList(viewType.stages.map(\.rawValue)))
        for condition in conditions {
            sql.appendLiteral(" AND ")
            sql = sql + condition
        }
        return sql
    }

    /// The joins a run search needs: inner joins for filters on metrics, params and tags,
    /// then LEFT JOINs for ORDER BY on them, one alias per clause.
    struct Joins {
        private var filters: [(table: String, alias: String, key: String, condition: SQLQueryString?)] = []
        private var orders: SQLQueryString = ""
        private var count = 0

        /// ` FROM …`: the runs alone, or with filters, the filter tables first (SQLite
        /// starts from whichever it guesses most selective), then `CROSS JOIN runs r`, which
        /// SQLite never moves ahead of a table written before it, so a run's row is looked up
        /// once it passed every filter rather than after the first one (111 rather than 667
        /// of 2,000 runs for three clauses that each keep a third); then the ORDER BY joins,
        /// after the filters: SQLite does not move a table written after a LEFT JOIN ahead
        /// of it. PostgreSQL plans its joins whatever the order.
        var from: SQLQueryString {
            guard let first = filters.first else { return " FROM runs r" + orders }
            var sql: SQLQueryString = " FROM \(unsafeRaw: first.table) \(unsafeRaw: first.alias)"
            for filter in filters.dropFirst() {
                sql.appendLiteral(" JOIN \(filter.table) \(filter.alias) ON \(filter.alias).run_uuid = \(first.alias).run_uuid AND ")
                sql = sql + Self.condition(filter)
            }
            sql.appendLiteral(" CROSS JOIN runs r")
            return sql + orders
        }

        /// What `from` leaves to WHERE: the first filter's condition and the runs' join on it.
        var conditions: SQLQueryString? {
            guard let first = filters.first else { return nil }
            return "r.run_uuid = \(unsafeRaw: first.alias).run_uuid AND " + Self.condition(first)
        }

        private static func condition(_ filter: (table: String, alias: String, key: String, condition: SQLQueryString?)) -> SQLQueryString {
            var sql: SQLQueryString = "\(unsafeRaw: filter.alias).key = \(bind: filter.key)"
            if let extra = filter.condition {
                sql.appendLiteral(" AND ")
                sql = sql + extra
            }
            return sql
        }

        mutating func add(table: String, key: String) -> String {
            let alias = "o\(count)"
            count += 1
            orders.appendLiteral(" LEFT JOIN \(table) \(alias) ON \(alias).run_uuid = r.run_uuid AND \(alias).key = ")
            orders.appendInterpolation(bind: key)
            return alias
        }

        /// A filter that is an inner join: `table fN` where `fN.key = key AND <condition(fN)>`.
        mutating func addFilter(table: String, key: String, condition: (String) throws -> SQLQueryString?) rethrows {
            let alias = "f\(filters.count)"
            filters.append((table, alias, key, try condition(alias)))
        }
    }

    /// A metric, param or tag that must exist (every comparison but IS NULL) becomes an inner
    /// join on its (run, key) primary key, which is equivalent to MLflow's EXISTS since the key
    /// is unique per run, and lets SQLite start from the most selective table (a param or tag
    /// value through its (key, value) index) instead of probing every run of the experiments.
    static func addRunFilter(_ clause: FilterClause, joins: inout Joins, conditions: inout [SQLQueryString]) throws {
        switch clause.entity {
        case .metric where clause.comparator != .isNull:
            try joins.addFilter(table: "latest_metrics", key: clause.key) { alias in try metricComparison(alias, clause) }
        case .param where clause.comparator != .isNull, .tag where clause.comparator != .isNull:
            let table = clause.entity == .param ? "run_params" : "run_tags"
            try joins.addFilter(table: table, key: clause.key) { alias in
                clause.comparator == .isNotNull ? nil : try comparison("\(alias).value", clause, numeric: false)
            }
        default:
            conditions.append(try runCondition(clause))
        }
    }

    /// NaN compares like IEEE NaN: only `!=` holds for it.
    static func metricComparison(_ alias: String, _ clause: FilterClause) throws -> SQLQueryString {
        var sql: SQLQueryString = ""
        if clause.comparator == .notEqual {
            sql.appendLiteral("(\(alias).is_nan = ")
            sql.appendInterpolation(bind: true)
            sql.appendLiteral(" OR ")
            sql = sql + (try comparison("\(alias).value", clause, numeric: true))
            sql.appendLiteral(")")
        } else {
            sql.appendLiteral("\(alias).is_nan = ")
            sql.appendInterpolation(bind: false)
            sql.appendLiteral(" AND ")
            sql = sql + (try comparison("\(alias).value", clause, numeric: true))
        }
        return sql
    }

    static let runStringAttributes: [String: String] = [
        "run_id": "r.run_uuid", "run_name": "r.name", "status": "r.status", "user_id": "r.user_id",
        "artifact_uri": "r.artifact_uri", "lifecycle_stage": "r.lifecycle_stage",
    ]
    static let runNumericAttributes: [String: String] = ["start_time": "r.start_time", "end_time": "r.end_time"]

    static func runCondition(_ clause: FilterClause) throws -> SQLQueryString {
        switch clause.entity {
        case .metric:
            var sql: SQLQueryString =
                "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = \(bind: clause.key) AND "
            sql = sql + (try metricComparison("m", clause))
            sql.appendLiteral(")")
            return sql
        case .param:
            return try keyValueCondition(table: "run_params", owner: "run_uuid", ownerColumn: "r.run_uuid", clause)
        case .tag:
            return try keyValueCondition(table: "run_tags", owner: "run_uuid", ownerColumn: "r.run_uuid", clause)
        case .attribute:
            if let column = runNumericAttributes[clause.key] {
                return try comparison(column, clause, numeric: true)
            }
            guard let column = runStringAttributes[clause.key] else {
                throw CairnError.invalidParameter("Invalid attribute key '\(clause.key)' specified.")
            }
            return try comparison(column, clause, numeric: false)
        case .dataset:
            let column: String
            switch clause.key {
            case "name": column = "d.name"
            case "digest": column = "d.digest"
            case "context": column = "t.value"
            default: throw CairnError.invalidParameter("Invalid dataset key '\(clause.key)' specified.")
            }
            var sql: SQLQueryString = """
                EXISTS (SELECT 1 FROM run_dataset_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid
                LEFT JOIN run_dataset_input_tags t ON t.run_uuid = i.run_uuid AND t.dataset_uuid = i.dataset_uuid AND t.key = 'mlflow.data.context'
                WHERE i.run_uuid = r.run_uuid AND
                """
            sql.appendLiteral(" ")
            sql = sql + (try comparison(column, clause, numeric: false))
            sql.appendLiteral(")")
            return sql
        }
    }

    static func experimentCondition(_ clause: FilterClause) throws -> SQLQueryString {
        switch clause.entity {
        case .tag:
            return try keyValueCondition(table: "experiment_tags", owner: "experiment_id", ownerColumn: "e.experiment_id", clause)
        case .attribute:
            switch clause.key {
            case "name": return try comparison("e.name", clause, numeric: false)
            case "creation_time": return try comparison("e.creation_time", clause, numeric: true)
            case "last_update_time": return try comparison("e.last_update_time", clause, numeric: true)
            case "experiment_id":
                // Ids are strings on the wire and integers in the schema.
                var numeric = clause
                switch clause.value {
                case .string(let text):
                    guard let value = Int64(text) else { return "1 = 0" }
                    numeric.value = .number(Double(value))
                case .list(let items):
                    numeric.value = .list(items.compactMap { Int64($0) }.map(String.init))
                default: break
                }
                return try comparison("e.experiment_id", numeric, numeric: true)
            default:
                throw CairnError.invalidParameter("Invalid attribute key '\(clause.key)' specified.")
            }
        default:
            throw CairnError.invalidParameter("Invalid entity type for experiment search: '\(clause.entity)'")
        }
    }

    /// `!=` matches only owners that have the key, as in MLflow; `IS NULL` is the way to ask
    /// for owners without it.
    static func keyValueCondition(table: String, owner: String, ownerColumn: String, _ clause: FilterClause) throws -> SQLQueryString {
        var sql: SQLQueryString = ""
        switch clause.comparator {
        case .isNull: sql.appendLiteral("NOT EXISTS (")
        default: sql.appendLiteral("EXISTS (")
        }
        sql.appendLiteral("SELECT 1 FROM \(table) kv WHERE kv.\(owner) = \(ownerColumn) AND kv.key = ")
        sql.appendInterpolation(bind: clause.key)
        switch clause.comparator {
        case .isNull, .isNotNull: break
        default:
            sql.appendLiteral(" AND ")
            sql = sql + (try comparison("kv.value", clause, numeric: false))
        }
        sql.appendLiteral(")")
        return sql
    }

    /// `column <comparator> value`. LIKE is case-sensitive (SQLite connections run with
    /// `case_sensitive_like`), ILIKE lowers both sides, which both dialects understand.
    static func comparison(_ column: String, _ clause: FilterClause, numeric: Bool) throws -> SQLQueryString {
        var sql: SQLQueryString = ""
        func bindValue() throws {
            switch clause.value {
            case .number(let number):
                guard numeric else {
                    sql.appendInterpolation(bind: formatNumber(number))
                    return
                }
                if number == number.rounded(), let integer = Int64(exactly: number) {
                    sql.appendInterpolation(bind: integer)
                } else {
                    sql.appendInterpolation(bind: number)
                }
            case .string(let text):
                if numeric {
                    guard let number = Double(text) else {
                        throw CairnError.invalidParameter("Expected numeric value for '\(clause.key)', got '\(text)'")
                    }
                    sql.appendInterpolation(bind: number)
                } else {
                    sql.appendInterpolation(bind: text)
                }
            default:
                throw CairnError.invalidParameter("Invalid value for comparator on '\(clause.key)'")
            }
        }
        switch clause.comparator {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            let op: String =
                switch clause.comparator {
                case .equal: "="
                case .notEqual: "!="
                case .less: "<"
                case .lessOrEqual: "<="
                case .greater: ">"
                default: ">="
                }
            sql.appendLiteral("\(column) \(op) ")
            try bindValue()
        case .like:
            sql.appendLiteral("\(column) LIKE ")
            try bindValue()
        case .ilike:
            sql.appendLiteral("LOWER(\(column)) LIKE LOWER(")
            try bindValue()
            sql.appendLiteral(")")
        case .containsText:
            // ESCAPE, which both dialects take, makes the escaped pattern literal (PostgreSQL's
            // LIKE has `\` as its default escape, SQLite's none).
            guard case .string(let text) = clause.value else {
                throw CairnError.invalidParameter("Invalid value for comparator on '\(clause.key)'")
            }
            sql.appendLiteral("LOWER(\(column)) LIKE LOWER(")
            sql.appendInterpolation(bind: "%" + SearchComparator.likeLiteral(text) + "%")
            sql.appendLiteral(") ESCAPE '\\'")
        case .in, .notIn:
            guard case .list(let items) = clause.value else {
                throw CairnError.invalidParameter("Expected a list of values for '\(clause.key)'")
            }
            guard !items.isEmpty else { return clause.comparator == .in ? "1 = 0" : "1 = 1" }
            sql.appendLiteral("\(column) \(clause.comparator == .in ? "IN" : "NOT IN") ")
            if numeric {
                sql.appendInterpolation(
                    inList(
                        try items.map { item -> Int64 in
                            guard let value = Int64(item) else {
                                throw CairnError.invalidParameter("Expected numeric values for '\(clause.key)'")
                            }
                            return value
                        }))
            } else {
                sql.appendInterpolation(inList(items))
            }
        case .isNull:
            sql.appendLiteral("\(column) IS NULL")
        case .isNotNull:
            sql.appendLiteral("\(column) IS NOT NULL")
        }
        return sql
    }

    static func formatNumber(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    /// ORDER BY for runs: requested keys with missing (and NaN) values last in either
    /// direction, then MLflow's tie-break of start_time DESC and run id.
    static func runOrder(_ clauses: [OrderByClause], joins: inout Joins) throws -> SQLQueryString {
        var parts: [SQLQueryString] = []
        var ordersByStartTime = false
        for clause in clauses {
            let direction = clause.ascending ? "ASC" : "DESC"
            switch clause.entity {
            case .metric:
                let alias = joins.add(table: "latest_metrics", key: clause.key)
                var part: SQLQueryString =
                    "CASE WHEN \(unsafeRaw: alias).value IS NULL THEN 2 WHEN \(unsafeRaw: alias).is_nan = \(bind: true) THEN 1 ELSE 0 END, "
                part.appendLiteral("\(alias).value \(direction)")
                parts.append(part)
            case .param, .tag:
                let alias = joins.add(table: clause.entity == .param ? "run_params" : "run_tags", key: clause.key)
                parts.append(
                    "CASE WHEN \(unsafeRaw: alias).value IS NULL THEN 1 ELSE 0 END, \(unsafeRaw: alias).value \(unsafeRaw: direction)")
            case .attribute:
                guard let column = runNumericAttributes[clause.key] ?? runStringAttributes[clause.key] else {
                    throw CairnError.invalidParameter("Invalid order_by attribute '\(clause.key)'")
                }
                if clause.key == "start_time" { ordersByStartTime = true }
                parts.append("CASE WHEN \(unsafeRaw: column) IS NULL THEN 1 ELSE 0 END, \(unsafeRaw: column) \(unsafeRaw: direction)")
            case .dataset:
                throw CairnError.invalidParameter("Ordering by datasets is not supported")
            }
        }
        if !ordersByStartTime { parts.append("r.start_time DESC") }
        parts.append("r.run_uuid ASC")
        return join(parts)
    }

    static func experimentOrder(_ clauses: [OrderByClause]) throws -> SQLQueryString {
        var parts: [SQLQueryString] = []
        var keys: Set<String> = []
        for clause in clauses {
            guard clause.entity == .attribute else {
                throw CairnError.invalidParameter("Invalid order_by entity for experiments: '\(clause.key)'")
            }
            let column: String
            switch clause.key {
            case "name": column = "e.name"
            case "experiment_id": column = "e.experiment_id"
            case "creation_time": column = "e.creation_time"
            case "last_update_time": column = "e.last_update_time"
            default: throw CairnError.invalidParameter("Invalid order_by key for experiments: '\(clause.key)'")
            }
            keys.insert(clause.key)
            parts.append("\(unsafeRaw: column) \(unsafeRaw: clause.ascending ? "ASC" : "DESC")")
        }
        if clauses.isEmpty { parts.append("e.creation_time DESC") }
        if !keys.contains("experiment_id") { parts.append("e.experiment_id ASC") }
        return join(parts)
    }

    static func join(_ parts: [SQLQueryString]) -> SQLQueryString {
        var result: SQLQueryString = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { result.appendLiteral(", ") }
            result = result + part
        }
        return result
    }
}
