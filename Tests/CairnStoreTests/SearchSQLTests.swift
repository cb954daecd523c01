import CairnCore
import Logging
import NIOPosix
import SQLKit
import Testing

@testable import CairnStore

/// The SQL that search clauses become: every value bound, never spliced into the text.
@Suite struct SearchSQLTests {
    let database = SQLiteDirectDatabase(
        connection: try! SQLiteDirectConnection(path: ":memory:"), logger: Logger(label: "test"),
        eventLoop: MultiThreadedEventLoopGroup.singleton.any()
    )

    func render(_ filter: String) throws -> (sql: String, binds: [String]) {
        let clauses = try SearchFilter.parse(filter, for: .runs).clauses
        var query: SQLQueryString = ""
        for (index, clause) in clauses.enumerated() {
            if index > 0 { query.appendLiteral(" AND ") }
            query = query + (try SearchSQL.runCondition(clause))
        }
        let (sql, binds) = database.serialize(query)
        return (sql, binds.map { "\($0)" })
    }

    @Test func metricComparisonIsBoundAndSkipsNaN() throws {
        let (sql, binds) = try render("metrics.loss < 0.5")
        #expect(
            sql == "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND m.key = ?1 AND m.is_nan = ?2 AND m.value < ?3)"
        )
        #expect(binds == ["loss", "false", "0.5"])
    }

    @Test func notEqualOnMetricMatchesNaN() throws {
        let (sql, _) = try render("metrics.loss != 1")
        #expect(sql.contains("(m.is_nan = ?2 OR m.value != ?3)"))
    }

    @Test func paramAndTagClausesRequireTheKey() throws {
        let (sql, binds) = try render("params.lr = '0.1' and tags.`mlflow.user` LIKE 'al%'")
        #expect(
            sql
                == "EXISTS (SELECT 1 FROM run_params kv WHERE kv.run_uuid = r.run_uuid AND kv.key = ?1 AND kv.value = ?2) AND EXISTS (SELECT 1 FROM run_tags kv WHERE kv.run_uuid = r.run_uuid AND kv.key = ?3 AND kv.value LIKE ?4)"
        )
        #expect(binds == ["lr", "0.1", "mlflow.user", "al%"])
    }

    @Test func isNullBecomesNotExists() throws {
        let (sql, _) = try render("tags.owner IS NULL")
        #expect(sql == "NOT EXISTS (SELECT 1 FROM run_tags kv WHERE kv.run_uuid = r.run_uuid AND kv.key = ?1)")
    }

    @Test func ilikeLowersBothSides() throws {
        let (sql, binds) = try render("attributes.run_name ILIKE '%Best%'")
        #expect(sql == "LOWER(r.name) LIKE LOWER(?1)")
        #expect(binds == ["%Best%"])
    }

    @Test func inListAndNumericAttributes() throws {
        let (sql, binds) = try render("attributes.run_id IN ('a1', 'b2') and attributes.start_time >= 100 and created < 2000")
        #expect(sql == "r.run_uuid IN (?1, ?2) AND r.start_time >= ?3 AND r.start_time < ?4")
        #expect(binds == ["a1", "b2", "100", "2000"])
    }

    @Test func hostileValuesStayInBinds() throws {
        let (sql, binds) = try render("params.p = 'x''); DROP TABLE runs; --'")
        #expect(!sql.contains("DROP"))
        #expect(binds.contains { $0.contains("DROP TABLE") })
    }

    @Test func datasetClauseJoinsInputs() throws {
        let (sql, binds) = try render("datasets.context = 'training'")
        #expect(sql.contains("FROM run_dataset_inputs i JOIN datasets d"))
        #expect(sql.hasSuffix("t.value = ?1)"))
        #expect(binds == ["training"])
    }

    /// Metrics, params and tags that must exist become inner joins placed before the runs and
    /// the ORDER BY joins, so SQLite can start from the most selective one and reads a run's
    /// row only once it passed them all; IS NULL and attributes stay in WHERE.
    @Test func requiredKeysBecomeInnerJoins() throws {
        let clauses = try SearchFilter.parse(
            "metrics.m != 0.5 and params.p = 'a' and tags.t IS NOT NULL and tags.u IS NULL and attributes.status = 'FINISHED'",
            for: .runs
        ).clauses
        var joins = SearchSQL.Joins()
        var conditions: [SQLQueryString] = []
        for clause in clauses { try SearchSQL.addRunFilter(clause, joins: &joins, conditions: &conditions) }
        _ = try SearchSQL.runOrder([OrderByClause(entity: .metric, key: "m", ascending: true)], joins: &joins)
        var query = joins.from + " WHERE " + (try #require(joins.conditions))
        for condition in conditions {
            query.appendLiteral(" AND ")
            query = query + condition
        }
        let (sql, binds) = database.serialize(query)
        #expect(
            sql == " FROM latest_metrics f0"
                + " JOIN run_params f1 ON f1.run_uuid = f0.run_uuid AND f1.key = ?1 AND f1.value = ?2"
                + " JOIN run_tags f2 ON f2.run_uuid = f0.run_uuid AND f2.key = ?3"
                + " CROSS JOIN runs r"
                + " LEFT JOIN latest_metrics o0 ON o0.run_uuid = r.run_uuid AND o0.key = ?4"
                + " WHERE r.run_uuid = f0.run_uuid AND f0.key = ?5 AND (f0.is_nan = ?6 OR f0.value != ?7)"
                + " AND NOT EXISTS (SELECT 1 FROM run_tags kv WHERE kv.run_uuid = r.run_uuid AND kv.key = ?8) AND r.status = ?9")
        #expect(binds.map { "\($0)" } == ["p", "a", "t", "m", "m", "true", "0.5", "u", "FINISHED"])
    }

    @Test func orderPutsMissingLastAndAddsTieBreaks() throws {
        var joins = SearchSQL.Joins()
        let order = try SearchSQL.runOrder([OrderByClause(entity: .metric, key: "acc", ascending: false)], joins: &joins)
        #expect(joins.conditions == nil)
        let (sql, binds) = database.serialize(joins.from + " ORDER BY " + order)
        #expect(
            sql
                == " FROM runs r LEFT JOIN latest_metrics o0 ON o0.run_uuid = r.run_uuid AND o0.key = ?1 ORDER BY CASE WHEN o0.value IS NULL THEN 2 WHEN o0.is_nan = ?2 THEN 1 ELSE 0 END, o0.value DESC, r.start_time DESC, r.run_uuid ASC"
        )
        #expect(binds.map { "\($0)" } == ["acc", "true"])
    }
}

@Suite struct RunSearchStoreTests {
    @Test func filtersOrdersAndPagesAcrossExperiments() async throws {
        try await StoreFixture.with { store in
            let other = try await store.createExperiment(name: "other", artifactLocation: nil, tags: [])
            var ids: [String: String] = [:]
            let rows: [(String, String, Double, String)] = [
                ("0", "a", 0.1, "x"), ("0", "b", 0.9, "y"), (other, "c", 0.5, "x"), (other, "d", .nan, "x"), ("0", "e", 0.7, "z"),
            ]
            for (index, row) in rows.enumerated() {
                let run = try await store.createRun(
                    CreateRun(
                        experimentID: row.0, userID: "u", runName: row.1, startTime: Int64(index), tags: [KeyValue(key: "t", value: row.3)])
                )
                ids[row.1] = run.info.runID
                try await store.logBatch(
                    runID: run.info.runID, metrics: [Metric(key: "m", value: row.2, timestamp: 1)],
                    params: [KeyValue(key: "p", value: row.1)], tags: [])
            }
            _ = try await store.createRun(CreateRun(experimentID: "0", userID: "u", runName: "no-metric", startTime: 9, tags: []))

            func search(_ filter: String, _ order: [String] = [], max: Int = 100, token: String? = nil, view: ViewType = .activeOnly)
                async throws -> Page<Run>
            {
                try await store.searchRuns(
                    RunSearch(
                        experimentIDs: ["0", other], filter: try SearchFilter.parse(filter, for: .runs),
                        orderBy: try OrderByClause.parseList(order, for: .runs), viewType: view, maxResults: max, pageToken: token
                    ))
            }
            func names(_ page: Page<Run>) -> [String] { page.items.map(\.info.runName) }

            #expect(names(try await search("metrics.m > 0.4", ["metrics.m DESC"])) == ["b", "e", "c"])
            #expect(names(try await search("", ["metrics.m ASC"])) == ["a", "c", "e", "b", "d", "no-metric"])
            #expect(names(try await search("", ["metrics.m DESC"])) == ["b", "e", "c", "a", "d", "no-metric"])
            #expect(names(try await search("tags.t = 'x' and params.p != 'a'")) == ["d", "c"])
            #expect(names(try await search("attributes.run_name LIKE 'n%'")) == ["no-metric"])
            #expect(names(try await search("attributes.run_name LIKE 'N%'")).isEmpty)
            #expect(names(try await search("attributes.run_name ILIKE 'N%'")) == ["no-metric"])
            #expect(names(try await search("metrics.m != 0.5")) == ["e", "d", "b", "a"])
            #expect(names(try await search("params.p IS NULL")) == ["no-metric"])
            #expect(names(try await search("tags.t IS NOT NULL and metrics.m >= 0.5 and metrics.m < 0.9")) == ["e", "c"])
            #expect(names(try await search("params.p LIKE '%' and tags.t != 'y'", ["metrics.m DESC"], max: 2)) == ["e", "c"])

            let first = try await search("", ["attributes.run_name ASC"], max: 4)
            #expect(names(first) == ["a", "b", "c", "d"])
            let second = try await search("", ["attributes.run_name ASC"], max: 4, token: first.nextPageToken)
            #expect(names(second) == ["e", "no-metric"])
            #expect(second.nextPageToken == nil)

            try await store.deleteRun(id: ids["a"]!)
            #expect(names(try await search("", ["attributes.run_name ASC"], view: .deletedOnly)) == ["a"])
            #expect(try await search("", view: .all).items.count == 6)
            #expect(try await search("").items.count == 5)
        }
    }
}
