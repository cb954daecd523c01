import CairnCore
import SQLKit

/// The runs table of the web UI. Unlike `searchRuns`, which loads every param, metric and tag
/// of every run it returns (as MLflow's API must), a table page reads the page's runs and
/// only the columns it shows, and it counts the runs so pages can be linked by number.
extension SQLTrackingStore {
    static let parentRunTag = "mlflow.parentRunId"

    public func runTable(_ query: RunTableQuery) async throws -> RunTablePage {
        let experiments = Self.experimentKeys(query.experimentIDs)
        guard !experiments.isEmpty, query.limit > 0 else { return RunTablePage(rows: [], columns: query.columns ?? [], total: 0) }
        let selection = try RunTableSQL(query: query, experiments: experiments)
        let nested = query.nested ? try await database.read { try await selection.hasNestedRuns($0) } : false
        // The count reads every selected run, the page only its own: they run side by side on
        // two of SQLite's reader connections (each its own snapshot, so a run logged between
        // them can be counted and not shown, or shown and not counted, until the next load).
        async let total = query.counts ? database.read { try await selection.count($0, nested: nested) } : 0
        let (rows, columns, omitted) = try await database.read { db in
            var page = try await selection.topLevelRows(db, nested: nested)
            var omitted = false
            if !page.isEmpty {
                try await selection.loadParents(db, rows: &page)
                if nested { (page, omitted) = try await selection.withNestedRows(db, roots: page) }
            }
            var columns = query.columns ?? []
            if query.columns == nil { columns = try await selection.defaultColumns(db, runIDs: page.map(\.info.runID)) }
            try await selection.loadValues(db, rows: &page, columns: columns)
            return (page, columns, omitted)
        }
        return RunTablePage(rows: rows, columns: columns, total: try await total, omittedNested: omitted)
    }

    /// Every param, metric and tag key logged in the experiments, sorted, up to `limit` each.
    public func runColumnKeys(experimentIDs: [String], viewType: ViewType, limit: Int = 2_000) async throws -> RunColumnKeys {
        let experiments = Self.experimentKeys(experimentIDs)
        guard !experiments.isEmpty else { return RunColumnKeys() }
        let stages = viewType.stages.map(\.rawValue)
        return try await database.read { db in
            // Params, tags and latest metrics have an index by key: walking its distinct keys and
            // asking each for one run of these experiments reads a few rows per key, not every row.
            func indexedKeys(_ table: String) async throws -> [String] {
                try await db.raw(
                    """
                    WITH RECURSIVE k(key) AS (
                        SELECT MIN(key) FROM \(unsafeRaw: table)
                        UNION ALL
                        SELECT (SELECT MIN(key) FROM \(unsafeRaw: table) WHERE key > k.key) FROM k WHERE k.key IS NOT NULL
                    )
                    SELECT key FROM k WHERE key IS NOT NULL AND EXISTS (
                        SELECT 1 FROM \(unsafeRaw: table) kv JOIN runs r ON r.run_uuid = kv.run_uuid
                        WHERE kv.key = k.key AND r.experiment_id IN \(inList(experiments)) AND r.lifecycle_stage IN \(inList(stages)))
                    LIMIT \(bind: limit)
                    """
                ).all().map { try $0.decode(column: "key", as: String.self) }
            }
            return RunColumnKeys(
                params: try await indexedKeys("run_params"), metrics: try await indexedKeys("latest_metrics"),
                tags: try await indexedKeys("run_tags"))
        }
    }

    /// The schema's keys of the experiment ids that can exist; others match nothing.
    static func experimentKeys(_ ids: [String]) -> [Int64] {
        ids.compactMap { try? experimentKey($0) }
    }
}

/// The SQL of one runs-table query. The selection (experiments, lifecycle, filter) is written
/// once and reused in every statement, including as the test of whether a run's parent is
/// selected too: there the selection runs in a subquery whose own `r` is the parent.
struct RunTableSQL: Sendable {
    let query: RunTableQuery
    let experiments: [Int64]

    init(query: RunTableQuery, experiments: [Int64]) throws {
        self.query = query
        self.experiments = experiments
        // Refuse a bad filter or order before any statement runs.
        _ = try selection(ordered: true)
    }

    /// ` FROM … runs r … WHERE <selection>` (the search's joins) and the ORDER BY terms, for `r`.
    func selection(ordered: Bool) throws -> (from: SQLQueryString, order: SQLQueryString) {
        var joins = SearchSQL.Joins()
        var conditions: [SQLQueryString] = []
        for clause in query.filter.clauses {
            try SearchSQL.addRunFilter(clause, joins: &joins, conditions: &conditions)
        }
        var order: SQLQueryString = ""
        if ordered {
            if let clause = query.order, clause.entity == .metric, query.aggregate != .last {
                // Ordering by a metric's min or max reads each run's history of that key
                // through the metrics table's (run_uuid, key, …) index.
                let function = query.aggregate == .min ? "MIN" : "MAX"
                order = """
                    (SELECT \(unsafeRaw: function)(m.value) FROM metrics m WHERE m.run_uuid = r.run_uuid AND m.key = \(bind: clause.key) \
                    AND m.is_nan = \(bind: false)) \(unsafeRaw: clause.ascending ? "ASC" : "DESC") NULLS LAST, r.start_time DESC, r.run_uuid ASC
                    """
            } else {
                order = try SearchSQL.runOrder(query.order.map { [$0] } ?? [], joins: &joins)
            }
        }
        return (SearchSQL.runSelection(joins: joins, conditions: conditions, experiments: experiments, viewType: query.viewType), order)
    }

    /// `EXISTS (…)`: the run whose id is `parentColumn` is selected too.
    func parentSelected(_ parentColumn: String) throws -> SQLQueryString {
        var sql: SQLQueryString = "EXISTS (SELECT 1"
        sql = sql + (try selection(ordered: false).from)
        sql.appendLiteral(" AND r.run_uuid = \(parentColumn))")
        return sql
    }

    /// ` AND NOT EXISTS (…)`: `r` has no selected parent, so it heads its own tree.
    func topLevelCondition() throws -> SQLQueryString {
        var sql: SQLQueryString = """
             AND NOT EXISTS (SELECT 1 FROM run_tags pt WHERE pt.run_uuid = r.run_uuid AND pt.key = \(bind: SQLTrackingStore.parentRunTag) \
            AND pt.value != r.run_uuid AND
            """
        sql.appendLiteral(" ")
        sql = sql + (try parentSelected("pt.value"))
        sql.appendLiteral(")")
        return sql
    }

    /// Whether any run of the experiments names a parent: when none does, every run is
    /// top-level and the statements skip the parent test.
    func hasNestedRuns(_ db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            """
            SELECT 1 AS found FROM run_tags t JOIN runs c ON c.run_uuid = t.run_uuid
            WHERE t.key = \(bind: SQLTrackingStore.parentRunTag) AND c.experiment_id IN \(inList(experiments)) LIMIT 1
            """
        ).first() != nil
    }

    func topLevelRows(_ db: any SQLDatabase, nested: Bool) async throws -> [RunTableRow] {
        let (from, order) = try selection(ordered: true)
        var sql: SQLQueryString = "SELECT \(unsafeRaw: SQLTrackingStore.runInfoColumns(prefix: "r."))"
        sql = sql + from
        if nested { sql = sql + (try topLevelCondition()) }
        sql.appendLiteral(" ORDER BY ")
        sql = sql + order
        sql.appendLiteral(" LIMIT \(query.limit) OFFSET \(query.offset)")
        return try await db.raw(sql).all().map { RunTableRow(info: try SQLTrackingStore.runInfo(from: $0)) }
    }

    /// Top-level runs over all pages: the selected runs less those whose parent is selected,
    /// counted from the parent tags so the count reads nested runs, not every run twice.
    func count(_ db: any SQLDatabase, nested: Bool) async throws -> Int {
        var all: SQLQueryString = "SELECT COUNT(*) AS n"
        all = all + (try selection(ordered: false).from)
        var total = try await db.raw(all).first()?.decode(column: "n", as: Int.self) ?? 0
        if nested {
            var children: SQLQueryString = "SELECT COUNT(*) AS n FROM run_tags pt"
            children.appendLiteral(" WHERE pt.key = ")
            children.appendInterpolation(bind: SQLTrackingStore.parentRunTag)
            children.appendLiteral(" AND pt.value != pt.run_uuid AND ")
            children = children + (try parentSelected("pt.run_uuid"))
            children.appendLiteral(" AND ")
            children = children + (try parentSelected("pt.value"))
            total -= try await db.raw(children).first()?.decode(column: "n", as: Int.self) ?? 0
        }
        return total
    }

    /// `roots` with their selected nested runs under them, level by level, each level in the
    /// table's order, so sorting keeps every child under its parent. A parent-tag cycle is
    /// cut where it comes back to a run already shown.
    func withNestedRows(_ db: any SQLDatabase, roots: [RunTableRow]) async throws -> ([RunTableRow], omitted: Bool) {
        var childrenOf: [String: [RunTableRow]] = [:]
        var seen = Set(roots.map(\.info.runID))
        var level = roots.map(\.info.runID)
        var budget = RunTableQuery.maxNestedRows
        var omitted = false
        var depth = 1
        while !level.isEmpty, budget > 0, depth <= RunTableQuery.maxDepth {
            // The children come from the parent tags' (key, value) index; the selection and
            // order apply to them as to top-level runs.
            let (from, order) = try selection(ordered: true)
            var sql: SQLQueryString = "SELECT \(unsafeRaw: SQLTrackingStore.runInfoColumns(prefix: "r.")), "
            sql.appendLiteral("(SELECT c.value FROM run_tags c WHERE c.run_uuid = r.run_uuid AND c.key = ")
            sql.appendInterpolation(bind: SQLTrackingStore.parentRunTag)
            sql.appendLiteral(") AS parent_run")
            sql = sql + from
            sql.appendLiteral(" AND r.run_uuid IN (SELECT pt.run_uuid FROM run_tags pt WHERE pt.key = ")
            sql.appendInterpolation(bind: SQLTrackingStore.parentRunTag)
            sql.appendLiteral(" AND pt.value IN ")
            sql.appendInterpolation(inList(level))
            sql.appendLiteral(" AND pt.value != pt.run_uuid) ORDER BY ")
            sql = sql + order
            sql.appendLiteral(" LIMIT \(budget + 1)")
            var next: [String] = []
            for row in try await db.raw(sql).all() {
                let info = try SQLTrackingStore.runInfo(from: row)
                guard seen.insert(info.runID).inserted else { continue }
                guard budget > 0 else {
                    omitted = true
                    break
                }
                budget -= 1
                let parent = try row.decode(column: "parent_run", as: String.self)
                childrenOf[parent, default: []].append(RunTableRow(info: info, parentRunID: parent, depth: depth))
                next.append(info.runID)
            }
            level = next
            depth += 1
        }
        if !level.isEmpty, depth > RunTableQuery.maxDepth { omitted = true }
        var rows: [RunTableRow] = []
        func append(_ row: RunTableRow) {
            var row = row
            let children = childrenOf[row.info.runID] ?? []
            row.hasChildren = !children.isEmpty
            rows.append(row)
            for child in children { append(child) }
        }
        for root in roots { append(root) }
        return (rows, omitted)
    }

    /// Each run's parent, for its link and the CSV; a top-level run may name one the search left out.
    func loadParents(_ db: any SQLDatabase, rows: inout [RunTableRow]) async throws {
        let index = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1.info.runID, $0) })
        for row in try await db.raw(
            """
            SELECT run_uuid, value FROM run_tags WHERE key = \(bind: SQLTrackingStore.parentRunTag) AND run_uuid IN \(inList(Array(index.keys)))
            """
        ).all() {
            if let position = index[try row.decode(column: "run_uuid", as: String.self)] {
                rows[position].parentRunID = try row.decode(column: "value", as: String.self)
            }
        }
    }

    /// The metrics, then the params, that the page's runs logged, up to the default limit each.
    func defaultColumns(_ db: any SQLDatabase, runIDs: [String]) async throws -> [RunColumn] {
        guard !runIDs.isEmpty else { return [] }
        var columns: [RunColumn] = []
        for (table, kind) in [("latest_metrics", RunColumn.Kind.metric), ("run_params", .param)] {
            columns += try await db.raw(
                """
                SELECT DISTINCT key FROM \(unsafeRaw: table) WHERE run_uuid IN \(inList(runIDs))
                ORDER BY key LIMIT \(bind: RunTableQuery.defaultColumnLimit)
                """
            ).all().map { RunColumn(kind, try $0.decode(column: "key", as: String.self)) }
        }
        return columns
    }

    /// Fills the cells of `columns` for `rows`: one statement per kind of column, reading
    /// only those keys of those runs.
    func loadValues(_ db: any SQLDatabase, rows: inout [RunTableRow], columns: [RunColumn]) async throws {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let index = Dictionary(rows.enumerated().map { ($1.info.runID, $0) }, uniquingKeysWith: { first, _ in first })
        let ids = Array(index.keys)
        func keys(_ kind: RunColumn.Kind) -> [String] { columns.filter { $0.kind == kind }.map(\.key) }
        for (kind, table) in [(RunColumn.Kind.param, "run_params"), (.tag, "run_tags")] {
            let wanted = keys(kind)
            guard !wanted.isEmpty else { continue }
            for row in try await db.raw(
                """
                SELECT run_uuid, key, value FROM \(unsafeRaw: table) WHERE run_uuid IN \(inList(ids)) AND key IN \(inList(wanted))
                """
            ).all() {
                guard let position = index[try row.decode(column: "run_uuid", as: String.self)] else { continue }
                let key = try row.decode(column: "key", as: String.self)
                let value = try row.decode(column: "value", as: String.self)
                if kind == .param { rows[position].params[key] = value } else { rows[position].tags[key] = value }
            }
        }
        let metricKeys = keys(.metric)
        guard !metricKeys.isEmpty else { return }
        let statement: SQLQueryString
        switch query.aggregate {
        case .last:
            statement = """
                SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN \(inList(ids)) AND key IN \(inList(metricKeys))
                """
        case .min, .max:
            // NaN points are left out of the min and max; a history of NaN only shows NaN.
            let function = query.aggregate == .min ? "MIN" : "MAX"
            statement = """
                SELECT run_uuid, key, \(unsafeRaw: function)(CASE WHEN is_nan THEN NULL ELSE value END) AS value,
                MIN(CASE WHEN is_nan THEN 1 ELSE 0 END) AS nan_only
                FROM metrics WHERE run_uuid IN \(inList(ids)) AND key IN \(inList(metricKeys)) GROUP BY run_uuid, key
                """
        }
        for row in try await db.raw(statement).all() {
            guard let position = index[try row.decode(column: "run_uuid", as: String.self)] else { continue }
            let key = try row.decode(column: "key", as: String.self)
            let isNaN =
                query.aggregate == .last
                ? try row.decode(column: "is_nan", as: Bool.self) : try row.decode(column: "nan_only", as: Int.self) == 1
            rows[position].metrics[key] = isNaN ? .nan : try row.decode(column: "value", as: Double?.self) ?? .nan
        }
    }
}
