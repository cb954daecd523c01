import CairnCore
import Logging
import NIOPosix
import SQLKit
import Testing

@testable import CairnStore

/// The SQL that registry and logged-model search clauses become: values bound, the client's
/// prompt clause turned into an anti-join.
@Suite struct RegistrySearchSQLTests {
    let database = SQLiteDirectDatabase(
        connection: try! SQLiteDirectConnection(path: ":memory:"), logger: Logger(label: "test"),
        eventLoop: MultiThreadedEventLoopGroup.singleton.any()
    )

    func render(_ filter: String, _ kind: SearchKind, owner: RegistrySearchSQL.Owner) throws -> (sql: String, binds: [String]) {
        let query = try RegistrySearchSQL.filter(try SearchFilter.parse(filter, for: kind), owner: owner)
        let (sql, binds) = database.serialize(query)
        return (sql, binds.map { "\($0)" })
    }

    @Test func clientPromptClauseBecomesAnAntiJoin() throws {
        let (sql, binds) = try render(
            "name LIKE 'rm%' AND tag.`mlflow.prompt.is_prompt` != 'true'", .registeredModels, owner: .registeredModel)
        #expect(
            sql
                == "rm.name LIKE ?1 AND NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.name = rm.name AND p.key = ?2 AND p.value = ?3)"
        )
        #expect(binds == ["rm%", "mlflow.prompt.is_prompt", "true"])
    }

    @Test func askingForPromptsKeepsTheClause() throws {
        let (sql, binds) = try render("tags.`mlflow.prompt.is_prompt` = 'true'", .registeredModels, owner: .registeredModel)
        #expect(sql == "EXISTS (SELECT 1 FROM registered_model_tags kv WHERE kv.name = rm.name AND kv.key = ?1 AND kv.value = ?2)")
        #expect(binds == ["mlflow.prompt.is_prompt", "true"])
    }

    @Test func versionTagsCorrelateOnNameAndVersion() throws {
        let (sql, binds) = try render(
            "tags.stage ILIKE 'p%' AND version_number >= 2 AND run_id IN ('a', 'b')", .modelVersions, owner: .modelVersion)
        #expect(
            sql
                == "EXISTS (SELECT 1 FROM model_version_tags kv WHERE kv.name = mv.name AND kv.version = mv.version AND kv.key = ?1 AND LOWER(kv.value) LIKE LOWER(?2)) AND mv.version >= ?3 AND mv.run_id IN (?4, ?5) AND NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.name = mv.name AND p.key = ?6 AND p.value = ?7)"
        )
        #expect(binds == ["stage", "p%", "2", "a", "b", "mlflow.prompt.is_prompt", "true"])
    }

    @Test func hostileValuesStayInBinds() throws {
        let (sql, binds) = try render("name = 'x''; DROP TABLE registered_models; --'", .registeredModels, owner: .registeredModel)
        #expect(!sql.contains("DROP"))
        #expect(binds.contains { $0.contains("DROP TABLE") })
    }

    @Test func ordersAddMLflowsTieBreaks() throws {
        let models = database.serialize(
            try RegistrySearchSQL.registeredModelOrder(try OrderByClause.parseList(["timestamp DESC"], for: .registeredModels))
        ).sql
        #expect(models == "rm.last_updated_time DESC, rm.name ASC")
        let versions = database.serialize(try RegistrySearchSQL.modelVersionOrder([])).sql
        #expect(versions == "mv.last_updated_time DESC, mv.name ASC, mv.version DESC")
    }

    @Test func loggedModelMetricFilterScopesToDatasets() throws {
        let clause = try SearchFilter.parse("metrics.acc >= 0.5", for: .loggedModels).clauses[0]
        let (sql, binds) = database.serialize(
            try LoggedModelSearchSQL.condition(clause, datasets: [LoggedModelDatasetFilter(name: "train", digest: "d1")]))
        #expect(
            sql
                == "EXISTS (SELECT 1 FROM metrics m WHERE m.model_id = lm.model_id AND m.key = ?1 AND m.is_nan = ?2 AND m.value >= ?3 AND ((m.dataset_name = ?4 AND m.dataset_digest = ?5)))"
        )
        #expect(binds.map { "\($0)" } == ["acc", "false", "0.5", "train", "d1"])
    }

    @Test func loggedModelMetricOrderUsesTheLatestPoint() throws {
        let order = try LoggedModelSearchSQL.order([
            LoggedModelOrder(clause: try OrderByClause.loggedModelField("metrics.acc", ascending: false))
        ])
        let sql = database.serialize(order).sql
        #expect(sql.contains("ORDER BY m.timestamp DESC, m.step DESC, m.run_uuid ASC LIMIT 1) DESC"))
        #expect(sql.hasSuffix("lm.creation_timestamp_ms DESC, lm.model_id ASC"))
    }
}

@Suite struct PythonJSONTests {
    @Test func matchesPythonJsonDumps() throws {
        let value = try JSONValue.parse(#"[{"version": 1, "name": "caf\u00e9 \"x\"\n"}, {"name": "😀", "version": "2"}]"#)
        #expect(PythonJSON.dumps(value) == #"[{"name": "caf\u00e9 \"x\"\n", "version": 1}, {"name": "\ud83d\ude00", "version": "2"}]"#)
    }
}
